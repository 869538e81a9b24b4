"""The preview guard: what GetAutoMergingPreview is asked (explicit or the domain's settings) and when it refuses."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.merge.preview import auto_merging_preview, preview_excess
from tests.unit.merge.conftest import new_domain

BY_EMAIL = {"MatchingAttributesList": [["EmailAddress"]]}
BY_PHONE = {"MatchingAttributesList": [["PhoneNumber"]]}
RECENCY = {"ConflictResolvingModel": "RECENCY"}


def seed_group_sharing_a_phone_not_an_email(domain) -> None:
    """Three profiles: one phone, three emails; so only a phone rule would merge them."""
    ids = [
        domain.client.create_profile(DomainName=domain.name, EmailAddress=f"p{i}@example.com", PhoneNumber="+15550100")[
            "ProfileId"
        ]
        for i in range(3)
    ]
    domain.publish({"MatchId": "m", "ProfileIds": ids, "ConfidenceScore": 0.95})


def test_explicit_settings_are_what_the_preview_counts_with(merge_domain):
    seed_group_sharing_a_phone_not_an_email(merge_domain)

    by_phone = auto_merging_preview(merge_domain.client, merge_domain.name, 0.9, BY_PHONE, RECENCY)
    by_email = auto_merging_preview(merge_domain.client, merge_domain.name, 0.9, BY_EMAIL, RECENCY)
    above_the_group = auto_merging_preview(merge_domain.client, merge_domain.name, 0.96, BY_PHONE, RECENCY)

    assert by_phone == {
        "NumberOfMatchesInSample": 1,
        "NumberOfProfilesInSample": 3,
        "NumberOfProfilesWillBeMerged": 2,
    }
    assert by_email["NumberOfProfilesWillBeMerged"] == 0
    assert above_the_group["NumberOfProfilesWillBeMerged"] == 0
    assert merge_domain.calls("GetDomain") == 0, "both settings given: the domain's are not needed"


def test_the_domains_auto_merging_settings_fill_in_what_is_not_given(customer_profiles_emulator):
    domain = new_domain(
        customer_profiles_emulator,
        AutoMerging={"Enabled": False, "Consolidation": BY_PHONE, "ConflictResolution": RECENCY},
    )
    seed_group_sharing_a_phone_not_an_email(domain)

    from_domain = auto_merging_preview(domain.client, domain.name, 0.9)
    consolidation_given = auto_merging_preview(domain.client, domain.name, 0.9, consolidation=BY_EMAIL)
    resolution_given = auto_merging_preview(domain.client, domain.name, 0.9, conflict_resolution=RECENCY)

    assert from_domain["NumberOfProfilesWillBeMerged"] == 2
    assert consolidation_given["NumberOfProfilesWillBeMerged"] == 0
    assert resolution_given["NumberOfProfilesWillBeMerged"] == 2


def test_without_a_conflict_resolution_anywhere_recency_is_used(customer_profiles_emulator):
    domain = new_domain(customer_profiles_emulator, AutoMerging={"Enabled": False, "Consolidation": BY_PHONE})
    seed_group_sharing_a_phone_not_an_email(domain)

    assert auto_merging_preview(domain.client, domain.name, 0.9)["NumberOfProfilesWillBeMerged"] == 2
    assert auto_merging_preview(domain.client, domain.name, 0.9, BY_PHONE)["NumberOfProfilesWillBeMerged"] == 2


def test_without_a_consolidation_anywhere_the_preview_is_refused_naming_the_domain(merge_domain):
    with pytest.raises(ValueError) as refused:
        auto_merging_preview(merge_domain.client, merge_domain.name, 0.9, conflict_resolution=RECENCY)
    assert str(refused.value) == (
        f"Domain {merge_domain.name} has no Matching.AutoMerging.Consolidation: pass consolidation "
        '(for example {"MatchingAttributesList": [["EmailAddress"]]}).'
    )
    assert merge_domain.calls("GetAutoMergingPreview") == 0


def test_a_preview_up_to_the_plan_passes_and_one_beyond_it_is_refused_with_the_numbers():
    preview = {"NumberOfMatchesInSample": 4, "NumberOfProfilesInSample": 9, "NumberOfProfilesWillBeMerged": 5}

    assert preview_excess(preview, profiles_planned=5, max_merges=2) is None
    assert preview_excess(preview, profiles_planned=6, max_merges=2) is None
    assert preview_excess(preview, profiles_planned=4, max_merges=2) == (
        "GetAutoMergingPreview says 5 profiles would be merged, more than the 4 this run plans to merge "
        "(max_merges=2). Review the matches, then raise max_merges or set check_preview=False."
    )


def test_the_domains_conflict_resolution_is_what_the_preview_is_asked_with(customer_profiles_emulator):
    source = {"ConflictResolvingModel": "SOURCE", "SourceName": "Customer"}
    domain = new_domain(
        customer_profiles_emulator,
        AutoMerging={"Enabled": False, "Consolidation": BY_PHONE, "ConflictResolution": source},
    )
    seed_group_sharing_a_phone_not_an_email(domain)
    sent = []
    domain.client.meta.events.register(
        "provide-client-params.customer-profiles.GetAutoMergingPreview", lambda params, **_: sent.append(params)
    )

    auto_merging_preview(domain.client, domain.name, 0.9)
    auto_merging_preview(domain.client, domain.name, 0.9, consolidation=BY_EMAIL)

    assert [(params["Consolidation"], params["ConflictResolution"]) for params in sent] == [
        (BY_PHONE, source),
        (BY_EMAIL, source),
    ]
