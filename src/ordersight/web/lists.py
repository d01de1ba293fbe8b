"""What every staff list shares: date presets, one page by keyset, and error display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

from ordersight.core.errors import Invalid
from ordersight.core.keyset import paginate
from ordersight.core.lists import ListSpec
from ordersight.web.filter_panel import panel_fields

PRESETS = [
    ("", "Any time"),
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom range"),
]
PAGE_SIZE = 50
# Parameters of the page itself, not filters of the selector.
UI_PARAMS = ("preset", "cursor", "sort", "limit", "partial")


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def preset_range(preset: str, today: date | None = None) -> tuple[datetime | None, datetime | None]:
    """The [after, before) bounds of a date preset in the site's time zone."""
    today = today or timezone.localdate()
    tomorrow = today + timedelta(days=1)
    if preset == "today":
        return _start(today), _start(tomorrow)
    if preset == "yesterday":
        return _start(today - timedelta(days=1)), _start(today)
    if preset in ("7d", "30d", "90d"):
        return _start(tomorrow - timedelta(days=int(preset[:-1]))), _start(tomorrow)
    if preset == "this_month":
        return _start(today.replace(day=1)), _start(tomorrow)
    if preset == "last_month":
        first = today.replace(day=1)
        return _start((first - timedelta(days=1)).replace(day=1)), _start(first)
    return None, None


def selector_filters(params: QueryDict) -> QueryDict:
    """The page's query string as selector filters: presets become a created range."""
    filters = params.copy()
    for name in UI_PARAMS:
        filters.pop(name, None)
    preset = params.get("preset", "")
    if preset and preset != "custom":
        after, before = preset_range(preset)
        filters["created_after"] = after.isoformat()
        filters["created_before"] = before.isoformat()
    for key in [k for k, v in filters.lists() if not any(v)]:
        filters.pop(key)  # an empty field in the panel means "no filter"
    return filters


@dataclass
class ListPage:
    items: list[Any]
    next_cursor: str | None
    errors: dict[str, str]


def list_page(request: HttpRequest, spec: ListSpec, params: QueryDict | None = None) -> ListPage:
    """Run the list's selector for the page's filters (`params`, else the query string) and
    return one keyset page (or the errors, shown beside the filters)."""
    params = request.GET if params is None else params
    try:
        queryset, ordering = spec.sort(spec.rows(selector_filters(params)), params.get("sort"))
        page = paginate(
            queryset, ordering=ordering, cursor=params.get("cursor") or None, limit=PAGE_SIZE
        )
    except Invalid as exc:
        return ListPage(items=[], next_cursor=None, errors=exc.fields)
    return ListPage(items=page.items, next_cursor=page.next_cursor, errors={})


def export_response(
    request: HttpRequest, spec: ListSpec, params: QueryDict | None = None
) -> HttpResponse:
    """The page's export: exactly what the page filters, in the page's sort."""
    params = request.GET if params is None else params
    try:
        return spec.csv(request, selector_filters(params), params.get("sort"))
    except Invalid as exc:
        # Plain text, never HTML: the values come from the query string.
        lines = [f"{name}: {message}" for name, message in sorted(exc.fields.items())]
        return HttpResponse(
            "\n".join(["Invalid filter.", *lines]),
            status=422,
            content_type="text/plain; charset=utf-8",
        )


def list_context(
    request: HttpRequest,
    spec: ListSpec,
    filterset: type[django_filters.FilterSet],
    options: dict[str, list[tuple[str, str]]] | None = None,
) -> dict[str, Any]:
    """What every staff list page shows besides its own extras: one page of rows, its
    default sort, the filter panel (with `options` for filters read from the database) and
    the filters its Export link repeats."""
    return {
        "page": list_page(request, spec),
        "default_sort": spec.default_sort,
        "panel": panel_fields(filterset, request.GET, options),
        "export_query": selector_filters(request.GET).urlencode(),
    }
