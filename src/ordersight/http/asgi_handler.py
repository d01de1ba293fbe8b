"""Django's ASGI handler, made to finish a response whose body raises.

Django closes a response (which sends `request_finished`, and so gives the request's database
connections back to the pool) when its body was sent or the client hung up, but not when
the body itself raises: the exception leaves the handler first. Every streamed body that
failed kept its connection checked out until the process restarted.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponseBase


class ClosingASGIHandler(ASGIHandler):
    async def send_response(self, response: HttpResponseBase, send: Any) -> None:
        try:
            await super().send_response(response, send)
        except Exception:
            # Close on the request's own thread, as Django does after a body it could send;
            # then re-raise, so the server cuts the connection and the client sees an
            # incomplete body rather than a complete-looking one.
            await sync_to_async(response.close)()
            raise
