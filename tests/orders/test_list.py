"""The order list: every filter, search, sort, and keyset pagination under concurrent inserts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ordersight.orders import selectors
from ordersight.orders.models import OrderLine
from tests import factories


def _numbers(api, **params) -> list[int]:
    r = api.get("orders", **params)
    assert r.status_code == 200, r.content
    return [o["number"] for o in r.json()["items"]]


@pytest.fixture
def orders(catalog):
    """A spread of orders across statuses, sources, types, currencies and managers."""
    now = timezone.now()
    manager = factories.UserFactory(username="mia")
    ada = factories.CustomerFactory(name="Ada Lovelace", email="ada@math.org")
    bob = factories.CustomerFactory(name="Bob Stone", email="bob@rock.com")
    a = factories.OrderFactory(
        customer=ada,
        status="completed",
        payment_status="paid",
        source="storefront",
        created_at=now - timedelta(days=40),
        metadata={"channel": "mobile_app", "count": 3},
    )
    b = factories.OrderFactory(
        customer=bob,
        source="shopify",
        order_type="quote",
        currency="USD",
        created_at=now - timedelta(days=10),
        sales_manager=manager,
        metadata={"channel": "web"},
    )
    c = factories.OrderFactory(
        customer=ada,
        status="draft",
        created_at=now - timedelta(days=1),
        metadata={"shipping": {"country": "PL"}},
    )
    OrderLine.objects.filter(order=b).update(
        offer=catalog["course"], offer_number=201, category_number=20
    )
    return {"a": a, "b": b, "c": c, "ada": ada, "bob": bob, "manager": manager, "now": now}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "completed"}, ["a"]),
        ({"status": ["completed", "draft"]}, ["c", "a"]),
        ({"payment_status": "paid"}, ["a"]),
        ({"source": "shopify"}, ["b"]),
        ({"order_type": "quote"}, ["b"]),
        ({"currency": "USD"}, ["b"]),
        ({"offer": "201"}, ["b"]),
        ({"category": "20"}, ["b"]),
        ({"sales_manager": "system"}, ["c", "a"]),
        ({"metadata": "channel=web"}, ["b"]),
        ({"metadata": "count=3"}, ["a"]),
        ({"metadata": "shipping.country=PL"}, ["c"]),
        ({"q": "ada"}, ["c", "a"]),
        ({"q": "ROCK.COM"}, ["b"]),
        ({"refund_status": "full"}, []),
        ({"fulfillment_status": "unfulfilled"}, ["c", "b", "a"]),
    ],
)
def test_each_filter(api, orders, params, expected):
    assert _numbers(api, **params) == [orders[k].number for k in expected]


def test_filter_by_customer_and_manager_ids(api, orders):
    assert _numbers(api, customer=orders["bob"].pk) == [orders["b"].number]
    assert _numbers(api, sales_manager=orders["manager"].pk) == [orders["b"].number]


def test_search_by_number(api, orders):
    assert _numbers(api, q=str(orders["b"].number)) == [orders["b"].number]


def test_created_range_accepts_dates_and_times(api, orders):
    now = orders["now"]
    since = (now - timedelta(days=15)).date().isoformat()
    assert _numbers(api, created_after=since) == [orders["c"].number, orders["b"].number]
    before = (now - timedelta(days=5)).isoformat()
    assert _numbers(api, created_before=before) == [orders["b"].number, orders["a"].number]


def test_filters_combine(api, orders):
    assert _numbers(api, q="ada", status="draft") == [orders["c"].number]


@pytest.mark.parametrize(
    ("sort", "keys"),
    [("total", ["b", "c", "a"]), ("-total", ["a", "c", "b"]), ("number", ["a", "b", "c"])],
)
def test_sort(api, orders, sort, keys):
    for key, total in zip("abc", ["30.00", "10.00", "20.00"], strict=True):
        orders[key].subtotal = orders[key].total = Decimal(total)
        orders[key].save()
    assert _numbers(api, sort=sort) == [orders[k].number for k in keys]


def test_keyset_pages_never_skip_or_repeat_while_orders_arrive(api, db):
    base = timezone.now() - timedelta(days=1)
    originals = [
        factories.OrderFactory(created_at=base + timedelta(minutes=i // 3)) for i in range(47)
    ]  # several orders share each created_at, so ties are broken by id
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = api.get("orders", **params).json()
        seen += [o["number"] for o in page["items"]]
        # New orders keep arriving between pages, newest first and one back-dated import.
        factories.OrderFactory()
        factories.OrderFactory(created_at=base + timedelta(days=2))
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "an order was repeated"
    assert set(seen) == {o.number for o in originals}, "an order was skipped"


def test_keyset_pages_in_ascending_sort(api, db):
    made = {factories.OrderFactory().number for _ in range(7)}
    seen, cursor = [], None
    while True:
        page = api.get("orders", sort="number", limit=3, **({"cursor": cursor} if cursor else {}))
        body = page.json()
        seen += [o["number"] for o in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(made)


def test_cursor_from_another_sort_is_rejected(api, db):
    for _ in range(3):
        factories.OrderFactory()
    cursor = api.get("orders", limit=1).json()["next_cursor"]
    r = api.get("orders", sort="total", cursor=cursor)
    assert r.status_code == 422 and "cursor" in r.json()["error"]["fields"]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("refunded", [False, True])
def test_list_query_count_does_not_grow_with_rows(
    api, db, django_assert_num_queries, rows, refunded
):
    from ordersight.payments.models import Invoice

    for i in range(rows):
        order = factories.OrderFactory()
        Invoice.objects.create(
            number=70000 + i,
            order=order,
            amount=order.total,
            currency=order.currency,
            status="refunded" if refunded else "succeeded",
            refunded_amount=order.total if refunded else 0,
        )
    # key lookup and its first-use stamp, the page, then its lines, its invoices and, when
    # any shows refunded money, their refunds: the same count for 3 rows as for 30
    with django_assert_num_queries(6 if refunded else 5):
        api.get("orders", limit=50)


def test_selector_is_shared_by_list_and_export(orders):
    # The export reads the very queryset the list filters, so a filter means the same in both.
    rows = list(selectors.ORDER_LIST.export({"status": ["completed"]}, None))
    assert [r[0] for r in rows] == [orders["a"].number]
