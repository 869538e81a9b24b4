"""
The shared quota store an operator names with ``quota_conn_id``: an Airflow ``redis`` connection.

Loads that name the same store share one budget per AWS account and Region (the quota's
own scope). The Redis client gets short socket timeouts and one immediate retry, so an
unreachable store costs a load a second or two before it paces on its own limit
(see :class:`~airflow_provider_customerprofiles.ingest.shared_quota.SharedRateLimiter`).
"""

from __future__ import annotations

import logging

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_provider_customerprofiles.ingest.object_type import PreflightError
from airflow_provider_customerprofiles.ingest.shared_quota import SharedRateLimiter

log = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 2.0
UNKNOWN_ACCOUNT = "unknown-account"


def quota_namespace(aws_hook: AwsBaseHook) -> str:
    """``<account-id>:<region>``. Without the account (no STS), every account in the Region shares one
    budget: slower than needed for several accounts, never over any account's quota."""
    try:
        account = aws_hook.account_id
    except Exception as exc:
        log.warning(
            "Shared quota: the AWS account is unknown (%s); loads in Region %s share one budget across accounts",
            type(exc).__name__,
            aws_hook.conn_region_name,
        )
        account = UNKNOWN_ACCOUNT
    return f"{account}:{aws_hook.conn_region_name}"


def shared_rate_limiter(quota_conn_id: str, aws_hook: AwsBaseHook, max_rate: float) -> SharedRateLimiter:
    """A limiter on the Redis store of ``quota_conn_id``; fails only when the provider or connection is missing."""
    try:
        from airflow.providers.redis.hooks.redis import RedisHook
        from redis import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as exc:
        raise PreflightError(
            f"quota_conn_id={quota_conn_id!r} needs the Redis provider: install "
            "airflow-provider-customerprofiles[redis] (apache-airflow-providers-redis)"
        ) from exc
    client = RedisHook(redis_conn_id=quota_conn_id).get_conn()
    if isinstance(client, Redis):  # a cluster client keeps its own per-node settings
        client.connection_pool.connection_kwargs.update(
            socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS
        )
        client.set_retry(Retry(NoBackoff(), 1))
    return SharedRateLimiter(client, quota_namespace(aws_hook), max_rate)
