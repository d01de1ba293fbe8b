"""The template helpers a list's rows use in place of slower template code give the same
HTML: links as `{% url %}` reverses them, options as the loops wrote them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.html import json_script

from ordersight.web.filter_panel import Options
from ordersight.web.templatetags.web import json_data, row_url


@pytest.mark.parametrize(
    "name", ["web:order", "web:order_invoices", "web:order_attribution", "web:customer"]
)
@pytest.mark.parametrize("number", [1, 7, 10_000_123])
def test_a_row_link_is_the_url_reverse_gives(name, number):
    assert row_url(name, number) == reverse(name, args=[number])


@pytest.mark.parametrize("action", ["reject", "undo"])
@pytest.mark.parametrize("number", [1, 7, 10_000_123])
def test_a_row_link_with_a_fixed_argument_is_the_url_reverse_gives(action, number):
    name = "web:conversion_approval"
    assert row_url(name, number, action) == reverse(name, args=[number, action])


def test_options_mark_the_selected_value_and_escape_labels():
    choices = Options([("system", "System"), (3, "<b>ann</b>"), (12, "bo & co")])
    html = choices.html(12)
    assert html == (
        '<option value="system">System</option>'
        '<option value="3">&lt;b&gt;ann&lt;/b&gt;</option>'
        '<option value="12" selected>bo &amp; co</option>'
    )
    assert choices.html(None).count(" selected") == 0
    assert choices.html("3").count(" selected") == 1
    assert (
        Options([("system", "S"), (1, "A")], none_selects="system")
        .html(None)
        .startswith('<option value="system" selected>')
    )


def test_the_options_filter_renders_a_plain_list_too():
    rendered = Template("{% load web %}{{ choices|options:picked }}").render(
        Context({"choices": [("a", "A"), ("b", "B")], "picked": "b"})
    )
    assert rendered == '<option value="a">A</option><option value="b" selected>B</option>'


@pytest.mark.parametrize(
    "value",
    [
        {"name": "</script><script>alert(1)</script>", "amp": "a & b", "more": "x > y"},
        [1, 2.5, None, True, "ünïcode", "'quotes\""],
        {"day": date(2026, 1, 2), "amount": Decimal("10.50")},
        "",
    ],
)
def test_json_data_writes_what_json_script_writes(value):
    """The chart's data element: exactly Django's `json_script`, escapes included."""
    assert json_data(value, "chart-data") == json_script(value, "chart-data")
    assert "</script><script>" not in json_data(value, "chart-data")[:-9]
