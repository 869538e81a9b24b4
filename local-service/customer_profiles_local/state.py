"""In-memory state of the emulated account, guarded by one lock, and the clock tests can move."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from customer_profiles_local.errors import NotFound


class Clock:
    """UTC wall clock with an offset that tests move forward (``POST /_emulator/clock``)."""

    # far enough for any lifecycle, near enough that dates stay representable
    MAX_OFFSET = dt.timedelta(days=100 * 366)

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.offset

    def advance(self, seconds: float) -> dt.datetime:
        """Move forward; ValueError unless ``seconds`` is finite, not negative, and keeps within ``MAX_OFFSET``."""
        if not 0 <= seconds <= (self.MAX_OFFSET - self.offset).total_seconds():
            raise ValueError("the clock moves forward by a finite number of seconds, at most 100 years in all")
        self.offset += dt.timedelta(seconds=seconds)
        return self.now()


@dataclass
class Domain:
    """One domain and everything in it."""

    name: str
    created_at: dt.datetime
    settings: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    updated_at: dt.datetime | None = None
    object_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    # profile id -> profile fields, in the API's Profile shape (without ProfileId)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    # profile id -> when its fields last changed (auto-merge RECENCY conflict resolution reads it)
    profile_updated_at: dict[str, dt.datetime] = field(default_factory=dict)
    # key name -> key value -> profile ids that carry it
    keys: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # object type name -> ProfileObjectUniqueKey -> {"Object": str, "ProfileId": str,
    #   "Keys": {key name: [values]}} (the object string exactly as it was put)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # objects accepted but not yet matched to a profile, in the order they were put (matching_queue)
    pending_objects: list[Any] = field(default_factory=list)
    # objects that could not be attached to a profile: sent to the DeadLetterQueueUrl when there is one
    dead_letter_objects: int = 0
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    identity_resolution_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the latest completed identity-resolution run: {"MatchGenerationDate": ..., "Matches": [...]}
    latest_matches: dict[str, Any] | None = None
    # when matching was last turned on (None while off): its first job is scheduled once from this
    matching_enabled_at: dt.datetime | None = None


# AWS: "An ingested object is validated and queued, and profile matching happens shortly afterward"
# (admin guide, "Profile matching and inferred profiles"). No figure is documented. One second is long
# against a call (a few ms), so a read right after a write misses the object as it can on AWS, and short
# enough that a client that polls with a deadline waits little.
DEFAULT_MATCHING_DELAY_SECONDS = 1.0


@dataclass
class EmulatorConfig:
    """Settings that do not change while the service runs."""

    region: str = "us-east-1"
    account_id: str = "123456789012"
    s3_endpoint_url: str | None = None
    # where the domains' DeadLetterQueueUrl queues are reached (moto's server in tests)
    sqs_endpoint_url: str | None = None
    # between an accepted PutProfileObject and the object being attached and searchable
    matching_delay_seconds: float = DEFAULT_MATCHING_DELAY_SECONDS
    # AWS runs the first identity-resolution job "within 24 hours" of enabling matching; the service
    # runs it this many seconds after matching is turned on (None: only the weekly JobSchedule runs)
    first_job_delay_seconds: float | None = None


class EmulatorState:
    """Everything the service knows. Handlers run under ``lock``, one at a time."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.lock = threading.RLock()
        self.clock = Clock()
        self.domains: dict[str, Domain] = {}
        # account-level integrations (ListAccountIntegrations) are read from the domains
        self.tags: dict[str, dict[str, str]] = {}
        # lifecycle pacing and other emulator-only settings, changed through POST /_emulator/settings
        self.settings: dict[str, Any] = {}

    def reset(self) -> None:
        with self.lock:
            self.domains.clear()
            self.tags.clear()
            self.clock = Clock()
            self.settings.clear()

    def domain(self, name: str) -> Domain:
        """The domain, brought up to date with the service's clock (queued objects whose time came are matched)."""
        try:
            found = self.domains[name]
        except KeyError:
            raise NotFound(f"Domain {name} does not exist") from None
        for hook in DOMAIN_ACCESS_HOOKS:
            hook(self, found)
        return found

    def arn(self, resource: str) -> str:
        return f"arn:aws:profile:{self.config.region}:{self.config.account_id}:{resource}"


# Called on every access to a domain; the matching queue registers itself here (state stays free of ops imports).
DOMAIN_ACCESS_HOOKS: list[Callable[[EmulatorState, Domain], None]] = []


def new_id() -> str:
    """A 32-character lower-case hex id, the shape of ProfileId, JobId and WorkflowId."""
    return uuid.uuid4().hex
