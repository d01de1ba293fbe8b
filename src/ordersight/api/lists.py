"""A list endpoint and its export, from the list's spec: the same filters, sort and rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse

from ordersight.core.filtering import reject_unknown_params
from ordersight.core.keyset import paginate
from ordersight.core.lists import ListSpec


def list_page(
    request: HttpRequest, spec: ListSpec, params: Any, out: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """One keyset page of the list; unknown filters and bad values are refused by name."""
    reject_unknown_params(spec.filterset, request.GET)
    queryset, ordering = spec.sort(spec.rows(request.GET), params.sort)
    page = paginate(queryset, ordering=ordering, cursor=params.cursor, limit=params.limit)
    return {"items": [out(row) for row in page.items], "next_cursor": page.next_cursor}


def list_export(request: HttpRequest, spec: ListSpec, params: Any) -> StreamingHttpResponse:
    """The whole filtered list as CSV, streamed, in the list's sort."""
    reject_unknown_params(spec.filterset, request.GET)
    return spec.csv(request, request.GET, params.sort)
