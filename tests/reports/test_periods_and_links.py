"""Period arithmetic, time-zone day edges, and drill-down links that sum to their figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ordersight.reports.definitions import APP_MEASURE, GroupBy, allocate
from ordersight.reports.params import preset_range
from ordersight.reports.selectors import (
    SalesQuery,
    change_percent,
    first_sale_filter,
    orders_filter,
    row_filter,
    sales_breakdown,
    sales_performance,
)
from ordersight.reports.services import rebuild_rollups

MARCH = SalesQuery(date(2026, 3, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        # A month of 31 days: the 31 days before, across February's end.
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 1, 29), date(2026, 2, 28))),
        # February of a leap year against the 29 days before it.
        (date(2028, 2, 1), date(2028, 2, 29), (date(2028, 1, 3), date(2028, 1, 31))),
        # One day: the day before, across a year's end.
        (date(2027, 1, 1), date(2027, 1, 1), (date(2026, 12, 31), date(2026, 12, 31))),
    ],
)
def test_the_previous_period_has_the_same_length_just_before(start, end, previous):
    query = SalesQuery(start, end)
    before = query.previous()
    assert (before.start, before.end) == previous
    assert before.days == query.days


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("today", (date(2026, 3, 31), date(2026, 3, 31))),
        ("7d", (date(2026, 3, 25), date(2026, 3, 31))),
        ("30d", (date(2026, 3, 2), date(2026, 3, 31))),
        ("90d", (date(2026, 1, 1), date(2026, 3, 31))),
        ("this_month", (date(2026, 3, 1), date(2026, 3, 31))),
        ("last_month", (date(2026, 2, 1), date(2026, 2, 28))),
        ("this_year", (date(2026, 1, 1), date(2026, 3, 31))),
    ],
)
def test_presets_end_today(preset, expected):
    assert preset_range(preset, on=date(2026, 3, 31)) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (Decimal("150"), Decimal("100"), Decimal("50.0")),
        (Decimal("50"), Decimal("100"), Decimal("-50.0")),
        (Decimal("10"), Decimal("0"), None),  # shown as "—"
        (0, 0, None),
        (1, 3, Decimal("-66.7")),
    ],
)
def test_change_in_percent(current, previous, expected):
    assert change_percent(current=current, previous=previous) == expected


def test_an_empty_period_has_no_rows_and_no_totals(march):
    empty = sales_breakdown(
        group_by=GroupBy.OFFER, query=SalesQuery(date(2025, 1, 1), date(2025, 1, 31))
    )
    assert empty.rows == [] and empty.totals == {}
    result = sales_performance(query=SalesQuery(date(2025, 1, 1), date(2025, 1, 31)))
    assert result.by_currency == []
    assert result.customers == {"new": (0, 0), "returning": (0, 0)}


def test_ranges_mixing_month_and_day_rows_count_each_sale_once(march):
    # 15 February to 15 March: day rows only at both ends, O5 + O1 + O2 + O3 inside.
    query = SalesQuery(date(2026, 2, 15), date(2026, 3, 15))
    assert {
        c: f.orders
        for c, f in sales_breakdown(group_by=GroupBy.CURRENCY, query=query).totals.items()
    } == {
        "EUR": 3,
        "USD": 1,
    }
    # The whole of February and March: month rows only.
    query = SalesQuery(date(2026, 2, 1), date(2026, 3, 31))
    assert sales_breakdown(group_by=GroupBy.CURRENCY, query=query).totals["EUR"].orders == 3
    # 2 March to 14 March: O1 and O2 only.
    query = SalesQuery(date(2026, 3, 2), date(2026, 3, 14))
    assert (
        sum(
            f.orders
            for f in sales_breakdown(group_by=GroupBy.CURRENCY, query=query).totals.values()
        )
        == 2
    )


def test_a_sale_counts_on_its_day_in_the_account_time_zone(march, settings):
    # O3 was placed at 23:30 UTC on 15 March: already the 16th in Warsaw (UTC+1).
    days = sales_breakdown(group_by=GroupBy.DAY, query=MARCH)
    assert ("2026-03-15", "EUR") in {(r.key, r.currency) for r in days.rows}
    settings.TIME_ZONE = "Europe/Warsaw"
    rebuild_rollups()
    days = sales_breakdown(group_by=GroupBy.DAY, query=MARCH)
    keys = {(r.key, r.currency) for r in days.rows}
    assert ("2026-03-16", "EUR") in keys and ("2026-03-15", "EUR") not in keys
    # And the drill-down of that day finds it between Warsaw's midnights.
    link = orders_filter(query=MARCH, group_by=GroupBy.DAY, ref="2026-03-16", currency="EUR")
    assert link["created_after"] == "2026-03-16" and link["created_before"] == "2026-03-17"


def _listed(api, params):
    response = api.get("orders", limit=500, **params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


@pytest.mark.parametrize(
    "group_by",
    # By campaign, creator and discount code the rows open their own pages instead.
    [g for g in GroupBy if g not in APP_MEASURE],
)
def test_each_rows_link_lists_exactly_its_orders(api, march, group_by):
    breakdown = sales_breakdown(group_by=group_by, query=MARCH)
    assert breakdown.rows
    for row in breakdown.rows:
        listed = _listed(api, row_filter(breakdown=breakdown, row=row))
        assert len(listed) == row.figures.orders, (group_by, row.key)
        if group_by not in (GroupBy.OFFER, GroupBy.CATEGORY, GroupBy.PAYMENT_SYSTEM):
            total = sum(Decimal(o["total"]) for o in listed)
            assert total == row.figures.gross, (group_by, row.key)


def test_totals_and_customer_figures_link_to_their_orders(api, march):
    result = sales_performance(query=MARCH)
    for comparison in result.by_currency:
        listed = _listed(api, orders_filter(query=MARCH, currency=comparison.currency))
        assert len(listed) == comparison.current.orders
        assert sum(Decimal(o["total"]) for o in listed) == comparison.current.gross
    new = _listed(api, first_sale_filter(query=MARCH, new=True))
    assert [o["number"] for o in new] == [march["o1"].number]
    returning = _listed(api, first_sale_filter(query=MARCH, new=False))
    assert {o["customer"]["id"] for o in returning} == {march["bea"].pk}


def test_unconfirmed_manager_rows_link_to_their_part(api, march):
    query = SalesQuery(MARCH.start, MARCH.end, include_unconfirmed=True)
    breakdown = sales_breakdown(group_by=GroupBy.SALES_MANAGER, query=query)
    for row in breakdown.rows:
        for confirmed, part in ((True, row.confirmed), (False, row.unconfirmed)):
            params = row_filter(breakdown=breakdown, row=row, confirmed=confirmed)
            assert len(_listed(api, params)) == part.orders, (row.key, confirmed)


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (Decimal("10.00"), [Decimal("39.80"), Decimal("50.00")], ["4.4320", "5.5680"]),
        (Decimal("1"), [Decimal(1)] * 3, ["0.3334", "0.3333", "0.3333"]),
        (Decimal("5"), [Decimal(0), Decimal(0)], ["2.5000", "2.5000"]),
        (Decimal("-0.0001"), [Decimal(1), Decimal(2)], ["0.0000", "-0.0001"]),
        (Decimal("7.5"), [Decimal("3.20")], ["7.5000"]),
        (Decimal("-0"), [Decimal(0)], ["0.0000"]),
    ],
)
def test_shares_add_up_exactly(amount, weights, expected):
    parts = allocate(amount, weights)
    assert [str(p) for p in parts] == expected
    assert sum(parts) == amount
