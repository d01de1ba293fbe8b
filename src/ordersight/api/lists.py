"""A list endpoint and its export, from the list's spec: the same filters, sort and rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, QueryDict, StreamingHttpResponse
from ninja import Schema

from ordersight.core.bulk import ItemResult
from ordersight.core.filtering import reject_unknown_params
from ordersight.core.keyset import paginate
from ordersight.core.lists import ListSpec


def list_page(
    request: HttpRequest,
    spec: ListSpec,
    params: Any,
    out: Callable[[Any], dict[str, Any]],
    filters: QueryDict | None = None,
) -> dict[str, Any]:
    """One keyset page of the list (`filters`, else the query string); unknown filters and
    bad values are refused by name."""
    filters = request.GET if filters is None else filters
    reject_unknown_params(spec.filterset, filters)
    queryset, ordering = spec.sort(spec.rows(filters), params.sort)
    page = paginate(queryset, ordering=ordering, cursor=params.cursor, limit=params.limit)
    return {"items": [out(row) for row in page.items], "next_cursor": page.next_cursor}


def list_export(
    request: HttpRequest, spec: ListSpec, params: Any, filters: QueryDict | None = None
) -> StreamingHttpResponse:
    """The whole filtered list as CSV, streamed, in the list's sort."""
    filters = request.GET if filters is None else filters
    reject_unknown_params(spec.filterset, filters)
    return spec.csv(request, filters, params.sort)


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
