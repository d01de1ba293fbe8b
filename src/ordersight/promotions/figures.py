"""Customers' purchase figures: what segments are built on.

- An order counts when it is completed and not refunded in full; it counts on the time it
  was placed, for the customer it names now.
- spent (per currency) = the counted orders' totals minus what was refunded on them;
  orders = how many counted orders (per currency and in all); average = spent ÷ orders;
  first and last order = the earliest and latest counted orders (the last one's total and
  currency kept with it).

`CountedOrder` keeps what each order added, so a change (a refund, a new customer on the
order, a cancellation) recounts exactly the customers it touches; `rebuild_figures`
recomputes everything from the raw rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import connection, transaction

from ordersight.core.bulk import insert_rows
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.customers.services import lock_customers
from ordersight.orders.models import Order, OrderStatus
from ordersight.payments.facts import FactsOfOrders, OrderFacts
from ordersight.payments.models import CAPTURED, Invoice
from ordersight.promotions.models import CountedOrder, CustomerFigures, CustomerSpend

ZERO = Decimal(0)
COMPLETED = OrderStatus.COMPLETED.value


class _Counted(NamedTuple):
    """What one order adds to its customer's figures (a `CountedOrder` row's values)."""

    order_id: int
    customer_id: int
    currency: str
    placed_at: datetime
    total: Decimal
    net: Decimal


_COUNTED_COLUMNS = _Counted._fields


def counted(order: OrderFacts) -> _Counted | None:
    """What the order adds to its customer's figures now, or None when it does not count
    (no sale, no customer, or everything given back)."""
    if not order.is_sale or order.customer_id is None or order.fully_refunded:
        return None
    return _Counted(
        order.pk, order.customer_id, order.currency, order.created_at, order.total, order.net
    )


def recount_orders(*, order_ids: Collection[int], facts: FactsOfOrders | None = None) -> None:
    """Bring the orders' counted facts up to date and recount the customers they touch,
    from the orders' facts (`facts`: those the lifecycle read for every projection, else
    read here)."""
    if not order_ids:
        return
    orders = (facts or FactsOfOrders()).of(order_ids)
    fresh = {pk: counted(order) for pk, order in orders.items()}
    # Plain rows throughout: a billing batch counts hundreds of orders at once.
    before = {
        row[0]: _Counted(*row)
        for row in CountedOrder.objects.filter(order_id__any=order_ids).values_list(
            *_COUNTED_COLUMNS
        )
    }
    changed = [pk for pk in order_ids if before.get(pk) != fresh.get(pk)]
    if not changed:
        return
    customers = {c.customer_id for pk in changed for c in (before.get(pk), fresh.get(pk)) if c}
    # One writer per customer at a time, so two changes of one customer's orders cannot
    # both count from the same old facts.
    lock_customers(customer_ids=customers)
    CountedOrder.objects.filter(order_id__any=changed).delete()
    insert_rows(CountedOrder, _COUNTED_COLUMNS, [fresh[pk] for pk in changed if fresh.get(pk)])
    recount_customers(customers)


_FIGURES_COLUMNS = (
    "customer_id",
    "orders",
    "first_order_at",
    "last_order_at",
    "last_order_amount",
    "last_order_currency",
)
_SPEND_COLUMNS = ("customer_id", "currency", "orders", "spent", "average")


def recount_customers(customer_ids: Iterable[int]) -> None:
    """Write the figures of these customers again from their counted orders."""
    ids = set(customer_ids)
    if not ids:
        return
    facts: dict[int, list[_Counted]] = defaultdict(list)
    rows = CountedOrder.objects.filter(customer_id__any=ids).order_by("placed_at", "order_id")
    for row in rows.values_list(*_COUNTED_COLUMNS):
        facts[row[1]].append(_Counted(*row))
    CustomerSpend.objects.filter(customer_id__any=ids).delete()
    CustomerFigures.objects.filter(customer_id__any=ids).delete()
    figures, spend = [], []
    for customer_id in sorted(facts):
        rows = facts[customer_id]
        first, last = rows[0], rows[-1]
        figures.append(
            (customer_id, len(rows), first.placed_at, last.placed_at, last.total, last.currency)
        )
        by_currency: dict[str, list[Decimal]] = defaultdict(list)
        for row in rows:
            by_currency[row.currency].append(row.net)
        for currency, nets in sorted(by_currency.items()):
            spent = sum(nets, ZERO)
            # Half up, as SQL's ROUND in the rebuild (spent is never negative).
            average = (spent / len(nets)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            spend.append((customer_id, currency, len(nets), spent, average))
    insert_rows(CustomerFigures, _FIGURES_COLUMNS, figures)
    insert_rows(CustomerSpend, _SPEND_COLUMNS, spend)


_REBUILD_SQL = (
    """
    INSERT INTO promotions_countedorder (order_id, customer_id, currency, placed_at, total, net)
    SELECT o.id, o.customer_id, o.currency, o.created_at, o.total,
           o.total - COALESCE(r.refunded, 0)
    FROM {orders} o
    LEFT JOIN (SELECT order_id, SUM(refunded_amount) AS refunded FROM {invoices}
               WHERE status IN %(captured)s GROUP BY order_id) r ON r.order_id = o.id
    WHERE o.status = %(completed)s AND o.customer_id IS NOT NULL
      AND (o.total = 0 OR COALESCE(r.refunded, 0) < o.total)
    """,
    # (* 1.0: SQLite keeps whole amounts as integers, and would divide them as integers.)
    """
    INSERT INTO promotions_customerspend (customer_id, currency, orders, spent, average)
    SELECT customer_id, currency, COUNT(*), SUM(net), ROUND(SUM(net) * 1.0 / COUNT(*), 4)
    FROM promotions_countedorder GROUP BY customer_id, currency
    """,
    """
    INSERT INTO promotions_customerfigures (customer_id, orders, first_order_at, last_order_at,
                                           last_order_amount, last_order_currency)
    SELECT customer_id, n, first_at, placed_at, total, currency FROM (
        SELECT customer_id, placed_at, total, currency,
               COUNT(*) OVER (PARTITION BY customer_id) AS n,
               MIN(placed_at) OVER (PARTITION BY customer_id) AS first_at,
               ROW_NUMBER() OVER (PARTITION BY customer_id
                                  ORDER BY placed_at DESC, order_id DESC) AS latest
        FROM promotions_countedorder) counted
    WHERE latest = 1
    """,
)


@retry_on_deadlock
def rebuild_figures() -> int:
    """Recount every order and every customer from the raw rows, in SQL (the same rules as
    `counted` and `recount_customers`); returns how many orders count."""
    captured = "(" + ", ".join(f"'{status}'" for status in CAPTURED) + ")"
    with transaction.atomic(), connection.cursor() as cursor:
        CountedOrder.objects.all().delete()
        CustomerSpend.objects.all().delete()
        CustomerFigures.objects.all().delete()
        first, *rest = _REBUILD_SQL
        # Other apps' tables named through their models, so the import contract sees the
        # dependency; the statuses are the code's own constants, not input.
        first = first.format(
            orders=connection.ops.quote_name(Order._meta.db_table),
            invoices=connection.ops.quote_name(Invoice._meta.db_table),
        )
        cursor.execute(first.replace("%(captured)s", captured), {"completed": COMPLETED})
        for sql in rest:
            cursor.execute(sql)
    return CountedOrder.objects.count()
