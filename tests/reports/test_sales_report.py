"""The detailed report and the dashboard against a hand-made month with known answers
(the `march` fixture in conftest).

March 2026 (UTC): O1 EUR 89.80 (two tees + a workshop, two categories) paid through the bank
(fee 1.35), 10.00 refunded, confirmed to manager Mia; O2 USD course 300.00, 100.00 paid
(fee 0.30) and confirmed as a sale, attributed to Max unconfirmed; O3 EUR 21.50 quote from
the storefront, paid in cash, no manager. O4 completed then cancelled and O6 left open do
not count. In February, O5 (EUR 19.90) was Bea's first sale, so in March Ada is new and Bea
returning.
"""

from __future__ import annotations

import csv
import io

import pytest

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _report(api, group_by, **params):
    response = api.get("reports/sales", group_by=group_by, **{**MARCH, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _rows(body):
    return {(r["key"], r["currency"]): r for r in body["rows"]}


def _money(row):
    return {
        k: row[k]
        for k in ("orders", "units", "gross", "refunds", "net", "fees", "funds_credited", "average")
    }


def test_totals_per_currency_subtract_refunds_once(api, march):
    body = _report(api, "currency")
    totals = {t["currency"]: _money(t) for t in body["totals"]}
    assert totals == {
        "EUR": {
            "orders": 2,
            "units": 4,
            "gross": "111.30",
            "refunds": "10.00",
            "net": "101.30",
            "fees": "1.35",
            "funds_credited": "109.95",
            "average": "50.65",
        },
        "USD": {
            "orders": 1,
            "units": 1,
            "gross": "300.00",
            "refunds": "0.00",
            "net": "300.00",
            "fees": "0.30",
            "funds_credited": "99.70",
            "average": "300.00",
        },
    }
    assert {k: _money(r) for k, r in _rows(body).items()} == {
        ("EUR", "EUR"): totals["EUR"],
        ("USD", "USD"): totals["USD"],
    }


def test_by_category_counts_an_order_once_in_each_of_its_categories(api, march):
    rows = _rows(_report(api, "category"))
    assert set(rows) == {("10", "EUR"), ("20", "EUR"), ("20", "USD")}
    shirts, courses_eur = rows[("10", "EUR")], rows[("20", "EUR")]
    assert (shirts["label"], shirts["orders"], shirts["units"], shirts["gross"]) == (
        "Shirts",
        2,
        3,
        "61.30",
    )
    # O1's 10.00 refund is shared 39.80 : 50.00 between its categories, exactly.
    assert (shirts["refunds"], courses_eur["refunds"]) == ("4.43", "5.57")
    assert (courses_eur["orders"], courses_eur["units"], courses_eur["gross"]) == (1, 1, "50.00")
    assert rows[("20", "USD")]["gross"] == "300.00"


def test_by_offer(api, march):
    rows = _rows(_report(api, "offer"))
    assert {k: (r["label"], r["orders"], r["units"], r["gross"]) for k, r in rows.items()} == {
        ("101", "EUR"): ("Tee", 2, 3, "61.30"),
        ("202", "EUR"): ("Workshop", 1, 1, "50.00"),
        ("201", "USD"): ("Django course", 1, 1, "300.00"),
    }


def test_by_sales_manager_counts_confirmed_attributions_unless_asked(api, march):
    rows = _rows(_report(api, "sales_manager"))
    assert list(rows) == [("mia", "EUR")]
    assert (rows[("mia", "EUR")]["label"], rows[("mia", "EUR")]["net"]) == ("Mia Rossi", "79.80")

    rows = _rows(_report(api, "sales_manager", include_unconfirmed="true"))
    assert set(rows) == {("mia", "EUR"), ("max", "USD"), ("system", "EUR")}
    assert rows[("mia", "EUR")]["confirmed"]["orders"] == 1
    assert rows[("mia", "EUR")]["unconfirmed"]["orders"] == 0
    assert rows[("max", "USD")]["unconfirmed"]["net"] == "300.00"
    assert rows[("system", "EUR")]["unconfirmed"]["gross"] == "21.50"


def test_by_payment_system_shows_what_each_captured(api, march):
    rows = _rows(_report(api, "payment_system"))
    figures = {
        k: (r["orders"], r["gross"], r["refunds"], r["fees"], r["funds_credited"])
        for k, r in rows.items()
    }
    assert figures == {
        ("bank", "EUR"): (1, "89.80", "10.00", "1.35", "88.45"),
        ("bank", "USD"): (1, "100.00", "0.00", "0.30", "99.70"),
        ("cash", "EUR"): (1, "21.50", "0.00", "0.00", "21.50"),
    }


def test_by_customer_source_type_day_and_month(api, march):
    customers = _rows(_report(api, "customer"))
    bea = str(march["bea"].pk)
    assert set(customers) == {("ADA-1", "EUR"), ("ADA-1", "USD"), (bea, "EUR")}
    assert customers[(bea, "EUR")]["label"] == "Bea"
    assert set(_rows(_report(api, "source"))) == {
        ("api", "EUR"),
        ("storefront", "EUR"),
        ("api", "USD"),
    }
    types = _rows(_report(api, "order_type"))
    assert types[("quote", "EUR")]["gross"] == "21.50"
    days = _report(api, "day")
    assert [(r["key"], r["currency"]) for r in days["rows"]] == [
        ("2026-03-03", "EUR"),
        ("2026-03-10", "USD"),
        ("2026-03-15", "EUR"),
    ]
    months = _rows(_report(api, "month"))
    assert {k: r["orders"] for k, r in months.items()} == {
        ("2026-03", "EUR"): 2,
        ("2026-03", "USD"): 1,
    }


def test_filters_narrow_rows_and_totals(api, march):
    body = _report(api, "category", currency="EUR", order_type="quote")
    assert [(r["key"], r["gross"]) for r in body["rows"]] == [("10", "21.50")]
    assert [(t["currency"], t["gross"]) for t in body["totals"]] == [("EUR", "21.50")]
    body = _report(api, "day", source="storefront")
    assert [r["key"] for r in body["rows"]] == ["2026-03-15"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("net", ["202", "101", "201"]),
        ("-net", ["201", "101", "202"]),
        ("-units", ["101", "202", "201"]),  # a tie keeps currency order: EUR, then USD
        ("label", ["201", "101", "202"]),
        ("key", ["101", "201", "202"]),
    ],
)
def test_every_column_sorts(api, march, sort, expected):
    body = _report(api, "offer", sort=sort)
    assert [r["key"] for r in body["rows"]] == expected


def test_limit_keeps_the_top_rows_and_all_totals(api, march):
    body = _report(api, "offer", sort="-gross", limit=1)
    assert [r["key"] for r in body["rows"]] == ["201"]
    assert len(body["totals"]) == 2


def test_previous_period_beside_each_row(api, march):
    body = _report(api, "currency", compare="true")
    eur = _rows(body)[("EUR", "EUR")]
    # March has 31 days: the previous period is 29 January to 28 February (O5 only).
    assert eur["previous"]["orders"] == 1 and eur["previous"]["gross"] == "19.90"
    assert eur["change"]["orders"] == "100.0"
    usd = _rows(body)[("USD", "USD")]
    assert usd["previous"] is None and usd["change"]["net"] is None


def test_performance_compares_with_the_previous_period(api, march):
    response = api.get("reports/performance", **MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["previous_from"], body["previous_to"]) == ("2026-01-29", "2026-02-28")
    eur = next(c for c in body["currencies"] if c["currency"] == "EUR")
    assert eur["current"]["net"] == "101.30" and eur["previous"]["net"] == "19.90"
    # (101.30 − 19.90) / 19.90 = 409.0 %
    assert eur["change"]["net"] == "409.0"
    usd = next(c for c in body["currencies"] if c["currency"] == "USD")
    assert usd["previous"]["orders"] == 0 and usd["change"]["orders"] is None
    assert body["new_customers"] == {"current": 1, "previous": 1, "change": "0.0"}
    assert body["returning_customers"]["current"] == 1


def test_csv_has_the_chosen_columns_and_totals_at_the_bottom(api, march):
    response = api.get(
        "reports/sales.csv", group_by="category", columns="key,label,currency,net", **MARCH
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["key", "label", "currency", "net"]
    assert ["10", "Shirts", "EUR", "56.87"] in rows
    assert rows[-2:] == [
        ["total", "Total, refunds subtracted", "EUR", "101.30"],
        ["total", "Total, refunds subtracted", "USD", "300.00"],
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "planet"}, "group_by"),
        ({"group_by": "offer", "from": "2026-13-01", "to": "2026-03-31"}, "from"),
        ({"group_by": "offer", "from": "2026-03-31", "to": "2026-03-01"}, "to"),
        ({"group_by": "offer", "from": "2026-03-01"}, "to"),
        ({"group_by": "offer", "from": "2000-01-01", "to": "2026-03-01"}, "to"),
        ({"group_by": "offer", "sort": "-colour"}, "sort"),
        ({"group_by": "offer", "limit": "0"}, "limit"),
        ({"group_by": "offer", "currency": "EURO"}, "currency"),
        ({"group_by": "offer", "columns": "key,secret"}, "columns"),
        ({"group_by": "offer", "colour": "red"}, "colour"),
        ({}, "group_by"),
    ],
)
def test_bad_parameters_are_refused_by_name(api, db, params, field):
    response = api.get("reports/sales", **params)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "sort", ["net", "-net", "orders", "-units", "gross", "-refunds", "fees", "-average"]
)
@pytest.mark.parametrize("group_by", ["offer", "category", "customer", "payment_system"])
def test_a_limited_report_is_the_top_of_the_whole_one(api, march, sort, group_by):
    whole = [(r["key"], r["currency"]) for r in _report(api, group_by, sort=sort)["rows"]]
    for limit in (1, 2):
        top = _report(api, group_by, sort=sort, limit=limit)["rows"]
        assert [(r["key"], r["currency"]) for r in top] == whole[:limit]
