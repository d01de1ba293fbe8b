"""Money helpers: ISO 4217 minor units, the one half-even rounding rule, and sharing."""

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordersight.core.money import (
    MINOR_UNITS,
    UnknownCurrency,
    allocate,
    fits_currency,
    format_money,
    minor_units,
    quantum,
    round_down_money,
    round_money,
    share_money,
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


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [("2.349", "EUR", "2.34"), ("1.9", "JPY", "1"), ("-2.349", "EUR", "-2.34")],
)
def test_rounding_down_cuts_to_the_minor_unit_towards_zero(amount, code, expected):
    assert str(round_down_money(Decimal(amount), code)) == expected


def test_sharing_gives_the_left_over_minor_units_to_the_first_part():
    equal = [Decimal(1)] * 3
    assert share_money(Decimal("100.00"), equal, "EUR") == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    weights = [Decimal("100.00"), Decimal("200.00")]
    assert share_money(Decimal("269.91"), weights, "EUR") == [Decimal("89.97"), Decimal("179.94")]
    assert share_money(Decimal("10"), weights, "JPY") == [Decimal("4"), Decimal("6")]


@pytest.mark.parametrize(
    ("amount", "weights"), [("-1.00", ["1"]), ("1.00", ["-1", "2"]), ("1.00", ["0"]), ("1", [])]
)
def test_sharing_refuses_negative_amounts_and_weights_and_nothing_to_share_by(amount, weights):
    with pytest.raises(ValueError):
        share_money(Decimal(amount), [Decimal(w) for w in weights], "EUR")


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(
        st.decimals(min_value=0, max_value=10**6, allow_nan=False, places=4), min_size=1
    ).filter(lambda weights: sum(weights) > 0),
    st.sampled_from(sorted(MINOR_UNITS)),
)
def test_shares_sum_exactly_never_go_negative_and_fit_the_currency(units, weights, code):
    amount = units * quantum(code)
    shares = share_money(amount, weights, code)
    assert len(shares) == len(weights)
    assert sum(shares) == amount
    assert all(share >= 0 and fits_currency(share, code) for share in shares)


@settings(max_examples=300, deadline=None)
@given(
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    units=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8),
    fraction=st.fractions(min_value=0, max_value=1),
)
def test_allocating_over_lines_adds_up_and_never_takes_more_than_a_line(currency, units, fraction):
    """What a discount shares over an order's lines (line totals in whole minor units, the
    discount at most their sum): the parts add up to it exactly, no part exceeds its line,
    and each is at most one minor unit from its exact share (a leftover step goes to the
    largest line, whose share may have been exact: 0.02 over 0.02, 0.01 and 0.01 is 0.02,
    0 and 0)."""
    step = quantum(currency)
    totals = [Decimal(u) * step for u in units]
    whole = sum(totals)
    amount = (whole * Decimal(fraction.numerator) / Decimal(fraction.denominator)).quantize(
        step, ROUND_DOWN
    )
    parts = allocate(amount, totals, step=step)
    assert sum(parts) == amount
    for part, total in zip(parts, totals, strict=True):
        assert part % step == 0
        assert 0 <= part <= total
        assert abs(part - amount * total / whole) <= step


def test_an_amount_not_in_whole_steps_is_refused_rather_than_shared_forever():
    with pytest.raises(ValueError, match="whole number"):
        allocate(Decimal("1.005"), [Decimal(1), Decimal(1)], step=Decimal("0.01"))
