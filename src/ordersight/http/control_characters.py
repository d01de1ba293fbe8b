"""Refuse the characters no text may hold (NUL, bidi controls) in any request, naming where
they are.

PostgreSQL text cannot hold NUL, so a NUL that reached a query or a row failed as a server
error; SQLite would store it and break exports. A bidi control makes a name or code read
differently from what it is. The rule is `core.validation.text_error`; every request, API
call or form post, goes through here first, and store feeds apply the same rule item by item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from ordersight.core.errors import error_body
from ordersight.core.validation import refused_text, text_error

# A cheap look at the raw body before decoding it: NUL, or a bidi control as UTF-8 bytes,
# as a JSON escape, or percent-encoded in a form.
_JSON_SUSPECT = re.compile(
    rb"\x00|\\u0000|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\\u20(?:2[a-eA-E]|6[6-9])"
)
_FORM_SUSPECT = re.compile(
    rb"\x00|%00|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|%E2%8(?:0%A[A-E]|1%A[6-9])", re.I
)


def _pairs(params) -> list[tuple[str, str]]:
    found = []
    for key, values in params.lists():
        if (error := text_error(key)) is not None:
            found.append((key, f"the name {error}"))
        found += [(key, error) for v in values if (error := text_error(v)) is not None]
    return found


def refused_fields(request: HttpRequest) -> dict[str, str]:
    """Each field of the request (query string, then body) holding a refused character."""
    found = _pairs(request.GET)
    if request.method in ("POST", "PUT", "PATCH"):
        try:
            body = request.body
        except RequestDataTooBig:
            return dict(found)  # the view answers 413 itself
        # The API reads every body as JSON whatever its Content-Type says, so under /api/
        # every body is looked at as JSON; pages post forms.
        if request.content_type == "application/json" or request.path.startswith("/api/"):
            if _JSON_SUSPECT.search(body):
                try:
                    found += list(refused_text(json.loads(body)))
                except (ValueError, RecursionError):
                    found.append(("body", "not readable JSON"))
        elif _FORM_SUSPECT.search(body):
            found += _pairs(request.POST)
    return dict(found)


def _message(fields: dict[str, str]) -> str:
    if any("NUL" in reason for reason in fields.values()):
        return "Text may not contain the NUL character (\\u0000)."
    return (
        "Text may not contain bidirectional control characters "
        "(U+202A to U+202E, U+2066 to U+2069)."
    )


class RefuseControlCharacters:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = refused_fields(request)
        if fields:
            message = _message(fields)
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("invalid", message, fields), status=422)
            lines = [f"{name}: {reason}" for name, reason in sorted(fields.items())]
            return HttpResponse(
                "\n".join([message, *lines]),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
