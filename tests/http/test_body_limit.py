"""An oversized body is refused before the application reads it."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from ordersight.http.body_limit import BodyLimit

LIMIT = 1000


class Recorder:
    def __init__(self) -> None:
        self.called = False
        self.read = 0

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    app = Recorder()
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        index = pulled - 1
        return {
            "type": "http.request",
            "body": chunks[index] if index < len(chunks) else b"",
            "more_body": index < len(chunks) - 1,
        }

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/payments/webhooks/x",
        "headers": headers,
    }
    # On a thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread for the whole session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, BodyLimit(app, LIMIT)(scope, receive, send)).result()
    return app, pulled, sent


def _status(sent) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read():
    app, pulled, sent = _run([(b"content-length", str(2**30).encode())], [b"x" * 100] * 5)
    assert _status(sent) == 413 and pulled == 0 and not app.called
    body = json.loads(sent[1]["body"])
    assert body["error"]["code"] == "too_large" and "body" in body["error"]["fields"]


def test_an_undeclared_body_is_cut_off_as_soon_as_it_passes_the_limit():
    chunks = [b"x" * 300] * 100  # 30 kB sent without Content-Length
    _, pulled, sent = _run([], chunks)
    assert _status(sent) == 413
    assert pulled == 4  # 1,200 bytes read, then refused: the rest never left the client


def test_a_body_within_the_limit_reaches_the_application():
    app, _, sent = _run([(b"content-length", b"600")], [b"x" * 300, b"x" * 300])
    assert _status(sent) == 200 and app.read == 600


def test_a_content_length_that_is_not_a_number_is_a_400():
    app, pulled, sent = _run([(b"content-length", b"12abc")], [b"x"])
    assert _status(sent) == 400 and pulled == 0 and not app.called


def test_a_content_length_of_thousands_of_digits_is_refused_as_too_large():
    # int() refuses text of more than 4,300 digits: the size is judged by its length first.
    for declared in (b"9" * 5000, b"0" * 5000 + b"1" * 5):
        app, pulled, sent = _run([(b"content-length", declared)], [b"x"])
        assert _status(sent) == 413 and pulled == 0 and not app.called
    app, _, sent = _run([(b"content-length", b"0" * 5000 + b"600")], [b"x" * 300, b"x" * 300])
    assert _status(sent) == 200 and app.read == 600
