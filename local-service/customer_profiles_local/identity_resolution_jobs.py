"""
The identity-resolution job lifecycle, evaluated lazily from the service clock.

No background thread runs jobs. Whenever something reads them (the identity-resolution
operations, the admin endpoints, a clock move), ``sync`` brings the domain's jobs up to the
current time: it materialises the weekly scheduled run (and, when configured, the first run
after matching is turned on), moves each job through its phases and does each phase's work
(matching, merging, export) on the first read at or after the phase starts. Phase timing,
with ``p`` the JobPhaseSeconds captured when the job is created:

    PENDING until JobStartTime, PREPROCESSING for p, FIND_MATCHING for p,
    MERGING for p (only with AutoMerging enabled), then COMPLETED / PARTIAL_SUCCESS / FAILED.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from customer_profiles_local import s3_export
from customer_profiles_local.auto_merge import plan_merges
from customer_profiles_local.match_runs import publish
from customer_profiles_local.matching import find_matches
from customer_profiles_local.pacing import pace
from customer_profiles_local.state import Domain, EmulatorState, new_id

log = logging.getLogger(__name__)

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
DEFAULT_SCHEDULE = {"DayOfTheWeek": "SATURDAY", "Time": "00:00"}
RETENTION = dt.timedelta(days=30)  # JobExpirationTime: a job is listed for 30 days after it starts
OUTCOMES = ("COMPLETED", "PARTIAL_SUCCESS", "FAILED")
DEFAULT_FAILURE = "The job failed: an internal error was injected through the local service"
DEFAULT_PARTIAL = "Some data was not merged: an internal error was injected through the local service"


def matching_settings(domain: Domain) -> dict[str, Any]:
    return domain.settings.get("Matching") or {}


def sync(state: EmulatorState, domain: Domain) -> dt.datetime:
    """Bring every job of ``domain`` up to the service's current time; returns that time."""
    now = state.clock.now()
    for job_id in [j for j, job in domain.identity_resolution_jobs.items() if job["JobExpirationTime"] < now]:
        del domain.identity_resolution_jobs[job_id]
    _schedule(state, domain, now)
    for job in sorted(domain.identity_resolution_jobs.values(), key=lambda j: (j["JobStartTime"], j["JobId"])):
        _advance(state, domain, job, now)
    return now


def sync_all(state: EmulatorState) -> None:
    for domain in state.domains.values():
        sync(state, domain)


def start_job(state: EmulatorState, domain: Domain, outcome: str | None, message: str | None) -> dict[str, Any]:
    """Start a job now (admin endpoint): PENDING for one phase, then the usual phases."""
    now = state.clock.now()
    job = _new_job(state, domain, now, now + dt.timedelta(seconds=pace(state, "JobPhaseSeconds")), "ADMIN")
    job["Outcome"], job["OutcomeMessage"] = outcome, message
    return job


# ------------------------------------------------------------------ schedule


def _schedule(state: EmulatorState, domain: Domain, now: dt.datetime) -> None:
    """Keep one PENDING job for the next scheduled run; start the run whose time has come."""
    matching = matching_settings(domain)
    schedule = matching.get("JobSchedule") or DEFAULT_SCHEDULE
    changed_at = domain.updated_at or domain.created_at
    planned = [j for j in domain.identity_resolution_jobs.values() if j["Trigger"] in ("SCHEDULE", "FIRST_RUN")]
    for job in planned:
        stale = not matching.get("Enabled") or (job["Trigger"] == "SCHEDULE" and job["Schedule"] != schedule)
        if stale and job["JobStartTime"] > changed_at and job["MaterializedAt"] < changed_at:
            del domain.identity_resolution_jobs[job["JobId"]]  # disabling matching deletes PENDING jobs
    if not matching.get("Enabled"):
        domain.matching_enabled_at = None
        return
    if domain.matching_enabled_at is None:
        # UpdateDomain syncs before it applies a change, so the latest change is the one that enabled matching.
        domain.matching_enabled_at = changed_at
        _schedule_first_run(state, domain, changed_at)
    starts = [j["JobStartTime"] for j in domain.identity_resolution_jobs.values() if j["Trigger"] == "SCHEDULE"]
    base = max([changed_at, *starts])
    due = _latest_occurrence(schedule, now)
    if due > base:  # missed runs in between are skipped: only the most recent one runs
        _new_job(state, domain, due, due, "SCHEDULE")
    if not any(start > now for start in starts):
        _new_job(state, domain, now, due + dt.timedelta(days=7), "SCHEDULE")


def _schedule_first_run(state: EmulatorState, domain: Domain, enabled_at: dt.datetime) -> None:
    """The job AWS runs "within 24 hours" of enabling matching, here ``first_job_delay_seconds`` after."""
    delay = state.config.first_job_delay_seconds
    if delay is not None:
        _new_job(state, domain, enabled_at, enabled_at + dt.timedelta(seconds=delay), "FIRST_RUN")


def _latest_occurrence(schedule: dict[str, str], moment: dt.datetime) -> dt.datetime:
    """The latest weekly ``DayOfTheWeek`` + ``Time`` (UTC) at or before ``moment``."""
    hour, minute = (int(part) for part in schedule["Time"].split(":"))
    utc = moment.astimezone(dt.timezone.utc)
    back = (utc.weekday() - DAYS.index(schedule["DayOfTheWeek"])) % 7
    day = utc.date() - dt.timedelta(days=back)
    candidate = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.timezone.utc)
    return candidate if candidate <= utc else candidate - dt.timedelta(days=7)


def _new_job(
    state: EmulatorState, domain: Domain, materialized: dt.datetime, start: dt.datetime, trigger: str
) -> dict[str, Any]:
    job = {
        "JobId": new_id(),
        "Trigger": trigger,
        "Schedule": dict(matching_settings(domain).get("JobSchedule") or DEFAULT_SCHEDULE),
        "MaterializedAt": materialized,
        "JobStartTime": start,
        "JobExpirationTime": start + RETENTION,
        "PhaseSeconds": pace(state, "JobPhaseSeconds"),
        "Outcome": None,
        "OutcomeMessage": None,
        "Config": None,  # AutoMerging and ExportingConfig, read when the job starts
        "Stats": {},
        "Final": None,
    }
    domain.identity_resolution_jobs[job["JobId"]] = job
    return job


# ------------------------------------------------------------------ phases


def phase_times(job: dict[str, Any]) -> dict[str, dt.datetime]:
    """When each phase starts (``END``: when the job finishes), from JobStartTime and the pace."""
    phase = dt.timedelta(seconds=job["PhaseSeconds"])
    start = job["JobStartTime"]
    times = {"PREPROCESSING": start, "FIND_MATCHING": start + phase}
    if job["Outcome"] == "FAILED":
        return {**times, "END": start + 2 * phase}
    if merging_enabled(job):
        return {**times, "MERGING": start + 2 * phase, "END": start + 3 * phase}
    return {**times, "END": start + 2 * phase}


def merging_enabled(job: dict[str, Any]) -> bool:
    return bool(((job["Config"] or {}).get("AutoMerging") or {}).get("Enabled"))


def status_at(job: dict[str, Any], now: dt.datetime) -> tuple[str, dt.datetime]:
    """The job's status at ``now`` and when it last changed."""
    if job["Final"]:
        return job["Final"]["Status"], job["Final"]["JobEndTime"]
    if now < job["JobStartTime"]:
        return "PENDING", job["MaterializedAt"]
    current = max(((t, name) for name, t in phase_times(job).items() if t <= now and name != "END"))
    return current[1], current[0]


def _advance(state: EmulatorState, domain: Domain, job: dict[str, Any], now: dt.datetime) -> None:
    if job["Final"] or now < job["JobStartTime"]:
        return
    if job["Config"] is None:
        matching = matching_settings(domain)
        job["Config"] = {"AutoMerging": matching.get("AutoMerging"), "ExportingConfig": matching.get("ExportingConfig")}
    times = phase_times(job)
    stats = job["Stats"]
    if now >= times["FIND_MATCHING"] and "NumberOfProfilesReviewed" not in stats:
        stats["NumberOfProfilesReviewed"] = len(domain.profiles)
        if job["Outcome"] != "FAILED":
            job["Matches"] = find_matches(domain.profiles)
            stats["NumberOfMatchesFound"] = len(job["Matches"])
        if "MERGING" not in times:
            stats["NumberOfMergesDone"] = 0
    if "MERGING" in times and now >= times["MERGING"] and "NumberOfMergesDone" not in stats:
        stats["NumberOfMergesDone"] = _merge(domain, job, now)
    if now >= times["END"]:
        _finish(state, domain, job, times)


def _merge(domain: Domain, job: dict[str, Any], now: dt.datetime) -> int:
    from customer_profiles_local.ops.profiles import merge_profiles

    plans = plan_merges(domain, job["Matches"], job["Config"]["AutoMerging"])
    if job["Outcome"] == "PARTIAL_SUCCESS":
        plans = plans[: (len(plans) + 1) // 2]  # the injected system error leaves the rest unmerged
    for plan in plans:
        merge_profiles(domain, plan.main, list(plan.others), now=now)
    log.info("Identity-resolution job %s merged %d match groups in domain %s", job["JobId"], len(plans), domain.name)
    return len(plans)


def _finish(state: EmulatorState, domain: Domain, job: dict[str, Any], times: dict[str, dt.datetime]) -> None:
    if job["Outcome"] == "FAILED":
        job["Final"] = {"Status": "FAILED", "Message": job["OutcomeMessage"] or DEFAULT_FAILURE}
    else:
        generated_at = times.get("MERGING", times["END"])
        publish(domain, generated_at, job["Matches"])
        status, message = "COMPLETED", None
        if job["Outcome"] == "PARTIAL_SUCCESS":
            status, message = "PARTIAL_SUCCESS", job["OutcomeMessage"] or DEFAULT_PARTIAL
        export_message = _export(state, job, generated_at)
        if export_message:
            status, message = "PARTIAL_SUCCESS", "; ".join(filter(None, (message, export_message)))
        job["Final"] = {"Status": status, "Message": message}
    job["Final"]["JobEndTime"] = times["END"]
    job.pop("Matches", None)
    log.info("Identity-resolution job %s in domain %s ended %s", job["JobId"], domain.name, job["Final"]["Status"])


def _export(state: EmulatorState, job: dict[str, Any], generated_at: dt.datetime) -> str | None:
    """Write the result file when exporting is configured; returns a failure message or None."""
    target = (job["Config"]["ExportingConfig"] or {}).get("S3Exporting")
    if not target or merging_enabled(job):  # with auto-merge on, AWS sends no matched profile ids
        return None
    prefix = s3_export.key_prefix(target.get("S3KeyName"), job["JobId"])
    try:
        s3_export.export_matches(
            state.config.s3_endpoint_url, target["S3BucketName"], prefix, job["Matches"], generated_at
        )
    except s3_export.ExportFailed as exc:
        return f"Exporting the match results to S3 bucket {target['S3BucketName']} failed: {exc}"
    job["ExportingLocation"] = {"S3Exporting": {"S3BucketName": target["S3BucketName"], "S3KeyName": prefix}}
    return None
