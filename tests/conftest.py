"""Shared fixtures: API clients with keys of each scope, users per role, a small catalog."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from ordersight.accounts.roles import ensure_roles
from ordersight.accounts.services import create_api_key
from tests import factories


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests are reported as skipped on SQLite (never silently dropped);
    # .ci/run runs the suite on PostgreSQL too, where they run.
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    if on_postgres:
        return
    reason = "needs PostgreSQL: run with DATABASE_URL=postgres://... (.ci/run does)"
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _database_is_what_ci_asked_for(request: pytest.FixtureRequest) -> None:
    if "postgres_only" in request.keywords:
        assert connection.vendor == "postgresql"


class ApiClient:
    """A test client that speaks JSON to /api/v1 with a bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        kwargs: dict[str, Any] = {"headers": self._headers(headers)}
        if method in ("post", "patch", "put"):
            data = raw if raw is not None else (json.dumps(body) if body is not None else "")
            return getattr(self.client, method)(
                url, data=data, content_type="application/json", **kwargs
            )
        return getattr(self.client, method)(url, data=params or None, **kwargs)

    def get(self, path: str, **params: Any):
        return self.request("get", path, **params)

    def post(self, path: str, body: Any = None, **kwargs: Any):
        return self.request("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any):
        return self.request("patch", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any):
        return self.request("put", path, body, **kwargs)


@pytest.fixture
def roles(db):
    return ensure_roles()


@pytest.fixture
def write_token(db) -> str:
    return create_api_key(name="test writer", scopes="read,write")[1]


@pytest.fixture
def read_token(db) -> str:
    return create_api_key(name="test reader", scopes="read")[1]


@pytest.fixture
def api(write_token) -> ApiClient:
    return ApiClient(write_token)


@pytest.fixture
def read_api(read_token) -> ApiClient:
    return ApiClient(read_token)


@pytest.fixture
def catalog(db) -> dict[str, Any]:
    """Two categories and offers in EUR and USD, with SKUs."""
    shirts = factories.CategoryFactory(number=10, name="Shirts")
    courses = factories.CategoryFactory(number=20, name="Courses")
    tee = factories.OfferFactory(
        number=101,
        name="Tee",
        category=shirts,
        currency="EUR",
        unit_price=Decimal("19.90"),
        allow_quantity=True,
    )
    course = factories.OfferFactory(
        number=201,
        name="Django course",
        category=courses,
        currency="USD",
        unit_price=Decimal("300.00"),
        allow_partial_payments=True,
    )
    tee_m = factories.VariantFactory(offer=tee, sku="TEE-M", name="M")
    tee_l = factories.VariantFactory(offer=tee, sku="TEE-L", name="L", unit_price=Decimal("21.50"))
    course_v = factories.VariantFactory(offer=course, sku="COURSE-1")
    return {
        "tee": tee,
        "course": course,
        "tee_m": tee_m,
        "tee_l": tee_l,
        "course_v": course_v,
        "shirts": shirts,
        "courses": courses,
    }


@pytest.fixture
def customer(db):
    return factories.CustomerFactory(name="Ada Lovelace", email="ada@example.com")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Real hashers are slow on purpose; tests only need passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_rate_limits_unless_asked(settings) -> None:
    # Tests make hundreds of API calls a minute from one address; the rate-limit tests set
    # their own limits. The cache is cleared so counts never leak between tests.
    from django.core.cache import cache

    settings.API_RATE_LIMIT_PER_KEY = 0
    settings.API_RATE_LIMIT_PER_ADDRESS = 0
    cache.clear()


@pytest.fixture(autouse=True)
def _nothing_held_over() -> None:
    # Each test's rows live in its own transaction: no key or figure a process holds for a
    # while (accounts.services, core.held) is carried into another test.
    from ordersight.accounts.services import forget_api_keys
    from ordersight.core.held import forget_all

    forget_api_keys()
    forget_all()


@pytest.fixture(autouse=True)
def _fresh_test_gateway() -> None:
    # Invoice numbers restart in every test database; the gateway must not recall old ones.
    from ordersight.payments.gateways import gateway_for

    gateway_for("test").forget()


@pytest.fixture(autouse=True, scope="session")
def _stop_live_listener(django_db_setup):
    # The PostgreSQL listener holds a connection to the test database; close it before the
    # test database is dropped.
    yield
    from ordersight.core import live

    live.stop_listening()
