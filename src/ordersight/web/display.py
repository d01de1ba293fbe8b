"""How amounts, moments and days read on a page.

Amounts follow the currency and the locale (Babel, from CLDR): `€26,694.88`, `¥1,200`,
`KWD 1.234`, with the currency's own decimals as `core.money` keeps them. Moments are shown in
the account's time zone (`core.zones`) with the zone named: `3 Dec 2026, 14:05 CET`.

Only pages read these: the CSV exports and the API keep `core.money.format_money` and ISO
8601, which are contracts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    NumberPattern,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)
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
    return _money_writer(translation.get_language() or "en-us", currency)(amount)


@lru_cache(maxsize=1024)
def _money_writer(language: str, currency: str) -> Callable[[Decimal | int], str]:
    # Made once per language and currency: a campaign's tab shows some 400 amounts, and
    # finding the locale, the currency's decimals and its pattern for each was half the work.
    where = _locale(language)
    if not is_currency(currency):

        def unknown(amount: Decimal | int) -> str:
            number = format_decimal(
                Decimal(amount), format="#,##0.##########", locale=where, decimal_quantization=False
            )
            return f"{number}{NBSP}{currency}"

        return unknown
    places = minor_units(currency)
    quick = _quick_format(where, currency, places)

    def known(amount: Decimal | int) -> str:
        value = round_money(Decimal(amount), currency)
        return quick(value) if quick is not None else _cldr_text(value, where, currency, places)

    return known


def _cldr_text(value: Decimal, where: Locale, currency: str, places: int) -> str:
    text = _pattern(where, places).apply(value, where, currency=currency, currency_digits=False)
    symbol = get_currency_symbol(currency, where)
    end = text.find(symbol) + len(symbol)
    if symbol[-1:].isalpha() and text[end : end + 1].isdigit():
        # CLDR's currency spacing: a code or a lettered symbol before the digits gets a space.
        text = f"{text[:end]}{NBSP}{text[end:]}"
    return text


# Amounts that show every part of a pattern: signs, grouping, decimals, zero, large numbers.
_SAMPLES = ("0", "1", "-1", "0.5", "-0.05", "999.99", "1000", "-1234567.891", "98765432109.87")


@cache
def _quick_format(where: Locale, currency: str, places: int) -> Callable[[Decimal], str] | None:
    """The locale's pattern for `currency` as plain string work, for the common patterns
    (groups of three, the sign before or after): Babel's general `apply` took a sixth of a
    list page. It is checked against Babel on amounts of every shape before it is used;
    any other pattern, or a difference, leaves the amount to Babel."""
    pattern = _pattern(where, places)
    if pattern.grouping != (3, 3) or pattern.scale or pattern.exp_prec:
        return None
    symbol = get_currency_symbol(currency, where)
    minus = get_minus_sign_symbol(where)
    prefixes, suffixes = (
        tuple(part.replace("¤", symbol).replace("-", minus) for part in pair)
        for pair in (pattern.prefix, pattern.suffix)
    )
    if symbol[-1:].isalpha():
        # CLDR's currency spacing, as `_cldr_text` adds it.
        prefixes = tuple(p + NBSP if p.endswith(symbol) else p for p in prefixes)
    separators = str.maketrans({",": get_group_symbol(where), ".": get_decimal_symbol(where)})

    def quick(value: Decimal) -> str:
        digits = f"{abs(value):,.{places}f}".translate(separators)
        sign = 1 if value.is_signed() else 0  # as Babel: a rounded -0.004 reads -€0.00
        return f"{prefixes[sign]}{digits}{suffixes[sign]}"

    for sample in _SAMPLES:
        value = round_money(Decimal(sample), currency)
        if quick(value) != _cldr_text(value, where, currency, places):
            return None
    return quick


def moment_text(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment in the account's time zone, the zone named: `3 Dec 2026, 14:05 CET`."""
    if not isinstance(moment, datetime):
        return NOTHING
    local = moment.astimezone(account_zone())
    day = _day(local.date(), locale())
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{day}, {clock} {local.tzname()}"


def day_text(value: date | datetime | None) -> str:
    """A calendar day (`3 Dec 2026`); a moment counts on the account's calendar."""
    if isinstance(value, datetime):
        value = value.astimezone(account_zone()).date()
    if not isinstance(value, date):
        return NOTHING
    return _day(value, locale())


@lru_cache(maxsize=4096)
def _day(day: date, where: Locale) -> str:
    # A page of rows shows a few days many times; Babel formats each day once.
    return format_date(day, "d MMM y", locale=where)
