"""Brute force and abuse: sign-in lockout, API rate limits with Retry-After."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import redis.exceptions
from django.test import Client

from ordersight.accounts.services import create_api_key
from tests import factories
from tests.conftest import ApiClient


def _sign_in(client: Client, password: str):
    return client.post("/login/", {"username": "mia", "password": password})


def test_repeated_wrong_passwords_lock_the_sign_in(db, settings):
    user = factories.UserFactory(username="mia")
    user.set_password("right-horse-battery")
    user.save()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "wrong").status_code == 200  # the form again, with an error
    locked = _sign_in(client, "wrong")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    # Even the right password is refused while locked out.
    assert _sign_in(client, "right-horse-battery").status_code == 429


def test_a_right_password_before_the_limit_resets_the_count(db, settings):
    user = factories.UserFactory(username="mia")
    user.set_password("right-horse-battery")
    user.save()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "wrong")
    assert _sign_in(client, "right-horse-battery").status_code == 302
    client.logout()
    assert _sign_in(client, "wrong").status_code == 200


def test_an_api_key_over_its_rate_gets_429_with_retry_after(db, settings):
    settings.API_RATE_LIMIT_PER_KEY = 5
    api = ApiClient(create_api_key(name="busy", scopes="read")[1])
    other = ApiClient(create_api_key(name="quiet", scopes="read")[1])
    statuses = [api.get("orders").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = api.get("orders")
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert other.get("orders").status_code == 200  # each key has its own count


def test_anonymous_callers_are_limited_by_address(db, settings):
    settings.API_RATE_LIMIT_PER_ADDRESS = 3
    anonymous = ApiClient()
    statuses = [anonymous.get("orders").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Made-up tokens count against the address too: rotating them escapes nothing.
    for fake in ("os_aaaa_x", "os_bbbb_y", "nonsense"):
        assert ApiClient(fake).get("orders").status_code == 429


@pytest.mark.parametrize("path", ["/orders/", "/login/"])
def test_pages_are_not_rate_limited_by_the_api_limit(client, db, settings, path):
    settings.API_RATE_LIMIT_PER_ADDRESS = 1
    assert all(client.get(path).status_code in (200, 302) for _ in range(3))


@pytest.fixture
def cache_away(monkeypatch):
    """The cache (Redis in production) refuses connections until the test says otherwise."""
    from django.core.cache.backends.locmem import LocMemCache

    from ordersight.accounts import rate_limit

    monkeypatch.setattr(rate_limit, "_cache_health", rate_limit._CacheHealth())
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    patch = pytest.MonkeyPatch()
    for method in ("add", "incr", "set"):
        patch.setattr(LocMemCache, method, refuse)
    yield SimpleNamespace(calls=calls, back=patch.undo)
    patch.undo()


def test_api_calls_go_through_uncounted_while_the_cache_is_away(db, settings, cache_away, caplog):
    settings.API_RATE_LIMIT_PER_KEY = 2
    api = ApiClient(create_api_key(name="busy", scopes="read")[1])
    with caplog.at_level(logging.WARNING, logger="ordersight.accounts.rate_limit"):
        statuses = [api.get("orders").status_code for _ in range(5)]
    assert statuses == [200] * 5
    # Logged once, and the cache asked once: a stopped Redis would cost each its timeout.
    assert [r.getMessage()[:15] for r in caplog.records] == ["rate limits off"]
    assert len(cache_away.calls) == 1


def test_the_limit_counts_again_once_the_cache_is_back(db, settings, cache_away, monkeypatch):
    from ordersight.accounts import rate_limit

    monkeypatch.setattr(rate_limit, "CACHE_RETRY_SECONDS", 0)
    settings.API_RATE_LIMIT_PER_KEY = 2
    api = ApiClient(create_api_key(name="busy", scopes="read")[1])
    assert api.get("orders").status_code == 200
    cache_away.back()
    assert [api.get("orders").status_code for _ in range(3)] == [200, 200, 429]
