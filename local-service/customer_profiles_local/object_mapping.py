"""
Object type mappings: check an object type's ``Fields`` and ``Keys``, then read key
values and profile fields out of each object put under it.

A field reads a value from the object (``Source``: ``_source.a.b``, or a Handlebars
template such as ``{{_source.first}} {{_source.last}}``) and may write it to the
standard profile (``Target``: ``_profile.EmailAddress``, ``_profile.Address.City``,
``_profile.Attributes.tier``). A key names one or more fields; its standard identifiers
say what the key does (see ``KeyRule``).

Error messages name fields, keys and paths, never a value read from an object: object
values are customer data.

Each rule on ``Fields`` and ``Keys`` cites the AWS page that documents it. The name rules (field names 1..64
characters of ``^[a-zA-Z0-9_.-]+$``, key names and ``FieldNames`` entries 1..64 of ``^[a-zA-Z0-9_-]+$``) and the
``ContentType`` enum come from the PutProfileObjectType / ObjectTypeKey / ObjectTypeField shapes of botocore's
model and are enforced with the rest of the request's validation (``model.validate``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from customer_profiles_local import model
from customer_profiles_local.errors import BadRequest
from customer_profiles_local.profile_index import (
    PREDEFINED_KEY_CONTENT_TYPES,
    PROFILE_ID_KEY,
    index,
    normalise,
)
from customer_profiles_local.state import Domain

# Admin guide, "Object type mapping definition details": a field without ContentType is a STRING.
DEFAULT_CONTENT_TYPE = "STRING"
MAX_KEYS_PER_OBJECT_TYPE = 10  # "Keys per object type" quota
# Identifiers that make a key find the profile an object belongs to.
MATCHING_IDENTIFIERS = frozenset({"PROFILE", "SECONDARY", "LOOKUP_ONLY", "NEW_ONLY"})
COMPOSITE_KEY_SEPARATOR = "_"

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


# ------------------------------------------------------------------ standard profile


@dataclass(frozen=True)
class ProfileField:
    """A place in the standard profile a field may target."""

    path: tuple[str, ...]
    max_length: int
    enum: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ".".join(self.path)


@cache
def _profile_shape() -> tuple[dict[str, ProfileField], frozenset[str], frozenset[str]]:
    """(string fields by name, address-type fields, address sub-fields), read from the model's Profile shape."""
    profile = model.service_model().shape_for("Profile")
    strings, addresses = {}, set()
    sub_fields: frozenset[str] = frozenset()
    for name, member in profile.members.items():
        if name == "ProfileId":
            continue
        if member.type_name == "string":
            strings[name] = ProfileField((name,), member.metadata.get("max", 255), tuple(member.enum or ()))
        elif member.type_name == "structure" and member.name == "Address":
            addresses.add(name)
            sub_fields = frozenset(member.members)
    return strings, frozenset(addresses), sub_fields


def address_fields() -> frozenset[str]:
    """Fields of the standard profile that hold an ``Address``."""
    return _profile_shape()[1]


def parse_target(target: str, field_name: str) -> ProfileField:
    """The profile place ``_profile.X[.Y]`` names; BadRequest naming the field when it names none."""
    where = f"Fields.{field_name}.Target"
    # Admin guide, "Object type mapping definition details": "The only supported target object is _profile."
    if target != "_profile" and not target.startswith("_profile."):
        raise BadRequest(f"{where} must start with '_profile.' (it is '{target}')")
    parts = target.split(".")[1:]
    strings, addresses, sub_fields = _profile_shape()
    if len(parts) == 1 and parts[0] in strings:
        return strings[parts[0]]
    if len(parts) == 2 and parts[0] in addresses and parts[1] in sub_fields:
        return ProfileField((parts[0], parts[1]), 255)
    if len(parts) >= 2 and parts[0] == "Attributes" and all(parts[1:]):
        attribute = ".".join(parts[1:])
        if len(attribute) > 255:
            raise BadRequest(f"{where} names an attribute longer than 255 characters")
        return ProfileField(("Attributes", attribute), 255)
    raise BadRequest(
        f"{where} '{target}' is not a field of the standard profile: use _profile.<Field>, "
        "_profile.<Address field>.<part> or _profile.Attributes.<name>"
    )


# --------------------------------------------------------------------------- fields


def _scalar_text(value: Any) -> str | None:
    """A JSON scalar as the text the profile stores; None for null, empty strings, objects and arrays."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return None


def _read_path(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = obj
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _source_path(text: str, where: str) -> tuple[str, ...]:
    # Admin guide, "Field definitions in Customer Profiles object type mappings": "all source paths must be
    # prefaced by this name [_source]. Only the _source object is supported."
    parts = text.split(".")
    if parts[0] != "_source" or len(parts) < 2 or not all(parts[1:]):
        raise BadRequest(f"{where} must read from the object as '_source.<field>' (it is '{text}')")
    return tuple(parts[1:])


@dataclass(frozen=True)
class FieldRule:
    """One entry of ``Fields``: where to read a value, and where in the profile it goes (if anywhere)."""

    name: str
    source: str
    # either a single path below _source, or a template: literal text and paths, alternating
    path: tuple[str, ...] | None
    template: tuple[str | tuple[str, ...], ...] | None
    target: ProfileField | None
    content_type: str

    def read(self, obj: dict[str, Any]) -> str | None:
        """The field's value in ``obj`` as text, or None when the object has none."""
        if self.path is not None:
            return _scalar_text(_read_path(obj, self.path))
        pieces = []
        for piece in self.template or ():
            if isinstance(piece, tuple):
                pieces.append(_scalar_text(_read_path(obj, piece)) or "")
            else:
                pieces.append(piece)
        text = "".join(pieces).strip()
        return text or None


def compile_field(name: str, field: dict[str, Any]) -> FieldRule:
    where = f"Fields.{name}.Source"
    source = field.get("Source")
    if not source:
        raise BadRequest(f"{where} is required")
    path = template = None
    if "{{" in source:
        pieces: list[str | tuple[str, ...]] = []
        position = 0
        for found in _PLACEHOLDER.finditer(source):
            pieces.append(source[position : found.start()])
            pieces.append(_source_path(found.group(1), where))
            position = found.end()
        pieces.append(source[position:])
        if not any(isinstance(piece, tuple) for piece in pieces):
            raise BadRequest(f"{where} template reads nothing from '_source'")
        template = tuple(piece for piece in pieces if piece != "")
    else:
        path = _source_path(source, where)
    target = parse_target(field["Target"], name) if field.get("Target") else None
    return FieldRule(name, source, path, template, target, field.get("ContentType") or DEFAULT_CONTENT_TYPE)


# ----------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeyRule:
    """
    One ``ObjectTypeKey`` under a key name.

    - ``UNIQUE``: identifies the object (one per object type).
    - ``PROFILE``, ``LOOKUP_ONLY``, ``NEW_ONLY``: find the profile the object belongs to;
      ``SECONDARY`` too, but only after all the others found nothing.
    - Stored on the profile (so SearchProfiles finds it by this key): every key except a
      ``UNIQUE``-only key and a ``LOOKUP_ONLY`` key; a ``NEW_ONLY`` key only when the object
      created the profile.
    """

    name: str
    identifiers: frozenset[str]
    fields: tuple[FieldRule, ...]

    @property
    def unique(self) -> bool:
        return "UNIQUE" in self.identifiers

    @property
    def matching(self) -> bool:
        return bool(self.identifiers & MATCHING_IDENTIFIERS)

    @property
    def secondary(self) -> bool:
        return "SECONDARY" in self.identifiers and not self.identifiers & {
            "PROFILE",
            "LOOKUP_ONLY",
            "NEW_ONLY",
        }

    def stored(self, profile_is_new: bool) -> bool:
        if "LOOKUP_ONLY" in self.identifiers or self.identifiers == {"UNIQUE"}:
            return False
        return profile_is_new or "NEW_ONLY" not in self.identifiers

    @property
    def content_type(self) -> str:
        """How the key's values compare: the predefined key's type, else its single field's type."""
        if self.name in PREDEFINED_KEY_CONTENT_TYPES:
            return PREDEFINED_KEY_CONTENT_TYPES[self.name]
        return self.fields[0].content_type if len(self.fields) == 1 else DEFAULT_CONTENT_TYPE

    def value(self, obj: dict[str, Any]) -> str | None:
        """The key's normalised value in ``obj`` (composite keys join their parts); None when a part is missing."""
        if len(self.fields) == 1:
            text = self.fields[0].read(obj)
            return normalise(self.content_type, text) if text is not None else None
        parts = []
        for field in self.fields:
            text = field.read(obj)
            if text is None:
                return None
            parts.append(normalise(field.content_type, text))
        return COMPOSITE_KEY_SEPARATOR.join(parts)

    def describe(self) -> str:
        """Key and field names, for messages (never values)."""
        fields = ", ".join(f"'{f.name}' from {f.source}" for f in self.fields)
        return f"key '{self.name}' (field {fields})"


@dataclass(frozen=True)
class Mapping:
    """A compiled object type: what to read from each object and what it means."""

    fields: dict[str, FieldRule]
    keys: tuple[KeyRule, ...]
    unique: KeyRule | None

    def key_values(self, obj: dict[str, Any]) -> list[tuple[KeyRule, str]]:
        """Each key definition with the (normalised) value it has in ``obj``; keys without one are left out."""
        found = []
        for rule in self.keys:
            value = rule.value(obj)
            if value is not None:
                found.append((rule, value))
        return found

    def profile_values(self, obj: dict[str, Any]) -> list[tuple[ProfileField, str]]:
        """The (profile place, value) pairs ``obj`` writes; BadRequest when a value cannot go where it is mapped."""
        found = []
        for rule in self.fields.values():
            if rule.target is None:
                continue
            text = rule.read(obj)
            if text is None:
                continue
            target = rule.target
            if target.enum:
                canonical = {choice.upper(): choice for choice in target.enum}.get(text.strip().upper())
                if canonical is None:
                    raise BadRequest(
                        f"Field '{rule.name}' maps to _profile.{target.label}, which accepts only "
                        f"{', '.join(target.enum)}: the object's value is not one of them"
                    )
                text = canonical
            elif len(text) > target.max_length:
                raise BadRequest(
                    f"Field '{rule.name}' maps to _profile.{target.label}, which holds at most "
                    f"{target.max_length} characters: the object's value has {len(text)}"
                )
            found.append((target, text))
        return found

    def key_rules(self, key_name: str) -> list[KeyRule]:
        return [rule for rule in self.keys if rule.name == key_name]


def compile_mapping(fields: dict[str, Any] | None, keys: dict[str, Any] | None) -> Mapping:
    """Check ``Fields`` and ``Keys`` of an object type; BadRequest naming the field or key at fault."""
    fields = fields or {}
    keys = keys or {}
    rules = {name: compile_field(name, field) for name, field in fields.items()}
    if len(keys) > MAX_KEYS_PER_OBJECT_TYPE:
        raise BadRequest(
            f"Keys has {len(keys)} keys; an object type has at most {MAX_KEYS_PER_OBJECT_TYPE} (service quota)"
        )
    key_rules: list[KeyRule] = []
    unique: KeyRule | None = None
    for key_name, definitions in keys.items():
        # Admin guide, "Object type mapping requirements": each key is made up of one or more fields.
        if not definitions:
            raise BadRequest(f"Keys.{key_name} must hold at least one key definition")
        for definition in definitions:
            field_names = definition.get("FieldNames") or []
            if not field_names:
                raise BadRequest(f"Keys.{key_name}.FieldNames must name at least one field")
            # ObjectTypeKey reference: FieldNames is "the reference for the key name of the fields map".
            for field_name in field_names:
                if field_name not in rules:
                    raise BadRequest(f"Keys.{key_name}.FieldNames names '{field_name}', which is not in Fields")
            rule = KeyRule(
                key_name,
                frozenset(definition.get("StandardIdentifiers") or ()),
                tuple(rules[field_name] for field_name in field_names),
            )
            _check_identifiers(rule)
            if rule.unique:
                # ObjectTypeKey reference (API_connect-customer-profiles_ObjectTypeKey): "Each ProfileObject
                # can have only 1 UNIQUE key but multiple PROFILE keys."
                if unique is not None:
                    raise BadRequest(
                        f"Keys.{key_name} is a second UNIQUE key (Keys.{unique.name} is one already): "
                        "an object type has at most one UNIQUE key"
                    )
                unique = rule
            key_rules.append(rule)
    _check_profile_lookup_only(key_rules)
    return Mapping(rules, tuple(key_rules), unique)


# The rules below are the notes of the admin guide's "Standard identifiers for setting attributes
# on the key in Customer Profiles" page (connect/latest/adminguide/standard-identifiers.html), LOOKUP_ONLY row.


def _check_identifiers(rule: KeyRule) -> None:
    """ "You cannot specify a key as both a UNIQUE identifier and a LOOKUP_ONLY identifier." """
    if {"UNIQUE", "LOOKUP_ONLY"} <= rule.identifiers:
        raise BadRequest(f"Keys.{rule.name} is both UNIQUE and LOOKUP_ONLY: a key cannot be both")


def _check_profile_lookup_only(rules: list[KeyRule]) -> None:
    """
    "You can only use PROFILE together with LOOKUP_ONLY if there is at least one other key that has the
    PROFILE identifier without the NEW_ONLY or LOOKUP_ONLY identifiers. The only exception is the
    _profileId key."
    """
    plain_profile = {r.name for r in rules if "PROFILE" in r.identifiers and not r.identifiers & _NOT_PLAIN}
    for rule in rules:
        if rule.name == PROFILE_ID_KEY or not {"PROFILE", "LOOKUP_ONLY"} <= rule.identifiers:
            continue
        if not plain_profile - {rule.name}:
            raise BadRequest(
                f"Keys.{rule.name} is PROFILE and LOOKUP_ONLY, so the object type needs another PROFILE key "
                "without NEW_ONLY or LOOKUP_ONLY"
            )


_NOT_PLAIN = frozenset({"NEW_ONLY", "LOOKUP_ONLY"})


def mapping_for(domain: Domain, type_name: str, definition: dict[str, Any]) -> Mapping:
    """The compiled mapping of a stored object type definition (compiled once per definition)."""
    cache_ = index(domain).mappings
    cached = cache_.get(type_name)
    if cached is None or cached[0] is not definition:
        cached = (definition, compile_mapping(definition.get("Fields"), definition.get("Keys")))
        cache_[type_name] = cached
    return cached[1]


def key_content_type(domain: Domain, key_name: str) -> str:
    """How values of ``key_name`` compare in this domain (key names are global to a domain)."""
    if key_name in PREDEFINED_KEY_CONTENT_TYPES:
        return PREDEFINED_KEY_CONTENT_TYPES[key_name]
    for type_name, definition in domain.object_types.items():
        for rule in mapping_for(domain, type_name, definition).key_rules(key_name):
            return rule.content_type
    return DEFAULT_CONTENT_TYPE


def parse_object(text: str) -> dict[str, Any]:
    """The object a PutProfileObject ``Object`` string holds; BadRequest unless it is a JSON object."""
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        # json's messages give a position, never the text
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        where = f" (line {exc.lineno} column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise BadRequest(f"Object is not valid JSON: {detail}{where}") from None
    except RecursionError:
        raise BadRequest("Object nests arrays or objects too deeply to be read") from None
    if not isinstance(obj, dict):
        raise BadRequest(f"Object must be a JSON object, not a JSON {_JSON_KINDS.get(type(obj), 'value')}")
    return obj


_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
