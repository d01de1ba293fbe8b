"""Money helpers: ISO 4217 minor units and the one half-even rounding rule."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordersight.core.money import (
    MINOR_UNITS,
    UnknownCurrency,
    fits_currency,
    format_money,
    minor_units,
    round_money,
)


@pytest.mark.parametrize(("code", "units"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4)])
def test_minor_units(code, units):
    assert minor_units(code) == units


def test_unknown_currency():
    with pytest.raises(UnknownCurrency):
        minor_units("XYZ")


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        ("2.345", "EUR", "2.34"),
        ("2.355", "EUR", "2.36"),
        ("0.5", "JPY", "0"),
        ("1.5", "JPY", "2"),
        ("1.0005", "KWD", "1.000"),
        ("-2.345", "EUR", "-2.34"),
    ],
)
def test_rounding_is_half_even(amount, code, expected):
    assert str(round_money(Decimal(amount), code)) == expected


def test_format_pads_to_the_minor_unit():
    assert format_money(Decimal("12.5"), "EUR") == "12.50"
    assert format_money(Decimal("12.0000"), "JPY") == "12"


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6),
    st.sampled_from(sorted(MINOR_UNITS)),
)
def test_rounded_amounts_fit_and_stay_within_half_a_unit(amount, code):
    rounded = round_money(amount, code)
    assert fits_currency(rounded, code)
    assert abs(rounded - amount) <= Decimal(1).scaleb(-minor_units(code)) / 2
    assert round_money(rounded, code) == rounded
