"""The database or the cache away: 503 with Retry-After, JSON for the API, a styled page else.

The database is made unreachable here by failing every query; tests/faults/ does it for real,
killing and pausing a PostgreSQL server under load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis.exceptions
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from ordersight.api import orders as orders_api
from tests import factories


@contextmanager
def database_away() -> Iterator[None]:
    """Inside, every query fails as on a database that cannot be reached."""

    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CursorWrapper, "_execute", refuse)
        patch.setattr(CursorWrapper, "_executemany", refuse)
        yield


def _assert_api_503(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0


def test_api_call_meets_the_database_away_before_its_view_and_gets_503_json(
    write_token,
):
    # The rate limit and the authentication read API keys before any view runs.
    client = Client(raise_request_exception=False)
    with database_away():
        response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {write_token}"})
    _assert_api_503(response)


def test_api_view_that_meets_the_database_away_answers_503_json(api, monkeypatch):
    def away(*args, **kwargs):
        raise OperationalError("the pool timed out")

    monkeypatch.setattr(orders_api, "answered_page", away)
    _assert_api_503(api.get("orders"))


def test_post_with_an_idempotency_key_meets_the_database_away_and_gets_503_json(
    write_token,
):
    client = Client(raise_request_exception=False)
    with database_away():
        response = client.post(
            "/api/v1/orders",
            data={"currency": "EUR", "lines": [{"name": "Mug", "unit_price": "9.50"}]},
            content_type="application/json",
            headers={"Authorization": f"Bearer {write_token}", "Idempotency-Key": "k-1"},
        )
    _assert_api_503(response)


def test_page_meets_the_database_away_and_gets_a_styled_503_page(roles):
    client = factories.signed_in(roles, "Admin", "alice")
    client.raise_request_exception = False
    with database_away():
        response = client.get("/orders/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert 'data-testid="unavailable"' in body
    assert "tabler.min.css" in body  # the site's own look, not a bare server error


def test_health_check_says_503_while_the_database_is_away(db):
    with database_away():
        response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503


def test_any_other_error_before_an_api_view_is_a_500_in_the_api_error_shape(
    write_token, monkeypatch
):
    from ordersight.accounts import rate_limit

    def broken(request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(rate_limit, "_who", broken)
    monkeypatch.setattr("django.conf.settings.API_RATE_LIMIT_PER_KEY", 10)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {write_token}"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_a_cache_error_in_a_view_is_a_503_too(api, monkeypatch):
    def away(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(orders_api, "answered_page", away)
    _assert_api_503(api.get("orders"))


def test_a_page_view_that_meets_the_database_away_under_asgi_gets_the_503_page(roles, monkeypatch):
    # Under ASGI Django renders handler500 in another thread, which no longer knows the
    # exception; the page must still say 503, not 500.
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from ordersight.web import orders as orders_pages

    signed_in = factories.signed_in(roles, "Admin", "alice")

    def away(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(orders_pages, "list_context", away)
    client = AsyncClient(raise_request_exception=False)
    client.cookies = signed_in.cookies
    response = async_to_sync(client.get)("/orders/")
    assert response.status_code == 503
    assert 'data-testid="unavailable"' in response.content.decode()
