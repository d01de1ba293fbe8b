"""The Redis cache keeps one connection pool and one client per process, across requests'
contexts, and counts in one round trip."""

from __future__ import annotations

import contextvars
import uuid

from django.core.cache import CacheHandler

REDIS = "redis://127.0.0.1:6379/15"


def _handler(
    pool_class: str | None, backend: str = "django.core.cache.backends.redis.RedisCache"
) -> CacheHandler:
    options = {"pool_class": pool_class} if pool_class else {}
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


PRODUCT_CACHE = "ordersight.core.redis_pool.RedisCache"


def test_the_product_cache_keeps_one_client_for_every_request():
    handler = _handler(None, backend=PRODUCT_CACHE)
    key = f"test:{uuid.uuid4()}"
    _start(handler, key)
    caches = [_in_a_request(handler, key) for _ in range(4)]
    clients = {id(cache._cache.get_client(write=True)) for cache in caches}
    assert len(clients) == 1
    assert len({id(_pool(cache)) for cache in caches}) == 1
    assert caches[0].get(key) == 4


def test_count_adds_one_and_starts_the_expiry_of_a_new_counter():
    import redis

    cache = _handler(None, backend=PRODUCT_CACHE)["default"]
    key = f"test:{uuid.uuid4()}"
    assert [cache.count(key, timeout=90) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    raw = redis.Redis.from_url(REDIS)
    stored = cache.make_key(key)
    assert 0 < raw.ttl(stored) <= 90
    raw.expire(stored, 500)
    cache.count(key, timeout=90)
    assert raw.ttl(stored) > 90  # only the call that made the counter sets its expiry
    raw.delete(stored)


def test_the_shipped_rate_limit_counts_in_one_call_on_the_shipped_cache(db, settings, monkeypatch):
    """With the product's Redis cache configured, the limit counts through `count` (the
    cache's own incr, two round trips, is never asked) and refuses past the limit."""
    from django.core.cache import cache

    from ordersight.accounts.services import create_api_key
    from ordersight.core.redis_pool import RedisCache
    from tests.conftest import ApiClient

    def refuse(*args, **kwargs):
        raise AssertionError("the rate limit used incr")

    settings.CACHES = {"default": {"BACKEND": PRODUCT_CACHE, "LOCATION": REDIS}}
    monkeypatch.setattr(RedisCache, "incr", refuse)
    monkeypatch.setattr(RedisCache, "add", refuse)
    settings.API_RATE_LIMIT_PER_KEY = 3
    token = create_api_key(name="shared count", scopes="read")[1]
    api = ApiClient(token)
    assert [api.get("orders").status_code for _ in range(4)] == [200, 200, 200, 429]
    counters = cache._cache.get_client().keys(cache.make_key("ratelimit:key:*"))
    assert counters and all(0 < cache._cache.get_client().ttl(k) <= 120 for k in counters)
