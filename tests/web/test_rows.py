"""The rows drawn in Python (web/rows.py): escaped as the template engine escaped them, and
with each row's actions as the person's permissions and the order's state allow."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.web.rows import fill
from tests import factories

SYSTEM = Actor.system()
HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"


@pytest.mark.parametrize(
    "value",
    [
        HOSTILE,
        42,
        -0,
        Decimal("19.90"),
        None,
        True,
        gettext_lazy("Undo"),
        mark_safe("<b>kept</b>"),
        format_html("<i>{}</i>", HOSTILE),
        "",
    ],
)
def test_fill_escapes_exactly_as_format_html(value):
    template = '<td title="{}">{}</td>'
    assert fill(template, value, value) == format_html(template, value, value)
    assert fill("<p>{name}</p>", name=value) == format_html("<p>{name}</p>", name=value)


def _row_of(html: str, marker: str) -> str:
    return re.search(rf"<tr[^>]*{re.escape(marker)}.*?</tr>", html, re.S).group(0)


@pytest.mark.django_db
def test_all_orders_rows_escape_what_people_typed(roles, catalog):
    customer = factories.CustomerFactory(name=HOSTILE)
    order = create_order(
        data=OrderInput(
            customer_id=customer.pk,
            currency="EUR",
            lines=[LineInput(name=HOSTILE, unit_price=Decimal("5.00"), quantity=1)],
        ),
        actor=SYSTEM,
    )
    html = factories.signed_in(roles, "Admin", "alice").get("/orders/").content.decode()
    row = _row_of(html, f'data-number="{order.number}"')
    assert "<script>" not in row
    assert (
        row.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;") == 2
    )
    assert f'href="/customers/{customer.pk}/"' in row


@pytest.mark.django_db
def test_all_orders_row_actions_follow_permissions_and_state(roles, catalog, customer):
    open_order = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M", quantity=1)]),
        actor=SYSTEM,
    )
    completed = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M", quantity=1)]),
        actor=SYSTEM,
    )
    Order.objects.filter(pk=completed.pk).update(status="completed")

    admin = factories.signed_in(roles, "Admin", "alice").get("/orders/?sort=number")
    html = admin.content.decode()
    completed_row = _row_of(html, f'data-number="{completed.number}"')
    open_row = _row_of(html, f'data-number="{open_order.number}"')
    # Check only where a completed sale waits for confirmation; Add user on every row.
    assert 'data-testid="check"' in completed_row and 'data-testid="check"' not in open_row
    assert 'data-testid="add-user"' in completed_row and 'data-testid="add-user"' in open_row
    assert f'data-dialog-action="/orders/{open_order.number}/attribution/"' in open_row
    assert 'data-dialog-choice="system"' in open_row

    viewer = factories.signed_in(roles, "Viewer", "vera").get("/orders/").content.decode()
    viewer_row = _row_of(viewer, f'data-number="{completed.number}"')
    assert "data-testid" in viewer_row
    assert not re.search(r'data-testid="(check|add-user|confirm|decline)"', viewer_row)
