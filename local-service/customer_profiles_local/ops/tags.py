"""TagResource, UntagResource, ListTagsForResource: tags live in ``state.tags`` keyed by resource ARN.

Every taggable resource of the local service has an ARN below its domain:
``arn:aws:profile:REGION:ACCOUNT:domains/NAME[/object-types/T | /integrations/URI | /workflows/ID]``.
"""

from __future__ import annotations

import re
from typing import Any

from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.state import Domain, EmulatorState

MAX_TAGS = 50
_ARN = re.compile(
    r"^arn:aws:profile:(?P<region>[^:]+):(?P<account>\d{12}):domains/(?P<domain>[a-zA-Z0-9_-]+)"
    r"(?:/(?P<kind>object-types|integrations|workflows)/(?P<name>.+))?$"
)


def resource_arn(state: EmulatorState, domain_name: str, kind: str | None = None, name: str | None = None) -> str:
    """The ARN of a domain, or of a resource of ``kind`` (object-types, integrations, workflows) in it."""
    suffix = f"/{kind}/{name}" if kind else ""
    return state.arn(f"domains/{domain_name}{suffix}")


def _children(domain: Domain, kind: str) -> dict[str, Any]:
    return {
        "object-types": domain.object_types,
        "integrations": domain.integrations,
        "workflows": domain.workflows,
    }[kind]


def _existing(state: EmulatorState, arn: str) -> str:
    """Return ``arn`` if it names a resource that exists; ResourceNotFound otherwise."""
    found = _ARN.match(arn)
    if (
        found
        and found["region"] == state.config.region
        and found["account"] == state.config.account_id
        and found["domain"] in state.domains
        and (not found["kind"] or found["name"] in _children(state.domains[found["domain"]], found["kind"]))
    ):
        return arn
    raise NotFound(f"Resource {arn} does not exist")


def _check_keys(keys: list[str]) -> None:
    if any(key.lower().startswith("aws:") for key in keys):
        raise BadRequest("Tag keys must not start with the reserved prefix 'aws:'")


@operation("TagResource")
def tag_resource(state: EmulatorState, params: dict[str, Any]) -> None:
    arn = _existing(state, params["resourceArn"])
    _check_keys(list(params["tags"]))
    merged = {**state.tags.get(arn, {}), **params["tags"]}
    if len(merged) > MAX_TAGS:
        raise BadRequest(f"A resource can have at most {MAX_TAGS} tags")
    state.tags[arn] = merged


@operation("UntagResource")
def untag_resource(state: EmulatorState, params: dict[str, Any]) -> None:
    arn = _existing(state, params["resourceArn"])
    _check_keys(params["tagKeys"])
    remaining = {k: v for k, v in state.tags.get(arn, {}).items() if k not in set(params["tagKeys"])}
    if remaining:
        state.tags[arn] = remaining
    else:
        state.tags.pop(arn, None)


@operation("ListTagsForResource")
def list_tags_for_resource(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    return {"tags": dict(state.tags.get(_existing(state, params["resourceArn"]), {}))}
