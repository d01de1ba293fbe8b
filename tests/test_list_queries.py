"""Every list, in the API and on the staff pages, and the order page, read a page in the
same number of queries whatever it shows: 3 rows or 30. A query added per row fails here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from ordersight.campaigns import services as campaigns
from ordersight.core.actors import Actor
from ordersight.core.pg_connection import PREPARE_THRESHOLD
from ordersight.customers.models import Customer
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments.models import Invoice, PaymentSystem
from ordersight.payments.services import (
    issue_invoices,
    record_manual_payment,
    refund_invoice,
)
from ordersight.promotions import services as promotions
from ordersight.subscriptions.billing import run_attempt
from ordersight.subscriptions.services import create_recurring_order
from tests import factories

SYSTEM = Actor.system()
AT = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def world(catalog, roles):
    """What every kind of row hangs on: a paying method, a manager, a campaign with a
    member's code, a discount code and a segment; `grow(n)` adds n rows to every list."""
    bank = PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    cards = PaymentSystem.objects.create(code="cards", name="Acme Cards", provider="test")
    manager = factories.UserFactory(username="mia", first_name="Mia", last_name="Wong")
    manager.groups.add(roles["Sales manager"])
    campaign = campaigns.create_campaign(
        name="Spring",
        starts_on=date(2026, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=SYSTEM,
    )
    creator = campaigns.create_creator(name="Anna", handle="anna", actor=SYSTEM)
    campaigns.add_member(
        campaign=campaign, creator=creator, coupon_codes=["ANNA10"], actor=SYSTEM, at=AT
    )
    promotions.create_discount_code(code="SPRING", kind="percent", percent="10", actor=SYSTEM)
    segment = promotions.create_segment(
        name="Buyers", rules={"field": "orders", "op": "gte", "value": 1}, actor=SYSTEM
    )
    made = {"n": 0}

    def grow(count: int) -> None:
        for _ in range(count):
            made["n"] += 1
            i = made["n"]
            customer = Customer.objects.create(name=f"Buyer {i}", email=f"b{i}@example.com")
            factories.OfferFactory(number=1000 + i, category=catalog["shirts"])
            factories.VariantFactory(offer=factories.OfferFactory(number=5000 + i), sku=f"V-{i}")
            order = create_order(
                data=OrderInput(
                    customer_id=customer.pk,
                    sales_manager_id=manager.pk,
                    coupon_code="ANNA10",
                    created_at=AT + timedelta(minutes=i),
                    lines=[LineInput(sku="TEE-M", quantity=2), LineInput(sku="TEE-L")],
                ),
                actor=SYSTEM,
            )
            (invoice,) = issue_invoices(order=order, actor=SYSTEM)
            record_manual_payment(order=order, payment_system=bank, invoice=invoice, actor=SYSTEM)
            refund_invoice(
                invoice=Invoice.objects.get(pk=invoice.pk), amount=Decimal("1.00"), actor=SYSTEM
            )
            coded = create_order(
                data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M")]),
                actor=SYSTEM,
            )
            promotions.redeem_code(order=coded, code="SPRING", actor=SYSTEM)
            promotions.create_discount_code(
                code=f"SPRING{i}",
                kind="percent",
                percent="5",
                rules={"all": [{"type": "segment", "segment": segment.pk}]},
                actor=SYSTEM,
            )
            _, attempt = create_recurring_order(
                customer=customer,
                offer=catalog["tee"],
                amount=Decimal("25.00"),
                currency="EUR",
                interval_count=1,
                interval_unit="month",
                total_payments=3,
                payment_system=cards,
                payment_token="tok_success",
                actor=SYSTEM,
                at=AT,
            )
            run_attempt(attempt=attempt, at=AT, actor=SYSTEM)
            promotions.create_segment(
                name=f"Segment {i}",
                rules={"field": "orders", "op": "gte", "value": i},
                actor=SYSTEM,
            )
            joined = campaigns.create_campaign(
                name=f"Campaign {i}",
                starts_on=date(2026, 2, 1),
                commission_kind="percent",
                commission_percent="5",
                actor=SYSTEM,
            )
            campaigns.add_member(
                campaign=joined,
                creator=campaigns.create_creator(name=f"Creator {i}", handle=f"c{i}", actor=SYSTEM),
                coupon_codes=[f"C{i}"],
                actor=SYSTEM,
                at=AT,
            )

    return {"grow": grow, "campaign": campaign, "segment": segment}


def _queries(get: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = get()
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def _same_for_3_and_30_rows(world, get: Callable[[], Any], rows: Callable[[Any], int]) -> None:
    # Each count follows a first call, which reads what a process holds for a while (the
    # API key, for 10 s) and stamps the key's last use (once a minute).
    world["grow"](3)
    assert rows(get()) >= 3
    few = _queries(get)
    world["grow"](27)
    assert rows(get()) >= 30
    many = _queries(get)
    assert few == many, f"{few} queries for 3 rows, {many} for 30: a query per row"


API_LISTS = [
    "orders",
    "customers",
    "offers",
    "variants",
    "payments",
    "recurring-orders",
    "discount-codes",
    "redemptions",
    "conversions",
    "campaigns/{campaign}/conversions",
    "segments/{segment}/members",
    "creators",
    "campaigns",
]


@pytest.mark.parametrize("path", API_LISTS)
def test_an_api_list_reads_a_page_in_as_many_queries_for_30_rows_as_for_3(world, path, api):
    url = path.format(campaign=world["campaign"].pk, segment=world["segment"].pk)
    _same_for_3_and_30_rows(
        world, lambda: api.get(url, limit=100), lambda r: len(r.json()["items"])
    )


PAGES = [
    ("/orders/", "order-row"),
    ("/orders/?sort=item", "order-row"),
    ("/payments/", "<tr"),
    ("/customers/", "<tr"),
    ("/orders/recurring/", "<tr"),
    ("/promotions/codes/", "<tr"),
    ("/promotions/redemptions/", "<tr"),
    ("/campaigns/{campaign}/", "data-conversion="),
    ("/sales/history/?from=2026-03-01&to=2026-03-31", "<tr"),
    ("/customers/{customer}/", "<tr"),
    ("/creators/", "<tr"),
    ("/campaigns/", "<tr"),
]


@pytest.mark.parametrize(("path", "row"), PAGES)
def test_a_staff_list_reads_a_page_in_as_many_queries_for_30_rows_as_for_3(world, roles, path, row):
    client = factories.signed_in(roles, "Admin", "alice")
    customer = Customer.objects.order_by("pk").values_list("pk", flat=True)

    def get():
        url = path.format(campaign=world["campaign"].pk, customer=customer.first())
        return client.get(url)

    if "{customer}" in path:
        # One customer's card: their orders, invoices and recurring orders grow instead.
        _grow_one_customer(world, get, client)
        return
    _same_for_3_and_30_rows(world, get, lambda r: r.content.decode().count(row))


def _grow_one_customer(world, get, client) -> None:
    world["grow"](1)
    customer = Customer.objects.order_by("pk").first()

    def more(count: int) -> None:
        for _ in range(count):
            order = create_order(
                data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M")]),
                actor=SYSTEM,
            )
            issue_invoices(order=order, actor=SYSTEM)

    more(2)
    get()
    few = _queries(get)
    more(27)
    get()
    assert _queries(get) == few


def test_the_order_page_reads_an_order_in_as_many_queries_for_30_lines_as_for_3(world, roles):
    client = factories.signed_in(roles, "Admin", "alice")
    bank = PaymentSystem.objects.get(code="bank")

    def order_with(count: int) -> Order:
        order = create_order(
            data=OrderInput(
                customer_id=Customer.objects.create(name="C", email="c@example.com").pk,
                # The course takes partial payments: several invoices, some refunded.
                lines=[LineInput(sku="COURSE-1") for _ in range(count)],
            ),
            actor=SYSTEM,
        )
        invoices = issue_invoices(order=order, installments=min(count, 10), actor=SYSTEM)
        for invoice in invoices[: len(invoices) // 2]:
            record_manual_payment(order=order, payment_system=bank, invoice=invoice, actor=SYSTEM)
            refund_invoice(
                invoice=Invoice.objects.get(pk=invoice.pk), amount=Decimal("0.50"), actor=SYSTEM
            )
        return order

    small, large = order_with(3), order_with(30)
    client.get(f"/orders/{small.number}/")
    few = _queries(lambda: client.get(f"/orders/{small.number}/"))
    many = _queries(lambda: client.get(f"/orders/{large.number}/"))
    assert few == many, f"{few} queries for 3 lines, {many} for 30"


def test_one_order_through_the_api_reads_its_details_in_as_many_queries(world, api):
    world["grow"](1)
    refunded, not_invoiced = Order.objects.order_by("pk").values_list("number", flat=True)[:2]
    for number in (refunded, not_invoiced):
        assert api.get(f"orders/{number}").status_code == 200
    # the order, its lines, its invoices, their refunds: the key is held, and stamped
    assert _queries(lambda: api.get(f"orders/{refunded}")) == 4
    # an order none of whose invoices shows refunded money has no refunds to look for
    assert _queries(lambda: api.get(f"orders/{not_invoiced}")) == 3
    assert api.get(f"orders/{not_invoiced}").json()["refunds"] == []
    assert [r["amount"] for r in api.get(f"orders/{refunded}").json()["refunds"]] == ["1.00"]


def test_one_order_is_read_by_sql_compiled_once(world, api, monkeypatch):
    world["grow"](2)
    numbers = list(Order.objects.order_by("pk").values_list("number", flat=True))
    assert api.get(f"orders/{numbers[0]}").status_code == 200
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counted(compiler, *args, **kwargs):
        compiled.append(compiler.query.model)
        return as_sql(compiler, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    for number in numbers:
        assert api.get(f"orders/{number}").json()["number"] == number
    assert Order not in compiled
    assert api.get(f"orders/{10**30}").status_code == 404
    assert api.get(f"orders/{max(numbers) + 1}").json()["error"]["fields"] == {
        "number": "not found"
    }


@pytest.mark.postgres_only
def test_a_list_read_again_runs_statements_the_database_planned_once(world, api):
    """On PostgreSQL a page's statements are kept prepared on the connection once they have
    run a few times: the database plans them once, not on every request, and the answer
    does not change."""
    world["grow"](3)
    first = api.get("orders", limit=50).json()
    for _ in range(PREPARE_THRESHOLD):
        api.get("orders", limit=50)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    for table in ("orders_order", "orders_orderline", "payments_invoice", "payments_refund"):
        assert any(f'FROM "{table}"' in statement for statement in prepared), table
    assert api.get("orders", limit=50).json() == first


def _sorted_lists() -> list[tuple[str, str]]:
    """Every API list with each of its sorts, both ways."""
    from ordersight.campaigns.selectors import CAMPAIGN_LIST, CONVERSION_LIST, CREATOR_LIST
    from ordersight.catalog.selectors import OFFER_LIST, VARIANT_LIST
    from ordersight.customers.selectors import CUSTOMER_LIST
    from ordersight.orders.selectors import ORDER_LIST
    from ordersight.payments.selectors import INVOICE_LIST
    from ordersight.promotions.selectors import CODE_LIST, REDEMPTION_LIST, SEGMENT_LIST
    from ordersight.subscriptions.selectors import RECURRING_LIST

    lists = {
        "orders": ORDER_LIST,
        "customers": CUSTOMER_LIST,
        "offers": OFFER_LIST,
        "variants": VARIANT_LIST,
        "payments": INVOICE_LIST,
        "recurring-orders": RECURRING_LIST,
        "discount-codes": CODE_LIST,
        "redemptions": REDEMPTION_LIST,
        "conversions": CONVERSION_LIST,
        "creators": CREATOR_LIST,
        "campaigns": CAMPAIGN_LIST,
        "segments": SEGMENT_LIST,
    }
    return [
        (path, f"{way}{sort}") for path, spec in lists.items() for sort in spec.sorts for way in "-"
    ] + [(path, sort) for path, spec in lists.items() for sort in spec.sorts]


@pytest.mark.parametrize(("path", "sort"), _sorted_lists())
def test_every_sort_of_every_api_list_pages_on_by_its_cursor(world, api, path, sort):
    """A sort on a related column or an expression is annotated, so the last row of a page
    carries what its cursor is made of; the next page starts after it."""
    world["grow"](2)
    first = api.get(path, sort=sort, limit=1)
    assert first.status_code == 200, first.content
    cursor = first.json()["next_cursor"]
    assert cursor is not None and len(first.json()["items"]) == 1
    second = api.get(path, sort=sort, limit=1, cursor=cursor)
    assert second.status_code == 200, second.content
    assert second.json()["items"] and second.json()["items"] != first.json()["items"]
