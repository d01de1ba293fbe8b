"""Keeping the sales rollups equal to the raw rows.

After any change to an order, `recount_orders` computes what the order adds to the rollups
now (`definitions.contribution`), subtracts what it added before (kept on `ReportedOrder`)
and writes the difference: in the same transaction as the change, or (SALES_FIGURES =
"after-commit") the change queues its order (`queue_recounts`) and `recount_queued` takes
the queue in batches after commit. `rebuild_rollups` starts over from the raw rows
(imported history, a changed time zone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from ordersight.core.bulk import (
    copied_to_temporary_table,
    insert_rows,
    lock_order,
    upsert_clauses,
    upsert_rows,
)
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.live import publish_after_commit
from ordersight.core.lookups import any_of_sql
from ordersight.customers.models import Customer
from ordersight.customers.services import lock_customers
from ordersight.orders.models import Order
from ordersight.payments.facts import FactsOfOrders, OrderFacts, read_facts
from ordersight.reports.definitions import (
    COUNTED_STATUS,
    MEASURE_NAMES,
    Measures,
    RowKey,
    Sale,
    attribution_key,
    contribution,
    parts_from_json,
    parts_to_json,
    sale_of,
)
from ordersight.reports.models import ANY, Grain, QueuedRecount, ReportedOrder, SalesRollup

# How many orders one pass of the rebuild reads and writes at a time.
REBUILD_BATCH = 5000
# How many queued changes one recount after commit takes at most: a bulk batch's worth, so a
# busy store's figures are brought up to date by large recounts, not many small ones, and
# an order passed over because a writer held it is taken again within a second or so.
QUEUED_BATCH = 1000
# A change of this many orders or more is queued by COPY.
QUEUE_BY_COPY_FROM = 100
# What open pages hear when the figures have taken in more changes.
LIVE_CHANNEL = "figures"


def _first_sales(customer_ids: Collection[int]) -> dict[int, int]:
    """Each customer's first sale (order id): the earliest completed order, ties by id."""
    if not customer_ids:
        return {}
    first = (
        Order.objects.filter(customer=OuterRef("pk"), status=COUNTED_STATUS)
        .order_by("created_at", "id")
        .values("id")[:1]
    )
    found = (
        Customer.objects.filter(pk__any=customer_ids)
        .annotate(first=Subquery(first))
        .values_list("pk", "first")
    )
    return {pk: first for pk, first in found if first is not None}


def _with_months(deltas: dict[RowKey, Measures]) -> dict[tuple, Measures]:
    """The stored rows a sale's day rows go to: per day and per month, each both under its
    own source and order type and under ANY of them (what unfiltered reports read, so a
    year by offer sums thousands of rows, not hundreds of thousands)."""
    out: dict[tuple, Measures] = {}
    for key, measures in deltas.items():
        day, currency, rest = key.day, key.currency, (key.dimension, key.key, key.confirmed)
        month = day.replace(day=1)
        for row in (
            (Grain.DAY, day, currency, key.source, key.order_type, *rest),
            (Grain.DAY, day, currency, ANY, ANY, *rest),
            (Grain.MONTH, month, currency, key.source, key.order_type, *rest),
            (Grain.MONTH, month, currency, ANY, ANY, *rest),
        ):
            summed = out.get(row)
            if summed is None:
                out[row] = summed = Measures()
            summed.add(measures)
    return {k: m for k, m in out.items() if not m.is_zero()}


_KEY_COLUMNS = (
    "grain",
    "period",
    "currency",
    "source",
    "order_type",
    "dimension",
    "key",
    "confirmed",
)


def add_to_rollups(*, deltas: dict[RowKey, Measures]) -> None:
    """Add (or subtract) figures to the rollup rows, creating rows as needed; on
    PostgreSQL in the unique key's order (`lock_order`), so two writers lock them alike."""
    if (
        connection.vendor == "postgresql"
        and connection.in_atomic_block
        and len(deltas) >= SQL_FAN_OUT_ROWS
    ):
        _add_to_rollups_in_sql(deltas)
        return
    rows = _with_months(deltas).items()
    upsert_rows(
        SalesRollup,
        (*_KEY_COLUMNS, *MEASURE_NAMES),
        [(*key, *measures.values()) for key, measures in rows],
        unique=SalesRollup._meta.constraints[0].fields,
        adding=True,
    )


# From this many day rows a recount's rollup rows are made by PostgreSQL (a batch's); one
# order's dozen are made here and sent as arrays, without a temporary table.
SQL_FAN_OUT_ROWS = 1000


def _add_to_rollups_in_sql(deltas: dict[RowKey, Measures]) -> None:
    """`add_to_rollups` on PostgreSQL: the day rows are copied to the server, which makes
    the month rows and those under any source and type (`_with_months`) itself, sums them
    and adds them, in the unique key's order as `upsert_rows` writes. A batch of 1,000
    completed orders has some 12,000 day rows and 40,000 rows to add: building those keys
    in Python took a fifth of the batch's Python time."""
    rows = [
        (
            *(Grain.DAY, k.day, k.currency, k.source, k.order_type),
            *(k.dimension, k.key, k.confirmed, *m.values()),
        )
        for k, m in deltas.items()
        if not m.is_zero()
    ]
    if not rows:
        return
    q = connection.ops.quote_name
    table = q(SalesRollup._meta.db_table)
    day_rows = copied_to_temporary_table(connection, table, (*_KEY_COLUMNS, *MEASURE_NAMES), rows)
    sums = ", ".join(f"sum(v.{q(m)}) AS {q(m)}" for m in MEASURE_NAMES)
    not_zero = " OR ".join(f"sum(v.{q(m)}) <> 0" for m in MEASURE_NAMES)
    unique = SalesRollup._meta.constraints[0].fields
    order = lock_order(SalesRollup, unique, "r")
    insert, upsert = upsert_clauses(
        SalesRollup, (*_KEY_COLUMNS, *MEASURE_NAMES), unique=unique, adding=True
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"{insert}SELECT * FROM ("
            "  SELECT f.grain,"
            "    CASE WHEN f.grain = %s THEN v.period"
            "      ELSE date_trunc('month', v.period::timestamp)::date END AS period,"
            "    v.currency,"
            "    CASE WHEN f.any_source THEN %s ELSE v.source END AS source,"
            "    CASE WHEN f.any_source THEN %s ELSE v.order_type END AS order_type,"
            f"   v.dimension, v.key, v.confirmed, {sums}"
            f"  FROM {day_rows} AS v CROSS JOIN (VALUES (%s, false), (%s, true), (%s, false),"
            "    (%s, true)) AS f(grain, any_source)"
            f"  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING {not_zero}"
            f") AS r ORDER BY {order}{upsert}",
            [Grain.DAY, ANY, ANY, Grain.DAY, Grain.DAY, Grain.MONTH, Grain.MONTH],
        )


def _is_sale(order: OrderFacts | None) -> bool:
    return order is not None and order.status == COUNTED_STATUS


def recount_orders(*, order_ids: Iterable[int], facts: FactsOfOrders | None = None) -> None:
    """Bring the rollups in line with these orders as they are now (in the caller's
    transaction), from their facts (`facts`: those the lifecycle read for every projection,
    else read here). Also recounts the customers' first sales that move as a result."""
    ids = set(order_ids)
    if not ids:
        return
    facts = facts or FactsOfOrders()
    snapshots = {r.pk: r for r in ReportedOrder.objects.filter(pk__any=ids)}
    orders = facts.of(ids)
    # An order that is no sale and never was one moves no figure (most new orders).
    ids = {pk for pk in ids if pk in snapshots or _is_sale(orders.get(pk))}
    if not ids:
        return
    orders = {pk: o for pk, o in orders.items() if pk in ids}
    customers = {o.customer_id for o in orders.values() if o.customer_id}
    customers |= {s.customer_id for s in snapshots.values() if s.customer_id}
    if customers:
        # One recount per customer at a time: two sales of one customer recorded at once
        # must agree on which is the first, and never both rewrite a third order's row.
        # Then read the rows again, as the lock holder before us may have changed them.
        lock_customers(customer_ids=customers)
        snapshots = {r.pk: r for r in ReportedOrder.objects.filter(pk__any=ids)}
    first = _first_sales(customers)
    # A customer's first sale can move to or from an order not in this batch: recount the
    # orders whose flag changes (a first sale that stays the first sale is left alone).
    flagged = ReportedOrder.objects.filter(customer_id__any=customers, first_sale=True)
    extra = set(first.values()) ^ set(flagged.values_list("pk", flat=True))
    extra -= ids
    if extra:
        snapshots.update({r.pk: r for r in ReportedOrder.objects.filter(pk__any=extra)})
        orders.update(facts.of(extra))
    first_sale_ids = set(first.values())

    deltas: dict[RowKey, Measures] = defaultdict(Measures)
    to_save: list[tuple] = []
    to_delete: list[int] = []
    # Customers whose sales, in the order `prev_day` links them, changed: a sale added or
    # gone, or moved to another day or customer. A refund or a payment changes none.
    relink: set[int | None] = set()
    for pk in ids | extra:
        order = orders.get(pk)
        now = (
            sale_of(order, order.lines, order.invoices, first_sale=pk in first_sale_ids)
            if order is not None
            else None
        )
        old = snapshots.get(pk)
        before = _sale_from_row(old) if old is not None else None
        if now == before:
            continue
        for key, measures in contribution(before).items():
            deltas[key].add(measures, -1)
        for key, measures in contribution(now).items():
            deltas[key].add(measures)
        if now is not None:
            to_save.append(_values_of(pk, now))
        elif old is not None:
            to_delete.append(pk)
        if (now and (now.day, now.customer_id)) != (before and (before.day, before.customer_id)):
            relink |= {sale.customer_id for sale in (now, before) if sale is not None}
    add_to_rollups(deltas=deltas)
    if to_delete:
        ReportedOrder.objects.filter(pk__any=to_delete).delete()
    # Plain rows, not model instances: a billing batch writes hundreds. `prev_day` is left
    # as it was and linked below.
    upsert_rows(ReportedOrder, _ROW_COLUMNS, to_save, unique=("order_id",))
    _link_previous_sales(relink - {None})


def queue_recounts(*, order_ids: Collection[int]) -> None:
    """Have these orders' sales recounted after the caller's transaction commits
    (`recount_queued`): one row each, inserted; a rolled-back change queues nothing."""
    if len(order_ids) < QUEUE_BY_COPY_FROM:
        # One INSERT; COPY takes two round trips, which a Check of one sale would feel.
        QueuedRecount.objects.bulk_create(QueuedRecount(order_id=pk) for pk in order_ids)
    else:
        insert_rows(QueuedRecount, ("order_id",), ((pk,) for pk in order_ids))


@retry_on_deadlock
@transaction.atomic
def recount_queued(*, limit: int = QUEUED_BATCH) -> int:
    """Recount the orders of the oldest queued changes (up to `limit`) and take those rows
    off the queue, in one transaction: a crash leaves both undone, and a recount sets an
    order's figures to what its rows say now, so none is counted twice. Several recounters
    may run at once (each takes rows the others have not locked), and writers in either
    mode beside them. Returns how many changes it took off the queue."""
    taken = list(
        QueuedRecount.objects.select_for_update(no_key=True, skip_locked=True)
        .order_by("id")
        .values_list("id", "order_id")[:limit]
    )
    if not taken:
        return 0
    # The orders are locked before their facts are read, in id order as every writer of
    # many orders locks them (and before the customers the recount locks), so no recount
    # of the same order elsewhere (another recounter, a writer recounting in its own
    # transaction) is overwritten with figures read before it. An order some writer holds
    # is passed over, its changes left queued for the next pass: a batch never waits for a
    # person's refund or Check (a writer waits for a batch only if the batch took its order
    # first, for the second or so a batch lasts).
    free = set(
        Order.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
        .filter(pk__any=sorted({order_id for _, order_id in taken}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = [pk for pk, order_id in taken if order_id in free]
    if not done:
        return 0
    recount_orders(order_ids=free)
    QueuedRecount.objects.filter(pk__any=done).delete()
    # Open dashboards read the figures again: the change they heard of is counted now.
    publish_after_commit(LIVE_CHANNEL, {"event": "recounted", "count": len(done)})
    return len(done)


@retry_on_deadlock
@transaction.atomic
def set_aside_oldest_queued() -> int | None:
    """Move the oldest queued change no recounter holds to the back of the queue (a
    recount of it keeps failing: the others go on meanwhile, and it is tried again after
    them). It keeps the time it was queued, so the figures still say how far they trail.
    Returns its order's id, None when no change is free to move."""
    oldest = (
        QueuedRecount.objects.select_for_update(no_key=True, skip_locked=True)
        .order_by("id")
        .first()
    )
    if oldest is None:
        return None
    oldest.delete()
    QueuedRecount.objects.create(order_id=oldest.order_id, queued_at=oldest.queued_at)
    return oldest.order_id


def move_attributions(*, orders: Iterable[Order]) -> None:
    """Who made these sales changed, and nothing else: move each kept sale from the report
    by sales manager's row it counted in to the one its order (as the service holds it,
    locked) names now. Four statements or so (the customers' lock, the kept sales, the
    rollups, an update per manager), where `recount_orders` takes a dozen: a "Check"
    is a person waiting, and a bulk one is thousands of sales.

    Kept sales hold the figures the row needs (total, units, refunds, fees, funds credited);
    an order that is no kept sale yet is left to the recount that makes it one."""
    named = {order.pk: order for order in orders}
    if not named:
        return
    # As a recount does: another order's recount of the same customer rewrites this
    # order's kept sale (its first-sale flag), and must not do it from a stale row.
    lock_customers(customer_ids={order.customer_id for order in named.values()})
    deltas: dict[RowKey, Measures] = defaultdict(Measures)
    moved: dict[tuple[int | None, bool], list[int]] = defaultdict(list)
    for kept in ReportedOrder.objects.filter(pk__any=named).defer("parts", "prev_day"):
        order = named[kept.pk]
        now = (order.sales_manager_id, order.sales_confirmed_at is not None)
        if now == (kept.manager_id, kept.confirmed):
            continue
        whole = Measures(
            1,
            kept.units,
            *(Decimal(v) for v in (kept.total, kept.refunds, kept.fees, kept.funds_credited)),
        )
        deltas[attribution_key(kept, kept.manager_id, kept.confirmed)].add(whole, -1)
        deltas[attribution_key(kept, *now)].add(whole)
        moved[now].append(kept.pk)
    add_to_rollups(deltas=deltas)
    for (manager_id, confirmed), pks in moved.items():
        ReportedOrder.objects.filter(pk__any=pks).update(manager_id=manager_id, confirmed=confirmed)


def _link_previous_sales(customers: Collection[int]) -> None:
    """Set each kept sale's `prev_day` (the day of the customer's sale before it) for these
    customers, in one statement: a window over their sales, writing only what changed."""
    if not customers:
        return
    table = connection.ops.quote_name(ReportedOrder._meta.db_table)
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    among, params = any_of_sql("customer_id", sorted(customers), connection)
    updated, _ = any_of_sql(f"{table}.customer_id", sorted(customers), connection)
    # The rows updated are named by their customers as well as joined to the window's: the
    # planner, which guesses ten sales a customer, otherwise read the whole table to join a
    # batch's (198 ms where 6 ms will do, at 740,000 kept sales).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET prev_day = linked.prev FROM ("
            "  SELECT order_id, LAG(day) OVER ("
            "    PARTITION BY customer_id ORDER BY day, order_id) AS prev"
            f"  FROM {table} WHERE {among}"
            f") AS linked WHERE {updated} AND {table}.order_id = linked.order_id"
            f" AND {table}.prev_day {differs} linked.prev",
            params + params,
        )


_ROW_FIELDS = (
    "order_id",
    "day",
    "currency",
    "source",
    "order_type",
    "customer_id",
    "manager_id",
    "confirmed",
    "first_sale",
    "total",
    "units",
    "refunds",
    "fees",
    "funds_credited",
    "parts",
)


def _sale_from_row(row: ReportedOrder) -> Sale:
    lines, invoices = parts_from_json(row.parts)
    return Sale(
        day=row.day,
        currency=row.currency,
        source=row.source,
        order_type=row.order_type,
        customer_id=row.customer_id,
        manager_id=row.manager_id,
        confirmed=row.confirmed,
        first_sale=row.first_sale,
        # Through text: SQLite may hand the stored decimal back with other trailing zeros.
        total=Decimal(row.total),
        lines=lines,
        invoices=invoices,
    )


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@retry_on_deadlock
@transaction.atomic
def rebuild_rollups(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Throw the rollups away and compute them again from the raw rows; returns the number
    of sales counted. Runs in one transaction: readers see the old figures until it ends."""
    SalesRollup.objects.all().delete()
    ReportedOrder.objects.all().delete()
    sale_ids = list(
        Order.objects.filter(status=COUNTED_STATUS)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    first_sale_ids: set[int] = set()
    seen: set[int] = set()
    for customer_id, pk in (
        Order.objects.filter(status=COUNTED_STATUS, customer__isnull=False)
        .order_by("customer_id", "created_at", "id")
        .values_list("customer_id", "pk")
    ):
        if customer_id not in seen:
            seen.add(customer_id)
            first_sale_ids.add(pk)
    days: dict[RowKey, Measures] = defaultdict(Measures)
    months: dict[tuple, Measures] = defaultdict(Measures)
    latest_day: dict[int, date] = {}  # each customer's last sale so far (prev_day)
    # Sales stream in time order, but prev_day orders a customer's sales of one day by
    # order id (as `_link_previous_sales` does): those customers are linked again after.
    same_day: set[int] = set()
    for done, batch in enumerate(_batches(sale_ids, REBUILD_BATCH)):
        # Plain rows, not model instances: a rebuild reads every sale there is.
        orders = sorted(read_facts(order_ids=batch).values(), key=lambda o: (o.created_at, o.pk))
        snapshots = []
        last_day = None
        for order in orders:
            sale = sale_of(
                order, order.lines, order.invoices, first_sale=order.pk in first_sale_ids
            )
            for key, measures in contribution(sale).items():
                days[key].add(measures)
            previous = None
            if sale.customer_id is not None:
                previous = latest_day.get(sale.customer_id)
                latest_day[sale.customer_id] = sale.day
                if previous == sale.day:
                    same_day.add(sale.customer_id)
            snapshots.append((*_values_of(order.pk, sale), previous))
            last_day = sale.day
        insert_rows(ReportedOrder, (*_ROW_COLUMNS, "prev_day"), snapshots)
        # Sales come in time order: days and months behind the last one are complete, so
        # they are written now and memory holds about a month, whatever the history.
        if last_day is not None:
            _flush(days, months, before=last_day)
        if progress is not None:
            progress(min((done + 1) * REBUILD_BATCH, len(sale_ids)), len(sale_ids))
    _flush(days, months, before=None)
    for chunk in _batches(sorted(same_day), REBUILD_BATCH):
        _link_previous_sales(chunk)
    return len(sale_ids)


def _flush(
    days: dict[RowKey, Measures], months: dict[tuple, Measures], *, before: date | None
) -> None:
    """Write the day rows before `before` (all when None) and the months they complete."""
    done = {k: days.pop(k) for k in [k for k in days if before is None or k.day < before]}
    rows = []
    for key, measures in _with_months(done).items():
        if key[0] == Grain.DAY:
            rows.append((key, measures))
        else:
            months[key].add(measures)
    first_open = before.replace(day=1) if before is not None else None
    for key in [k for k in months if first_open is None or k[1] < first_open]:
        rows.append((key, months.pop(key)))
    rows.sort(key=lambda item: item[0])
    insert_rows(
        SalesRollup,
        (*_KEY_COLUMNS, *MEASURE_NAMES),
        ((*key, *measures.values()) for key, measures in rows if not measures.is_zero()),
    )


_ROW_COLUMNS = tuple(ReportedOrder._meta.get_field(name).column for name in _ROW_FIELDS)


def _values_of(order_id: int, sale: Sale) -> tuple:
    """A sale as the values of `_ROW_FIELDS`, in order (no model instance)."""
    return (
        order_id,
        sale.day,
        sale.currency,
        sale.source,
        sale.order_type,
        sale.customer_id,
        sale.manager_id,
        sale.confirmed,
        sale.first_sale,
        sale.total,
        *sale.sums(),
        parts_to_json(sale),
    )
