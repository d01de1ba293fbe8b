"""Template helpers for the staff app: money, moments, icons, badges, sortable headers, query
strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.http import QueryDict
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.core.actors import Actor
from ordersight.orders.models import OrderStatus
from ordersight.orders.transitions import allowed_transitions, can_confirm
from ordersight.web.access import typed_fields
from ordersight.web.display import day_text, moment_text, money_text
from ordersight.web.filter_panel import Options

register = template.Library()


@register.filter
def json_data(value: Any, element_id: str) -> str:
    """Django's `json_script`, the same markup and escapes, made by three replacements:
    its `str.translate` looks every character up in a table, two milliseconds for a
    dashboard's chart."""
    text = (
        json.dumps(value, cls=DjangoJSONEncoder)
        .replace("<", "\\u003C")
        .replace(">", "\\u003E")
        .replace("&", "\\u0026")
    )
    return format_html(
        '<script id="{}" type="application/json">{}</script>', element_id, mark_safe(text)
    )


BADGE_STYLES = {
    "Open": "primary",
    "Completed": "success",
    "Declined": "danger",
    "Refund": "warning",
    "Cancelled": "secondary",
    "Draft": "info",
    "Fulfilled": "dark",
    "Active": "success",
    "Paused": "warning",
    "Processing": "info",
    "Failed": "danger",
    "Succeeded": "success",
    # Conversions: their live status and their approval.
    "Paid": "success",
    "Canceled": "secondary",
    "Refunded": "warning",
    "Pending": "info",
    "Approved": "success",
    "Rejected": "danger",
    # Discount redemptions.
    "Redeemed": "success",
    "Rolled back": "secondary",
}


# What a money cell shows when there is no amount: a figure not kept yet (a customer who
# never ordered has no figures row), a nullable column, an aggregate over no rows.
NO_AMOUNT = "—"


@register.filter
def money(amount: Any, currency: Any) -> str:
    """An amount as people read it (`€26,694.88`, `¥1,200`), or a dash where there is none.

    Templates resolve a missing attribute (`c.figures.last_order_amount` of a customer with
    no figures) to "", not None, so anything that is not a number reads as no amount."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        return NO_AMOUNT
    if not isinstance(currency, str) or not currency:
        return str(amount)
    return money_text(amount, currency)


@register.filter
def amounts(per_currency: Any) -> str:
    """Amounts in several currencies ({"EUR": "5.00", "USD": "6.00"} or (currency, amount)
    pairs) as separate items of a list, never run together and never added up."""
    if isinstance(per_currency, Mapping):
        pairs = list(per_currency.items())
    else:
        pairs = list(per_currency or [])
    if not pairs:
        return NO_AMOUNT
    items = []
    for currency, amount in pairs:
        try:
            shown = money(Decimal(str(amount)), currency)
        except (InvalidOperation, ValueError):
            shown = f"{amount} {currency}"
        items.append(format_html('<li class="list-inline-item">{}</li>', shown))
    return format_html('<ul class="list-inline amounts mb-0">{}</ul>', mark_safe("".join(items)))


@register.filter
def when(moment: Any) -> str:
    """A moment in the account's time zone with the zone named: `3 Dec 2026, 14:05 CET`, kept
    on one line; nothing where there is no moment (so `|default:"never"` still reads)."""
    return _time(moment, moment_text(moment)) if isinstance(moment, datetime) else ""


@register.filter
def interval(recurring: Any) -> str:
    """A recurring order's interval as people say it: `1 month`, `4 weeks`."""
    count, unit = recurring.interval_count, recurring.interval_unit
    phrases = {
        "day": ngettext("%(count)s day", "%(count)s days", count),
        "week": ngettext("%(count)s week", "%(count)s weeks", count),
        "month": ngettext("%(count)s month", "%(count)s months", count),
    }
    return phrases.get(unit, f"%(count)s {unit}") % {"count": count}


@register.filter
def when_exact(moment: Any) -> str:
    """As `when`, to the second (an activity log, a sync run)."""
    return _time(moment, moment_text(moment, seconds=True)) if isinstance(moment, datetime) else ""


def _time(moment: datetime, text: str) -> str:
    return format_html(
        '<time class="text-nowrap" datetime="{}">{}</time>', moment.isoformat(), text
    )


@register.filter
def day(value: Any) -> str:
    """A calendar day: `3 Dec 2026`."""
    return day_text(value) if isinstance(value, date) else ""


@cache
def _sprite_names() -> frozenset[str]:
    import re

    sprite = Path(__file__).resolve().parent.parent / "static" / "web" / "icons.svg"
    return frozenset(re.findall(r'<symbol id="([a-z0-9-]+)"', sprite.read_text()))


def icon(name: str, label: str = "", css: str = "") -> str:
    """An SVG icon from the sprite (Tabler Icons). Decorative unless given a label, which is
    then what a screen reader says."""
    if name not in _sprite_names():
        raise ValueError(f"No icon {name!r} in web/static/web/icons.svg (tools/icon_sprite.py)")
    if label:
        aria = format_html('role="img" aria-label="{}"', label)
    else:
        aria = mark_safe('aria-hidden="true" focusable="false"')
    return format_html(
        '<svg class="icon{}" {} width="24" height="24" fill="none" stroke="currentColor"'
        ' stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
        '<use href="{}#{}"></use></svg>',
        f" {css}" if css else "",
        aria,
        static("web/icons.svg"),
        name,
    )


register.simple_tag(icon, name="icon")


@register.simple_tag
def change_mark(
    change: Decimal | None, *, rise_is_good: bool, current: Any = None, previous: Any = None
) -> str:
    """A change on the period before: the arrow says which way the figure went, the colour
    whether that is good news for the business (more refunds is bad news). A rise from
    nothing has no percentage but is still a rise (refunds where there were none)."""
    if change is None:
        if _is_number(current) and _is_number(previous) and previous == 0 and current > 0:
            return format_html(
                '<span class="text-{}" data-tone="{}">▲ {}</span>',
                "success" if rise_is_good else "danger",
                "good" if rise_is_good else "bad",
                _("up"),
            )
        return mark_safe('<span class="text-secondary" data-tone="none">—</span>')
    if change == 0:
        return mark_safe('<span class="text-secondary" data-tone="flat">0.0%</span>')
    good = (change > 0) == rise_is_good
    return format_html(
        '<span class="text-{}" data-tone="{}">{} {}%</span>',
        "success" if good else "danger",
        "good" if good else "bad",
        "▲" if change > 0 else "▼",
        abs(change),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


@register.filter
def badge(order: Any) -> str:
    word = order.badge
    html = _BADGES.get(word)
    if html is None:  # a list shows the same few words on every row: each made once
        html = _BADGES[word] = format_html(
            '<span class="badge text-bg-{}" data-badge="{}">{}</span>',
            BADGE_STYLES.get(word, "secondary"),
            word,
            word,
        )
    return html


_BADGES: dict[str, str] = {}


@register.simple_tag
def row_url(name: str, number: int, *rest: Any) -> str:
    """`{% url name number … %}` for a URL whose first argument is a whole number (an
    order's, a customer's), as a list row links it: reversed once per name and fixed
    arguments (`rest`, such as an action), then filled in, since reversing costs more than
    the rest of a cell and a row has several links."""
    key = (name, *rest)
    try:
        before, after = _ROW_URLS[key]
    except KeyError:
        before, after = _ROW_URLS[key] = reverse(name, args=[_PLACEHOLDER, *rest]).split(
            str(_PLACEHOLDER)
        )
    return f"{before}{int(number)}{after}"


# A number no URL contains otherwise, reversed in its place.
_PLACEHOLDER = 918273645546372819
_ROW_URLS: dict[tuple[Any, ...], tuple[str, str]] = {}


@register.filter
def may_confirm(order: Any, user: Any) -> bool:
    """Whether this user is offered Confirm on this order (the service's own rule)."""
    return can_confirm(order, Actor(user=user))


@register.filter
def may_decline(order: Any, user: Any) -> bool:
    return OrderStatus.DECLINED in allowed_transitions(order, Actor(user=user))


@register.filter
def status_badge(status: str) -> str:
    html = _STATUS_BADGES.get(status)
    if html is None:  # as for `badge`: a few words, each made once
        html = _STATUS_BADGES[status] = format_html(
            '<span class="badge text-bg-{}">{}</span>',
            BADGE_STYLES.get(status, "secondary"),
            status.replace("_", " "),
        )
    return html


_STATUS_BADGES: dict[str, str] = {}


@register.filter
def invoice_status(invoice: Any) -> str:
    """An invoice's status in words: a voided one says Void and why, a failed one what the
    provider said (its code kept in the tooltip), never a bare code."""
    if invoice.is_void:
        return format_html(
            '<span class="badge text-bg-secondary" data-testid="void-{}">{}</span> '
            '<span class="small text-body-secondary">{}</span>',
            invoice.number,
            _("Void"),
            invoice.failure_message,
        )
    shown = status_badge(invoice.get_status_display())
    if not (invoice.failure_code or invoice.failure_message):
        return shown
    return format_html(
        '{} <span class="small text-danger" title="{}">{}</span>',
        shown,
        invoice.failure_code,
        invoice.failure_message or invoice.failure_code.replace("_", " "),
    )


@register.simple_tag(takes_context=True)
def typed(context: Any, form: str, field: str, default: Any = "") -> Any:
    """What was typed in `field` of `form` when the form was refused (see access.keep_typed),
    else `default`: the form shows again as the person left it."""
    request = context.get("request")
    if request is None:
        return default
    if not hasattr(request, "_typed_form"):
        request._typed_form = typed_fields(request)
    kept = request._typed_form
    if kept.get("form") != form:
        return default
    return kept["fields"].get(field, default)


@register.filter
def applied_filters(panel: Any) -> int:
    """How many of a filter panel's fields have a value."""
    return sum(1 for field in panel if field.value)


@register.filter
def role_names(user: Any) -> str:
    if user.is_superuser:
        return _("Owner")
    return ", ".join(g.name for g in user.groups.all())


@register.simple_tag(takes_context=True)
def query(context: Any, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes them)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_header(context: Any, key: str, label: str) -> str:
    """A column header that sorts by `key`, flipping direction when already sorted by it."""
    current = context["request"].GET.get("sort") or context.get("default_sort", "")
    if current == key:
        target, arrow = f"-{key}", "▲"
    elif current == f"-{key}":
        target, arrow = key, "▼"
    else:
        target, arrow = f"-{key}", ""
    href = query(context, sort=target, cursor=None)
    return format_html(
        '<a class="sort-link" href="{}" data-sort="{}">{} <span class="arrow">{}</span></a>',
        href,
        key,
        label,
        arrow,
    )


@register.filter
def facts(value: Any) -> list[tuple[str, str]]:
    """A JSON object (metadata) as key and value in words: nested keys joined with a dot,
    lists with commas, true and false as yes and no; never a dict on a page."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, item: Any) -> None:
        if isinstance(item, Mapping):
            if not item and prefix:
                rows.append((prefix, NO_AMOUNT))
            for key, inner in item.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(item, list | tuple):
            if all(not isinstance(i, Mapping | list | tuple) for i in item):
                rows.append((prefix, ", ".join(_fact(i) for i in item) or NO_AMOUNT))
            else:
                for index, inner in enumerate(item, start=1):
                    walk(f"{prefix}.{index}", inner)
        else:
            rows.append((prefix, _fact(item)))

    walk("", value if isinstance(value, Mapping) else {})
    return rows


def _fact(item: Any) -> str:
    if item is None:
        return NO_AMOUNT
    if isinstance(item, bool):
        return "yes" if item else "no"
    return str(item)


@register.filter
def pretty_json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key, "") if mapping else ""


@register.filter
def options(choices: Options | list[tuple[Any, str]], selected: Any) -> str:
    """`<option>`s of `choices` with `selected` marked (see filter_panel.Options)."""
    if not isinstance(choices, Options):
        choices = Options(choices)
    return choices.html(selected)
