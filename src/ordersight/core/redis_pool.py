"""Django's Redis cache with one pool and one client per process, and a count in one call.

Django keeps a cache object per context (its cache handler's `Local` is not thread-critical),
and each cache object makes its own connection pool. Under the web server every request runs
in a context of its own, so every request made a pool, opened a new connection to Redis
(a name lookup, a connect, a close) and dropped it: a tenth of an API request's CPU went to
the rate limit's connection rather than to its one INCR. Handed to the cache as its
`pool_class`, `SharedConnectionPool.from_url` gives every cache object of the process the
same pool for the same server and options; redis-py's pool is thread-safe and starts afresh
in a forked child.

`RedisCache` goes on from there: its client object (which registers some 170 reply parsers
when made, and Django made one for every call) is kept with the pool, and `count` adds one
to a counter and starts its expiry in a single round trip, where Django's `incr` asks
whether the key exists first and the first of a window needs an `add` besides.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import ConnectionPool, Redis

_pools: dict[tuple[str, str], ConnectionPool] = {}
_clients: dict[int, Redis] = {}
_lock = threading.Lock()

# INCR, and the expiry set by the call that made the counter: atomic on the server.
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class SharedConnectionPool(ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ConnectionPool:  # type: ignore[override]
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = ConnectionPool.from_url(url, **kwargs)
        return pool


class _SharedClient(RedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        pool = self._get_connection_pool(write)
        client = _clients.get(id(pool))
        if client is None:
            with _lock:
                client = _clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache on the process's shared pool and client, with `count`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.get("OPTIONS", {})
        # A client is kept per pool, so the pools must be the process's shared ones.
        params = {**params, "OPTIONS": {**options, "pool_class": SharedConnectionPool}}
        super().__init__(server, params)
        self._class = _SharedClient

    def count(self, key: str, timeout: int) -> int:
        """Add one to the counter `key` and give its new value; a counter this call makes
        expires after `timeout` seconds. One round trip."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        return int(client.eval(_COUNT_SCRIPT, 1, key, timeout))
