"""Load one partition of the match dataset into a SQL table through any common.sql connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.sql.operators.sql import BaseSQLOperator

from airflow_provider_customerprofiles.lineage import operator_lineage, sql_table_name, storage_name
from airflow_provider_customerprofiles.matches.dataset import partition_date, read_partition
from airflow_provider_customerprofiles.matches.sql_load import load_partition
from airflow_provider_customerprofiles.templating import MAPPING, VERIFY, ConvertsTemplatedArguments, Number
from airflow_provider_customerprofiles.transfers.match_dataset import open_dataset


class CustomerProfilesMatchesToSqlOperator(ConvertsTemplatedArguments, BaseSQLOperator):
    """
    Replace one match generation date's rows in a SQL table with a partition of the match dataset.

    ``source`` is a partition URI as returned by the export operators
    (``.../match_generation_date=YYYY-MM-DD``); a partition without ``_SUCCESS`` is
    refused. The table is created if missing, with typed columns for the dialect
    (SQLite, PostgreSQL; portable types elsewhere). The delete of that date's rows
    and the inserts run in one transaction, so re-runs are idempotent and a failed
    load keeps the previous rows. PostgreSQL loads with COPY, other databases with
    batched ``executemany``. Returns ``{"table", "match_generation_date", "rows", "deleted"}``.

    :param source: Partition URI: local path, ``file://`` or ``s3://``. (templated)
    :param table: Target table, ``name`` or ``schema.name``. (templated)
    :param conn_id: The SQL connection (any common.sql hook). (templated)
    :param batch_size: Rows per insert batch (or COPY). (templated)
    :param database: Override the connection's database. (templated)
    :param hook_params: Extra arguments for the SQL hook. (templated)
    :param aws_conn_id: AWS connection for ``s3://`` sources. (templated)
    :param region_name: AWS region. (templated)
    :param verify: Verify TLS certificates, or a CA bundle path. (templated)
    """

    template_fields: Sequence[str] = (
        *BaseSQLOperator.template_fields,
        "source",
        "table",
        "batch_size",
        "aws_conn_id",
        "region_name",
        "verify",
    )
    argument_types = {
        "hook_params": MAPPING,
        "batch_size": Number(int, at_least=1),
        "verify": VERIFY,
    }

    def __init__(
        self,
        *,
        source: str,
        table: str,
        conn_id: str,
        batch_size: int = 10_000,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.source = source
        self.table = table
        self.batch_size = batch_size
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self._rows: int | None = None

    def execute(self, context: Any) -> dict[str, Any]:
        partition = open_dataset(self.source, self.aws_conn_id, self.region_name, self.verify)
        marker, batches = read_partition(partition, batch_rows=self.batch_size)
        db_hook = self.get_db_hook()
        conn = db_hook.get_conn()
        try:
            result = load_partition(
                conn,
                table=self.table,
                day=partition_date(partition),
                batches=batches,
                dialect_name=db_hook.dialect_name,
                placeholder=db_hook.placeholder,
                expected_rows=marker["rows"],
            )
        finally:
            conn.close()
        self.log.info(
            "Replaced %d rows with %d in %s for %s",
            result.deleted,
            result.rows,
            self.table,
            result.match_generation_date,
        )
        self._rows = result.rows
        return result.as_dict()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Input: the partition; output: the table (spec naming; SQLite as documented), with the rows loaded."""
        return operator_lineage(
            [storage_name(self.source)], [sql_table_name(self.get_db_hook(), self.table)], self._rows
        )
