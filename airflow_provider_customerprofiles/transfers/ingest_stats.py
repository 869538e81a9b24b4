"""The loader's metrics (``ingest.metrics``) through Airflow's ``Stats``: StatsD or OpenTelemetry, as configured."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import Stats

PREFIX = "customer_profiles.ingest."


class StatsMetrics:
    """Sends ``customer_profiles.ingest.<name>``; tags name the target (domain and object type names, not data)."""

    def __init__(self, domain_name: str, object_type_name: str) -> None:
        self._tags = {"domain": domain_name, "object_type": object_type_name}

    def incr(self, name: str, count: int) -> None:
        Stats.incr(PREFIX + name, count, tags=self._tags)

    def gauge(self, name: str, value: float) -> None:
        Stats.gauge(PREFIX + name, value, tags=self._tags)
