"""
Asynchronous profile matching: an accepted object waits ``matching_delay_seconds`` before it is
attached to a profile and becomes searchable.

AWS (admin guide, "Profile matching and inferred profiles in Customer Profiles"): "An ingested object
is validated and queued, and profile matching happens shortly afterward." PutProfileObject validates
and answers at once; the match is made later. Like the rest of the service this is lazy: queued
objects whose time came are matched when the domain is next read (``EmulatorState.domain``), in the
order they were put, at the service's clock; no thread runs in the background.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from customer_profiles_local import dead_letter_queue, profile_index
from customer_profiles_local.errors import NotFound
from customer_profiles_local.object_mapping import KeyRule, ProfileField
from customer_profiles_local.ops.object_types import resolve_object_type
from customer_profiles_local.state import DOMAIN_ACCESS_HOOKS, Domain, EmulatorState, new_id


@dataclass(frozen=True)
class PendingObject:
    """An accepted object, what its type reads from it, and when it is matched."""

    due: dt.datetime
    type_name: str
    definition: dict[str, Any]
    unique_key: str
    text: str
    key_values: tuple[tuple[KeyRule, str], ...]
    profile_values: tuple[tuple[ProfileField, str], ...]


def enqueue(state: EmulatorState, domain: Domain, pending: PendingObject) -> None:
    """Queue an object; with no delay it is matched now."""
    domain.pending_objects.append(pending)
    if state.config.matching_delay_seconds <= 0:
        settle(state, domain)


def settle(state: EmulatorState, domain: Domain) -> None:
    """Match every queued object whose time came, oldest first."""
    now = state.clock.now()
    queue = domain.pending_objects
    while queue and queue[0].due <= now:
        _attach(state, domain, queue.pop(0))


DOMAIN_ACCESS_HOOKS.append(settle)


def _attach(state: EmulatorState, domain: Domain, pending: PendingObject) -> None:
    """Attach an object to its profile (found, or created when the type allows it), else dead-letter it."""
    try:
        resolve_object_type(domain, pending.type_name)
    except NotFound:
        return  # its object type was deleted while it waited, and the type's objects with it
    existing = domain.objects.get(pending.type_name, {}).get(pending.unique_key)
    profile_id = existing["ProfileId"] if existing and existing["ProfileId"] in domain.profiles else None
    ambiguous: list[str] = []
    if profile_id is None:
        profile_id, ambiguous = _match_profile(domain, pending.key_values)
    created = profile_id is None
    if created:
        if not pending.definition.get("AllowProfileCreation"):
            _dead_letter(state, domain, pending, ambiguous)
            return
        profile_id = new_id()
    _write_fields(domain, profile_id, pending, created)
    record_keys: dict[str, list[str]] = {}
    for rule, value in pending.key_values:
        values = record_keys.setdefault(rule.name, [])
        if value not in values:
            values.append(value)
        if rule.stored(created):
            profile_index.add_key(domain, profile_id, rule.name, value)
    profile_index.store_object(
        domain,
        pending.type_name,
        pending.unique_key,
        {"Object": pending.text, "ProfileId": profile_id, "Keys": record_keys},
    )


def _match_profile(domain: Domain, key_values: tuple[tuple[KeyRule, str], ...]) -> tuple[str | None, list[str]]:
    """
    The one profile the object's keys point to, and the names of keys whose match was ambiguous.

    Admin guide, "Profile matching and inferred profiles": each PROFILE key is tried in turn; a key
    that matches several profiles is ambiguous, is discarded and the next key is tried ("an ambiguous
    match ... is never used to attach an object"); SECONDARY keys come after all the others
    (ObjectTypeKey reference: "used to search for profiles after all other PROFILE keys have been searched").
    """
    ambiguous = []
    for secondary in (False, True):
        for rule, value in key_values:
            if rule.matching and rule.secondary == secondary:
                found = profile_index.profiles_with(domain, rule.name, value)
                if len(found) == 1:
                    return next(iter(found)), ambiguous
                if found:
                    ambiguous.append(rule.name)
    return None, ambiguous


def _dead_letter(state: EmulatorState, domain: Domain, pending: PendingObject, ambiguous: list[str]) -> None:
    domain.dead_letter_objects += 1
    queue_url = domain.settings.get("DeadLetterQueueUrl")
    if not queue_url:
        return
    if ambiguous:
        code = "AMBIGUOUS_PROFILE_MATCH"
        message = f"Keys {', '.join(ambiguous)} match several profiles and no key matches exactly one"
    else:
        code = "NO_MATCHING_PROFILE"
        message = f"No key matches a profile and object type {pending.type_name} does not allow profile creation"
    letter = dead_letter_queue.DeadLetter(
        domain.name, pending.type_name, pending.unique_key, pending.text, code, message, state.clock.now()
    )
    dead_letter_queue.send(state.config.sqs_endpoint_url, state.config.region, queue_url, letter)


def _priority(definition: dict[str, Any] | None) -> float:
    """SourcePriority: lower wins; a type without one has the lowest priority."""
    return (definition or {}).get("SourcePriority") or math.inf


def _write_fields(domain: Domain, profile_id: str, pending: PendingObject, created: bool) -> None:
    """
    Write the object's mapped values over the profile's, except where a higher-priority type wrote the
    field, or it was set by hand and still has a value: admin guide, "Additional properties of object
    types in Customer Profiles": ingestion does not overwrite fields populated manually through an API
    call or the Agent Workspace.
    """
    fields = dict(domain.profiles.get(profile_id, {}))
    sources = profile_index.field_sources(domain, profile_id)
    priority = _priority(pending.definition)
    changed = created
    for place, text in pending.profile_values:
        owner = sources.get(place.label)
        if owner == profile_index.MANUAL_SOURCE and _current(fields, place) is not None:
            continue
        if owner not in (None, pending.type_name) and _priority(domain.object_types.get(owner)) < priority:
            continue
        sources[place.label] = pending.type_name
        if _current(fields, place) == text:
            continue
        changed = True
        if len(place.path) == 1:
            fields[place.label] = text
        else:
            group, part = place.path
            fields[group] = {**(fields.get(group) or {}), part: text}
    if changed:
        profile_index.put_profile(domain, profile_id, fields, pending.due)


def _current(fields: dict[str, Any], place: ProfileField) -> Any:
    if len(place.path) == 1:
        return fields.get(place.label)
    group, part = place.path
    return (fields.get(group) or {}).get(part)
