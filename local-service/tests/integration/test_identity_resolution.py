"""Identity resolution: scheduled and on-demand jobs, matches, S3 result files, auto-merge, preview."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import boto3
import pytest
from helpers import Pager, search_one
from lifecycle_support import admin_error, advance, create_domain, create_object_type

PHASE = 60  # JobPhaseSeconds in these tests
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# Scheduled runs are kept days away, so the minutes these tests move the clock never cross one.
_FAR = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
MATCHING = {"Enabled": True, "JobSchedule": {"DayOfTheWeek": DAYS[_FAR.weekday()], "Time": "12:00"}}
HOME = {"Address1": "12 Main Street", "City": "Springfield", "PostalCode": "02139"}


def paced(endpoint, phase: float = PHASE):
    endpoint.admin("POST", "settings", {"JobPhaseSeconds": phase})
    return endpoint


@pytest.fixture
def emulator(customer_profiles_emulator):
    return paced(customer_profiles_emulator)


@pytest.fixture
def pager(emulator):
    return Pager(emulator.client())


def add_duplicates(client, domain: str = "retail") -> dict[str, list[str]]:
    """Two duplicate pairs and a look-alike who is a different person; returns ids by role."""
    made = {}
    for role, fields in {
        "ana_1": {"FirstName": "Ana", "LastName": "Silva", "EmailAddress": "Ana.Silva@example.com"},
        "ana_2": {"FirstName": "Ana", "LastName": "Silva", "EmailAddress": " ana.silva@EXAMPLE.com"},
        "raj_1": {"FirstName": "Raj", "LastName": "Patel", "PhoneNumber": "+1 (555) 010-0199"},
        "raj_2": {"FirstName": "Raj", "LastName": "Patel", "MobilePhoneNumber": "555.010.0199"},
        "other_ana": {"FirstName": "Ana", "LastName": "Silva", "EmailAddress": "asilva@example.org"},
    }.items():
        made[role] = client.create_profile(DomainName=domain, **fields)["ProfileId"]
    return {
        "groups": sorted([sorted([made["ana_1"], made["ana_2"]]), sorted([made["raj_1"], made["raj_2"]])]),
        **{role: [pid] for role, pid in made.items()},
    }


def start_job(emulator, domain: str = "retail", **body) -> str:
    return emulator.admin("POST", f"domains/{domain}/identity-resolution-jobs", body)["JobId"]


def run_job(emulator, client, domain: str = "retail", phases: int = 4, **body) -> dict:
    job_id = start_job(emulator, domain, **body)
    advance(emulator, phases * PHASE)
    return client.get_identity_resolution_job(DomainName=domain, JobId=job_id)


def all_matches(pager, domain: str = "retail", page_size: int = 100) -> list[dict]:
    return list(pager.iterate_items("get_matches", DomainName=domain, MaxResults=page_size))


def test_scheduled_job_runs_when_the_clock_passes_the_schedule(customer_profiles_emulator, pager):
    emulator = paced(customer_profiles_emulator, 600)
    client = pager.client
    target = advance(emulator, 0) + dt.timedelta(minutes=10)
    schedule = {"DayOfTheWeek": DAYS[target.weekday()], "Time": f"{target.hour}:{target.minute:02d}"}
    create_domain(client, "retail", Matching={"Enabled": True, "JobSchedule": schedule})
    expected_start = target.replace(second=0, microsecond=0)

    [pending] = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    assert pending["Status"] == "PENDING"
    assert pending["JobStartTime"] == expected_start

    advance(emulator, 11 * 60)
    jobs = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    assert [(j["Status"], j["JobStartTime"]) for j in jobs] == [
        ("PENDING", expected_start + dt.timedelta(days=7)),
        ("PREPROCESSING", expected_start),
    ]
    ran = jobs[1]["JobId"]
    advance(emulator, 600)
    assert client.get_identity_resolution_job(DomainName="retail", JobId=ran)["Status"] == "FIND_MATCHING"
    advance(emulator, 600)
    done = client.get_identity_resolution_job(DomainName="retail", JobId=ran)
    assert done["Status"] == "COMPLETED"
    assert done["JobEndTime"] == expected_start + dt.timedelta(seconds=1200)

    moved = {"DayOfTheWeek": DAYS[(target.weekday() + 2) % 7], "Time": "6:30"}
    client.update_domain(DomainName="retail", Matching={"Enabled": True, "JobSchedule": moved})
    jobs = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    assert [j["Status"] for j in jobs] == ["PENDING", "COMPLETED"]
    assert jobs[0]["JobStartTime"].weekday() == (target.weekday() + 2) % 7
    assert (jobs[0]["JobStartTime"].hour, jobs[0]["JobStartTime"].minute) == (6, 30)

    client.update_domain(DomainName="retail", Matching={"Enabled": False})
    jobs = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    assert [j["JobId"] for j in jobs] == [ran]  # disabling matching deleted the PENDING job
    advance(emulator, 8 * 24 * 3600)
    jobs = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    assert [j["JobId"] for j in jobs] == [ran]


def test_admin_job_moves_through_its_phases(emulator, pager):
    client = pager.client
    create_domain(client, "retail", Matching=MATCHING)
    ids = add_duplicates(client)
    job_id = start_job(emulator)
    seen = []
    for _ in range(4):
        job = client.get_identity_resolution_job(DomainName="retail", JobId=job_id)
        seen.append(job["Status"])
        advance(emulator, PHASE)
    assert seen == ["PENDING", "PREPROCESSING", "FIND_MATCHING", "COMPLETED"]
    job = client.get_identity_resolution_job(DomainName="retail", JobId=job_id)
    assert job["JobStats"] == {"NumberOfProfilesReviewed": 5, "NumberOfMatchesFound": 2, "NumberOfMergesDone": 0}
    assert job["DomainName"] == "retail"
    assert job["JobEndTime"] == job["JobStartTime"] + dt.timedelta(seconds=2 * PHASE)
    assert job["LastUpdatedAt"] == job["JobEndTime"]
    assert job["JobExpirationTime"] > job["JobEndTime"]
    assert "Message" not in job
    assert sorted(sorted(m["ProfileIds"]) for m in all_matches(pager)) == ids["groups"]


def test_unknown_job_and_disabled_matching(emulator, pager):
    client = pager.client
    create_domain(client, "retail")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_identity_resolution_job(DomainName="retail", JobId="0" * 32)
    status, message = admin_error(emulator, "POST", "domains/retail/identity-resolution-jobs")
    assert status == 400
    assert "not enabled" in message
    with pytest.raises(client.exceptions.BadRequestException, match="not enabled"):
        client.get_matches(DomainName="retail")
    with pytest.raises(client.exceptions.BadRequestException, match="not enabled"):
        client.get_auto_merging_preview(
            DomainName="retail",
            Consolidation={"MatchingAttributesList": [["EmailAddress"]]},
            ConflictResolution={"ConflictResolvingModel": "RECENCY"},
        )
    create_domain(client, "other", Matching=MATCHING)
    assert admin_error(emulator, "POST", "domains/other/identity-resolution-jobs", {"Outcome": "MAYBE"})[0] == 400


def test_failed_and_partial_success_on_demand(emulator, pager):
    client = pager.client
    create_domain(client, "retail", Matching=MATCHING)
    add_duplicates(client)
    failed = run_job(emulator, client, Outcome="FAILED", Message="Model endpoint unavailable")
    assert failed["Status"] == "FAILED"
    assert failed["Message"] == "Model endpoint unavailable"
    assert all_matches(pager) == []  # a failed job publishes no run

    partial = run_job(emulator, client, Outcome="PARTIAL_SUCCESS")
    assert partial["Status"] == "PARTIAL_SUCCESS"
    assert "not merged" in partial["Message"]
    assert len(all_matches(pager)) == 2

    jobs = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    assert [j["Status"] for j in jobs] == ["PENDING", "PARTIAL_SUCCESS", "FAILED"]  # newest (scheduled) first


def test_get_matches_reports_only_the_latest_run(emulator, pager):
    client = pager.client
    create_domain(client, "retail", Matching=MATCHING)
    before = client.get_matches(DomainName="retail")
    assert before["Matches"] == []
    assert before["PotentialMatches"] == 0
    assert "MatchGenerationDate" not in before

    ids = add_duplicates(client)
    first = run_job(emulator, client)
    first_run = client.get_matches(DomainName="retail")
    assert first_run["PotentialMatches"] == 2
    assert first_run["MatchGenerationDate"] == first["JobEndTime"]

    twin = client.create_profile(
        DomainName="retail", FirstName="Ana", LastName="Silva", EmailAddress="ASILVA@example.org"
    )
    run_job(emulator, client)
    second_run = client.get_matches(DomainName="retail")
    assert second_run["MatchGenerationDate"] > first_run["MatchGenerationDate"]
    groups = sorted(sorted(m["ProfileIds"]) for m in all_matches(pager, page_size=1))
    assert groups == sorted([*ids["groups"], sorted([ids["other_ana"][0], twin["ProfileId"]])])
    for match in all_matches(pager):
        assert len(match["MatchId"]) == 32
        assert 0 < match["ConfidenceScore"] <= 1


def test_seeded_matches_page_with_sizes_that_do_not_divide_the_total(emulator, pager):
    create_domain(pager.client, "retail", Matching=MATCHING)
    seeded = emulator.admin(
        "POST",
        "domains/retail/matches",
        {"Generate": {"Groups": 250, "GroupSize": 3, "Seed": 7}, "MatchGenerationDate": "2026-01-05T00:00:00Z"},
    )
    assert seeded == {"MatchCount": 250, "ProfileEntries": 750}
    pages = list(pager.iterate_pages("get_matches", DomainName="retail", MaxResults=7))
    assert [len(p["Matches"]) for p in pages] == [7] * 35 + [5]
    matches = [m for p in pages for m in p["Matches"]]
    assert len({m["MatchId"] for m in matches}) == 250
    assert all(len(m["ProfileIds"]) == 3 and 0.5 <= m["ConfidenceScore"] <= 1 for m in matches)
    assert pages[0]["PotentialMatches"] == 250
    assert pages[0]["MatchGenerationDate"] == dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    assert all_matches(pager, page_size=100) == matches  # same seed, same run, any page size

    explicit = [{"MatchId": "m-1", "ProfileIds": ["a" * 32, "b" * 32], "ConfidenceScore": 0.75}]
    emulator.admin("POST", "domains/retail/matches", {"Matches": explicit, "MatchGenerationDate": 1767571200})
    replaced = pager.client.get_matches(DomainName="retail")
    assert replaced["Matches"] == explicit
    assert replaced["MatchGenerationDate"] == dt.datetime.fromtimestamp(1767571200, tz=dt.timezone.utc)

    assert admin_error(emulator, "POST", "domains/retail/matches", {"Matches": [{"MatchId": "x"}]})[0] == 400
    assert admin_error(emulator, "POST", "domains/retail/matches", {})[0] == 400


def test_a_million_seeded_match_rows_page_from_any_point(emulator, pager):
    create_domain(pager.client, "retail", Matching=MATCHING)
    seeded = emulator.admin("POST", "domains/retail/matches", {"Generate": {"Groups": 500_000, "Seed": "bench"}})
    assert seeded == {"MatchCount": 500_000, "ProfileEntries": 1_000_000}
    first = pager.client.get_matches(DomainName="retail", MaxResults=100)
    assert first["PotentialMatches"] == 500_000
    second = pager.client.get_matches(DomainName="retail", MaxResults=100, NextToken=first["NextToken"])
    assert {m["MatchId"] for m in first["Matches"]}.isdisjoint(m["MatchId"] for m in second["Matches"])


@pytest.fixture
def s3_emulator(customer_profiles_emulator_factory, moto_s3_server):
    return paced(customer_profiles_emulator_factory(s3_endpoint_url=moto_s3_server))


def test_job_writes_its_result_file_to_s3(s3_emulator, moto_s3_server, s3_bucket):
    pager = Pager(s3_emulator.client())
    client = pager.client
    exporting = {"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "identity-resolution"}}
    create_domain(client, "retail", Matching={**MATCHING, "ExportingConfig": exporting})
    add_duplicates(client)
    job = run_job(s3_emulator, client)
    assert job["Status"] == "COMPLETED"
    location = job["ExportingLocation"]["S3Exporting"]
    assert location == {"S3BucketName": s3_bucket, "S3KeyName": f"identity-resolution/{job['JobId']}/"}
    [listed] = [
        j
        for j in client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
        if j["JobId"] == job["JobId"]
    ]
    assert listed["ExportingLocation"] == job["ExportingLocation"]

    s3 = boto3.client(
        "s3", endpoint_url=moto_s3_server, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix=location["S3KeyName"])["Contents"]]
    assert keys == [location["S3KeyName"] + "matches.csv"]
    body = s3.get_object(Bucket=s3_bucket, Key=keys[0])["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == ["MatchId", "ProfileId", "ConfidenceScore", "MatchGroupSize", "MatchGenerationDate"]
    matches = client.get_matches(DomainName="retail")
    expected = {
        (m["MatchId"], pid, m["ConfidenceScore"], len(m["ProfileIds"]))
        for m in matches["Matches"]
        for pid in m["ProfileIds"]
    }
    assert {
        (r["MatchId"], r["ProfileId"], float(r["ConfidenceScore"]), int(r["MatchGroupSize"])) for r in rows
    } == expected
    assert len(rows) == len(expected) == 4
    generated = matches["MatchGenerationDate"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {r["MatchGenerationDate"] for r in rows} == {generated}


def test_export_failure_is_a_partial_success_without_customer_data(s3_emulator, emulator):
    missing_bucket = {"S3Exporting": {"S3BucketName": "no-such-bucket-here", "S3KeyName": "ir"}}
    for endpoint, reason in ((s3_emulator, "NoSuchBucket"), (emulator, "no S3 endpoint")):
        client = endpoint.client()
        create_domain(client, "retail", Matching={**MATCHING, "ExportingConfig": missing_bucket})
        client.create_profile(DomainName="retail", FirstName="Zoe", EmailAddress="zoe@example.com")
        client.create_profile(DomainName="retail", FirstName="Zoe", EmailAddress="ZOE@example.com")
        job = run_job(endpoint, client)
        assert job["Status"] == "PARTIAL_SUCCESS"
        assert "no-such-bucket-here" in job["Message"] and reason in job["Message"]
        assert "zoe" not in job["Message"].lower()
        assert "ExportingLocation" not in job
        assert client.get_matches(DomainName="retail")["PotentialMatches"] == 1


def crm_contact(client, contact_id: str, email: str, **names: str) -> str:
    """Put a CRMContact object (its type creates a profile); returns the profile id it joined."""
    fields = {"id": contact_id, "email": email, **names}
    client.put_profile_object(DomainName="retail", ObjectTypeName="CRMContact", Object=json.dumps(fields))
    return search_one(client, "retail", "crm_id", contact_id)["ProfileId"]


def auto_merging(rules, model: str = "RECENCY", threshold: float | None = None, **extra) -> dict:
    settings = {
        "Enabled": True,
        "Consolidation": {"MatchingAttributesList": rules},
        "ConflictResolution": {"ConflictResolvingModel": model, **extra},
    }
    if threshold is not None:
        settings["MinAllowedConfidenceScoreForMerging"] = threshold
    return settings


def test_auto_merge_follows_rules_threshold_and_recency(emulator, pager, s3_bucket):
    client = pager.client
    exporting = {"S3Exporting": {"S3BucketName": s3_bucket}}
    matching = {
        **MATCHING,
        "AutoMerging": auto_merging([["EmailAddress"]], threshold=0.92),
        "ExportingConfig": exporting,
    }
    create_domain(client, "retail", Matching=matching)
    create_object_type(client, "retail", "CRMContact")
    older = crm_contact(client, "c-1", "lee.park@example.com", first="Lee", last="Park")
    advance(emulator, 5)
    newer = client.create_profile(
        DomainName="retail", FirstName="Lee", LastName="Park", EmailAddress="Lee.Park@example.com"
    )["ProfileId"]
    # same email, but no names: confidence 0.9 stays under the 0.92 threshold
    low_a = client.create_profile(DomainName="retail", EmailAddress="kim@example.com")["ProfileId"]
    low_b = client.create_profile(DomainName="retail", EmailAddress="KIM@example.com")["ProfileId"]
    # same phone, different emails: no consolidation rule agrees
    phone_a = client.create_profile(
        DomainName="retail", FirstName="Raj", PhoneNumber="555-010-0199", EmailAddress="r1@example.com"
    )["ProfileId"]
    phone_b = client.create_profile(
        DomainName="retail", FirstName="Raj", PhoneNumber="5550100199", EmailAddress="r2@example.com"
    )["ProfileId"]
    client.update_profile(DomainName="retail", ProfileId=newer, FirstName="Lee", LastName="Park")

    job = run_job(emulator, client, phases=5)
    assert job["Status"] == "COMPLETED"
    assert job["JobStats"]["NumberOfMergesDone"] == 1
    assert job["JobStats"]["NumberOfMatchesFound"] == 3
    assert job["AutoMerging"]["MinAllowedConfidenceScoreForMerging"] == 0.92
    assert "ExportingLocation" not in job  # with auto-merge on, no matched profile ids are exported

    remaining = {
        p["ProfileId"]
        for p in client.search_profiles(DomainName="retail", KeyName="_email", Values=["lee.park@example.com"])["Items"]
    }
    assert remaining == {newer}  # RECENCY: the most recently updated profile is kept
    objects = client.list_profile_objects(DomainName="retail", ObjectTypeName="CRMContact", ProfileId=newer)["Items"]
    assert len(objects) == 1  # the merged profile's object moved to the main profile
    assert (
        client.search_profiles(DomainName="retail", KeyName="crm_id", Values=["c-1"])["Items"][0]["ProfileId"] == newer
    )
    survivors = client.batch_get_profile(DomainName="retail", ProfileIds=[older, low_a, low_b, phone_a, phone_b])
    assert sorted(p["ProfileId"] for p in survivors["Profiles"]) == sorted([low_a, low_b, phone_a, phone_b])


def test_auto_merge_source_conflict_resolution_keeps_the_profile_with_source_objects(emulator, pager):
    client = pager.client
    matching = {**MATCHING, "AutoMerging": auto_merging([["EmailAddress"]], "SOURCE", SourceName="CRMContact")}
    create_domain(client, "retail", Matching=matching)
    create_object_type(client, "retail", "CRMContact")
    sourced = crm_contact(client, "c-9", "mo@example.com")
    advance(emulator, 5)
    newer = client.create_profile(DomainName="retail", EmailAddress="MO@example.com")["ProfileId"]
    job = run_job(emulator, client, phases=5)
    assert job["JobStats"]["NumberOfMergesDone"] == 1
    kept = client.batch_get_profile(DomainName="retail", ProfileIds=[sourced, newer])
    assert [p["ProfileId"] for p in kept["Profiles"]] == [sourced]


def test_auto_merging_preview_counts_without_changing_anything(emulator, pager):
    client = pager.client
    create_domain(client, "retail", Matching=MATCHING)
    add_duplicates(client)
    run_job(emulator, client)

    def preview(rules, threshold=None):
        kwargs = {"MinAllowedConfidenceScoreForMerging": threshold} if threshold is not None else {}
        answer = client.get_auto_merging_preview(
            DomainName="retail",
            Consolidation={"MatchingAttributesList": rules},
            ConflictResolution={"ConflictResolvingModel": "RECENCY"},
            **kwargs,
        )
        assert answer["DomainName"] == "retail"
        assert (answer["NumberOfMatchesInSample"], answer["NumberOfProfilesInSample"]) == (2, 4)
        return answer["NumberOfProfilesWillBeMerged"]

    assert preview([["EmailAddress"]]) == 1
    assert preview([["EmailAddress"], ["PhoneNumber", "LastName"]]) == 1  # Raj's phones are in two fields
    assert preview([["EmailAddress"], ["FirstName", "LastName"]]) == 2
    assert preview([["FirstName", "LastName"]], threshold=0.99) == 0
    assert preview([["BusinessName"]]) == 0
    assert client.get_domain(DomainName="retail")["Stats"]["ProfileCount"] == 5
