"""
OpenLineage datasets for what the transfers read and write, named per the OpenLineage naming spec.

Storage follows the spec: ``s3://<bucket>`` + object key, ``file`` + absolute path,
``postgres://<host>:<port>`` + ``<database>.<schema>.<table>``. The spec has no entry for
Customer Profiles or SQLite, so this module defines them (documented in ``docs/how-to/lineage.md``):

- Customer Profiles: namespace ``arn:aws:profile:<region>:<account-id>`` (as the spec names AWS Glue
  by its ARN prefix), name ``domains/<domain>/object-types/<object type>`` or ``domains/<domain>/matches``;
  namespace and name joined by ``:`` are the service's own ARN for the resource.
- SQLite: namespace ``sqlite://`` + the absolute database file path, name ``<schema>.<table>``
  (schema ``main`` unless the table names one).

Only the openlineage provider's listener calls this, after a task finished; the provider is optional,
so its classes are imported inside the functions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_customerprofiles.storage import is_s3

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook

log = logging.getLogger(__name__)

Name = tuple[str, str]
"""A dataset's OpenLineage ``(namespace, name)``."""

_GLOB_CHARACTERS = frozenset("*?[")


def storage_name(uri: str) -> Name:
    """``(namespace, name)`` of a local path, ``file://`` or ``s3://`` URI; a glob is named by its directory."""
    if is_s3(uri):
        parts = urlsplit(uri)
        key = _before_glob(parts.path.strip("/"))
        return f"s3://{parts.netloc}", key or "/"
    path = urlsplit(uri).path if uri.startswith("file://") else uri
    return "file", _before_glob(os.path.abspath(path)) or "/"


def _before_glob(path: str) -> str:
    """The path up to the first segment holding a wildcard: the directory a glob reads from."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if _GLOB_CHARACTERS & set(segment):
            return "/".join(segments[:index])
    return path


def customer_profiles_name(hook: CustomerProfilesHook, domain: str, resource: str) -> Name | None:
    """
    ``arn:aws:profile:<region>:<account-id>`` and ``domains/<domain>/<resource>``; None when the account is unknown.

    The Customer Profiles API returns no ARNs, so the account comes from STS GetCallerIdentity
    (through the same connection; ``service_config.sts.endpoint_url`` is honoured). That call
    runs only here, after the task finished, and a failure only leaves the dataset out.
    """
    try:
        namespace = f"arn:aws:profile:{hook.conn_region_name}:{hook.account_id}"
    except Exception as error:
        log.warning("OpenLineage: Customer Profiles dataset left out, the AWS account is unknown (%s)", error)
        return None
    return namespace, f"domains/{domain}/{resource}"


def sql_table_name(db_hook: DbApiHook, table: str) -> Name | None:
    """``(namespace, name)`` of ``table`` behind a common.sql hook; None for databases without a naming rule."""
    connection = db_hook.get_connection(db_hook.get_conn_id())
    schema, _, bare_table = table.rpartition(".")
    if connection.conn_type == "sqlite":
        return f"sqlite://{os.path.abspath(connection.host)}", f"{schema or 'main'}.{bare_table}"
    info = db_hook.get_openlineage_database_info(connection)
    if info is None:
        return None
    schema = schema or db_hook.get_openlineage_default_schema()
    return f"{info.scheme}://{info.authority}", f"{info.database}.{schema}.{bare_table}"


def operator_lineage(inputs: Iterable[Name | None], outputs: Iterable[Name | None], rows_written: int | None) -> Any:
    """
    An ``OperatorLineage`` of the named datasets (None: left out).

    Outputs carry ``rows_written`` as output statistics when it is known (None: the task failed or wrote nothing).
    """
    from airflow.providers.common.compat.openlineage.facet import (
        Dataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    statistics = (
        {} if rows_written is None else {"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=rows_written)}
    )
    return OperatorLineage(
        inputs=[Dataset(namespace=namespace, name=name) for namespace, name in filter(None, inputs)],
        outputs=[
            OutputDataset(namespace=namespace, name=name, outputFacets=statistics)
            for namespace, name in filter(None, outputs)
        ],
    )
