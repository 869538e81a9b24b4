"""Per-operation request quotas: the documented default TPS table, as token buckets."""

from __future__ import annotations

import threading
import time

# "Default TPS throttling limits" of the Amazon Connect admin guide, per account and Region.
# BatchPutProfileObject is not in the table; the emulator gives it PutProfileObject's 100 TPS.
_TPS_GROUPS: dict[float, tuple[str, ...]] = {
    100: (
        "SearchProfiles",
        "ListProfileObjects",
        "GetMatches",
        "GetSimilarProfiles",
        "GetCalculatedAttributeForProfile",
        "ListCalculatedAttributesForProfile",
        "CreateProfile",
        "UpdateProfile",
        "PutProfileObject",
        "BatchPutProfileObject",
        "AddProfileKey",
        "DeleteProfile",
        "DeleteProfileObject",
        "DeleteProfileKey",
        "MergeProfiles",
        "ListAccountIntegrations",
    ),
    10: ("GetProfileObjectType",),
    5: (
        "ListDomains",
        "GetDomain",
        "ListProfileObjectTypes",
        "ListProfileObjectTypeTemplates",
        "GetProfileObjectTypeTemplate",
        "ListIntegrations",
        "GetIntegration",
        "ListIdentityResolutionJobs",
        "GetIdentityResolutionJob",
        "ListEventStreams",
        "DeleteEventStream",
        "GetEventStream",
        "GetCalculatedAttributeDefinition",
        "ListCalculatedAttributeDefinitions",
        "DeleteCalculatedAttributeDefinition",
        "CreateIntegrationWorkflow",
        "GetWorkflow",
        "GetWorkflowSteps",
        "ListWorkflows",
        "DeleteWorkflow",
        "ListRuleBasedMatches",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    ),
    1: (
        "CreateDomain",
        "UpdateDomain",
        "DeleteDomain",
        "PutProfileObjectType",
        "DeleteProfileObjectType",
        "PutIntegration",
        "DeleteIntegration",
        "GetAutoMergingPreview",
        "CreateEventStream",
        "CreateCalculatedAttributeDefinition",
        "UpdateCalculatedAttributeDefinition",
    ),
}

AWS_DEFAULT_TPS: dict[str, float] = {op: tps for tps, ops in _TPS_GROUPS.items() for op in ops}


class TokenBucket:
    """A bucket of ``rate`` tokens a second holding at most one second's worth (AWS documents no burst)."""

    def __init__(self, rate: float, clock=time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self.lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class Quotas:
    """Admits or throttles each request by operation; ``mode='off'`` admits everything."""

    def __init__(self, mode: str = "aws", overrides: dict[str, float] | None = None) -> None:
        if mode not in ("aws", "off"):
            raise ValueError(f"quotas must be 'aws' or 'off', not {mode!r}")
        table = dict(AWS_DEFAULT_TPS) if mode == "aws" else {}
        table.update(overrides or {})
        self.buckets = {op: TokenBucket(tps) for op, tps in table.items()}

    def admit(self, operation: str) -> bool:
        bucket = self.buckets.get(operation)
        return bucket is None or bucket.try_acquire()
