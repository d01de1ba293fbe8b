"""A list endpoint and its export, from the list's spec: the same filters, sort and rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, time
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from ninja import Schema
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

from ordersight.core.bulk import ItemResult
from ordersight.core.filtering import reject_unknown_params
from ordersight.core.keyset import Page, paginate
from ordersight.core.lists import ListSpec, as_rows
from ordersight.http.downloads import list_csv


def list_page(
    request: HttpRequest,
    spec: ListSpec,
    params: Any,
    out: Callable[[Any], dict[str, Any]],
    filters: QueryDict | None = None,
) -> dict[str, Any]:
    """One keyset page of the list (`filters`, else the query string); unknown filters and
    bad values are refused by name."""
    page = _page(request, spec, params, filters)
    return {"items": [out(row) for row in page.items], "next_cursor": page.next_cursor}


def answered_page(
    request: HttpRequest,
    spec: ListSpec,
    params: Any,
    out: Callable[[list[Any]], list[dict[str, Any]]],
    fields: Sequence[str],
    filters: QueryDict | None = None,
) -> HttpResponse:
    """`list_page` for a list whose `out` makes the answer of a whole page at once, in the
    route's response schema (its tests compare it with the schema's own), from rows of
    the columns `fields` (named tuples, with the sort's columns too): sent as it is (see
    `answer`)."""
    page = _page(request, spec, params, filters, fields)
    return answer({"items": out(page.items), "next_cursor": page.next_cursor})


def _page(
    request: HttpRequest,
    spec: ListSpec,
    params: Any,
    filters: QueryDict | None,
    fields: Sequence[str] = (),
) -> Page[Any]:
    filters = request.GET if filters is None else filters
    reject_unknown_params(spec.filterset, filters)
    queryset, ordering = spec.sort(spec.rows(filters), params.sort)
    if fields:
        queryset = as_rows(queryset, ordering, fields)
    return paginate(queryset, ordering=ordering, cursor=params.cursor, limit=params.limit)


def answer(data: Any, status: int = 200) -> HttpResponse:
    """`data`, already in the shape of the route's response schema, sent as the API sends
    what django-ninja validated (`JsonRenderer`), without validating it again: ninja's
    validation of a page of orders cost a fifth of the request (32,000 attribute reads
    through its DjangoGetter) to confirm dicts built field by field."""
    return HttpResponse(json_bytes(data), status=status, content_type=JSON_CONTENT_TYPE)


def json_bytes(data: Any) -> bytes:
    """The API's JSON, by orjson (the standard encoder took a tenth of a list request).

    A moment is written whole, in RFC 3339 with "Z" for UTC ("2026-12-05T17:00:00.123456Z"),
    by orjson itself: Django's encoder cut it to milliseconds, which cost a call back into
    Python for each of a page's 260 moments and gave a client a time it could not compare
    exactly with the one stored (two changes within a millisecond read the same)."""
    try:
        return orjson.dumps(data, default=_as_other_values, option=_ORJSON_OPTIONS)
    except TypeError:
        # orjson stops at 64-bit integers; a store's metadata may hold larger ones. The
        # standard encoder writes them, in the same compact form (and refuses what orjson
        # would have refused for another reason).
        compact = json.dumps(data, cls=_WholeMoments, separators=(",", ":"), ensure_ascii=False)
        return compact.encode()


_ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_NINJA_ENCODER = NinjaJSONEncoder()


def _as_other_values(value: Any) -> Any:
    """What orjson does not write itself, as django-ninja's encoder writes it; a moment
    orjson leaves (a subclass of datetime) as orjson writes one."""
    if isinstance(value, datetime | time):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return _NINJA_ENCODER.default(value)


class _WholeMoments(NinjaJSONEncoder):
    """django-ninja's encoder writing moments as orjson does (`json_bytes`)."""

    def default(self, o: Any) -> Any:
        return _as_other_values(o)


class JsonRenderer(BaseRenderer):
    """What every answer of the API is written with (`json_bytes`)."""

    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return json_bytes(data)


JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def list_export(
    request: HttpRequest,
    spec: ListSpec,
    params: Any,
    filters: QueryDict | None = None,
    filename: str | None = None,
) -> StreamingHttpResponse:
    """The whole filtered list as CSV, streamed, in the list's sort."""
    filters = request.GET if filters is None else filters
    reject_unknown_params(spec.filterset, filters)
    return list_csv(request, spec, filters, params.sort, filename)


class ItemResultOut(Schema):
    index: int
    result: str
    number: int | None = None
    id: int | None = None
    external_id: str | None = None
    message: str
    fields: dict[str, str]


class BulkOut(Schema):
    created: int
    updated: int
    unchanged: int
    errors: int
    results: list[ItemResultOut]


def bulk_out(results: list[ItemResult]) -> dict[str, Any]:
    """A bulk request's answer: counts by outcome, then a result per item, in order."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
    for result in results:
        counts[result.result] += 1
    return {
        "created": counts["created"],
        "updated": counts["updated"],
        "unchanged": counts["unchanged"],
        "errors": counts["error"],
        "results": [vars(r) for r in results],
    }
