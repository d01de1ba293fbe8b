"""Refuse NUL characters in any input, naming where they are.

PostgreSQL text cannot hold NUL, so a NUL that reached a query or a row failed as a server
error; SQLite would store it and break exports. Every input path goes through here first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from ordersight.core.errors import error_body

NUL = "\x00"


def _paths(value: Any, where: str) -> Iterator[str]:
    """The paths of the strings (and keys) inside a JSON value that hold a NUL."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                yield path or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                if NUL in key:
                    yield path or "body"
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))


def nul_fields(request: HttpRequest) -> list[str]:
    found = [k for k, values in request.GET.lists() if NUL in k or any(NUL in v for v in values)]
    if request.method in ("POST", "PUT", "PATCH"):
        try:
            body = request.body
        except RequestDataTooBig:
            return found  # the view answers 413 itself
        if request.content_type == "application/json":
            if b"\\u0000" in body or b"\x00" in body:
                try:
                    found += list(_paths(json.loads(body), ""))
                except (ValueError, RecursionError):
                    found.append("body")
        elif b"\x00" in body or b"%00" in body:
            found += [k for k, vs in request.POST.lists() if NUL in k or any(NUL in v for v in vs)]
    return found


class RefuseNulCharacters:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = nul_fields(request)
        if fields:
            message = "Text may not contain the NUL character (\\u0000)."
            if request.path.startswith("/api/"):
                body = error_body("invalid", message, dict.fromkeys(fields, "contains NUL"))
                return JsonResponse(body, status=422)
            return HttpResponse(
                f"{message} Fields: {', '.join(sorted(set(fields)))}",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
