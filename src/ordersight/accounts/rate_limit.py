"""API rate limits per key and per client address: 429 with Retry-After.

Fixed one-minute windows counted in the cache (Redis when REDIS_URL is set, so every web
process shares the count; in-process memory otherwise, which is right for the single
SQLite process). Written here rather than with django-ratelimit because the limit must run
before authentication for every /api/ route, and answer in the API's error shape with the
seconds until the window ends; the counting itself is one atomic call to Redis (the
product's cache backend, core/redis_pool.py), or the cache's atomic incr elsewhere.

The limit fails open: while the cache (Redis) is away, requests are let through uncounted,
the outage is logged once, and the cache is not asked again for a few seconds, so a stopped
Redis costs at most one request its timeout now and then instead of every request a 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse

from ordersight.accounts.services import active_api_key
from ordersight.core.errors import error_body
from ordersight.core.redis_pool import RedisCache
from ordersight.core.unavailable import UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# After the cache failed, how long requests go uncounted before it is asked again.
CACHE_RETRY_SECONDS = 5


class _CacheHealth:
    """Whether the cache is taken to be away, and until when; logs each change once."""

    def __init__(self) -> None:
        self.away_until: float | None = None

    def skipping(self, now: float) -> bool:
        return self.away_until is not None and now < self.away_until

    def failed(self, now: float, exc: BaseException) -> None:
        if self.away_until is None:
            logger.warning("rate limits off: the cache did not answer (%s)", exc)
        self.away_until = now + CACHE_RETRY_SECONDS

    def answered(self) -> None:
        if self.away_until is not None:
            logger.warning("rate limits on again: the cache answers")
            self.away_until = None


_cache_health = _CacheHealth()


def _who(request: HttpRequest) -> tuple[str, int]:
    """The bucket a request counts against, and that bucket's limit per window.

    Only a token naming an active key counts against that key; anything else (no token, a
    made-up one) counts against the client's address, so rotating fake tokens cannot
    escape the address limit.
    """
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth.startswith("Bearer ") else ""
    parts = token.split("_", 2)
    if len(parts) == 3 and active_api_key(prefix=parts[1]) is not None:
        return f"key:{parts[1]}", settings.API_RATE_LIMIT_PER_KEY
    return f"addr:{request.META.get('REMOTE_ADDR', '')}", settings.API_RATE_LIMIT_PER_ADDRESS


def _count(bucket: str, window: int) -> int:
    key = f"ratelimit:{bucket}:{window}"
    # `cache` is Django's proxy to this context's cache object: ask about the object.
    counter = caches["default"]
    if isinstance(counter, RedisCache):
        return counter.count(key, timeout=WINDOW_SECONDS * 2)  # one round trip
    # Any other cache (memory, for the single SQLite process): its atomic incr.
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or its count expired)
        if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
            return 1
        return cache.incr(key)  # another request started the count meanwhile


class ApiRateLimit:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limits_on = settings.API_RATE_LIMIT_PER_KEY or settings.API_RATE_LIMIT_PER_ADDRESS
        if not limits_on or not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        bucket, limit = _who(request)
        if not limit or _cache_health.skipping(now):
            return self.get_response(request)
        try:
            count = _count(bucket, window)
        except UNAVAILABLE_ERRORS as exc:
            _cache_health.failed(now, exc)
            return self.get_response(request)
        _cache_health.answered()
        if count > limit:
            retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
            what = "this API key" if bucket.startswith("key:") else "your address"
            body = error_body(
                "rate_limited",
                f"Too many requests from {what}: at most {limit} a minute. "
                f"Try again in {retry_after} s.",
                {"Authorization" if bucket.startswith("key:") else "client": "rate limited"},
            )
            response = JsonResponse(body, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        return self.get_response(request)
