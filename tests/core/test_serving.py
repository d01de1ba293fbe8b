"""How a web process serves: streams on the event loop, pages on threads, no Nagle delay."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvicorn

from ordersight.serving import HttpProtocol, StreamsAndPages, is_stream


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _hello(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture(params=["asyncio", "uvloop"])
def server_on_a_shared_socket(request) -> Iterator[tuple[int, list[int]]]:
    """uvicorn as its worker processes run: on a listening socket bound beforehand by the
    supervisor (`Config.bind_socket`), which is where TCP_NODELAY used to be lost, on
    either event loop (`--loop auto` takes uvloop where it is installed)."""
    nodelay: list[int] = []

    class Recording(HttpProtocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    port = _free_port()
    config = uvicorn.Config(
        _hello,
        host="127.0.0.1",
        port=port,
        http=Recording,
        loop=request.param,
        lifespan="off",
        log_level="critical",
    )
    listener = config.bind_socket()
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        threading.Event().wait(0.02)
    yield port, nodelay
    server.should_exit = True
    thread.join()
    listener.close()


def test_every_connection_sends_small_answers_at_once(server_on_a_shared_socket):
    port, nodelay = server_on_a_shared_socket
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):  # one connection kept alive
        connection.request("GET", "/")
        assert connection.getresponse().read() == b"hello"
    connection.close()
    assert nodelay == [1]


def test_live_updates_and_downloads_are_streams_and_the_rest_pages():
    assert is_stream("/live/")
    assert is_stream("/orders/export.csv")
    assert is_stream("/api/v1/reports/sales.csv")
    assert not is_stream("/orders/")
    assert not is_stream("/api/v1/orders")
    assert not is_stream("/live/elsewhere")


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append(scope["path"])
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await _hello(scope, receive, send)


def _call(app, path: str, messages: list[dict]) -> list[dict]:
    sent: list[dict] = []
    queue = list(messages)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": []}
    # On a thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread for the whole session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return sent


def _chunks(*parts: bytes) -> list[dict]:
    last = len(parts) - 1
    return [
        {"type": "http.request", "body": part, "more_body": i < last}
        for i, part in enumerate(parts)
    ]


def test_each_request_goes_to_the_handler_its_path_needs():
    streams, pages = Recorder(), Recorder()
    app = StreamsAndPages(streams=streams, pages=pages)
    _call(app, "/orders/export.csv", _chunks(b""))
    _call(app, "/api/v1/orders", _chunks(b""))
    _call(app, "/live/", _chunks(b""))
    assert streams.paths == ["/orders/export.csv", "/live/"]
    assert pages.paths == ["/api/v1/orders"]


def test_a_page_gets_the_whole_body_in_one_piece():
    pages = Recorder()
    app = StreamsAndPages(streams=Recorder(), pages=pages)
    sent = _call(app, "/api/v1/orders", _chunks(b'{"lines"', b": [", b"]}"))
    assert pages.bodies == [b'{"lines": []}']
    assert sent[0]["status"] == 200


def test_a_client_that_leaves_mid_body_takes_no_thread():
    pages = Recorder()
    app = StreamsAndPages(streams=Recorder(), pages=pages)
    sent = _call(app, "/api/v1/orders", _chunks(b"{", b"")[:1])  # more_body, then gone
    assert pages.paths == []
    assert sent == []


def test_an_oversized_body_sent_in_chunks_is_refused_before_a_page_reads_it(settings):
    from ordersight.asgi import application

    limit = settings.MAX_REQUEST_BYTES
    chunk = b"a" * (1024 * 1024)
    parts = [chunk] * (limit // len(chunk) + 2)
    sent = _call(application, "/api/v1/orders", _chunks(*parts))
    assert sent[0]["status"] == 413
    assert b"too_large" in sent[1]["body"]


def test_the_server_start_settles_the_garbage_collector(monkeypatch):
    """At the lifespan's start (the application loaded), the process settles its garbage
    collector (core/heap.py); the test's own process is left as it was."""
    import gc

    settled = []
    monkeypatch.setattr("ordersight.serving.settle_for_batches", lambda: settled.append(1))
    app = StreamsAndPages(streams=Recorder(), pages=Recorder())
    sent: list[dict] = []
    queue = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive():
        return queue.pop(0)

    async def send(message):
        sent.append(message)

    before = gc.get_threshold()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app({"type": "lifespan"}, receive, send)).result()
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert settled == [1]
    assert gc.get_threshold() == before


_FRESH_START = """
import asyncio, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
from ordersight.asgi import application
before = "ordersight.api.orders" in sys.modules
queue = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
async def receive():
    return queue.pop(0)
async def send(message):
    pass
asyncio.run(application({"type": "lifespan"}, receive, send))
print(before, "ordersight.api.orders" in sys.modules, "ordersight.web.views" in sys.modules)
"""


def test_a_new_server_process_loads_its_views_before_the_first_request():
    """A worker imports every view and builds the API's routes at its start, not in its
    first requests (which waited about a second for it under load)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "test-only-" + "x" * 40}
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_START], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "True"]


def test_a_worker_whose_start_fails_stops_instead_of_serving(tmp_path):
    """The server runs the lifespan as required: a URLconf that does not load at start is
    an error that ends the process, not a note that the lifespan is unsupported."""
    import os
    import subprocess

    from ordersight.management.processes import uvicorn_command

    (tmp_path / "broken_urls.py").write_text("raise RuntimeError('no URLs today')\n")
    (tmp_path / "broken_settings.py").write_text(
        "from ordersight.settings import *  # noqa: F403\nROOT_URLCONF = 'broken_urls'\n"
    )
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "test-only-" + "x" * 40,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "broken_settings",
    }
    command = uvicorn_command("127.0.0.1", "0", ["--log-level", "warning"])
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "no URLs today" in done.stderr
