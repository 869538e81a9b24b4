"""Which groups a merge run takes, in which order, and into which profile (plan against the local service)."""

from __future__ import annotations

from airflow_provider_customerprofiles.merge.plan import MatchGroup, match_groups, plan_merges


def match(match_id: str | None, score: object, *profile_ids: str) -> dict:
    item = {"ConfidenceScore": score, "ProfileIds": list(profile_ids)}
    return item if match_id is None else {"MatchId": match_id, **item}


def test_groups_at_the_bar_with_two_distinct_profiles_come_best_first_then_by_match_id():
    matches = [
        match("below", 0.89, "p1", "p2"),
        match("m-b", 0.9, "p4", "p3", "p4"),
        match("A", 0.9, "p6", "p5"),
        match(None, 0.9, "p8", "p7"),
        match("one-profile", 1.0, "p9", "p9"),
        match("no-score", None, "p1", "p2"),
        {"MatchId": "no-score-key", "ProfileIds": ["p1", "p2"]},
        {"MatchId": "no-profiles", "ConfidenceScore": 0.99, "ProfileIds": None},
        {"MatchId": "no-profiles-key", "ConfidenceScore": 0.99},
        match("top", 1, "b", "a"),
    ]

    groups = match_groups(matches, min_confidence=0.9)

    assert groups == [
        MatchGroup("top", 1.0, ("a", "b")),
        MatchGroup(None, 0.9, ("p7", "p8")),
        MatchGroup("A", 0.9, ("p5", "p6")),
        MatchGroup("m-b", 0.9, ("p3", "p4")),
    ]
    assert all(type(group.confidence_score) is float for group in groups)


def test_no_group_reaches_a_bar_above_every_score():
    assert match_groups([match("m", 0.99, "p1", "p2")], min_confidence=0.995) == []


def test_each_group_merges_into_its_smallest_existing_profile_and_merged_groups_are_stale(merge_domain):
    fresh = merge_domain.profiles(3)
    half_merged = merge_domain.profiles(2)
    gone = merge_domain.profiles(2)
    merge_domain.delete(half_merged[0], *gone)
    groups = match_groups(
        merge_domain.publish(
            match("fresh", 0.99, *fresh), match("half", 0.98, *half_merged), match("gone", 0.97, *gone)
        ),
        0.9,
    )

    plan = plan_merges(merge_domain.client, merge_domain.name, groups, max_merges=10)

    assert [(g.match_id, g.main_profile_id, g.merged_profile_ids) for g in plan.planned] == [
        ("fresh", fresh[0], (fresh[1], fresh[2]))
    ]
    assert [(g.match_id, g.main_profile_id, g.merged_profile_ids) for g in plan.stale] == [
        ("half", half_merged[1], ()),
        ("gone", None, ()),
    ]
    assert (plan.groups_considered, plan.profiles_planned, plan.groups_deferred) == (3, 2, 0)


def test_the_cap_counts_planned_groups_only_and_leaves_the_rest_for_later(merge_domain):
    stale, first, second, third = (merge_domain.profiles(2) for _ in range(4))
    merge_domain.delete(stale[1])
    groups = match_groups(
        merge_domain.publish(
            match("stale", 1.0, *stale),
            match("first", 0.99, *first),
            match("second", 0.98, *second),
            match("third", 0.97, *third),
        ),
        0.9,
    )

    two = plan_merges(merge_domain.client, merge_domain.name, groups, max_merges=2)
    none = plan_merges(merge_domain.client, merge_domain.name, groups, max_merges=0)

    assert [g.match_id for g in two.planned] == ["first", "second"]
    assert [g.match_id for g in two.stale] == ["stale"]
    assert (two.profiles_planned, two.groups_deferred) == (2, 1)
    assert (none.planned, none.stale, none.groups_deferred) == ((), (), 4)


def test_a_group_larger_than_one_batch_get_call_is_checked_whole(merge_domain):
    ids = merge_domain.profiles(45)
    merge_domain.delete(ids[0], ids[30])
    groups = match_groups(merge_domain.publish(match("big", 0.95, *ids)), 0.9)

    plan = plan_merges(merge_domain.client, merge_domain.name, groups, max_merges=1)

    (group,) = plan.planned
    assert group.main_profile_id == ids[1]
    assert group.merged_profile_ids == tuple(ids[2:30] + ids[31:])
    assert plan.profiles_planned == 42
    assert merge_domain.calls("BatchGetProfile") == 3, "20 ids a call"


def test_the_audit_line_holds_ids_score_and_outcome(merge_domain):
    ids = merge_domain.profiles(3)
    groups = match_groups(merge_domain.publish(match("m", 0.93, *ids)), 0.9)

    (group,) = plan_merges(merge_domain.client, merge_domain.name, groups, max_merges=1).planned

    assert group.audit_line("merged") == {
        "match_id": "m",
        "confidence_score": 0.93,
        "main_profile_id": ids[0],
        "merged_profile_ids": [ids[1], ids[2]],
        "outcome": "merged",
    }
