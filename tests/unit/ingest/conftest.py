"""The loader's unit tests run against one in-process local service (quotas off), each test in a fresh domain."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, client_config
from customer_profiles_local.pytest_plugin import ServiceEndpoint
from customer_profiles_local.server import CustomerProfilesServer, Knobs
from customer_profiles_local.state import EmulatorConfig
from tests.integration.ingest.support import OBJECT_TYPE, all_accounts, by_rid, create_target, stored_objects


class RecordingClient:
    """The real client; counts the put calls and the objects they carry, and runs ``before_put`` before each."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.objects = 0
        self.sent: list[list[str]] = []  # the objects of each put call
        self.before_put: Callable[[list[str]], None] = lambda objects: None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _record(self, operation: str, objects: list[str]) -> None:
        with self._lock:
            self.calls[operation] += 1
            self.objects += len(objects)
            self.sent.append(objects)
        self.before_put(objects)

    def batch_put_profile_object(self, **kwargs: Any) -> Any:
        self._record("BatchPutProfileObject", [item["Object"] for item in kwargs["Items"]])
        return self._client.batch_put_profile_object(**kwargs)

    def put_profile_object(self, **kwargs: Any) -> Any:
        self._record("PutProfileObject", [kwargs["Object"]])
        return self._client.put_profile_object(**kwargs)


@dataclass
class Target:
    """A fresh domain holding the ingest tests' object type (UNIQUE ``rid``, PROFILE ``acct``)."""

    endpoint: ServiceEndpoint
    domain: str
    client: RecordingClient

    def options(self, tmp_path: Any, **overrides: Any) -> LoadOptions:
        settings = {
            "dead_letter_uri": str(tmp_path / "dead"),
            "checkpoint_uri": str(tmp_path / "checkpoint.json"),
            "batch_rows": 10,
            "max_workers": 4,
            "commit_interval": 0.05,
            "max_failed_ratio": 1.0,
            **overrides,
        }
        return LoadOptions(self.domain, OBJECT_TYPE, **settings)

    def stored(self) -> dict[str, dict[str, Any]]:
        """The objects the service holds, by ``rid``."""
        return by_rid(stored_objects(self.endpoint, all_accounts(), self.domain))


@pytest.fixture(scope="session")
def local_service() -> Iterator[tuple[ServiceEndpoint, Any]]:
    """The local service without quotas or matching delay, and a loader client for it."""
    server = CustomerProfilesServer("127.0.0.1", 0, Knobs(quotas="off"), EmulatorConfig(matching_delay_seconds=0))
    endpoint = ServiceEndpoint(server.start_background(), "testing", "testing")
    yield endpoint, endpoint.client(**client_config(4))
    server.stop()


@pytest.fixture
def target(local_service) -> Target:
    endpoint, client = local_service
    domain = "d-" + uuid.uuid4().hex[:12]
    create_target(client, domain)
    return Target(endpoint, domain, RecordingClient(client))
