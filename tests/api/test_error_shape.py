"""Every answer under /api/ is JSON in the error shape, also where the API's own handlers
never see the request: paths the URL patterns refuse, methods a route does not take, and
failures in the middleware around the API."""

from __future__ import annotations

import pytest
from django.test import Client

from ordersight.accounts.rate_limit import ApiRateLimit


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/campaigns/null%2Cnull",
        "/api/v1/orders/abc",
        "/api/v1/no-such-thing",
        "/api/nothing",
    ],
)
def test_a_path_the_api_does_not_know_is_a_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_a_method_a_route_does_not_take_is_a_json_405_naming_the_allowed_ones(api):
    response = api.request("delete", "/api/v1/orders")
    assert response.status_code == 405
    error = _error(response)
    assert error["code"] == "method_not_allowed"
    assert "GET" in response["Allow"] and "GET" in error["fields"]["method"]


def test_a_failure_outside_the_api_handlers_is_a_json_500(write_token, monkeypatch):
    def broken(self, request):
        raise RuntimeError("a middleware failed")

    monkeypatch.setattr(ApiRateLimit, "__call__", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {write_token}"})
    assert response.status_code == 500
    assert _error(response) == {
        "code": "server_error",
        "message": "Something went wrong.",
        "fields": {},
    }


def test_pages_keep_their_html_404(admin_client):
    response = admin_client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
