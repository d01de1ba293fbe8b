"""insert_many writes what bulk_create writes: on PostgreSQL through COPY, elsewhere by INSERT."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from ordersight.core.bulk import insert_many
from ordersight.orders.models import Order, OrderLine
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _order(number: int, **extra) -> Order:
    return Order(
        number=number,
        external_id=f"ext-{number}",
        source="feed",
        currency="EUR",
        subtotal=Decimal("12.3456"),
        total=Decimal("12.3456"),
        metadata={"campaign": "winter", "nested": {"n": [1, "=x"]}},
        notes='tab\there, quote " and backslash \\ and a newline\nin notes',
        created_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        **extra,
    )


def test_rows_ids_and_children_round_trip():
    customer = factories.CustomerFactory()
    orders = [_order(n, customer=customer) for n in (5001, 5002, 5003)]
    insert_many(Order, orders)
    assert all(o.pk for o in orders) and len({o.pk for o in orders}) == 3
    assert not orders[0]._state.adding

    lines = [
        OrderLine(
            order=o,
            position=1,
            name="Tee",
            unit_price=Decimal("6.1728"),
            quantity=2,
            total=Decimal("12.3456"),
        )
        for o in orders
    ]
    insert_many(OrderLine, lines)

    stored = Order.objects.get(number=5002)
    assert stored.pk == orders[1].pk
    assert stored.customer_id == customer.pk
    assert stored.total == Decimal("12.3456")
    assert stored.metadata == {"campaign": "winter", "nested": {"n": [1, "=x"]}}
    assert stored.notes == orders[1].notes
    assert stored.created_at == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    assert stored.updated_at is not None  # auto_now is filled as by save()
    assert stored.payment_status == "unpaid"  # field defaults apply
    assert list(stored.lines.values_list("quantity", "unit_price")) == [(2, Decimal("6.1728"))]
    # The sequence moved past the ids drawn, so the ORM's next insert does not collide.
    later = factories.OrderFactory()
    assert later.pk > max(o.pk for o in orders)


def test_a_duplicate_raises_and_leaves_nothing():
    insert_many(Order, [_order(6001)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(Order, [_order(6002), _order(6001)])
    assert list(Order.objects.values_list("number", flat=True)) == [6001]


def test_postgres_uses_copy(django_assert_max_num_queries):
    # Two round trips on PostgreSQL (draw ids, COPY) for any number of rows.
    orders = [_order(7000 + n) for n in range(300)]
    if connection.vendor == "postgresql":
        with django_assert_max_num_queries(1) as captured:
            insert_many(Order, orders)
        # COPY does not pass through Django's query log; only the id draw does.
        assert "nextval" in captured.captured_queries[0]["sql"]
    else:
        insert_many(Order, orders, batch_size=100)
    assert Order.objects.count() == 300


def test_child_assigned_before_its_parent_was_saved_takes_the_parent_id():
    order = _order(8001)
    lines = [
        OrderLine(order=order, position=p, name="x", unit_price=1, quantity=1, total=1)
        for p in (1, 2)
    ]
    insert_many(Order, [order, _order(8002)])
    insert_many(OrderLine, lines)
    assert OrderLine.objects.filter(order=order).count() == 2


def test_unsaved_parent_is_refused():
    lines = [
        OrderLine(order=_order(n), position=1, name="x", unit_price=1, quantity=1, total=1)
        for n in (8101, 8102)
    ]
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_many(OrderLine, lines)


def test_update_many_writes_each_rows_own_values_nulls_and_times_included():
    from ordersight.core.bulk import update_many

    customer = factories.CustomerFactory()
    orders = insert_many(Order, [_order(n, customer=customer) for n in (7001, 7002, 7003)])
    first, second, third = orders
    first.status, first.notes, first.customer = "completed", "done", None
    second.status, second.notes = "cancelled", 'quote " and \\ backslash'
    second.created_at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    first.metadata, second.total = {"tags": ["a", "=b"], "n": 1}, Decimal("99.1234")
    update_many(
        Order, [first, second], ["status", "notes", "customer", "created_at", "metadata", "total"]
    )
    stored = {o.number: o for o in Order.objects.all()}
    assert (stored[7001].status, stored[7001].notes, stored[7001].customer_id) == (
        "completed",
        "done",
        None,
    )
    assert stored[7002].status == "cancelled" and stored[7002].notes == second.notes
    assert stored[7002].created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert stored[7002].customer_id == customer.pk
    assert stored[7001].metadata == {"tags": ["a", "=b"], "n": 1}
    assert stored[7002].metadata == second.metadata  # written back as it was
    assert stored[7002].total == Decimal("99.1234")
    assert stored[7003].status == third.status == "open"  # untouched
    update_many(Order, [], ["status"])  # nothing to do is no error


def test_insert_rows_writes_times_that_compare_like_saved_ones():
    from ordersight.core.bulk import insert_rows
    from ordersight.orders.models import OrderEvent

    order = factories.OrderFactory()
    at = datetime(2026, 11, 1, 9, 30, 0, 500000, tzinfo=UTC)
    insert_rows(
        OrderEvent,
        ("order_id", "kind", "actor_type", "actor_label", "payload", "created_at"),
        [(order.pk, "updated", "system", "system", {"n": [1, "=x"]}, at)],
    )
    written = OrderEvent.objects.get(order=order, payload__n__1="=x")
    assert written.created_at == at and written.actor_user_id is None
    # The database compares the stored time with the ones Django sends (on SQLite, text
    # without an offset): equal is equal, and it is not after itself.
    assert OrderEvent.objects.filter(order=order, created_at=at).get() == written
    assert OrderEvent.objects.filter(order=order, created_at__lte=at).get() == written


def test_upsert_rows_overwrites_or_adds_and_refuses_a_value_too_long(django_assert_num_queries):
    from ordersight.core.bulk import upsert_rows
    from ordersight.reports.models import ReportedOrder

    order, other = factories.OrderFactory(), factories.OrderFactory()
    columns = ("order_id", "day", "currency", "source", "order_type", "confirmed", "first_sale")
    columns += ("total", "parts")
    day = datetime(2026, 11, 1, tzinfo=UTC).date()
    kept = ("api", "standard", False, False)
    row = (order.pk, day, "EUR", *kept, Decimal("1.5000"), {"lines": [[1, 'a"b']]})
    # One statement, counted like any other (on PostgreSQL it bypasses Django's cursor).
    with django_assert_num_queries(1):
        upsert_rows(ReportedOrder, columns, [row], unique=("order_id",))
    upsert_rows(
        ReportedOrder,
        columns,
        [(order.pk, day, "USD", *kept, Decimal("2"), {}), (other.pk, *row[1:])],
        unique=("order_id",),
    )
    stored = {r.order_id: r for r in ReportedOrder.objects.all()}
    assert (stored[order.pk].currency, stored[order.pk].total) == ("USD", Decimal("2"))
    assert stored[order.pk].parts == {} and stored[other.pk].parts == {"lines": [[1, 'a"b']]}

    too_long = (order.pk, day, "EURO", *kept, Decimal("3"), {})
    if connection.vendor == "postgresql":
        # Never cut short to fit (an explicit cast to varchar(3) would do that silently).
        with pytest.raises(DataError), transaction.atomic():
            upsert_rows(ReportedOrder, columns, [too_long], unique=("order_id",))
        assert ReportedOrder.objects.get(order_id=order.pk).currency == "USD"


def test_upsert_rows_adding_sums_counters_into_existing_rows():
    from ordersight.core.bulk import upsert_rows
    from ordersight.reports.definitions import MEASURE_NAMES
    from ordersight.reports.models import SalesRollup

    key = ("d", datetime(2026, 11, 1, tzinfo=UTC).date(), "EUR", "api", "x", "total", "", False)
    unique = SalesRollup._meta.constraints[0].fields
    columns = (
        *("grain", "period", "currency", "source", "order_type", "dimension", "key"),
        *("confirmed", *MEASURE_NAMES),
    )
    first = (*key, 1, 2, Decimal("2.5"), 0, 0, 0, 1)
    upsert_rows(SalesRollup, columns, [first], unique=unique, adding=True)
    second = (*key, -3, 0, Decimal("1"), 0, 0, 0, 0)
    upsert_rows(SalesRollup, columns, [second], unique=unique, adding=True)
    stored = SalesRollup.objects.get()
    assert (stored.orders, stored.units, stored.gross, stored.new_customers) == (
        -2,
        2,
        Decimal("3.5"),
        1,
    )


def test_a_large_upsert_has_the_same_result_when_its_rows_go_by_copy(monkeypatch):
    """On PostgreSQL thousands of rows go through a temporary table filled by COPY (here
    from three rows); twice in one transaction, JSON included, adding or overwriting."""
    from ordersight.core import bulk
    from ordersight.reports.definitions import MEASURE_NAMES
    from ordersight.reports.models import ReportedOrder, SalesRollup

    monkeypatch.setattr(bulk, "COPY_UPSERT_ROWS", 3)
    day = datetime(2026, 11, 1, tzinfo=UTC).date()
    columns = (
        *("grain", "period", "currency", "source", "order_type", "dimension", "key"),
        *("confirmed", *MEASURE_NAMES),
    )
    unique = SalesRollup._meta.constraints[0].fields
    keys = [("d", day, "EUR", "api", "x", "offer", str(n), False) for n in (3, 1, 2)]
    orders = [factories.OrderFactory() for _ in range(3)]
    sale = ("EUR", "api", "standard", False, False, Decimal("1.5"))
    sale_columns = ("order_id", "day", "currency", "source", "order_type", "confirmed")
    sale_columns += ("first_sale", "total", "parts")
    with transaction.atomic():
        for turn in (1, 2):
            rows = [(*key, 1, turn, Decimal("2.5"), 0, 0, 0, 0) for key in keys]
            bulk.upsert_rows(SalesRollup, columns, rows, unique=unique, adding=True)
            parts = {"lines": [[turn, 'a"b\\tc']]}
            bulk.upsert_rows(
                ReportedOrder,
                sale_columns,
                [(o.pk, day, *sale, parts) for o in orders],
                unique=("order_id",),
            )
    stored = {r.key: (r.orders, r.units, r.gross) for r in SalesRollup.objects.all()}
    assert stored == {n: (2, 3, Decimal("5")) for n in ("1", "2", "3")}
    assert {r.parts["lines"][0][0] for r in ReportedOrder.objects.all()} == {2}
    assert ReportedOrder.objects.first().parts == {"lines": [[2, 'a"b\\tc']]}


def test_json_cells_keep_what_the_standard_encoder_keeps():
    """JSON goes to COPY by orjson; a value it refuses (an integer past 64 bits, which a
    store's metadata may hold) goes by the standard encoder, and keys that are not strings
    become strings as that encoder makes them."""
    from ordersight.core.bulk import insert_rows
    from ordersight.orders.models import OrderEvent

    huge = 2**70
    order = factories.OrderFactory()
    insert_rows(
        OrderEvent,
        ("order_id", "kind", "actor_type", "actor_label", "payload", "created_at"),
        [
            (order.pk, "updated", "system", "system", {"big": huge}, datetime.now(UTC)),
            (order.pk, "imported", "system", "system", {1: ["a", 2.5]}, datetime.now(UTC)),
        ],
    )
    assert OrderEvent.objects.get(order=order, kind="updated").payload == {"big": huge}
    assert OrderEvent.objects.get(order=order, kind="imported").payload == {"1": ["a", 2.5]}
    big, plain = _order(9101), _order(9102)
    big.metadata = {"id": huge}
    insert_many(Order, [big, plain])
    assert Order.objects.get(number=9101).metadata == {"id": huge}
