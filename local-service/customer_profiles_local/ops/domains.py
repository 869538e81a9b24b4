"""CreateDomain, GetDomain, UpdateDomain, DeleteDomain, ListDomains."""

from __future__ import annotations

import json
from typing import Any

from customer_profiles_local import identity_resolution_jobs
from customer_profiles_local.errors import BadRequest
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.state import Domain, EmulatorState

SETTINGS = (
    "DefaultExpirationDays",
    "DefaultEncryptionKey",
    "DeadLetterQueueUrl",
    "Matching",
    "RuleBasedMatching",
    "DataStore",
)
# UpdateDomain clears these when given an empty string.
CLEARABLE = ("DefaultEncryptionKey", "DeadLetterQueueUrl")
DEFAULT_JOB_SCHEDULE = {"DayOfTheWeek": "SATURDAY", "Time": "00:00"}
OBJECTS_PER_METERED_PROFILE = 100


def metered_profiles(object_count: int) -> int:
    """
    How many profiles one profile with ``object_count`` objects is billed as.

    DomainStats reference (https://docs.aws.amazon.com/connect/latest/APIReference/
    API_connect-customer-profiles_DomainStats.html): "If you have more than 100 objects associated
    with a single profile, that profile counts as two profiles. If you have more than 200 objects,
    that profile counts as three, and so on."
    """
    return 1 + max(0, object_count - 1) // OBJECTS_PER_METERED_PROFILE


def domain_response(state: EmulatorState, domain: Domain) -> dict[str, Any]:
    settings = dict(domain.settings)
    if "RuleBasedMatching" in settings:
        settings["RuleBasedMatching"] = {**settings["RuleBasedMatching"], "Status": "ACTIVE"}
    return {
        "DomainName": domain.name,
        **settings,
        "CreatedAt": domain.created_at,
        "LastUpdatedAt": domain.updated_at or domain.created_at,
        "Tags": state.tags.get(state.arn(f"domains/{domain.name}")) or None,
    }


def _apply_matching_defaults(settings: dict[str, Any]) -> None:
    matching = settings.get("Matching")
    if matching and matching.get("Enabled") and "JobSchedule" not in matching:
        matching["JobSchedule"] = dict(DEFAULT_JOB_SCHEDULE)


@operation("CreateDomain")
def create_domain(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    name = params["DomainName"]
    if name in state.domains:
        raise BadRequest(f"Domain {name} already exists")
    settings = {key: params[key] for key in SETTINGS if key in params}
    _apply_matching_defaults(settings)
    domain = Domain(name=name, created_at=state.clock.now(), settings=settings)
    state.domains[name] = domain
    if params.get("Tags"):
        state.tags[state.arn(f"domains/{name}")] = dict(params["Tags"])
    return domain_response(state, domain)


@operation("UpdateDomain")
def update_domain(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    # A scheduled identity-resolution run that fell due before this change still runs.
    identity_resolution_jobs.sync(state, domain)
    for key in SETTINGS:
        if key not in params:
            continue
        if key in CLEARABLE and params[key] == "":
            domain.settings.pop(key, None)
        else:
            domain.settings[key] = params[key]
    _apply_matching_defaults(domain.settings)
    if params.get("Tags"):
        state.tags.setdefault(state.arn(f"domains/{domain.name}"), {}).update(params["Tags"])
    domain.updated_at = state.clock.now()
    return domain_response(state, domain)


@operation("GetDomain")
def get_domain(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    objects = [obj for by_key in domain.objects.values() for obj in by_key.values()]
    object_counts: dict[str, int] = {}
    for obj in objects:
        object_counts[obj["ProfileId"]] = object_counts.get(obj["ProfileId"], 0) + 1
    metered = sum(metered_profiles(object_counts.get(pid, 0)) for pid in domain.profiles)
    size = sum(len(obj["Object"]) for obj in objects) + sum(
        len(json.dumps(p, default=str)) for p in domain.profiles.values()
    )
    stats = {
        "ProfileCount": len(domain.profiles),
        "MeteringProfileCount": metered,
        "ObjectCount": len(objects),
        "TotalSize": size,
    }
    return {**domain_response(state, domain), "Stats": stats}


@operation("DeleteDomain")
def delete_domain(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    del state.domains[domain.name]
    # The domain's own tags and those of everything in it (object types, integrations, workflows).
    arn = state.arn(f"domains/{domain.name}")
    for tagged in [key for key in state.tags if key == arn or key.startswith(arn + "/")]:
        del state.tags[tagged]
    return {"Message": f"Domain {domain.name} was deleted"}


@operation("ListDomains")
def list_domains(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domains = sorted(state.domains.values(), key=lambda d: d.name)
    page, token = paginate(domains, params)
    items = [
        {
            "DomainName": d.name,
            "CreatedAt": d.created_at,
            "LastUpdatedAt": d.updated_at or d.created_at,
            "Tags": state.tags.get(state.arn(f"domains/{d.name}")) or None,
        }
        for d in page
    ]
    return {"Items": items, "NextToken": token}
