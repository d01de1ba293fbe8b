"""Money and time as people read them: per currency (Babel), in the account's zone with the
zone named; and the template helpers built on them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from ordersight.web.display import day_text, moment_text, money_text
from ordersight.web.templatetags.web import facts, icon

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("26694.88"), "EUR", "€26,694.88"),
        (Decimal("300"), "USD", "$300.00"),
        (Decimal("1200"), "JPY", "¥1,200"),
        (Decimal("4"), "GBP", "£4.00"),
        (Decimal("-5.5"), "GBP", "-£5.50"),
        (Decimal("1.2345"), "KWD", f"KWD{NBSP}1.234"),  # three decimals, half-even
        (Decimal("12.5"), "JPY", "¥12"),  # half-even: the currency's own rounding
        (Decimal("7"), "CHF", f"CHF{NBSP}7.00"),
        (0, "EUR", "€0.00"),
    ],
)
def test_an_amount_reads_in_its_currency(amount, currency, shown):
    assert money_text(amount, currency) == shown


@pytest.mark.parametrize("language", ["en-us", "en-gb", "uk", "ru", "de", "fr", "ja"])
def test_the_quick_formatting_of_amounts_is_babels_for_every_currency(language):
    import random

    from babel import Locale

    from ordersight.core.money import CURRENCY_CODES, minor_units, round_money
    from ordersight.web.display import _cldr_text, _quick_format

    where = Locale.parse(translation.to_locale(language))
    rng = random.Random(language)
    for currency in sorted(CURRENCY_CODES):
        places = minor_units(currency)
        quick = _quick_format(where, currency, places)
        assert quick is not None, currency  # these locales' patterns all take the quick path
        for _ in range(50):
            raw = Decimal(rng.randint(-(10**12), 10**12)) / Decimal(10 ** rng.randint(0, 5))
            value = round_money(raw, currency)
            assert quick(value) == _cldr_text(value, where, currency, places), (currency, value)


def test_a_pattern_the_quick_path_does_not_know_is_left_to_babel():
    from babel import Locale

    from ordersight.web.display import _quick_format

    # Indian grouping (12,34,567.89) is not groups of three.
    assert _quick_format(Locale.parse("hi_IN"), "INR", 2) is None
    with translation.override("hi"):
        assert money_text(Decimal("1234567.891"), "INR") == "₹12,34,567.89"


@pytest.mark.parametrize(
    ("language", "currency", "shown"),
    [
        ("uk", "UAH", f"1{NBSP}200,00{NBSP}₴"),
        ("uk", "AED", f"1{NBSP}200,00{NBSP}AED"),  # a code after the digits, no space after it
        ("de", "EUR", f"-26.694,88{NBSP}€"),
    ],
)
def test_amounts_after_their_number_read_as_the_locale_writes_them(language, currency, shown):
    amount = Decimal("-26694.88") if currency == "EUR" else Decimal("1200")
    with translation.override(language):
        assert money_text(amount, currency) == shown


def test_an_unknown_currency_shows_the_number_as_stored_and_its_code():
    assert money_text(Decimal("1234.5"), "XYZ") == f"1,234.5{NBSP}XYZ"


def test_the_money_filter_never_runs_currencies_together():
    rendered = Template("{% load web %}{{ per|amounts }}").render(
        Context({"per": {"EUR": "5.00", "USD": "6.00", "GBP": "4.00"}})
    )
    assert rendered.count("<li") == 3
    assert "€5.00</li>" in rendered and "$6.00</li>" in rendered and "£4.00</li>" in rendered
    assert "EUR6" not in rendered and "5.00 EUR" not in rendered
    empty = Template("{% load web %}{{ per|amounts }}").render(Context({"per": {}}))
    assert empty == "—"


@pytest.mark.parametrize(
    ("zone", "moment", "shown"),
    [
        ("Europe/Berlin", datetime(2026, 12, 3, 13, 5, tzinfo=UTC), "3 Dec 2026, 14:05 CET"),
        ("Europe/Berlin", datetime(2026, 7, 3, 13, 5, tzinfo=UTC), "3 Jul 2026, 15:05 CEST"),
        ("UTC", datetime(2026, 12, 3, 13, 5, tzinfo=UTC), "3 Dec 2026, 13:05 UTC"),
        ("America/New_York", datetime(2026, 1, 1, 3, 0, tzinfo=UTC), "31 Dec 2025, 22:00 EST"),
    ],
)
def test_a_moment_reads_in_the_accounts_zone_with_the_zone_named(settings, zone, moment, shown):
    settings.TIME_ZONE = zone
    assert moment_text(moment) == shown


def test_a_moment_to_the_second_and_a_day(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    late = datetime(2026, 12, 31, 23, 30, 15, tzinfo=UTC)
    assert moment_text(late, seconds=True) == "1 Jan 2027, 00:30:15 CET"
    assert day_text(late) == "1 Jan 2027"  # the account's calendar day
    assert day_text(date(2026, 3, 9)) == "9 Mar 2026"
    assert moment_text(None) == "—" and day_text(None) == "—"


def test_the_when_filter_keeps_a_moment_on_one_line_and_nothing_reads_as_default(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    template = Template('{% load web %}{{ at|when }}|{{ none|when|default:"never" }}')
    rendered = template.render(
        Context({"at": datetime(2026, 12, 3, 13, 5, tzinfo=UTC), "none": None})
    )
    assert rendered == (
        '<time class="text-nowrap" datetime="2026-12-03T13:05:00+00:00">'
        "3 Dec 2026, 14:05 CET</time>|never"
    )


def test_month_names_follow_the_pages_language():
    with translation.override("de"):
        assert day_text(date(2026, 3, 9)) == "9 März 2026"
    with translation.override("en"):
        assert day_text(date(2026, 3, 9)) == "9 Mar 2026"


def test_metadata_reads_as_keys_and_words():
    assert facts({"gift": True, "channel": "phone", "tags": ["a", "b"], "box": {"w": 2}}) == [
        ("gift", "yes"),
        ("channel", "phone"),
        ("tags", "a, b"),
        ("box.w", "2"),
    ]
    assert facts({}) == [] and facts("not an object") == []


def test_an_icon_comes_from_the_sprite_and_an_unknown_one_fails_loudly():
    drawn = icon("receipt")
    assert 'aria-hidden="true"' in drawn and "icons.svg#receipt" in drawn
    assert 'role="img" aria-label="Orders"' in icon("receipt", label="Orders")
    with pytest.raises(ValueError, match="No icon 'no-such-icon'"):
        icon("no-such-icon")


@pytest.mark.parametrize(
    ("count", "unit", "said"),
    [
        (1, "month", "1 month"),
        (3, "month", "3 months"),
        (1, "week", "1 week"),
        (14, "day", "14 days"),
    ],
)
def test_a_recurring_interval_reads_as_people_say_it(count, unit, said):
    from types import SimpleNamespace

    from ordersight.web.templatetags.web import interval

    assert interval(SimpleNamespace(interval_count=count, interval_unit=unit)) == said
