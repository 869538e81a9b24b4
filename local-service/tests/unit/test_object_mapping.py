"""Object type mappings and key normalisation, without a server."""

from __future__ import annotations

import pytest

from customer_profiles_local.errors import BadRequest
from customer_profiles_local.object_mapping import compile_mapping, parse_object
from customer_profiles_local.ops.templates import TEMPLATES
from customer_profiles_local.profile_index import derived_search_values, normalise


@pytest.mark.parametrize(
    ("content_type", "value", "expected"),
    [
        ("EMAIL_ADDRESS", "  Ana.Lima@Example.COM ", "ana.lima@example.com"),
        ("PHONE_NUMBER", "+1 (555) 010-0199", "+15550100199"),
        ("PHONE_NUMBER", "555.010.0199", "+15550100199"),  # ten digits read as +1, as AWS's example
        ("NAME", "  Ana   MARIA lima ", "ana maria lima"),
        ("STRING", " Case Kept ", "Case Kept"),
        ("NUMBER", "007", "007"),
    ],
)
def test_normalise(content_type, value, expected):
    assert normalise(content_type, value) == expected


def test_derived_search_values_cover_emails_phones_account_and_names():
    profile = {
        "AccountNumber": "A1",
        "FirstName": "Ana",
        "MiddleName": "Maria",
        "LastName": "Lima",
        "BusinessEmailAddress": "Ana@Corp.example",
        "HomePhoneNumber": "+1 555 0100",
    }
    assert derived_search_values(profile) == {
        ("_account", "A1"),
        ("_email", "ana@corp.example"),
        ("_phone", "+15550100"),
        ("_fullName", "ana lima"),
        ("_fullName", "ana maria lima"),
    }


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_compiles_with_one_unique_key(template_id):
    template = TEMPLATES[template_id]
    mapping = compile_mapping(template["Fields"], template["Keys"])
    assert mapping.unique is not None


def test_templates_sources_and_key_roles():
    mapping = compile_mapping(
        {
            "first": {"Source": "_source.name.first", "Target": "_profile.FirstName"},
            "full": {"Source": "{{_source.name.first}} {{ _source.name.last }}", "Target": "_profile.Attributes.full"},
            "id": {"Source": "_source.id"},
            "region": {"Source": "_source.region"},
        },
        {
            "row": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["id", "region"]}],
            "lookup": [{"StandardIdentifiers": ["LOOKUP_ONLY"], "FieldNames": ["id"]}],
            "fresh": [{"StandardIdentifiers": ["NEW_ONLY"], "FieldNames": ["id"]}],
            "late": [{"StandardIdentifiers": ["SECONDARY"], "FieldNames": ["id"]}],
        },
    )
    obj = {"id": 7, "region": "eu", "name": {"first": "Ana", "last": "Lima"}}
    assert [(place.label, value) for place, value in mapping.profile_values(obj)] == [
        ("FirstName", "Ana"),
        ("Attributes.full", "Ana Lima"),
    ]
    values = {rule.name: value for rule, value in mapping.key_values(obj)}
    assert values == {"row": "7_eu", "lookup": "7", "fresh": "7", "late": "7"}
    rules = {rule.name: rule for rule in mapping.keys}
    assert not rules["row"].stored(True) and not rules["lookup"].stored(True)
    assert rules["fresh"].stored(True) and not rules["fresh"].stored(False)
    assert rules["late"].secondary and rules["late"].stored(False)
    # a composite key without all its parts has no value
    assert "row" not in {rule.name for rule, _ in mapping.key_values({"id": 7})}


def test_enum_targets_accept_any_case_and_refuse_other_values_without_echoing_them():
    mapping = compile_mapping(
        {"g": {"Source": "_source.g", "Target": "_profile.Gender"}, "id": {"Source": "_source.id"}},
        {"k": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["id"]}]},
    )
    assert [value for _, value in mapping.profile_values({"g": "female"})] == ["FEMALE"]
    with pytest.raises(BadRequest) as caught:
        mapping.profile_values({"g": "secret-gender-value"})
    assert "Gender" in caught.value.message and "secret-gender-value" not in caught.value.message


@pytest.mark.parametrize("text", ["[1]", '"x"', "1", "{bad", '{"a": Infinity}', "[" * 5000])
def test_parse_object_accepts_only_json_objects(text):
    with pytest.raises(BadRequest):
        parse_object(text)
