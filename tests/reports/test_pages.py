"""The sales pages: the dashboard, the detailed report with its CSV, the sales history."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from urllib.parse import parse_qsl, urlparse

import pytest

from ordersight.customers.models import Customer
from ordersight.orders.pricing import LineInput
from ordersight.payments.services import record_manual_payment, refund_invoice
from ordersight.reports.definitions import APP_MEASURE, GroupBy
from tests import factories
from tests.reports.conftest import SYSTEM, _complete, _order

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ops")


def test_home_is_the_dashboard_with_figures_linked_to_their_orders(admin, march):
    response = admin.get(f"/?{MARCH}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="figures-EUR"' in html and 'data-testid="figures-USD"' in html
    assert "101.30" in html and "409.0%" in html  # EUR net and its change on February
    # The EUR sales figure links to exactly the EUR sales of March.
    link = re.search(r'href="([^"]+)" data-testid="figure-EUR-1"', html).group(1)
    params = dict(parse_qsl(urlparse(link.replace("&amp;", "&")).query))
    assert params == {
        "status": "completed",
        "created_after": "2026-03-01",
        "created_before": "2026-04-01",
        "currency": "EUR",
    }
    listed = admin.get("/orders/", params)
    assert listed.content.decode().count('data-badge="') == 2


def test_the_chart_has_a_series_per_currency_and_the_previous_period(admin, march):
    html = admin.get(f"/?{MARCH}").content.decode()
    data = re.search(r'<script id="revenue-data" type="application/json">(.*?)</script>', html)
    figure = json.loads(data.group(1))
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["EUR", "EUR, previous period", "USD"]
    eur = figure["data"][0]
    assert len(eur["x"]) == 31  # one point per day, empty days included
    day = eur["x"].index("2026-03-03")
    assert eur["y"][day] == pytest.approx(79.80)
    assert "created_after=2026-03-03" in eur["customdata"][day]


def _chart_by_plotly(result) -> dict:
    """The revenue chart built with Plotly's figure objects, as the page once built it."""
    from datetime import datetime, time, timedelta

    import plotly.graph_objects as go

    from ordersight.reports import selectors
    from ordersight.web.reports import orders_url

    query, previous = result.query, result.previous_query
    figure = go.Figure()
    offset = timedelta(days=query.days)
    for currency in sorted(set(result.series) | set(result.previous_series)):
        points = result.series.get(currency, [])
        figure.add_trace(
            go.Scatter(
                name=f"{currency}",
                x=[p.start.isoformat() for p in points],
                y=[float(p.net) for p in points],
                mode="lines+markers",
                customdata=[
                    orders_url(
                        selectors.orders_filter(
                            query=query, currency=currency, start=p.start, end=p.end
                        )
                    )
                    for p in points
                ],
                hovertemplate="%{x}: %{y:,.2f} " + currency + "<extra></extra>",
            )
        )
        earlier = result.previous_series.get(currency, [])
        if earlier:
            figure.add_trace(
                go.Scatter(
                    name=f"{currency}, previous period",
                    x=[(p.start + offset).isoformat() for p in earlier],
                    y=[float(p.net) for p in earlier],
                    mode="lines",
                    line={"dash": "dot"},
                    customdata=[
                        orders_url(
                            selectors.orders_filter(
                                query=previous, currency=currency, start=p.start, end=p.end
                            )
                        )
                        for p in earlier
                    ],
                    text=[p.start.isoformat() for p in earlier],
                    hovertemplate="%{text}: %{y:,.2f} " + currency + "<extra></extra>",
                )
            )
    step = "day" if query.days <= 90 else "week"
    figure.update_layout(
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        height=320,
        title={"text": f"Net revenue per {step}", "font": {"size": 14}},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
        xaxis={
            "type": "date",
            "range": [
                (datetime.combine(query.start, time()) - timedelta(hours=12)).isoformat(),
                (datetime.combine(query.end, time()) + timedelta(hours=12)).isoformat(),
            ],
        },
    )
    if query.days <= 14:
        figure.update_layout(xaxis={"dtick": 86_400_000.0, "tickformat": "%-d %b"})
    return json.loads(figure.to_json())


@pytest.mark.parametrize(
    "period", [MARCH, "from=2025-10-01&to=2026-03-31", "from=2026-03-02&to=2026-03-08"]
)
def test_the_chart_is_the_json_plotly_builds(admin, march, period):
    from django.http import QueryDict

    from ordersight.reports import selectors
    from ordersight.reports.params import read_report_params
    from ordersight.web.reports import _chart

    result = selectors.sales_performance(query=read_report_params(QueryDict(period))["query"])
    assert _chart(result) == _chart_by_plotly(result)


def test_filters_narrow_the_dashboard(admin, march):
    html = admin.get(f"/?{MARCH}&order_type=quote").content.decode()
    assert 'data-testid="figures-USD"' not in html
    assert "21.50" in html


def test_bad_range_is_shown_beside_the_field_not_a_crash(admin, march):
    response = admin.get("/?from=2026-03-31&to=2026-03-01")
    assert response.status_code == 200
    assert "must be on or after from" in response.content.decode()


@pytest.mark.parametrize("page", ["/", "/sales/report/?group_by=currency", "/sales/history/"])
def test_a_refused_range_keeps_what_was_typed_with_the_error_beside_it(admin, march, page):
    joiner = "&" if "?" in page else "?"
    html = admin.get(f"{page}{joiner}from=2026-03-31&to=2026-03-01&currency=USD").content.decode()
    assert '<option value="" selected>Custom range</option>' in html
    assert re.search(r'type="date" id="f-from" name="from" value="2026-03-31"\s*>', html)
    to = re.search(r'class="([^"]*)" type="date" id="f-to" name="to" value="2026-03-01"\s*>', html)
    assert "is-invalid" in to.group(1)
    after = html[to.end() :]
    assert after.lstrip().startswith('<div class="invalid-feedback">must be on or after from')
    # The currency chosen still applies (the form shows the query the figures are for).
    assert '<option value="USD" selected>' in html


@pytest.fixture
def refunds_up_then_down(shop):
    """One EUR sale a month, refunded 5.00 in January, 10.00 in February, 5.00 in March."""
    for day, refund in (("2026-01-10", "5.00"), ("2026-02-10", "10.00"), ("2026-03-10", "5.00")):
        order = _order([LineInput(sku="TEE-M")], None, f"{day}T10:00:00")
        invoice = record_manual_payment(order=order, payment_system=shop["cash"], actor=SYSTEM)
        _complete(order)
        refund_invoice(invoice=invoice, amount=Decimal(refund), actor=SYSTEM)


def _change(html: str, testid: str) -> tuple[str, str]:
    """The tone and text of a card's change mark."""
    found = re.search(rf'data-testid="{testid}">\s*<span[^>]*data-tone="(\w+)">([^<]*)<', html)
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    ("month", "refunds", "net"),
    [
        ("from=2026-02-01&to=2026-02-28", ("bad", "▲ 100.0%"), ("bad", "▼ 33.6%")),
        ("from=2026-03-01&to=2026-03-31", ("good", "▼ 50.0%"), ("good", "▲ 50.5%")),
        # December had no sales: refunds rise from nothing, still bad news.
        ("from=2026-01-01&to=2026-01-31", ("bad", "▲ up"), ("good", "▲ up")),
    ],
)
def test_the_colour_of_a_change_says_whether_it_is_good_news(
    admin, refunds_up_then_down, month, refunds, net
):
    html = admin.get(f"/?{month}").content.decode()
    assert _change(html, "change-EUR-4") == refunds  # Refunds: a rise is bad news
    assert _change(html, "change-EUR-2") == net  # Revenue (net): a rise is good news


def test_an_unknown_range_is_named_and_the_default_it_falls_back_to_is_shown(admin, march):
    html = admin.get("/?range=fortnight").content.decode()
    assert "range: Select a valid choice" in html
    assert '<option value="30d" selected>' in html


def test_live_refresh_returns_the_figures_alone(admin, march):
    response = admin.get(f"/?{MARCH}&partial=figures", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<nav" not in html and 'data-testid="figures-EUR"' in html


@pytest.mark.parametrize("group_by", [g.value for g in GroupBy if g not in APP_MEASURE])
def test_every_breakdown_renders_with_links_and_totals(admin, march, group_by):
    response = admin.get(f"/sales/report/?{MARCH}&group_by={group_by}&compare=true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="total-EUR"' in html and 'data-testid="total-USD"' in html
    assert 'data-testid="orders-link"' in html


def test_sales_manager_split_links_to_each_part(admin, march):
    html = admin.get(
        f"/sales/report/?{MARCH}&group_by=sales_manager&include_unconfirmed=true"
    ).content.decode()
    assert "sales_confirmed=false" in html and "sales_confirmed=true" in html


def test_page_export_takes_the_ticked_columns(admin, march):
    response = admin.get(
        f"/sales/report.csv?{MARCH}&group_by=offer&columns=label&columns=currency&columns=units"
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["label", "currency", "units"]
    assert ["Tee", "EUR", "3"] in rows


def test_a_stored_bidi_control_is_neutralised_in_the_report_export(admin, march):
    # Stored before input refused it; the export is written in Python, not by SQL.
    Customer.objects.filter(name="Ada").update(name="Ada\u202eecalevol")
    response = admin.get(f"/sales/report.csv?{MARCH}&group_by=customer&columns=label")
    body = b"".join(response.streaming_content).decode()
    assert "Ada\ufffdecalevol" in body and "\u202e" not in body


def test_page_export_refuses_bad_columns_in_plain_text(admin, march):
    response = admin.get(f"/sales/report.csv?{MARCH}&group_by=offer&columns=<script>")
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/plain")


def test_sales_history_lists_sales_with_type_source_and_quote_link(admin, march, settings):
    settings.STOREFRONT_QUOTE_URL = "https://shop.example/account/quotes/{number}"
    html = admin.get(f"/sales/history/?{MARCH}").content.decode()
    for key in ("o1", "o2", "o3"):
        assert f"#{march[key].number}" in html
    assert f"#{march['o5'].number}" not in html  # February
    assert "Quote" in html and "Storefront" in html
    assert f"https://shop.example/account/quotes/{march['o3'].number}" in html
    assert html.count('data-testid="quote-link"') == 1


def test_without_the_permission_home_is_all_orders(roles, march):
    client = factories.signed_in(roles, None, "nobody")
    assert client.get("/").status_code == 302
    assert client.get(f"/sales/report/?{MARCH}").status_code == 403
