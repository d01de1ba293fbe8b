"""Refuse an oversized request body before the application reads it.

Django's ASGI handler reads the whole body (spooling it to disk) before any view or
middleware can look at it, so a 1 GiB anonymous POST was stored before the 413. This ASGI
wrapper answers 413 from the Content-Length header alone, and stops a body sent without one
as soon as it passes the limit. The proxy in front should enforce the same limit (README).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


def _error(status: int, code: str, message: str, field: str) -> tuple[bytes, bytes]:
    body = {"error": {"code": code, "message": message, "fields": {field: message}}}
    return json.dumps(body).encode(), b"application/json"


async def _answer(send: Send, status: int, code: str, message: str, field: str) -> None:
    body, content_type = _error(status, code, message, field)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"The request body is larger than {self.max_bytes} bytes."
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():  # bytes: ASCII digits only
                await _answer(send, 400, "malformed", "Content-Length is not a number.", "body")
                return
            # More digits than any size this server takes: too large, without int() (which
            # refuses text of more than 4,300 digits).
            size = declared.lstrip(b"0") or b"0"
            if len(size) > len(str(self.max_bytes)) or int(size) > self.max_bytes:
                await _answer(send, 413, "too_large", too_large, "body")
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _answer(send, 413, "too_large", too_large, "body")
