"""How amounts, moments and days read on a page.

Amounts follow the currency and the locale (Babel, from CLDR): `€26,694.88`, `¥1,200`,
`KWD 1.234`, with the currency's own decimals as `core.money` keeps them. Moments are shown in
the account's time zone (`core.zones`) with the zone named: `3 Dec 2026, 14:05 CET`.

Only pages read these: the CSV exports and the API keep `core.money.format_money` and ISO
8601, which are contracts.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, format_decimal, get_currency_symbol
from django.utils import translation

from ordersight.core.money import is_currency, minor_units, round_money
from ordersight.core.zones import account_zone

# What a cell shows where there is no amount or no moment.
NOTHING = "—"
# Keeps a currency code and its number on one line ("KWD 1.234").
NBSP = "\u00a0"


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(translation.to_locale(language))


def locale() -> Locale:
    """The locale of the language the page is drawn in (English until others are added)."""
    return _locale(translation.get_language() or "en-us")


@cache
def _pattern(where: Locale, places: int) -> NumberPattern:
    pattern = copy.copy(where.currency_formats["standard"])
    pattern.frac_prec = (places, places)
    return pattern


def money_text(amount: Decimal | int, currency: str) -> str:
    """An amount as people read it in its currency: symbol, grouping, the currency's decimals.

    A currency the project does not know (a stored value older than the check) shows its
    number as stored and its code after it, never failing the page."""
    where = locale()
    if not is_currency(currency):
        number = format_decimal(
            Decimal(amount), format="#,##0.##########", locale=where, decimal_quantization=False
        )
        return f"{number}{NBSP}{currency}"
    places = minor_units(currency)
    text = _pattern(where, places).apply(
        round_money(Decimal(amount), currency), where, currency=currency, currency_digits=False
    )
    symbol = get_currency_symbol(currency, where)
    if symbol[-1:].isalpha() and f"{symbol}{NBSP}" not in text:
        # CLDR's currency spacing: a code or a lettered symbol before the digits gets a space.
        text = text.replace(symbol, f"{symbol}{NBSP}", 1)
    return text


def moment_text(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment in the account's time zone, the zone named: `3 Dec 2026, 14:05 CET`."""
    if not isinstance(moment, datetime):
        return NOTHING
    local = moment.astimezone(account_zone())
    day = format_date(local.date(), "d MMM y", locale=locale())
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{day}, {clock} {local.tzname()}"


def day_text(value: date | datetime | None) -> str:
    """A calendar day (`3 Dec 2026`); a moment counts on the account's calendar."""
    if isinstance(value, datetime):
        value = value.astimezone(account_zone()).date()
    if not isinstance(value, date):
        return NOTHING
    return format_date(value, "d MMM y", locale=locale())
