"""The normalized match dataset: one row per profile in a match group.

Both sources (GetMatches pages and identity-resolution result files) are
normalized to this one Arrow schema, so a warehouse table never has to know
where a match came from. The UTC date of ``match_generated_at`` is the Hive
partition key (``match_generation_date=YYYY-MM-DD/``); following the Hive
convention it lives in the directory name, not inside the Parquet files.
"""

from __future__ import annotations

import pyarrow as pa

PARTITION_KEY = "match_generation_date"
SUCCESS_MARKER = "_SUCCESS"

SOURCE_GET_MATCHES = "get_matches"
SOURCE_S3_RESULTS = "s3_results"

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

MATCHES_SCHEMA = pa.schema(
    [
        pa.field("match_id", pa.string(), nullable=False),
        pa.field("profile_id", pa.string(), nullable=False),
        pa.field("confidence_score", pa.float64()),
        pa.field("match_group_size", pa.int32(), nullable=False),
        pa.field("match_generated_at", TIMESTAMP_TYPE, nullable=False),
        pa.field("job_id", pa.string()),
        pa.field("source", pa.string(), nullable=False),
    ]
)
