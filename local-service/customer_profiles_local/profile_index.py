"""
The profile data of one domain, kept consistent in one place.

``Domain`` holds the data in the shapes other modules read: ``profiles``,
``profile_updated_at``, ``keys`` (key name -> value -> profile ids) and ``objects``
(object type -> unique key -> record). This module adds the reverse indexes that keep
every handler proportional to its own input rather than to the size of the domain:

- profile id -> key name -> values (the reverse of ``Domain.keys``);
- profile id -> object type -> unique keys of its objects, in the order they were put;
- predefined search key (``_email``, ``_phone``, ``_fullName``, ``_account``) ->
  normalised value -> profile ids, derived from the profiles' own fields;
- profile id -> profile field -> the object type that last wrote it (``SourcePriority``
  and the scrubbing done by DeleteProfileObjectType read it).

The indexes hang off the ``Domain`` instance and are built from the domain's data the
first time they are needed. Code that changes profiles, keys or objects goes through
the functions below so that the indexes never drift from the data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from customer_profiles_local.state import Domain

# Search keys whose values are normalised by a content type whatever defines them.
PREDEFINED_KEY_CONTENT_TYPES = {"_email": "EMAIL_ADDRESS", "_phone": "PHONE_NUMBER", "_fullName": "NAME"}
# Search keys answered from the profile's own fields (as well as from keys of that name).
FIELD_SEARCH_KEYS: dict[str, tuple[str, ...]] = {
    "_email": ("EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress"),
    "_phone": ("PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber"),
    "_account": ("AccountNumber",),
}
FULL_NAME_KEY = "_fullName"
# The "object type" of fields set through CreateProfile/UpdateProfile: ingested objects never overwrite them
# (admin guide, "Additional properties of object types in Customer Profiles"). Type names cannot start with "_".
MANUAL_SOURCE = "_manual"
PROFILE_ID_KEY = "_profileId"

_NOT_PHONE = re.compile(r"[^0-9+]")
# Admin guide, "Object type mapping definition details", ContentType (paraphrased): a PHONE_NUMBER value is
# processed so that agents can search for it in any format; its example: "+15551234567" matches "(555)-123-4567".
# (https://docs.aws.amazon.com/connect/latest/adminguide/object-type-mapping-definition-details.html)
# So a ten-digit number written without a country code is read as +1, the only case the guide documents.
_DOCUMENTED_COUNTRY_CODE = "+1"
_NATIONAL_DIGITS = 10


def normalise(content_type: str, value: str) -> str:
    """The form a key value is indexed and compared in: what ``ContentType`` means for equality."""
    if content_type == "EMAIL_ADDRESS":
        return value.strip().lower()
    if content_type == "PHONE_NUMBER":
        digits = _NOT_PHONE.sub("", value)
        digits = digits[:1] + digits[1:].replace("+", "")
        if len(digits) == _NATIONAL_DIGITS and digits.isdigit():
            return _DOCUMENTED_COUNTRY_CODE + digits
        return digits or value.strip()
    if content_type == "NAME":
        return " ".join(value.split()).casefold()
    return value.strip()


def derived_search_values(profile: dict[str, Any]) -> set[tuple[str, str]]:
    """The (search key, normalised value) pairs a profile answers to through its own fields."""
    found = set()
    for key, fields in FIELD_SEARCH_KEYS.items():
        content_type = PREDEFINED_KEY_CONTENT_TYPES.get(key, "STRING")
        for field in fields:
            if profile.get(field):
                found.add((key, normalise(content_type, profile[field])))
    first, middle, last = (profile.get(f) for f in ("FirstName", "MiddleName", "LastName"))
    for parts in ((first, last), (first, middle, last)):
        name = " ".join(part for part in parts if part)
        if name:
            found.add((FULL_NAME_KEY, normalise("NAME", name)))
    return found


class ProfileIndex:
    """Reverse indexes of one domain; see the module docstring."""

    def __init__(self, domain: Domain) -> None:
        self.profile_keys: dict[str, dict[str, set[str]]] = {}
        self.profile_objects: dict[str, dict[str, dict[str, None]]] = {}
        self.field_keys: dict[str, dict[str, set[str]]] = {}
        self.field_sources: dict[str, dict[str, str]] = {}
        # object type name -> (the definition it was compiled from, its compiled mapping)
        self.mappings: dict[str, tuple[dict[str, Any], Any]] = {}
        for key_name, by_value in domain.keys.items():
            for value, profile_ids in by_value.items():
                for pid in profile_ids:
                    self.profile_keys.setdefault(pid, {}).setdefault(key_name, set()).add(value)
        for type_name, by_unique_key in domain.objects.items():
            for unique_key, record in by_unique_key.items():
                self._link_object(record["ProfileId"], type_name, unique_key)
        for pid, profile in domain.profiles.items():
            for key, value in derived_search_values(profile):
                self.field_keys.setdefault(key, {}).setdefault(value, set()).add(pid)

    def _link_object(self, pid: str, type_name: str, unique_key: str) -> None:
        self.profile_objects.setdefault(pid, {}).setdefault(type_name, {})[unique_key] = None

    def _unlink_object(self, pid: str, type_name: str, unique_key: str) -> None:
        by_type = self.profile_objects.get(pid, {})
        by_type.get(type_name, {}).pop(unique_key, None)
        if type_name in by_type and not by_type[type_name]:
            del by_type[type_name]


_ATTRIBUTE = "_customer_profiles_index"


def index(domain: Domain) -> ProfileIndex:
    """The domain's indexes, built from its data on first use."""
    found = domain.__dict__.get(_ATTRIBUTE)
    if found is None:
        found = ProfileIndex(domain)
        domain.__dict__[_ATTRIBUTE] = found
    return found


# ----------------------------------------------------------------------------- keys


def add_key(domain: Domain, profile_id: str, key_name: str, value: str) -> None:
    """Index ``value`` (already normalised) under ``key_name`` for the profile."""
    domain.keys.setdefault(key_name, {}).setdefault(value, set()).add(profile_id)
    index(domain).profile_keys.setdefault(profile_id, {}).setdefault(key_name, set()).add(value)


def remove_key(domain: Domain, profile_id: str, key_name: str, value: str) -> bool:
    """Drop one key value from the profile; False when the profile did not carry it."""
    by_value = domain.keys.get(key_name, {})
    holders = by_value.get(value)
    if not holders or profile_id not in holders:
        return False
    holders.discard(profile_id)
    if not holders:
        del by_value[value]
        if not by_value:
            del domain.keys[key_name]
    own = index(domain).profile_keys.get(profile_id, {})
    own.get(key_name, set()).discard(value)
    if key_name in own and not own[key_name]:
        del own[key_name]
    return True


def profiles_with(domain: Domain, key_name: str, value: str) -> set[str]:
    """Profile ids that answer to a (normalised) key value: keys of that name, and fields for predefined keys."""
    if key_name == PROFILE_ID_KEY:
        return {value} if value in domain.profiles else set()
    found = set(domain.keys.get(key_name, {}).get(value, ()))
    found |= index(domain).field_keys.get(key_name, {}).get(value, set())
    return found


# ------------------------------------------------------------------------- profiles


def put_profile(domain: Domain, profile_id: str, fields: dict[str, Any], now: dt.datetime) -> None:
    """Create or replace a profile's fields (the API ``Profile`` shape without ProfileId)."""
    idx = index(domain)
    old = derived_search_values(domain.profiles.get(profile_id, {}))
    new = derived_search_values(fields)
    for key, value in old - new:
        holders = idx.field_keys.get(key, {}).get(value)
        if holders is not None:
            holders.discard(profile_id)
            if not holders:
                del idx.field_keys[key][value]
    for key, value in new - old:
        idx.field_keys.setdefault(key, {}).setdefault(value, set()).add(profile_id)
    domain.profiles[profile_id] = fields
    domain.profile_updated_at[profile_id] = now


def field_sources(domain: Domain, profile_id: str) -> dict[str, str]:
    """Profile field path (``EmailAddress``, ``Address.City``, ``Attributes.tier``) -> object type that wrote it."""
    return index(domain).field_sources.setdefault(profile_id, {})


def delete_profile(domain: Domain, profile_id: str) -> None:
    """Remove a profile with its keys and objects."""
    idx = index(domain)
    for type_name, unique_keys in list(idx.profile_objects.get(profile_id, {}).items()):
        for unique_key in list(unique_keys):
            remove_object(domain, type_name, unique_key)
    _forget_profile(domain, profile_id)


def _forget_profile(domain: Domain, profile_id: str) -> None:
    """Drop the profile's fields and keys (its objects are already gone or moved)."""
    idx = index(domain)
    for key_name, values in list(idx.profile_keys.get(profile_id, {}).items()):
        for value in list(values):
            remove_key(domain, profile_id, key_name, value)
    for key, value in derived_search_values(domain.profiles.get(profile_id, {})):
        holders = idx.field_keys.get(key, {}).get(value)
        if holders is not None:
            holders.discard(profile_id)
            if not holders:
                del idx.field_keys[key][value]
    idx.profile_keys.pop(profile_id, None)
    idx.profile_objects.pop(profile_id, None)
    idx.field_sources.pop(profile_id, None)
    domain.profiles.pop(profile_id, None)
    domain.profile_updated_at.pop(profile_id, None)


def absorb_profile(domain: Domain, main_id: str, merged_id: str) -> None:
    """Move the keys and objects of ``merged_id`` to ``main_id`` and delete ``merged_id`` (fields are the caller's)."""
    idx = index(domain)
    for key_name, values in list(idx.profile_keys.get(merged_id, {}).items()):
        for value in list(values):
            add_key(domain, main_id, key_name, value)
    for type_name, unique_keys in list(idx.profile_objects.get(merged_id, {}).items()):
        for unique_key in unique_keys:
            domain.objects[type_name][unique_key]["ProfileId"] = main_id
            idx._link_object(main_id, type_name, unique_key)
    idx.profile_objects.pop(merged_id, None)
    _forget_profile(domain, merged_id)


# -------------------------------------------------------------------------- objects


def store_object(domain: Domain, type_name: str, unique_key: str, record: dict[str, Any]) -> None:
    """Store (or overwrite) an object record ``{"Object", "ProfileId", "Keys"}``."""
    by_unique_key = domain.objects.setdefault(type_name, {})
    previous = by_unique_key.get(unique_key)
    idx = index(domain)
    if previous is not None and previous["ProfileId"] != record["ProfileId"]:
        idx._unlink_object(previous["ProfileId"], type_name, unique_key)
    by_unique_key[unique_key] = record
    idx._link_object(record["ProfileId"], type_name, unique_key)


def remove_object(domain: Domain, type_name: str, unique_key: str) -> dict[str, Any] | None:
    """Remove one object; returns its record, or None when there was none."""
    by_unique_key = domain.objects.get(type_name, {})
    record = by_unique_key.pop(unique_key, None)
    if record is None:
        return None
    if not by_unique_key:
        del domain.objects[type_name]
    index(domain)._unlink_object(record["ProfileId"], type_name, unique_key)
    return record


def object_keys_of(domain: Domain, profile_id: str, type_name: str) -> list[str]:
    """Unique keys of the profile's objects of one type, in the order they were first stored."""
    return list(index(domain).profile_objects.get(profile_id, {}).get(type_name, {}))


def profiles_holding(domain: Domain, type_names: Iterable[str]) -> set[str]:
    """Profile ids that hold at least one object of the given types."""
    return {record["ProfileId"] for type_name in type_names for record in domain.objects.get(type_name, {}).values()}
