"""
What the target object type demands of the input: which attribute is the unique key,
and which attributes its keys read. Read once from GetProfileObjectType.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from airflow_provider_customerprofiles.ingest.sender import failure_from_client_error


class PreflightError(Exception):
    """The load cannot start: the target or the input is wrong. Nothing was written."""


@dataclass(frozen=True)
class ObjectTypeKeys:
    """``unique_key``: the attribute path of the UNIQUE key (or None); ``key_attributes``: top-level
    object attributes any key reads."""

    unique_key: tuple[str, ...] | None
    key_attributes: frozenset[str]


def _source_path(source: str | None) -> tuple[str, ...] | None:
    """``_source.a.b`` -> ``("a", "b")``; a Handlebars macro or anything else -> None."""
    if not source or not source.startswith("_source."):
        return None
    return tuple(source[len("_source.") :].split("."))


def keys_from_object_type(object_type: dict[str, Any]) -> ObjectTypeKeys:
    fields = object_type.get("Fields", {})
    unique: tuple[str, ...] | None = None
    attributes: set[str] = set()
    for key_list in object_type.get("Keys", {}).values():
        for key in key_list:
            for field_name in key.get("FieldNames", []):
                path = _source_path(fields.get(field_name, {}).get("Source"))
                if path is None:
                    continue
                attributes.add(path[0])
                if "UNIQUE" in key.get("StandardIdentifiers", []) and unique is None:
                    unique = path
    return ObjectTypeKeys(unique, frozenset(attributes))


def _read(call: Callable[..., Any], attempts: int = 6, **kwargs: Any) -> Any:
    """One read with retries on throttling, server and connection errors (the client's own are off)."""
    for attempt in range(attempts):
        try:
            return call(**kwargs)
        except ClientError as exc:
            if not failure_from_client_error(exc).retryable or attempt == attempts - 1:
                raise
        except (ConnectionError, HTTPClientError):
            if attempt == attempts - 1:
                raise
        time.sleep(random.uniform(0, 0.2 * 2**attempt))
    raise AssertionError("unreachable")


def describe_target(client: Any, domain_name: str, object_type_name: str) -> ObjectTypeKeys:
    """Check that the domain and object type exist, and read the object type's keys."""
    try:
        _read(client.get_domain, DomainName=domain_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise PreflightError(f"Domain {domain_name!r} does not exist") from None
        raise
    try:
        object_type = _read(client.get_profile_object_type, DomainName=domain_name, ObjectTypeName=object_type_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise PreflightError(f"Object type {object_type_name!r} does not exist in domain {domain_name!r}") from None
        raise
    return keys_from_object_type(object_type)


def check_columns(
    available: Sequence[str], renames: dict[str, str] | None, keys: ObjectTypeKeys, file_uri: str
) -> None:
    """Fail when selected columns are absent, or the object would lack an attribute a key reads."""
    if renames is not None:
        absent = sorted(set(renames) - set(available))
        if absent:
            raise PreflightError(f"{file_uri} has no column(s) {absent}")
    produced = set(available) if renames is None else set(renames.values())
    uncovered = sorted(keys.key_attributes - produced)
    if uncovered:
        raise PreflightError(
            f"{file_uri} does not provide the attribute(s) {uncovered} that the object type's keys read "
            f"(from its Fields' _source paths); add or rename columns to cover them"
        )
