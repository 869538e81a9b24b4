"""
One request quota shared by every load in an account and Region, on any number of workers (Redis).

The quota is per account and Region, so loads running side by side on different
workers must split it instead of each pacing itself at the full rate and fighting
through throttles. Two atomic Lua scripts, run by Redis on Redis's own clock (the
workers' clocks never need to agree), keep the shared state under one namespace:

- a GCRA schedule: each request reserves the next evenly spaced send slot of the
  whole namespace, so the sum of all loads stays at the shared rate;
- the shared rate itself, AIMD as in :class:`AdaptiveRateLimiter`: a throttle seen by
  any load lowers it for all (once per cooldown), and it grows back linearly;
- the loads taking part, in a sorted set scored by when each last asked for a slot.
  A load that has not asked for ``member_ttl`` seconds (it ended, stalled or was
  killed) drops out, and the others' shares grow.

Each load paces its own requests at ``share_headroom`` times its fair share (shared rate /
loads taking part) before asking for a slot: loads alike in workers get equal shares from the
schedule, a load with more workers gets no more than the headroom above its share, and a load
that cannot use its whole share (a busy CPU, a slow reader) leaves the rest to the others.

The limiter never fails a load: when Redis does not answer, it logs once and paces
on a per-process :class:`AdaptiveRateLimiter`, asking Redis again every ``retry_after``
seconds. Give the Redis client short socket timeouts (see ``transfers.quota_connection``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from airflow_provider_customerprofiles.ingest.rate_limit import AdaptiveRateLimiter

log = logging.getLogger(__name__)

# The shared rate in force at Redis time ``now`` (locals: now, max_rate, recovery, state = HMGET of
# rate/changed_at): the last decreased value plus linear recovery, capped at the ceiling.
_CURRENT_RATE = """
local function current_rate(now, max_rate, recovery, rate_at_change, changed_at)
  if not rate_at_change then return max_rate end
  return math.min(max_rate, tonumber(rate_at_change) + recovery * (now - tonumber(changed_at)))
end
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
"""

# KEYS: pace hash, loads zset. ARGV: max_rate, recovery/s, member, member_ttl, idle_expiry_ms, catch_up.
# Returns {seconds to wait, shared rate, loads taking part}.
_RESERVE = (
    _CURRENT_RATE
    + """
local now = redis_now()
local max_rate, recovery, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local loads = redis.call('ZCARD', KEYS[2])
local state = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'changed_at')
local rate = current_rate(now, max_rate, recovery, state[2], state[3])
local slot = math.max(now - tonumber(ARGV[6]), tonumber(state[1]) or now)
redis.call('HSET', KEYS[1], 'tat', fmt(slot + 1 / rate))
slot = math.max(slot, now)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {fmt(slot - now), fmt(rate), loads}
"""
)

# KEYS: pace hash. ARGV: max_rate, recovery/s, decrease_factor, min_rate, cooldown, idle_expiry_ms.
# Returns the shared rate after the throttle.
_THROTTLE = (
    _CURRENT_RATE
    + """
local now = redis_now()
local max_rate, recovery = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'rate', 'changed_at', 'last_decrease', 'tat')
local rate = current_rate(now, max_rate, recovery, state[1], state[2])
if state[3] and now - tonumber(state[3]) < tonumber(ARGV[5]) then return fmt(rate) end
rate = math.max(tonumber(ARGV[4]), rate * tonumber(ARGV[3]))
local tat = math.max(tonumber(state[4]) or now, now + 1 / rate)
redis.call('HSET', KEYS[1], 'rate', fmt(rate), 'changed_at', fmt(now), 'last_decrease', fmt(now), 'tat', fmt(tat))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return fmt(rate)
"""
)

# Shared state outlives a pause this long; after it, a new load starts at the full rate.
_IDLE_EXPIRY_MS = 60_000


class SharedRateLimiter:
    """
    Paces this load's requests within a quota shared through Redis; same interface as AdaptiveRateLimiter.

    :param redis: a redis-py client (``redis.Redis``), preferably with socket timeouts of a second or two.
    :param namespace: what shares one budget, e.g. ``"<account-id>:<region>"``.
    :param max_rate: the namespace's ceiling, requests per second (every load of it should pass the same).
    :param member_ttl: seconds without a request after which a load no longer holds a share.
    :param retry_after: seconds on the per-process limit before asking Redis again, after it failed.
    :param share_headroom: how far above its fair share a load may ask (see the module docstring).
    :param catch_up: slots up to this many seconds old, missed by late callers (a busy CPU), are still
        given out, at once: a burst of at most ``catch_up * max_rate`` requests, which the service's
        one-second bucket absorbs, instead of a lasting shortfall.
    """

    def __init__(
        self,
        redis: Any,
        namespace: str,
        max_rate: float,
        *,
        min_rate: float = 1.0,
        decrease_factor: float = 0.7,
        recovery_per_second: float | None = None,
        cooldown: float = 1.0,
        member_ttl: float = 3.0,
        retry_after: float = 30.0,
        catch_up: float = 0.2,
        share_headroom: float = 1.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.fallback = AdaptiveRateLimiter(
            max_rate,
            min_rate=min_rate,
            decrease_factor=decrease_factor,
            recovery_per_second=recovery_per_second,
            cooldown=cooldown,
            clock=clock,
            sleep=sleep,
        )
        self.namespace = namespace
        self.member = uuid.uuid4().hex
        self._redis = redis
        # One hash tag: both keys live on one Redis Cluster slot, as a script's keys must.
        self._pace_key = f"customer_profiles:quota:{{{namespace}}}:pace"
        self._loads_key = f"customer_profiles:quota:{{{namespace}}}:loads"
        self._reserve_args = [
            max_rate,
            self.fallback.recovery_per_second,
            self.member,
            member_ttl,
            _IDLE_EXPIRY_MS,
            catch_up,
        ]
        self._catch_up = catch_up
        self._share_headroom = share_headroom
        self._throttle_args = [
            max_rate,
            self.fallback.recovery_per_second,
            decrease_factor,
            self.fallback.min_rate,
            cooldown,
            _IDLE_EXPIRY_MS,
        ]
        self._reserve = redis.register_script(_RESERVE)
        self._throttle = redis.register_script(_THROTTLE)
        self._retry_after = retry_after
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = float(max_rate)  # the shared rate and the loads taking part, from the last answer
        self._loads = 1
        self._next_own_slot = clock()
        self._down_until: float | None = None  # set while on the per-process limit
        self._warned = False

    @property
    def shared(self) -> bool:
        """Whether the shared store answered last time (False: pacing on the per-process limit)."""
        return self._down_until is None

    def current_rate(self) -> float:
        """This load's requests a second now: its share of the shared rate, or the per-process rate."""
        if not self.shared:
            return self.fallback.current_rate()
        with self._lock:
            return self._rate / self._loads

    def acquire(self) -> None:
        """Wait for this load's turn (its fair share), then for the namespace's next send slot."""
        if not self._on_shared_store():
            self.fallback.acquire()
            return
        self._wait_own_turn()
        try:
            wait, rate, loads = self._reserve(keys=[self._pace_key, self._loads_key], args=self._reserve_args)
        except Exception as exc:  # the limiter must never fail a load
            self._fall_back(exc)
            self.fallback.acquire()
            return
        self._answered(float(rate), int(loads))
        if float(wait) > 0:
            self._sleep(float(wait))

    def on_throttle(self) -> None:
        """The service said 429: lower the shared rate (once per cooldown, across all loads)."""
        if not self._on_shared_store():
            self.fallback.on_throttle()
            return
        try:
            rate = float(self._throttle(keys=[self._pace_key], args=self._throttle_args))
        except Exception as exc:
            self._fall_back(exc)
            self.fallback.on_throttle()
            return
        with self._lock:
            self._rate = rate

    def close(self) -> None:
        """Give this load's share back now rather than after ``member_ttl``."""
        try:
            self._redis.zrem(self._loads_key, self.member)
        except Exception as exc:
            log.debug("Shared quota: could not leave (%s); the share frees itself within seconds", type(exc).__name__)

    def __enter__(self) -> SharedRateLimiter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals
    def _wait_own_turn(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now - self._catch_up, self._next_own_slot)
            self._next_own_slot = slot + self._loads / (self._rate * self._share_headroom)
        if slot > now:
            self._sleep(slot - now)

    def _answered(self, rate: float, loads: int) -> None:
        with self._lock:
            self._rate, self._loads = rate, max(loads, 1)
            if self._down_until is not None:
                self._down_until = None
                log.info("Shared quota store %s answers again: pacing on the shared quota", self.namespace)

    def _on_shared_store(self) -> bool:
        """True while the store answers; once ``retry_after`` has passed, True for one caller (the probe)."""
        with self._lock:
            if self._down_until is None:
                return True
            if self._clock() < self._down_until:
                return False
            self._down_until = self._clock() + self._retry_after  # the others stay on the per-process limit
            return True

    def _fall_back(self, exc: Exception) -> None:
        with self._lock:
            self._down_until = self._clock() + self._retry_after
            warned, self._warned = self._warned, True
        if not warned:
            log.warning(
                "Shared quota store for %s unreachable (%s: %s): this load paces on its own limit of %.0f "
                "requests/s and asks the store again every %.0f s",
                self.namespace,
                type(exc).__name__,
                exc,
                self.fallback.max_rate,
                self._retry_after,
            )
