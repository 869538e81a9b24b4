"""CreateProfile, UpdateProfile, DeleteProfile, SearchProfiles, MergeProfiles, BatchGetProfile, AddProfileKey,
DeleteProfileKey.

``merge_profiles`` and ``profile_response`` are plain functions other parts of the
local service reuse (identity resolution's auto-merge calls ``merge_profiles``).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from customer_profiles_local import profile_index
from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.object_mapping import address_fields, key_content_type
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.state import Domain, EmulatorState, new_id

# Request members that are not profile fields.
NOT_FIELDS = ("DomainName", "ProfileId")
SEARCH_PAGE_SIZE = 20  # SearchProfiles' documented default MaxResults


def profile_response(domain: Domain, profile_id: str) -> dict[str, Any]:
    """The API ``Profile`` shape of a stored profile, ProfileId included; 404 when there is none."""
    return {"ProfileId": profile_id, **_profile(domain, profile_id)}


def _profile(domain: Domain, profile_id: str) -> dict[str, Any]:
    try:
        return domain.profiles[profile_id]
    except KeyError:
        raise NotFound(f"Profile {profile_id} does not exist in domain {domain.name}") from None


# ------------------------------------------------------------------ create / update


@operation("CreateProfile")
def create_profile(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    profile_id = new_id()
    fields = {key: value for key, value in params.items() if key not in NOT_FIELDS}
    profile_index.put_profile(domain, profile_id, fields, state.clock.now())
    _mark_manual(domain, profile_id, fields)
    return {"ProfileId": profile_id}


def _mark_manual(domain: Domain, profile_id: str, given: dict[str, Any]) -> None:
    """Record the fields set through the API, so ingested objects never overwrite them while they hold a value."""
    sources = profile_index.field_sources(domain, profile_id)
    for name, value in given.items():
        if name in address_fields() or name == "Attributes":
            for part, part_value in value.items():
                _mark(sources, f"{name}.{part}", part_value)
        else:
            _mark(sources, name, value)


def _mark(sources: dict[str, str], label: str, value: Any) -> None:
    if value == "":
        sources.pop(label, None)  # cleared: ingestion may fill it again
    else:
        sources[label] = profile_index.MANUAL_SOURCE


@operation("UpdateProfile")
def update_profile(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """An empty string clears a value, an omitted field keeps it; addresses and Attributes merge per part."""
    domain = state.domain(params["DomainName"])
    profile_id = params["ProfileId"]
    fields = copy.deepcopy(_profile(domain, profile_id))
    given = {name: value for name, value in params.items() if name not in NOT_FIELDS}
    for name, value in given.items():
        if name in address_fields() or name == "Attributes":
            group = fields.get(name) or {}
            for part, part_value in value.items():
                if part_value == "":
                    group.pop(part, None)
                else:
                    group[part] = part_value
            if group:
                fields[name] = group
            else:
                fields.pop(name, None)
            continue
        if value == "":
            fields.pop(name, None)
        else:
            fields[name] = value
    profile_index.put_profile(domain, profile_id, fields, state.clock.now())
    _mark_manual(domain, profile_id, given)
    return {"ProfileId": profile_id}


@operation("DeleteProfile")
def delete_profile(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    _profile(domain, params["ProfileId"])
    profile_index.delete_profile(domain, params["ProfileId"])
    return {"Message": f"Profile {params['ProfileId']} was deleted"}


@operation("BatchGetProfile")
def batch_get_profile(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    profiles, errors = [], []
    for profile_id in dict.fromkeys(params["ProfileIds"]):
        if profile_id in domain.profiles:
            profiles.append(profile_response(domain, profile_id))
        else:
            errors.append({"Code": "404", "Message": "Profile not found", "ProfileId": profile_id})
    return {"Profiles": profiles, "Errors": errors}


# ----------------------------------------------------------------------------- keys


@operation("AddProfileKey")
def add_profile_key(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    profile_id, key_name = params["ProfileId"], params["KeyName"]
    _profile(domain, profile_id)
    content_type = key_content_type(domain, key_name)
    for value in params["Values"]:
        profile_index.add_key(domain, profile_id, key_name, profile_index.normalise(content_type, value))
    return {"KeyName": key_name, "Values": params["Values"]}


@operation("DeleteProfileKey")
def delete_profile_key(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    profile_id, key_name = params["ProfileId"], params["KeyName"]
    _profile(domain, profile_id)
    content_type = key_content_type(domain, key_name)
    removed = [
        profile_index.remove_key(domain, profile_id, key_name, profile_index.normalise(content_type, value))
        for value in params["Values"]
    ]
    if not any(removed):
        raise NotFound(f"Profile {profile_id} has none of the given values for key {key_name}")
    return {"Message": f"Deleted {sum(removed)} value(s) of key {key_name} from profile {profile_id}"}


# --------------------------------------------------------------------------- search


def _find(domain: Domain, key_name: str, values: list[str]) -> dict[str, list[str]]:
    """Profile id -> the requested values of ``key_name`` it answers to."""
    content_type = key_content_type(domain, key_name)
    found: dict[str, list[str]] = {}
    for value in values:
        for profile_id in profile_index.profiles_with(domain, key_name, profile_index.normalise(content_type, value)):
            matched = found.setdefault(profile_id, [])
            if value not in matched:
                matched.append(value)
    return found


@operation("SearchProfiles")
def search_profiles(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """OR (the default) returns profiles matching any key, AND those matching all; FoundByItems says which."""
    domain = state.domain(params["DomainName"])
    search_keys = [{"KeyName": params["KeyName"], "Values": params["Values"]}, *params.get("AdditionalSearchKeys", [])]
    matches = [(key["KeyName"], _find(domain, key["KeyName"], key["Values"])) for key in search_keys]
    candidates = set().union(*(found for _, found in matches))
    if params.get("LogicalOperator") == "AND":
        candidates = {pid for pid in candidates if all(pid in found for _, found in matches)}
    page, token = paginate(sorted(candidates), params, default_max=SEARCH_PAGE_SIZE)
    items = []
    for profile_id in page:
        found_by = [
            {"KeyName": key_name, "Values": found[profile_id]} for key_name, found in matches if profile_id in found
        ]
        items.append({**profile_response(domain, profile_id), "FoundByItems": found_by})
    return {"Items": items, "NextToken": token}


# ---------------------------------------------------------------------------- merge


def merge_profiles(
    domain: Domain,
    main_profile_id: str,
    profile_ids_to_merge: list[str],
    field_source_profile_ids: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """
    Merge profiles into ``main_profile_id``, as MergeProfiles documents it.

    Keys and objects of the merged profiles move to the main profile. Fields are a union;
    on a conflict the main profile's value wins, unless ``field_source_profile_ids`` names
    the profile to take that field from (its value is taken even when it is absent).
    Attributes merge per attribute the same way, with ``field_source_profile_ids["Attributes"]``
    naming sources per attribute. The merged profiles are deleted. NotFound for an unknown
    profile id; BadRequest when the main profile is among those merged or a field source
    is not part of the merge. Nothing changes when it raises.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    sources = field_source_profile_ids or {}
    merged_ids = list(dict.fromkeys(profile_ids_to_merge))
    if main_profile_id in merged_ids:
        raise BadRequest("ProfileIdsToBeMerged must not contain MainProfileId")
    main = _profile(domain, main_profile_id)
    others = [(pid, _profile(domain, pid)) for pid in merged_ids]
    members = {main_profile_id, *merged_ids}
    attribute_sources = sources.get("Attributes") or {}
    named = [(field, source) for field, source in sources.items() if field != "Attributes"]
    named += [(f"Attributes.{name}", source) for name, source in attribute_sources.items()]
    for field, source in named:
        if source not in members:
            raise BadRequest(
                f"FieldSourceProfileIds.{field} names profile {source}, which is neither the main profile "
                "nor one of the profiles to merge"
            )

    ordered = [(main_profile_id, main), *others]
    picked = _union(
        [(pid, {k: v for k, v in profile.items() if k != "Attributes"}) for pid, profile in ordered],
        {field: source for field, source in sources.items() if field != "Attributes"},
    )
    picked_attributes = _union([(pid, profile.get("Attributes", {})) for pid, profile in ordered], attribute_sources)
    fields = {name: copy.deepcopy(value) for name, (value, _) in picked.items()}
    if picked_attributes:
        fields["Attributes"] = {name: value for name, (value, _) in picked_attributes.items()}
    provenance = {name: source for name, (_, source) in picked.items()}
    provenance.update({f"Attributes.{name}": source for name, (_, source) in picked_attributes.items()})

    # The object types that wrote the values kept stay their owners (SourcePriority, type deletion).
    owners: dict[str, str] = {}
    for pid, _ in ordered:
        for label, type_name in profile_index.field_sources(domain, pid).items():
            field = label if label.startswith("Attributes.") else label.partition(".")[0]
            if provenance.get(field) == pid:
                owners[label] = type_name
    for pid in merged_ids:
        profile_index.absorb_profile(domain, main_profile_id, pid)
    profile_index.put_profile(domain, main_profile_id, fields, now)
    main_sources = profile_index.field_sources(domain, main_profile_id)
    main_sources.clear()
    main_sources.update(owners)


def _union(layers: list[tuple[str, dict[str, Any]]], chosen: dict[str, str]) -> dict[str, tuple[Any, str]]:
    """Name -> (value, profile id): the chosen profile's value (even none), else the first profile's that has one."""
    by_id = dict(layers)
    picked = {}
    for name in dict.fromkeys([*(name for _, values in layers for name in values), *chosen]):
        source = chosen.get(name) or next((pid for pid, values in layers if name in values), None)
        if source is not None and by_id[source].get(name) is not None:
            picked[name] = (by_id[source][name], source)
    return picked


@operation("MergeProfiles")
def merge_profiles_handler(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    merge_profiles(
        domain,
        params["MainProfileId"],
        params["ProfileIdsToBeMerged"],
        params.get("FieldSourceProfileIds"),
        state.clock.now(),
    )
    return {"Message": f"Merged {len(set(params['ProfileIdsToBeMerged']))} profile(s) into {params['MainProfileId']}"}
