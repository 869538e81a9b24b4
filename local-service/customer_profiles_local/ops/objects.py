"""PutProfileObject, BatchPutProfileObject, ListProfileObjects, DeleteProfileObject.

``ingest_object`` is the one path an object takes into a domain; other parts of the
local service that ingest objects (integrations, workflows) call it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
from typing import Any

from customer_profiles_local import profile_index
from customer_profiles_local.errors import BadRequest, NotFound, ServiceError
from customer_profiles_local.object_mapping import (
    KeyRule,
    ProfileField,
    mapping_for,
    parse_object,
)
from customer_profiles_local.ops.object_types import resolve_object_type
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.profile_index import normalise
from customer_profiles_local.state import Domain, EmulatorState, new_id

# ProfileObjectUniqueKey is a keyed digest of the unique key's value, never the value
# itself (it may be an email address). The key lives as long as the process, as the
# emulator's state does, so the same object always gets the same ProfileObjectUniqueKey.
_DIGEST_KEY = secrets.token_bytes(32)
UNIQUE_KEY_LENGTH = 40


def unique_key_digest(type_name: str, key_name: str, value: str) -> str:
    """The opaque ``ProfileObjectUniqueKey`` of a unique key value."""
    message = "\x1f".join((type_name, key_name, value)).encode()
    return hmac.new(_DIGEST_KEY, message, hashlib.sha256).hexdigest()[:UNIQUE_KEY_LENGTH]


def ingest_object(domain: Domain, type_name: str, text: str, now: dt.datetime) -> tuple[str, str | None]:
    """
    Put one object; returns its ``ProfileObjectUniqueKey`` and the profile it joined.

    The profile id is None when the object matched no profile and its type does not
    allow profile creation: AWS sends such an object to the domain's dead-letter queue,
    so it is counted in ``Domain.dead_letter_objects`` and not stored. BadRequest when
    the object is not a JSON object, lacks its unique key, or holds a value its mapped
    profile field cannot take; nothing changes then.
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

    existing = domain.objects.get(type_name, {}).get(unique_key)
    profile_id = existing["ProfileId"] if existing and existing["ProfileId"] in domain.profiles else None
    if profile_id is None:
        profile_id = _match_profile(domain, key_values)
    created = profile_id is None
    if created:
        if not definition.get("AllowProfileCreation"):
            domain.dead_letter_objects += 1
            return unique_key, None
        profile_id = new_id()

    _write_fields(domain, profile_id, profile_values, type_name, definition, now, created)
    record_keys: dict[str, list[str]] = {}
    for rule, value in key_values:
        values = record_keys.setdefault(rule.name, [])
        if value not in values:
            values.append(value)
        if rule.stored(created):
            profile_index.add_key(domain, profile_id, rule.name, value)
    profile_index.store_object(
        domain, type_name, unique_key, {"Object": text, "ProfileId": profile_id, "Keys": record_keys}
    )
    return unique_key, profile_id


def _match_profile(domain: Domain, key_values: list[tuple[KeyRule, str]]) -> str | None:
    """The profile the object's keys point to: PROFILE/LOOKUP_ONLY/NEW_ONLY keys first, then SECONDARY ones."""
    for secondary in (False, True):
        for rule, value in key_values:
            if rule.matching and rule.secondary == secondary:
                found = profile_index.profiles_with(domain, rule.name, value)
                if found:
                    return min(found)  # several profiles share the value: the same one every time
    return None


def _priority(definition: dict[str, Any] | None) -> float:
    """SourcePriority: lower wins; a type without one has the lowest priority."""
    return (definition or {}).get("SourcePriority") or math.inf


def _write_fields(
    domain: Domain,
    profile_id: str,
    values: list[tuple[ProfileField, str]],
    type_name: str,
    definition: dict[str, Any],
    now: dt.datetime,
    created: bool,
) -> None:
    """Write the object's mapped values over the profile's, unless a higher-priority type wrote that field."""
    fields = dict(domain.profiles.get(profile_id, {}))
    sources = profile_index.field_sources(domain, profile_id)
    priority = _priority(definition)
    changed = created
    for place, text in values:
        owner = sources.get(place.label)
        if owner not in (None, type_name) and _priority(domain.object_types.get(owner)) < priority:
            continue
        sources[place.label] = type_name
        if len(place.path) == 1:
            if fields.get(place.label) != text:
                fields[place.label] = text
                changed = True
            continue
        group, part = place.path
        if (fields.get(group) or {}).get(part) != text:
            fields[group] = {**(fields.get(group) or {}), part: text}
            changed = True
    if changed:
        profile_index.put_profile(domain, profile_id, fields, now)


@operation("PutProfileObject")
def put_profile_object(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    unique_key, _ = ingest_object(domain, params["ObjectTypeName"], params["Object"], state.clock.now())
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
    now = state.clock.now()
    successful, failed = [], []
    for item in params["Items"]:
        try:
            unique_key, _ = ingest_object(domain, type_name, item["Object"], now)
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
