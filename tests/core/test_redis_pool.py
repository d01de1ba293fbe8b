"""Django's Redis cache keeps one connection pool per process, across requests' contexts."""

from __future__ import annotations

import contextvars
import uuid

from django.core.cache import CacheHandler

REDIS = "redis://127.0.0.1:6379/15"


def _handler(pool_class: str | None) -> CacheHandler:
    options = {"pool_class": pool_class} if pool_class else {}
    backend = "django.core.cache.backends.redis.RedisCache"
    return CacheHandler({"default": {"BACKEND": backend, "LOCATION": REDIS, "OPTIONS": options}})


def _in_a_request(handler: CacheHandler, key: str):
    """The cache a request sees, after one INCR: each request runs in a copy of the server's
    context, where the handler has not been used."""

    def request():
        cache = handler["default"]
        cache.incr(key)
        return cache

    return contextvars.copy_context().run(request)


def _start(handler: CacheHandler, key: str) -> None:
    contextvars.copy_context().run(lambda: handler["default"].set(key, 0, timeout=60))


def _pool(cache):
    return cache._cache._get_connection_pool(True)


def _connections(pool) -> int:
    return len(pool._available_connections) + len(pool._in_use_connections)


def test_requests_share_one_pool_and_one_connection_to_redis():
    handler = _handler("ordersight.core.redis_pool.SharedConnectionPool")
    key = f"test:{uuid.uuid4()}"
    _start(handler, key)
    caches = [_in_a_request(handler, key) for _ in range(5)]
    assert len({id(cache) for cache in caches}) == 5  # Django's one cache per context
    assert len({id(_pool(cache)) for cache in caches}) == 1
    assert _connections(_pool(caches[0])) == 1
    assert caches[0].get(key) == 5


def test_without_it_each_request_opens_its_own_connection():
    # What the shared pool is for: Django's own pool class, one pool per request's cache.
    handler = _handler(None)
    key = f"test:{uuid.uuid4()}"
    _start(handler, key)
    caches = [_in_a_request(handler, key) for _ in range(3)]
    assert len({id(_pool(cache)) for cache in caches}) == 3
    assert [_connections(_pool(cache)) for cache in caches] == [1, 1, 1]


def test_different_servers_or_options_get_different_pools():
    from ordersight.core.redis_pool import SharedConnectionPool

    a = SharedConnectionPool.from_url(REDIS, socket_timeout=2)
    assert SharedConnectionPool.from_url(REDIS, socket_timeout=2) is a
    assert SharedConnectionPool.from_url(REDIS, socket_timeout=3) is not a
    assert SharedConnectionPool.from_url("redis://127.0.0.1:6379/14", socket_timeout=2) is not a
