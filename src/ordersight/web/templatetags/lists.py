"""Template helpers for staff lists: the count line ("1–50 of 2,100") and "Clear all"."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


@register.simple_tag
def list_count(page: Any) -> str:
    """What the page shows of what matches: "1–50 of 2,100", "51–100 of more than 10,000",
    or "50 shown of 2,100" where the page's position is not known (a cursor pasted alone).
    The figures are in data-* attributes too, for anything that reads the page."""
    count = getattr(page, "count", None)
    if count is None:
        return ""
    total = _("more than %(bound)s") % {"bound": _n(count.bound)} if count.more else _n(count.value)
    shown = len(page.items)
    if not shown:
        text = _("None of %(total)s") % {"total": total} if count.value else _("No rows match")
    elif page.first is not None:
        text = _("%(first)s–%(last)s of %(total)s") % {
            "first": _n(page.first),
            "last": _n(page.last),
            "total": total,
        }
    else:
        text = _("%(shown)s shown of %(total)s") % {"shown": _n(shown), "total": total}
    return format_html(
        '<span data-testid="list-count" data-count="{}" data-more="{}" data-first="{}" '
        'data-last="{}" aria-live="polite">{}</span>',
        min(count.value, count.bound),
        "true" if count.more else "false",
        page.first or "",
        page.last or "",
        text,
    )


@register.simple_tag(takes_context=True)
def clear_filters(context: Any) -> str:
    """The list without any filter, in the same sort."""
    params: QueryDict = context["request"].GET
    kept = QueryDict(mutable=True)
    for name in ("sort",):
        if params.get(name):
            kept[name] = params[name]
    return f"?{kept.urlencode()}"


@register.simple_tag
def list_total(page: Any) -> str:
    """The count alone, grouped ("2,100"; the bound when there are more)."""
    count = getattr(page, "count", None)
    return _n(min(count.value, count.bound)) if count is not None else ""
