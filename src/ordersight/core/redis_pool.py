"""One Redis connection pool per process for Django's cache, whatever the request's context.

Django keeps a cache object per context (its cache handler's `Local` is not thread-critical),
and each cache object makes its own connection pool. Under the web server every request runs
in a context of its own, so every request made a pool, opened a new connection to Redis
(a name lookup, a connect, a close) and dropped it: a tenth of an API request's CPU went to
the rate limit's connection rather than to its one INCR. Handed to the cache as its
`pool_class`, `SharedConnectionPool.from_url` gives every cache object of the process the
same pool for the same server and options; redis-py's pool is thread-safe and starts afresh
in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any

from redis import ConnectionPool

_pools: dict[tuple[str, str], ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ConnectionPool:  # type: ignore[override]
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = ConnectionPool.from_url(url, **kwargs)
        return pool
