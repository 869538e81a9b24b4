"""PutProfileObject, BatchPutProfileObject, ListProfileObjects, DeleteProfileObject.

``ingest_object`` is the one path an object takes into a domain; other parts of the
local service that ingest objects (integrations, workflows) call it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

from customer_profiles_local import matching_queue, profile_index
from customer_profiles_local.errors import BadRequest, NotFound, ServiceError
from customer_profiles_local.object_mapping import mapping_for, parse_object
from customer_profiles_local.ops.object_types import resolve_object_type
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.profile_index import normalise
from customer_profiles_local.state import Domain, EmulatorState

# ProfileObjectUniqueKey is a keyed digest of the unique key's value, never the value
# itself (it may be an email address). The key lives as long as the process, as the
# emulator's state does, so the same object always gets the same ProfileObjectUniqueKey.
_DIGEST_KEY = secrets.token_bytes(32)
UNIQUE_KEY_LENGTH = 40


def unique_key_digest(type_name: str, key_name: str, value: str) -> str:
    """The opaque ``ProfileObjectUniqueKey`` of a unique key value."""
    message = "\x1f".join((type_name, key_name, value)).encode()
    return hmac.new(_DIGEST_KEY, message, hashlib.sha256).hexdigest()[:UNIQUE_KEY_LENGTH]


def ingest_object(state: EmulatorState, domain: Domain, type_name: str, text: str) -> str:
    """
    Validate one object and queue it for profile matching; returns its ``ProfileObjectUniqueKey``.

    BadRequest when the object is not a JSON object, lacks its unique key, or holds a value its
    mapped profile field cannot take; nothing is queued then. Matching (and, for an object that
    cannot be attached, the domain's dead-letter queue) happens later: see ``matching_queue``.
    """
    definition = resolve_object_type(domain, type_name)
    mapping = mapping_for(domain, type_name, definition)
    obj = parse_object(text)
    key_values = mapping.key_values(obj)
    if mapping.unique is not None:
        unique_value = next((value for rule, value in key_values if rule is mapping.unique), None)
        if unique_value is None:
            raise BadRequest(f"The object has no value for its unique {mapping.unique.describe()}")
        unique_key = unique_key_digest(type_name, mapping.unique.name, unique_value)
    else:
        # No UNIQUE key: the object's own content identifies it, so a retry still overwrites.
        canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        unique_key = unique_key_digest(type_name, "", canonical)
    profile_values = mapping.profile_values(obj)
    due = state.clock.now() + dt.timedelta(seconds=state.config.matching_delay_seconds)
    pending = matching_queue.PendingObject(
        due, type_name, definition, unique_key, text, tuple(key_values), tuple(profile_values)
    )
    matching_queue.enqueue(state, domain, pending)
    return unique_key


@operation("PutProfileObject")
def put_profile_object(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    unique_key = ingest_object(state, domain, params["ObjectTypeName"], params["Object"])
    return {"ProfileObjectUniqueKey": unique_key}


@operation("BatchPutProfileObject")
def batch_put_profile_object(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    type_name = params["ObjectTypeName"]
    resolve_object_type(domain, type_name)  # a missing type fails the whole call
    seen: set[str] = set()
    for item in params["Items"]:
        if item["Id"] in seen:
            raise BadRequest(f"Items: the Id '{item['Id']}' appears more than once; each item needs its own Id")
        seen.add(item["Id"])
    successful, failed = [], []
    for item in params["Items"]:
        try:
            unique_key = ingest_object(state, domain, type_name, item["Object"])
        except ServiceError as exc:
            failed.append({"Id": item["Id"], "Code": exc.status or 400, "Message": exc.message[:1000]})
        else:
            successful.append({"Id": item["Id"], "ProfileObjectUniqueKey": unique_key})
    return {"Successful": successful, "Failed": failed}


def _require_profile(domain: Domain, profile_id: str) -> None:
    if profile_id not in domain.profiles:
        raise NotFound(f"Profile {profile_id} does not exist in domain {domain.name}")


@operation("ListProfileObjects")
def list_profile_objects(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    type_name = params["ObjectTypeName"]
    definition = resolve_object_type(domain, type_name)
    _require_profile(domain, params["ProfileId"])
    unique_keys = profile_index.object_keys_of(domain, params["ProfileId"], type_name)
    records = domain.objects.get(type_name, {})
    object_filter = params.get("ObjectFilter")
    if object_filter:
        key_name = object_filter["KeyName"]
        rules = mapping_for(domain, type_name, definition).key_rules(key_name)
        if not rules:
            raise BadRequest(f"ObjectFilter.KeyName '{key_name}' is not a key of object type {type_name}")
        wanted = {normalise(rules[0].content_type, value) for value in object_filter["Values"]}
        unique_keys = [uk for uk in unique_keys if wanted.intersection(records[uk]["Keys"].get(key_name, ()))]
    page, token = paginate(unique_keys, params)
    items = [
        {"ObjectTypeName": type_name, "ProfileObjectUniqueKey": uk, "Object": records[uk]["Object"]} for uk in page
    ]
    return {"Items": items, "NextToken": token}


@operation("DeleteProfileObject")
def delete_profile_object(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    type_name = params["ObjectTypeName"]
    resolve_object_type(domain, type_name)
    _require_profile(domain, params["ProfileId"])
    unique_key = params["ProfileObjectUniqueKey"]
    record = domain.objects.get(type_name, {}).get(unique_key)
    if record is None or record["ProfileId"] != params["ProfileId"]:
        raise NotFound(
            f"Profile object {unique_key} of type {type_name} does not exist on profile {params['ProfileId']}"
        )
    profile_index.remove_object(domain, type_name, unique_key)
    return {"Message": f"Profile object {unique_key} was deleted"}
