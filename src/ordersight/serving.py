"""How a web process serves requests: pages on threads, streams on the event loop.

One uvicorn process per core runs one ASGI application made of two Django handlers:

- **Streams** (`/live/` and every `.csv` download) go to Django's ASGI handler. A stream
  stays open for minutes or for good; on the event loop it holds no thread, and Django
  watches the client, so a download the client abandons is stopped and its database
  connection given back at once.
- **Everything else** (pages, the API, webhooks) goes to Django's WSGI handler on a bounded
  pool of threads (`WEB_THREADS`). Django's middleware is synchronous; under its ASGI
  handler every middleware hook, and the view, crossed between the event loop and a new
  thread for each request, and under load each crossing waited for the busy loop. On a
  thread the whole request runs where it starts, with one hand-over each way.

Each accepted connection also gets TCP_NODELAY. uvicorn's worker processes share a listening
socket created without a protocol number, and asyncio only sets TCP_NODELAY when it sees
IPPROTO_TCP, so Nagle's algorithm held every answer's body back until the client's delayed
ACK of its headers (about 40 ms on Linux) on every kept-alive request after the first.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from a2wsgi import WSGIMiddleware
from django.urls import get_resolver
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ordersight.core.heap import settle_for_batches
from ordersight.http.body_limit import ASGIApp, Message, Receive, Scope, Send


def is_stream(path: str) -> bool:
    """Paths answered by a stream: the live updates and every CSV download."""
    return path == "/live/" or path.endswith(".csv")


class StreamsAndPages:
    """Send each HTTP request to the handler its path needs (see the module's docstring)."""

    def __init__(self, streams: ASGIApp, pages: ASGIApp) -> None:
        self.streams = streams
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http" or is_stream(scope["path"]):
            await self.streams(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left before it finished sending
        await self.pages(scope, _replay(body, receive), send)


async def _lifespan(receive: Receive, send: Send) -> None:
    """The server process's start and stop. At start the URLconf is loaded, so every view
    module is imported and the API's routes are built before the first request rather than
    by it (0.7 s: under load, the first requests a new worker took waited about a second);
    then, with the application loaded, the garbage collector is settled for the process's
    life (core/heap.py): a bulk request makes tens of thousands of objects, and collections
    over everything loaded took a quarter of a 1,000-order batch's Python time
    (BENCHMARKS.md)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            get_resolver().url_patterns  # noqa: B018 (loads them)
            settle_for_batches()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, read on the event loop, as Django's ASGI handler reads it.

    Reading it here, before a thread takes the request, keeps a slow sender from holding a
    thread and lets the body limit around this application answer 413 itself.
    """
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def pages_on_threads(wsgi_application: Any, threads: int) -> ASGIApp:
    # a2wsgi runs a WSGI application on a thread pool inside an ASGI server; its send queue
    # bounds how far a thread may run ahead of a slow client.
    return WSGIMiddleware(wsgi_application, workers=threads)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with TCP_NODELAY on every connection it accepts."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
