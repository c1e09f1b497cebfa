"""A budget store in Redis: shared by every process on every machine that pushes to a workspace.

One Lua script checks every window of every bucket and records the spend atomically, so
concurrent clients on different machines can never both take the last units. Each bucket is a
sorted set scored by time whose members carry their weight; the pause is a plain key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from moengage_pipelines.api.ratebudget.store import BucketRequest

__all__ = ["RedisBudgetStore"]

# KEYS: one log key per bucket, then one pause key per bucket.
# ARGV: now, bucket count, token, then per bucket: cost, window count, (limit, seconds)...
# Members are "<cost>:<token>", so the weight can be read back and the entry settled.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local token = ARGV[3]
local at = 4
local wait = 0
local plan = {}
for i = 1, n do
  local key = KEYS[i]
  local cost = tonumber(ARGV[at])
  local count = tonumber(ARGV[at + 1])
  at = at + 2
  local windows = {}
  local longest = 0
  for j = 1, count do
    local limit = tonumber(ARGV[at])
    local seconds = tonumber(ARGV[at + 1])
    at = at + 2
    windows[j] = {limit, seconds}
    if seconds > longest then longest = seconds end
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest)
  local paused = tonumber(redis.call('GET', KEYS[n + i]) or '0')
  if paused > now and paused - now > wait then wait = paused - now end
  local raw = redis.call('ZRANGEBYSCORE', key, '(' .. (now - longest), '+inf', 'WITHSCORES')
  local stamps = {}
  local weights = {}
  for k = 1, #raw, 2 do
    stamps[#stamps + 1] = tonumber(raw[k + 1])
    weights[#weights + 1] = tonumber(string.match(raw[k], '^(%d+):'))
  end
  for j = 1, count do
    local limit = windows[j][1]
    local seconds = windows[j][2]
    local horizon = now - seconds
    local used = 0
    for k = 1, #stamps do
      if stamps[k] > horizon then used = used + weights[k] end
    end
    local excess = used + cost - limit
    if excess > 0 then
      local freed = 0
      for k = 1, #stamps do
        if stamps[k] > horizon then
          freed = freed + weights[k]
          if freed >= excess then
            local until_free = stamps[k] + seconds - now
            if until_free > wait then wait = until_free end
            break
          end
        end
      end
    end
  end
  plan[i] = {key, cost, longest}
end
if wait > 0 then
  return tostring(wait)
end
for i = 1, n do
  local key = plan[i][1]
  redis.call('ZADD', key, now, plan[i][2] .. ':' .. token)
  redis.call('PEXPIRE', key, math.ceil(plan[i][3] * 1000) + 1000)
end
return '0'
"""

# KEYS: log keys; ARGV: now, then one member per key.
_SETTLE = """
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local member = ARGV[i + 1]
  local stamp = redis.call('ZSCORE', KEYS[i], member)
  if stamp and tonumber(stamp) < now then
    redis.call('ZADD', KEYS[i], now, member)
  end
end
return 0
"""

_PAUSE = """
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tonumber(ARGV[1]) > current then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', math.max(1, math.ceil(tonumber(ARGV[2]) * 1000)))
  end
end
return 0
"""


class RedisBudgetStore:
    """Sliding logs in Redis, for budgets shared across machines.

    Args:
        url: Redis URL, e.g. ``redis://host:6379/0``.
        prefix: Prefix of every key this store writes.
        client: An existing ``redis.Redis`` to use instead of ``url``.

    Machines must keep their clocks in sync (NTP); entries are stamped with the caller's time.
    """

    def __init__(
        self, url: str | None = None, *, prefix: str = "moengage:budget", client: Any = None
    ) -> None:
        if client is None:
            import redis  # deferred: only Redis users need the client library loaded

            if url is None:
                raise ValueError("RedisBudgetStore needs a url or a client")
            # Bounded waits, so an unreachable Redis fails a request instead of hanging it
            # (options in the URL's query win over these).
            client = redis.Redis.from_url(url, socket_connect_timeout=10.0, socket_timeout=30.0)
        self._url = url
        self._redis = client
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._pause = client.register_script(_PAUSE)
        self._settle = client.register_script(_SETTLE)

    def __repr__(self) -> str:
        return f"RedisBudgetStore(prefix={self.prefix!r})"

    def __getstate__(self) -> dict[str, Any]:
        if self._url is None:
            raise TypeError("a RedisBudgetStore built from a client object cannot be pickled")
        return {"url": self._url, "prefix": self.prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"], prefix=state["prefix"])  # type: ignore[misc]

    def _log_key(self, key: str) -> str:
        return f"{self.prefix}:log:{key}"

    def _pause_key(self, key: str) -> str:
        return f"{self.prefix}:pause:{key}"

    def try_acquire(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> float:
        """Record every request if all fit now; else return the seconds to wait."""
        keys = [self._log_key(r.key) for r in requests] + [self._pause_key(r.key) for r in requests]
        args: list[Any] = [repr(clock()), len(requests), token]
        for request in requests:
            args += [request.cost, len(request.windows)]
            for limit, seconds in request.windows:
                args += [limit, repr(seconds)]
        return max(float(self._acquire(keys=keys, args=args)), 0.0)

    def settle(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> None:
        """Re-stamp an acquisition's entries with the current time."""
        keys = [self._log_key(request.key) for request in requests]
        members = [f"{request.cost}:{token}" for request in requests]
        self._settle(keys=keys, args=[repr(clock()), *members])

    def pause(self, keys: Iterable[str], until: float) -> None:
        """Admit nothing from these buckets before ``until``."""
        import time

        pause_keys = [self._pause_key(key) for key in keys]
        if pause_keys:
            # The key expires shortly after the pause ends, so Redis does not fill up.
            ttl = max(until - time.time(), 0.0) + 60.0
            self._pause(keys=pause_keys, args=[repr(until), repr(ttl)])

    def used(self, key: str, now: float, seconds: float) -> int:
        """Units spent in the bucket in the ``seconds`` before ``now``."""
        members = self._redis.zrangebyscore(self._log_key(key), f"({now - seconds}", "+inf")
        return sum(int(member.split(b":", 1)[0]) for member in members)

    def close(self) -> None:
        """Close the Redis connection pool."""
        self._redis.close()
