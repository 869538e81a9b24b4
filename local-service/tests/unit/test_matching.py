"""The matching engine finds the documented kinds of duplicates and keeps distinct people apart."""

from __future__ import annotations

import pytest

from customer_profiles_local import normalize
from customer_profiles_local.matching import find_matches, jaro_winkler, match_id

HOME = {"Address1": "12 Main Street", "City": "Springfield", "PostalCode": "02139"}


def groups_of(profiles: dict[str, dict]) -> list[tuple[str, ...]]:
    return sorted(group.profile_ids for group in find_matches(profiles))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("+1 (555) 010-0199", "555.010.0199"),
        ("15550100199", "(555) 010 0199"),
        ("+44 20 7946 0958", "020 7946 0958"),
        ("555-010-0199 ext. 12", "5550100199"),
    ],
)
def test_phone_formats_normalize_to_the_same_number(left, right):
    assert normalize.phone(left) == normalize.phone(right) is not None


def test_too_short_phone_is_not_an_identifier():
    assert normalize.phone("555-01") is None


def test_business_names_ignore_case_punctuation_and_legal_suffixes():
    assert normalize.business_name("Acme, Inc.") == normalize.business_name("ACME LLC") == "acme"
    assert normalize.business_name("The Widget Company Ltd") == normalize.business_name("widget co")
    assert normalize.business_name("Acme") != normalize.business_name("Acme Tools")


def test_same_email_written_differently_matches():
    profiles = {
        "a": {"FirstName": "Ana", "LastName": "Silva", "EmailAddress": " Ana.Silva@Example.COM "},
        "b": {"FirstName": "Ana", "LastName": "Silva", "PersonalEmailAddress": "ana.silva@example.com"},
        "c": {"FirstName": "Bea", "LastName": "Costa", "EmailAddress": "bea@example.com"},
    }
    assert groups_of(profiles) == [("a", "b")]


def test_same_phone_in_any_format_matches():
    profiles = {
        "a": {"FirstName": "Raj", "MobilePhoneNumber": "+1 (555) 010-0199"},
        "b": {"FirstName": "Raj", "PhoneNumber": "555.010.0199"},
    }
    assert groups_of(profiles) == [("a", "b")]


def test_fuzzy_name_with_a_corroborating_attribute_matches():
    profiles = {
        "a": {"FirstName": "John", "LastName": "Doe", "Address": HOME},
        "b": {"FirstName": "Jhn", "LastName": "Doe", "Address": {**HOME, "Address1": "12 main st."}},
        "c": {"FirstName": "John", "LastName": "Doe", "BirthDate": "1980-04-02"},
        "d": {"FirstName": "Jon", "LastName": "Doe", "BirthDate": "1980/04/02"},
    }
    assert groups_of(profiles) == [("a", "b"), ("c", "d")]


def test_business_profiles_match_on_name_and_address():
    profiles = {
        "a": {"BusinessName": "Acme, Inc.", "Address": HOME},
        "b": {"BusinessName": "ACME LLC", "Address": HOME},
        "c": {"BusinessName": "Acme LLC"},  # no corroboration
    }
    assert groups_of(profiles) == [("a", "b")]


def test_a_full_name_alone_never_matches():
    profiles = {
        "a": {"FirstName": "John", "LastName": "Smith", "EmailAddress": "js1@example.com"},
        "b": {"FirstName": "John", "LastName": "Smith", "EmailAddress": "js2@example.com"},
        "c": {"FirstName": "John", "LastName": "Smith"},
    }
    assert groups_of(profiles) == []


def test_people_sharing_only_a_surname_or_a_first_name_at_one_address_do_not_match():
    profiles = {
        "a": {"FirstName": "John", "LastName": "Smith", "Address": HOME},
        "b": {"FirstName": "Jane", "LastName": "Smith", "Address": HOME},
        "c": {"FirstName": "John", "LastName": "Doe", "Address": HOME},
        "d": {"FirstName": "Mark", "LastName": "Smith", "Address": HOME},
        "e": {"FirstName": "Mary", "LastName": "Smith", "Address": HOME},
        "f": {"LastName": "Smith", "Address": HOME},
    }
    assert groups_of(profiles) == []


def test_a_shared_identifier_does_not_merge_family_members_with_different_first_names():
    profiles = {
        "a": {"FirstName": "John", "LastName": "Smith", "HomePhoneNumber": "555-010-0199"},
        "b": {"FirstName": "Jane", "LastName": "Smith", "HomePhoneNumber": "(555) 010-0199"},
        "c": {"FirstName": "Jane", "LastName": "Smith", "EmailAddress": "smiths@example.com"},
        "d": {"FirstName": "Tom", "LastName": "Smith", "EmailAddress": "smiths@example.com"},
    }
    assert groups_of(profiles) == []


def test_placeholder_identifiers_shared_by_many_profiles_are_ignored():
    profiles = {f"p{i:02d}": {"PhoneNumber": "000-000-0000", "FirstName": "Sam"} for i in range(30)}
    assert groups_of(profiles) == []


def test_groups_are_transitive_and_scored_by_their_weakest_link():
    profiles = {
        "a": {"FirstName": "Michael", "LastName": "Park", "EmailAddress": "lee@example.com", "Address": HOME},
        "b": {
            "FirstName": "Michael",
            "LastName": "Park",
            "EmailAddress": "lee@example.com",
            "PhoneNumber": "5550100111",
        },
        "c": {"FirstName": "Michael", "LastName": "Park", "PhoneNumber": "+1 555 010 0111"},
        "d": {"FirstName": "Micheal", "LastName": "Park", "Address": HOME},
    }
    [group] = find_matches(profiles)
    assert group.profile_ids == ("a", "b", "c", "d")
    assert group.match_id == match_id(["d", "c", "b", "a"])
    name_and_address = 1 - 0.5 * 0.6
    assert group.confidence_score == pytest.approx(name_and_address, abs=1e-4)


def test_stronger_evidence_scores_higher():
    one = find_matches({"a": {"EmailAddress": "x@example.com"}, "b": {"EmailAddress": "x@example.com"}})
    two = find_matches(
        {
            "a": {"EmailAddress": "x@example.com", "PhoneNumber": "5550100199"},
            "b": {"EmailAddress": "x@example.com", "PhoneNumber": "5550100199"},
        }
    )
    assert 0 < one[0].confidence_score < two[0].confidence_score <= 1


def test_output_is_deterministic_and_sorted():
    profiles = {f"{i:032x}": {"EmailAddress": f"user{i // 2}@example.com", "FirstName": "Kim"} for i in range(40)}
    first = find_matches(profiles)
    assert len(first) == 20
    assert first == find_matches(dict(reversed(list(profiles.items()))))
    assert [g.match_id for g in first] == sorted(g.match_id for g in first)
    assert all(len(g.match_id) == 32 for g in first)


def test_jaro_winkler_bounds():
    assert jaro_winkler("john", "john") == 1.0
    assert jaro_winkler("john", "") == 0.0
    assert jaro_winkler("john", "jhn") > 0.9 > jaro_winkler("john", "jane")
