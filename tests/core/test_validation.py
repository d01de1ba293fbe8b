"""Numbers as forms and URLs send them: the digits 0-9 only, and never so many that int()
refuses them (a 500) or no column could hold them."""

from __future__ import annotations

import pytest

from ordersight.core.validation import ascii_int


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("101", 101),
        ("007", 7),
        ("9" * 18, 10**18 - 1),
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.0", None),
        ("²", None),  # isdigit() says yes; int() refuses it
        ("١٠١", None),  # Arabic-Indic digits: isdecimal() says yes, int() reads 101
        ("１０１", None),  # full-width digits
        ("9" * 19, None),
        ("9" * 5000, None),  # int() refuses more than 4,300 digits
    ],
)
def test_only_the_digits_0_to_9_make_a_number(text, number):
    assert ascii_int(text) == number
