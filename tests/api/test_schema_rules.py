"""The schema's rules read as the services' do: what a service strips to nothing, the
schema calls blank, whichever regular expression engine a client's validator runs."""

from __future__ import annotations

import sys

import jsonschema_rs
import pytest

from ordersight.http.schemas import VISIBLE

BLANKS = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]


def test_text_a_service_strips_to_nothing_is_blank_to_the_schema():
    # JSON Schema's \s (ECMA 262) leaves out U+001C to U+001F and U+0085, which str.strip()
    # removes: a name of U+001D passed a pattern of \S and was refused by the service.
    visible = jsonschema_rs.validator_for({"type": "string", "pattern": VISIBLE})
    assert [f"U+{ord(c):04X}" for c in BLANKS if visible.is_valid(c * 2)] == []
    assert visible.is_valid("\x1d Ada \x85")


@pytest.mark.parametrize("blank", ["\x1d", "\x85", "\u3000"])
def test_a_creator_named_with_blanks_is_refused_by_name(api, db, blank):
    r = api.post("creators", {"name": blank * 3, "handle": "anna"})
    assert r.status_code == 422, r.content
    assert "name" in r.json()["error"]["fields"]
