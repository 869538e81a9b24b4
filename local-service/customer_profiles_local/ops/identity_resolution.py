"""GetMatches, GetAutoMergingPreview, GetIdentityResolutionJob, ListIdentityResolutionJobs.

Every call first brings the domain's jobs up to the service clock (``identity_resolution_jobs.sync``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from customer_profiles_local.auto_merge import plan_merges
from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.identity_resolution_jobs import matching_settings, status_at, sync
from customer_profiles_local.match_runs import latest
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.state import Domain, EmulatorState


def require_matching(domain: Domain) -> None:
    if not matching_settings(domain).get("Enabled"):
        raise BadRequest(f"Identity resolution (Matching) is not enabled on domain {domain.name}")


@operation("GetMatches")
def get_matches(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    require_matching(domain)
    sync(state, domain)
    generated_at, matches = latest(domain)
    page, token = paginate(matches, params)
    return {
        "MatchGenerationDate": generated_at,
        "PotentialMatches": len(matches),
        "Matches": [
            {"MatchId": g.match_id, "ProfileIds": list(g.profile_ids), "ConfidenceScore": g.confidence_score}
            for g in page
        ],
        "NextToken": token,
    }


@operation("GetAutoMergingPreview")
def get_auto_merging_preview(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    require_matching(domain)
    sync(state, domain)
    _, matches = latest(domain)
    plans = plan_merges(domain, matches, params)
    return {
        "DomainName": domain.name,
        "NumberOfMatchesInSample": len(matches),
        "NumberOfProfilesInSample": sum(len(group.profile_ids) for group in matches),
        "NumberOfProfilesWillBeMerged": sum(len(plan.others) for plan in plans),
    }


def _job_summary(domain: Domain, job: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    status, _ = status_at(job, now)
    final = job["Final"] or {}
    return {
        "DomainName": domain.name,
        "JobId": job["JobId"],
        "Status": status,
        "Message": final.get("Message"),
        "JobStartTime": job["JobStartTime"],
        "JobEndTime": final.get("JobEndTime"),
        "JobStats": dict(job["Stats"]) or None,
        "ExportingLocation": job.get("ExportingLocation"),
    }


@operation("GetIdentityResolutionJob")
def get_identity_resolution_job(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    now = sync(state, domain)
    job = domain.identity_resolution_jobs.get(params["JobId"])
    if job is None:
        raise NotFound(f"Identity resolution job {params['JobId']} does not exist in domain {domain.name}")
    auto_merging = (job["Config"] or {"AutoMerging": matching_settings(domain).get("AutoMerging")})["AutoMerging"]
    return {
        **_job_summary(domain, job, now),
        "LastUpdatedAt": status_at(job, now)[1],
        "JobExpirationTime": job["JobExpirationTime"],
        "AutoMerging": auto_merging,
    }


@operation("ListIdentityResolutionJobs")
def list_identity_resolution_jobs(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    now = sync(state, domain)
    jobs = sorted(domain.identity_resolution_jobs.values(), key=lambda j: (j["JobStartTime"], j["JobId"]), reverse=True)
    page, token = paginate(jobs, params)
    return {"IdentityResolutionJobsList": [_job_summary(domain, job, now) for job in page], "NextToken": token}
