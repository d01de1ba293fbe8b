"""A reflected value can never run: plain-text errors on exports, a strict CSP everywhere."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests import factories

PAYLOAD = "<script>fetch('/invoices/1/refund/',{method:'POST'})</script>"


@pytest.mark.parametrize(
    "path",
    [
        "/orders/export.csv?status={p}",
        "/orders/export.csv?payment_status={p}",
        "/orders/export.csv?currency={p}",
        "/payments/export.csv?status={p}",
        "/customers/export.csv?created_after={p}",
    ],
)
def test_export_errors_are_plain_text_never_html(admin_web, path):
    response = admin_web.get(path.format(p=PAYLOAD))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/", "/sales/report/", "/orders/", "/payments/", "/customers/", "/login/", "/api/docs"]
)
def test_every_page_carries_a_policy_without_inline_scripts(admin_web, path):
    policy = admin_web.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"].split() == ["'self'", *settings.PLOTLY_STYLE_HASHES]
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_a_filter_value_is_escaped_on_the_list_page(admin_web):
    page = admin_web.get("/orders/", {"q": PAYLOAD, "status": PAYLOAD}).content.decode()
    assert PAYLOAD not in page
    assert "&lt;script&gt;" in page


def test_the_live_stream_is_only_for_those_who_may_view_orders(client, db):
    client.force_login(factories.UserFactory())
    assert client.get("/live/").status_code == 403
