"""PutProfileObjectType, GetProfileObjectType, DeleteProfileObjectType, ListProfileObjectTypes.

A domain's object types are stored in ``Domain.object_types[name]`` in the response
shape of GetProfileObjectType, without ``Tags`` (kept in ``EmulatorState.tags`` under
the object type's ARN) and without ``MaxAvailableProfileObjectCount`` (computed).
"""

from __future__ import annotations

from typing import Any

from customer_profiles_local import profile_index
from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.object_mapping import Mapping, compile_mapping, mapping_for
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.ops.templates import TEMPLATES, get_template
from customer_profiles_local.profile_index import PREDEFINED_KEY_CONTENT_TYPES
from customer_profiles_local.state import Domain, EmulatorState

# Request fields stored as given.
SETTINGS = (
    "Description",
    "TemplateId",
    "ExpirationDays",
    "EncryptionKey",
    "SourceLastUpdatedTimestampFormat",
    "MaxProfileObjectCount",
    "SourcePriority",
    "Fields",
    "Keys",
)
# A template defines these; giving them with TemplateId is a BadRequest.
TEMPLATE_FIELDS = ("AllowProfileCreation", "SourceLastUpdatedTimestampFormat", "Fields", "Keys")
MAX_OBJECT_TYPES_PER_DOMAIN = 100  # "Object types per domain" quota
MAX_OBJECTS_PER_PROFILE = 1000  # "Objects per profile" quota

# The object type objects follow when they name a template id the domain does not define
# as an object type (the documented PutProfileObject behaviour).
_TEMPLATE_TYPES: dict[str, dict[str, Any]] = {
    template_id: {"ObjectTypeName": template_id, **get_template(template_id)} for template_id in TEMPLATES
}


def object_type_arn(state: EmulatorState, domain_name: str, type_name: str) -> str:
    return state.arn(f"domains/{domain_name}/object-types/{type_name}")


def resolve_object_type(domain: Domain, type_name: str) -> dict[str, Any]:
    """The definition objects of ``type_name`` follow: the domain's, else a template of that id; 404 if neither."""
    definition = domain.object_types.get(type_name) or _TEMPLATE_TYPES.get(type_name)
    if definition is not None:
        return definition
    raise NotFound(f"Object type {type_name} does not exist in domain {domain.name}")


def object_type_response(state: EmulatorState, domain: Domain, definition: dict[str, Any]) -> dict[str, Any]:
    response = dict(definition)
    if "MaxProfileObjectCount" in definition:
        response["MaxAvailableProfileObjectCount"] = _available_object_count(domain, definition["ObjectTypeName"])
    response["Tags"] = state.tags.get(object_type_arn(state, domain.name, definition["ObjectTypeName"])) or None
    return response


def _available_object_count(domain: Domain, type_name: str) -> int:
    """Objects per profile left to this type once the other types' MaxProfileObjectCount is reserved."""
    reserved = sum(
        other.get("MaxProfileObjectCount", 0) for name, other in domain.object_types.items() if name != type_name
    )
    return max(0, MAX_OBJECTS_PER_PROFILE - reserved)


def _check_global_keys(domain: Domain, type_name: str, mapping: Mapping) -> None:
    """Key names are global to a domain: one key name compares its values one way everywhere."""
    for rule in mapping.keys:
        if rule.name in PREDEFINED_KEY_CONTENT_TYPES:
            continue
        for other_name, other in domain.object_types.items():
            if other_name == type_name:
                continue
            for other_rule in mapping_for(domain, other_name, other).key_rules(rule.name):
                if other_rule.content_type != rule.content_type:
                    raise BadRequest(
                        f"Keys.{rule.name} compares values as {rule.content_type}, but object type "
                        f"{other_name} defines the same key as {other_rule.content_type}; key names are "
                        "global to a domain"
                    )


@operation("PutProfileObjectType")
def put_profile_object_type(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    name = params["ObjectTypeName"]
    if name.startswith("_"):
        raise BadRequest("ObjectTypeName must not start with '_': such names are reserved for standard object types")
    definition: dict[str, Any] = {"ObjectTypeName": name}
    definition.update({key: params[key] for key in SETTINGS if key in params})
    definition["AllowProfileCreation"] = bool(params.get("AllowProfileCreation", False))
    if "TemplateId" in params:
        given = [key for key in TEMPLATE_FIELDS if key in params]
        if given:
            raise BadRequest(f"{', '.join(given)} cannot be given together with TemplateId: the template defines them")
        template = get_template(params["TemplateId"])
        if template is None:
            raise BadRequest(f"TemplateId {params['TemplateId']} is not a known template")
        definition.update({key: template[key] for key in TEMPLATE_FIELDS if key in template})
    elif not params.get("Keys"):
        raise BadRequest("Keys must define at least one key: it maps the objects of this type to profiles")
    mapping = compile_mapping(definition.get("Fields"), definition.get("Keys"))
    _check_global_keys(domain, name, mapping)
    existing = domain.object_types.get(name)
    if existing is None and len(domain.object_types) >= MAX_OBJECT_TYPES_PER_DOMAIN:
        raise BadRequest(f"Domain {domain.name} already has {MAX_OBJECT_TYPES_PER_DOMAIN} object types (service quota)")
    now = state.clock.now()
    definition["CreatedAt"] = existing["CreatedAt"] if existing else now
    definition["LastUpdatedAt"] = now
    domain.object_types[name] = definition
    if params.get("Tags"):
        state.tags.setdefault(object_type_arn(state, domain.name, name), {}).update(params["Tags"])
    return object_type_response(state, domain, definition)


@operation("GetProfileObjectType")
def get_profile_object_type(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    definition = domain.object_types.get(params["ObjectTypeName"])
    if definition is None:
        raise NotFound(f"Object type {params['ObjectTypeName']} does not exist in domain {domain.name}")
    return object_type_response(state, domain, definition)


@operation("DeleteProfileObjectType")
def delete_profile_object_type(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    name = params["ObjectTypeName"]
    if name not in domain.object_types:
        raise NotFound(f"Object type {name} does not exist in domain {domain.name}")
    scrub_profiles = profile_index.profiles_holding(domain, [name])
    for unique_key in list(domain.objects.get(name, {})):
        profile_index.remove_object(domain, name, unique_key)
    now = state.clock.now()
    for pid in scrub_profiles:
        _scrub_fields_from(domain, pid, name, now)
    del domain.object_types[name]
    profile_index.index(domain).mappings.pop(name, None)
    state.tags.pop(object_type_arn(state, domain.name, name), None)
    return {"Message": f"Object type {name} and its objects were deleted"}


def _scrub_fields_from(domain: Domain, pid: str, type_name: str, now: Any) -> None:
    """Remove the profile fields that objects of ``type_name`` wrote (and nothing has overwritten since)."""
    sources = profile_index.field_sources(domain, pid)
    written = [label for label, source in sources.items() if source == type_name]
    if not written or pid not in domain.profiles:
        return
    fields = {key: (dict(value) if isinstance(value, dict) else value) for key, value in domain.profiles[pid].items()}
    for label in written:
        del sources[label]
        top, _, rest = label.partition(".")
        if not rest:
            fields.pop(top, None)
        elif top in fields:
            fields[top].pop(rest, None)
            if not fields[top]:
                del fields[top]
    profile_index.put_profile(domain, pid, fields, now)


@operation("ListProfileObjectTypes")
def list_profile_object_types(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    page, token = paginate(sorted(domain.object_types), params)
    items = []
    for name in page:
        response = object_type_response(state, domain, domain.object_types[name])
        items.append(
            {
                key: response.get(key)
                for key in (
                    "ObjectTypeName",
                    "Description",
                    "CreatedAt",
                    "LastUpdatedAt",
                    "MaxProfileObjectCount",
                    "MaxAvailableProfileObjectCount",
                    "SourcePriority",
                    "Tags",
                )
            }
        )
    return {"Items": items, "NextToken": token}
