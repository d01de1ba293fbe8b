"""A staff list's toolbar: the count of what matches ("1–50 of 2,100", bounded), and every
filter in the URL as a chip whose × removes just it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ordersight.core import lists
from ordersight.orders.models import Order
from tests import factories

AT = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _orders(count: int, **fields) -> list[Order]:
    return [
        factories.OrderFactory(created_at=AT + timedelta(minutes=i), **fields) for i in range(count)
    ]


def _count(body: str) -> dict[str, str]:
    tag = re.search(r'<span data-testid="list-count"([^>]*)>([^<]*)</span>', body)
    assert tag, "no count on the page"
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', tag.group(1)))
    attrs["text"] = html.unescape(tag.group(2))
    return attrs


def _chips(body: str) -> list[dict[str, str]]:
    chips = []
    for item in re.finditer(r'<li class="filter-chip[^"]*"(.*?)</li>', body, re.S):
        text = item.group(1)
        name, value = re.search(r'data-name="([^"]*)" data-value="([^"]*)"', text).groups()
        remove = re.search(r'class="chip-remove" href="([^"]*)"', text).group(1)
        shown = re.sub(r"<[^>]+>", " ", text.split(">", 1)[1])
        chips.append(
            {
                "name": html.unescape(name),
                "value": html.unescape(value),
                "remove": parse_qs(html.unescape(remove).lstrip("?"), keep_blank_values=True),
                "text": " ".join(html.unescape(shown).split()),
            }
        )
    return chips


def test_the_count_is_exact_and_gives_the_position_of_the_page(admin_web):
    _orders(7)
    count = _count(admin_web.get("/orders/").content.decode())
    assert count == {"count": "7", "more": "false", "first": "1", "last": "7", "text": "1–7 of 7"}


def test_the_count_follows_the_filters(admin_web):
    _orders(3, status="cancelled")
    _orders(4)
    count = _count(admin_web.get("/orders/?status=cancelled").content.decode())
    assert (count["count"], count["text"]) == ("3", "1–3 of 3")
    assert _count(admin_web.get("/orders/?status=declined").content.decode())["text"] == (
        "No rows match"
    )


def test_past_the_bound_the_count_says_more_than(admin_web, monkeypatch):
    monkeypatch.setattr(lists, "COUNT_BOUND", 5)
    _orders(7)
    count = _count(admin_web.get("/orders/").content.decode())
    assert count["more"] == "true"
    assert count["text"] == "1–7 of more than 5"
    # Exactly at the bound it is still exact.
    Order.objects.order_by("-pk")[0].delete()
    Order.objects.order_by("-pk")[0].delete()
    assert _count(admin_web.get("/orders/").content.decode())["text"] == "1–5 of 5"


def test_the_count_is_one_query_that_stops_at_the_bound(admin_web, monkeypatch):
    monkeypatch.setattr(lists, "COUNT_BOUND", 5)
    _orders(7)
    with CaptureQueriesContext(connection) as captured:
        admin_web.get("/orders/?status=open")
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert re.search(r"LIMIT 6\b", counts[0]), counts[0]
    assert '"status"' in counts[0]  # the same filters as the rows


def test_the_next_page_knows_where_it_starts(admin_web):
    _orders(60)
    first = admin_web.get("/orders/").content.decode()
    assert _count(first)["text"] == "1–50 of 60"
    link = html.unescape(re.search(r'href="([^"]*)" data-testid="next-page"', first).group(1))
    assert "at=51" in link
    second = admin_web.get(f"/orders/{link}").content.decode()
    assert _count(second)["text"] == "51–60 of 60"
    # A cursor without its position: the page says how many it shows, of how many.
    cursor = parse_qs(link.lstrip("?"))["cursor"][0]
    pasted = admin_web.get(f"/orders/?cursor={cursor}").content.decode()
    assert _count(pasted)["text"] == "10 shown of 60"
    assert _count(pasted)["first"] == ""


LISTS = [
    "/orders/",
    "/orders/recurring/",
    "/payments/",
    "/customers/",
    "/promotions/codes/",
    "/promotions/redemptions/",
]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_shows_its_count(admin_web, path):
    assert _count(admin_web.get(path).content.decode())["count"] == "0"


def test_a_campaigns_orders_show_their_count(admin_web):
    from ordersight.campaigns import services as campaigns
    from ordersight.core.actors import Actor

    campaign = campaigns.create_campaign(
        name="Spring",
        starts_on=AT.date(),
        commission_kind="percent",
        commission_percent="10",
        actor=Actor.system(),
    )
    body = admin_web.get(f"/campaigns/{campaign.pk}/?status=paid&bogus=1").content.decode()
    assert _count(body)["count"] == "0"
    assert {c["name"] for c in _chips(body)} == {"status", "bogus"}


def test_every_filter_in_the_url_is_a_chip_the_panel_has_or_not(admin_web):
    query = (
        "status=open&status=draft&currency=EUR&created_after=2026-03-01"
        "&created_before=2026-04-01&customer_bought_before=2026-01-01&colour=red&sort=-total"
    )
    chips = _chips(admin_web.get(f"/orders/?{query}").content.decode())
    assert [(c["name"], c["value"]) for c in chips] == [
        ("status", "open"),
        ("status", "draft"),
        ("currency", "EUR"),
        ("created_after", "2026-03-01"),
        ("created_before", "2026-04-01"),
        ("customer_bought_before", "2026-01-01"),
        ("colour", "red"),
    ]
    texts = {c["value"]: c["text"] for c in chips}
    assert texts["open"] == "Status: Open"
    assert texts["2026-03-01"] == "Created at or after: 2026-03-01"
    assert texts["red"] == "colour: red"


def test_removing_a_chip_keeps_every_other_filter(admin_web):
    query = "status=open&status=draft&currency=EUR&created_after=2026-03-01&colour=red&sort=-total"
    chips = {
        (c["name"], c["value"]): c
        for c in _chips(admin_web.get(f"/orders/?{query}").content.decode())
    }
    assert chips[("status", "open")]["remove"] == {
        "status": ["draft"],
        "currency": ["EUR"],
        "created_after": ["2026-03-01"],
        "colour": ["red"],
        "sort": ["-total"],
    }
    assert "currency" not in chips[("currency", "EUR")]["remove"]
    assert chips[("currency", "EUR")]["remove"]["status"] == ["open", "draft"]


def test_a_date_preset_is_one_chip_and_removing_it_drops_its_range(admin_web):
    chips = _chips(admin_web.get("/orders/?preset=7d&currency=EUR").content.decode())
    assert [(c["name"], c["text"]) for c in chips] == [
        ("preset", "Date: Last 7 days"),
        ("currency", "Currency: EUR"),
    ]
    assert chips[0]["remove"] == {"currency": ["EUR"]}


def test_removing_the_last_bound_of_a_custom_range_drops_the_custom_range(admin_web):
    chips = _chips(
        admin_web.get("/orders/?preset=custom&created_after=2026-03-01").content.decode()
    )
    assert [c["name"] for c in chips] == ["created_after"]
    assert chips[0]["remove"] == {}


def test_page_position_and_empty_fields_are_not_chips(admin_web):
    body = admin_web.get("/orders/?cursor=&at=51&q=&status=&sort=number&view=3").content.decode()
    assert _chips(body) == []
    assert 'data-testid="filters-active"' not in body


def test_the_filters_button_says_how_many_apply_and_the_panel_stays_folded(admin_web):
    body = admin_web.get("/orders/?status=open&currency=EUR").content.decode()
    assert re.search(r'data-testid="filters-active">2<', body)
    panel = re.search(r'<form class="filter-panel([^"]*)"', body).group(1)
    assert "collapse" in panel and "show" not in panel
    assert 'data-testid="clear-all"' in body


def test_a_refused_filter_opens_the_panel_beside_its_error(admin_web):
    body = admin_web.get("/orders/?customer=abc").content.decode()
    assert re.search(r'<form class="filter-panel[^"]*\bshow\b', body)
    assert 'data-testid="filter-errors"' in body


def test_applying_the_panel_keeps_what_it_has_no_field_for(admin_web):
    body = admin_web.get("/orders/?status=open&status=draft&colour=red").content.decode()
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', body)
    assert ("status", "open") in hidden  # the select shows draft
    assert ("colour", "red") in hidden
    assert ("status", "draft") not in hidden
