"""Object-type key rules AWS documents, and only those (ObjectTypeKey reference, standard-identifiers page)."""

from __future__ import annotations

import pytest

from customer_profiles_local.errors import BadRequest
from customer_profiles_local.object_mapping import compile_mapping

FIELDS = {name: {"Source": f"_source.{name}"} for name in ("id", "email", "phone", "cookie")}


def key(*identifiers: str, field: str = "id") -> list[dict]:
    return [{"StandardIdentifiers": list(identifiers), "FieldNames": [field]}]


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"a": key("UNIQUE"), "b": key("UNIQUE", field="email")}, ["Keys.b", "UNIQUE"]),
        ({"a": key("UNIQUE", "LOOKUP_ONLY")}, ["Keys.a", "UNIQUE", "LOOKUP_ONLY"]),
        # PROFILE with LOOKUP_ONLY needs another PROFILE key that is neither NEW_ONLY nor LOOKUP_ONLY
        ({"u": key("UNIQUE"), "c": key("PROFILE", "LOOKUP_ONLY", field="cookie")}, ["Keys.c", "PROFILE"]),
        (
            {
                "u": key("UNIQUE"),
                "c": key("PROFILE", "LOOKUP_ONLY", field="cookie"),
                "e": key("PROFILE", "NEW_ONLY", field="email"),
            },
            ["Keys.c"],
        ),
        (
            {
                "u": key("UNIQUE"),
                "c": key("PROFILE", "LOOKUP_ONLY", field="cookie"),
                "d": key("PROFILE", "LOOKUP_ONLY", field="phone"),
            },
            ["Keys.c"],
        ),
    ],
)
def test_documented_key_rules_are_refused_naming_the_key(keys, named):
    with pytest.raises(BadRequest) as caught:
        compile_mapping(FIELDS, keys)
    assert all(part in caught.value.message for part in named)


@pytest.mark.parametrize(
    "keys",
    [
        {"u": key("UNIQUE"), "c": key("PROFILE", "LOOKUP_ONLY", field="cookie"), "e": key("PROFILE", field="email")},
        # the documented exception: the _profileId key
        {"u": key("UNIQUE"), "_profileId": key("PROFILE", "LOOKUP_ONLY", field="cookie")},
        # LOOKUP_ONLY without PROFILE, NEW_ONLY and SECONDARY keys are not restricted by the docs
        {"u": key("UNIQUE"), "c": key("LOOKUP_ONLY", field="cookie"), "n": key("PROFILE", "NEW_ONLY", field="email")},
        {"u": key("UNIQUE", "PROFILE"), "s": key("PROFILE", "SECONDARY", field="phone")},
    ],
)
def test_what_the_docs_allow_is_accepted(keys):
    assert {rule.name for rule in compile_mapping(FIELDS, keys).keys} == set(keys)
