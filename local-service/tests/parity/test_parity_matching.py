"""Profile matching as the admin guide documents it, on either target.

- "Profile matching and inferred profiles": a PROFILE key whose value finds several profiles is discarded and the
  next key is tried, then the SECONDARY keys; when nothing finds exactly one profile, AllowProfileCreation decides
  between a new (inferred) profile and the domain's dead-letter queue.
- "Additional properties of object types": an ingested object never overwrites a field entered manually through
  the API, but may fill a field that is empty.
"""

from __future__ import annotations

import pytest
from matching_support import matched
from ticket_support import define, profile, put, shared_email_profiles, tickets_of

pytestmark = pytest.mark.parity


def test_an_ambiguous_profile_key_is_discarded_and_the_secondary_key_decides(client, domain):
    define(client, domain, allow_profile_creation=False)
    _, second = shared_email_profiles(client, domain)
    put(client, domain, id="T1", email="family@example.com", phone="+15550002")
    matched(client, domain, 1)
    assert len(tickets_of(client, domain, second)) == 1


def test_nothing_matching_exactly_one_profile_creates_an_inferred_profile_when_allowed(client, domain):
    define(client, domain, allow_profile_creation=True)
    first, second = shared_email_profiles(client, domain)
    put(client, domain, id="T1", email="family@example.com")
    stats = matched(client, domain, 1)
    assert stats["ProfileCount"] == 3  # neither family member got the object
    for pid in (first, second):
        assert not tickets_of(client, domain, pid)


def test_manually_entered_fields_are_never_overwritten_but_empty_ones_are_filled(client, domain):
    define(client, domain, allow_profile_creation=False)
    pid = client.create_profile(DomainName=domain, FirstName="John", EmailAddress="john@example.com")["ProfileId"]
    client.add_profile_key(DomainName=domain, ProfileId=pid, KeyName="family_email", Values=["john@example.com"])
    client.update_profile(DomainName=domain, ProfileId=pid, Address={"City": "Lisbon"})
    put(client, domain, id="T1", email="john@example.com", first="Jonathan", city="Porto")
    matched(client, domain, 1)
    got = profile(client, domain, pid)
    assert got["FirstName"] == "John"
    assert got["Address"]["City"] == "Lisbon"
    # a field cleared by hand is empty again, so ingestion may fill it
    client.update_profile(DomainName=domain, ProfileId=pid, FirstName="")
    put(client, domain, id="T2", email="john@example.com", first="Jonathan")
    matched(client, domain, 2)
    assert profile(client, domain, pid)["FirstName"] == "Jonathan"
