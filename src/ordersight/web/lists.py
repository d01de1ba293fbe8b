"""What every staff list shares: date presets, one page by keyset, and error display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ordersight.core import lists
from ordersight.core.errors import Invalid
from ordersight.core.keyset import paginate
from ordersight.core.lists import Count, ListSpec
from ordersight.core.validation import ascii_int
from ordersight.http.downloads import list_csv
from ordersight.web.filter_panel import Suggested, filter_chips, kept_params, panel_fields
from ordersight.web.saved_views import SPEC_LISTS, views_context

PRESETS = [
    ("", gettext_lazy("Any time")),
    ("today", gettext_lazy("Today")),
    ("yesterday", gettext_lazy("Yesterday")),
    ("7d", gettext_lazy("Last 7 days")),
    ("30d", gettext_lazy("Last 30 days")),
    ("90d", gettext_lazy("Last 90 days")),
    ("this_month", gettext_lazy("This month")),
    ("last_month", gettext_lazy("Last month")),
    ("custom", gettext_lazy("Custom range")),
]
PAGE_SIZE = 50
# Parameters of the page itself, not filters of the selector: `at` is the position of a
# page's first row (keyset pages know where they start only when the pager says so), `view`
# the saved view the page was opened from.
UI_PARAMS = ("preset", "cursor", "sort", "limit", "partial", "at", "view")


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


PRESET_NAMES = frozenset(value for value, _label in PRESETS)


def date_preset(params: QueryDict) -> str:
    """Which choice the Date control shows, so that it always says what applies: the preset
    asked for; a link that gives `created_after`/`created_before` alone (a dashboard figure's
    orders) is a custom range; an unknown preset is refused by `selector_filters`."""
    if "preset" in params:
        return params["preset"]
    if params.get("created_after") or params.get("created_before"):
        return "custom"
    return ""


def selector_filters(params: QueryDict) -> QueryDict:
    """The page's query string as selector filters: a preset becomes a created range, and
    "Any time" drops the range the hidden custom fields may still send."""
    filters = params.copy()
    for name in UI_PARAMS:
        filters.pop(name, None)
    preset = date_preset(params)
    if preset not in PRESET_NAMES:
        raise Invalid(
            _("Unknown date preset."), fields={"preset": _("choose one of the listed dates")}
        )
    if preset != "custom":
        after, before = preset_range(preset)
        for name, bound in (("created_after", after), ("created_before", before)):
            if bound is None:
                filters.pop(name, None)
            else:
                filters[name] = bound.isoformat()
    for key in [k for k, v in filters.lists() if not any(v)]:
        filters.pop(key)  # an empty field in the panel means "no filter"
    return filters


@dataclass(frozen=True)
class PeriodFields:
    """What a page's period fields show: a preset ("" for a custom range) and From/To."""

    preset: str
    start: str
    end: str


def period_fields(
    params: QueryDict, *, start: date, end: date, preset: str, errors: dict[str, str]
) -> PeriodFields:
    """The period the page applies; when the parameters were refused, the range as it was
    typed instead (the page then shows the default period's figures), so it is corrected
    beside its error rather than typed again."""
    typed_start, typed_end = params.get("from", ""), params.get("to", "")
    if errors and (typed_start or typed_end):
        return PeriodFields("", typed_start, typed_end)
    return PeriodFields(preset, start.isoformat(), end.isoformat())


@dataclass
class ListPage:
    items: list[Any]
    next_cursor: str | None
    errors: dict[str, str]
    # How many rows match (bounded), and the position of the first row shown when known.
    count: Count | None = None
    first: int | None = None

    @property
    def last(self) -> int | None:
        return self.first + len(self.items) - 1 if self.first and self.items else None

    @property
    def next_at(self) -> int | None:
        """Where the next page starts, carried in its link as `at`."""
        return self.first + len(self.items) if self.first else None


def page_start(params: QueryDict) -> int | None:
    """The position of the page's first row: 1 without a cursor, else the pager's `at` (a
    cursor pasted without it starts somewhere the page cannot know)."""
    if not params.get("cursor"):
        return 1
    at = params.get("at", "")
    number = ascii_int(at)
    return number if number is not None and 1 <= number <= 10**9 else None


def list_page(
    request: HttpRequest,
    spec: ListSpec,
    params: QueryDict | None = None,
    fields: Sequence[str] = (),
) -> ListPage:
    """Run the list's selector for the page's filters (`params`, else the query string) and
    return one keyset page with the count of what matches (or the errors, shown beside the
    filters); its items are named rows of `fields` when given (`lists.as_rows`), else the
    selector's objects."""
    params = request.GET if params is None else params
    try:
        rows = spec.rows(selector_filters(params))
        queryset, ordering = spec.sort(rows, params.get("sort"))
        if fields:
            queryset = lists.as_rows(queryset, ordering, fields)
        page = paginate(
            queryset, ordering=ordering, cursor=params.get("cursor") or None, limit=PAGE_SIZE
        )
    except Invalid as exc:
        return ListPage(items=[], next_cursor=None, errors=exc.fields)
    return ListPage(
        items=page.items,
        next_cursor=page.next_cursor,
        errors={},
        count=lists.bounded_count(rows, lists.COUNT_BOUND),
        first=page_start(params),
    )


def export_response(
    request: HttpRequest,
    spec: ListSpec,
    params: QueryDict | None = None,
    filename: str | None = None,
) -> HttpResponse:
    """The page's export: exactly what the page filters, in the page's sort."""
    params = request.GET if params is None else params
    try:
        return list_csv(request, spec, selector_filters(params), params.get("sort"), filename)
    except Invalid as exc:
        # Plain text, never HTML: the values come from the query string.
        lines = [f"{name}: {message}" for name, message in sorted(exc.fields.items())]
        return HttpResponse(
            "\n".join([_("Invalid filter."), *lines]),
            status=422,
            content_type="text/plain; charset=utf-8",
        )


def list_context(
    request: HttpRequest,
    spec: ListSpec,
    filterset: type[django_filters.FilterSet],
    options: dict[str, list[tuple[str, str]] | Suggested] | None = None,
    params: QueryDict | None = None,
) -> dict[str, Any]:
    """What every staff list page shows besides its own extras: one page of rows, its
    default sort, the filter panel (with `options` for filters read from the database) and
    the filters its Export link repeats. `params` are the list's own parameters when the
    query string also carries others the page reads itself (they are kept when the panel
    applies, never shown as filters)."""
    params = request.GET if params is None else params
    try:
        exported = selector_filters(params)
        if params.get("sort"):
            exported["sort"] = params["sort"]  # the export keeps the page's order
        export_query = exported.urlencode()
    except Invalid:
        export_query = ""  # the page shows the error; its Export answers it in plain text
    panel = panel_fields(filterset, params, options)
    saved_list = SPEC_LISTS.get(spec.name)
    return {
        **(views_context(request, saved_list) if saved_list else {}),
        "page": list_page(request, spec, params),
        "default_sort": spec.default_sort,
        "panel": panel,
        "chips": filter_chips(params, panel, PRESETS, UI_PARAMS),
        "kept_params": kept_params(request.GET, panel),
        "date_preset": date_preset(params),
        "export_query": export_query,
    }
