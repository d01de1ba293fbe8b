"""Streamed CSV exports give their database connection back to the pool, whatever happens to
the stream: an empty selection, an error in the middle of the COPY, a client that leaves.

The app runs as in production: uvicorn serving the ASGI application, here in a thread of the
test process against the test database, so the test can read the pool's own figures.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import date

import psycopg
import pytest
import uvicorn
from django.core import signals
from django.db import connections
from django.http import StreamingHttpResponse
from django.test import Client

from ordersight.accounts.services import create_api_key
from ordersight.campaigns import services as campaigns
from ordersight.core.actors import Actor
from ordersight.http.asgi_handler import ClosingASGIHandler
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order

ROUNDS = 50
# A bound on each call, so a server that has run out of connections fails the test rather
# than hanging it (the pool would make the call wait 30 s, then answer 500).
CALL_TIMEOUT = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self) -> None:
        port = _free_port()
        config = uvicorn.Config(
            "ordersight.asgi:application",
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="critical",
        )
        self.address = ("127.0.0.1", port)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        started = threading.Event()
        while self._thread.is_alive() and not started.wait(0.05):
            if self._server.started:
                started.set()
        assert self._server.started

    def stop(self) -> None:
        """Stop, once every request under way has finished."""
        self._server.should_exit = True
        self._thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    served = Server()
    yield served
    served.stop()


@pytest.fixture
def campaigns_and_key(catalog) -> dict[str, object]:
    system = Actor.system()
    empty = campaigns.create_campaign(
        name="Empty",
        starts_on=date(2000, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=system,
    )
    busy = campaigns.create_campaign(
        name="Busy",
        starts_on=date(2000, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=system,
    )
    anna = campaigns.create_creator(name="Anna", handle="anna", actor=system)
    campaigns.add_member(campaign=busy, creator=anna, coupon_codes=["ANNA"], actor=system)
    for _ in range(3):
        create_order(
            data=OrderInput(lines=[LineInput(sku="TEE-M")], coupon_code="ANNA"), actor=system
        )
    return {"empty": empty.pk, "busy": busy.pk, "token": create_api_key(name="r", scopes="read")[1]}


def _get(address: tuple[str, int], path: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*address, timeout=CALL_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        try:
            return response.status, response.read()
        except http.client.IncompleteRead as cut:
            return response.status, b"CUT:" + cut.partial
    finally:
        conn.close()


def _abandon(address: tuple[str, int], path: str, token: str) -> bytes:
    """Ask for the export, read its first bytes, and hang up."""
    with socket.create_connection(address, timeout=CALL_TIMEOUT) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        sock.sendall(f"{request}\r\n".encode())
        return sock.recv(1024)


def _copy_with(fault: Callable[[], None]):
    """psycopg's COPY reader, with `fault` run after the first block: the COPY is then
    under way, its cursor open, as when the database fails or the client leaves mid-stream."""
    original = psycopg.Copy.__iter__

    def reading(self):
        blocks = original(self)
        for block in blocks:
            yield block
            break
        fault()
        yield from blocks

    return reading


def _checked_out() -> int:
    connections.close_all()  # the test's own connection, if it holds one
    stats = connections["default"].pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_failing_and_abandoned_exports_give_every_connection_back(
    server, campaigns_and_key, monkeypatch
):
    address = server.address
    token = campaigns_and_key["token"]
    empty = f"/api/v1/campaigns/{campaigns_and_key['empty']}/conversions/export.csv"
    busy = f"/api/v1/campaigns/{campaigns_and_key['busy']}/conversions/export.csv"

    # An empty selection is an empty CSV with its header (it was a cut body, and a lost
    # connection, each time).
    for _ in range(ROUNDS):
        status, body = _get(address, empty, token)
        assert status == 200
        assert body.startswith(b'"conversion_id"') and body.count(b"\n") == 1, body

    def database_fails() -> None:
        raise psycopg.OperationalError("the database went away in the middle of the COPY")

    monkeypatch.setattr(psycopg.Copy, "__iter__", _copy_with(database_fails))
    for _ in range(ROUNDS):
        status, body = _get(address, busy, token)
        assert status == 200 and body.startswith(b"CUT:"), body  # never a complete-looking file

    client_gone = threading.Event()

    def client_leaves() -> None:
        client_gone.wait(CALL_TIMEOUT)

    monkeypatch.setattr(psycopg.Copy, "__iter__", _copy_with(client_leaves))
    for _ in range(ROUNDS):
        client_gone.clear()
        assert _abandon(address, busy, token).startswith(b"HTTP/1.1 200")
        client_gone.set()
    monkeypatch.undo()

    assert _get(address, "/healthz", token) == (200, b"ok")
    status, body = _get(address, "/api/v1/orders", token)
    assert status == 200 and b'"items"' in body
    status, body = _get(address, busy, token)
    assert status == 200 and body.count(b"\n") == 4, body
    server.stop()
    assert _checked_out() == 0


@pytest.mark.django_db
def test_an_empty_selection_exports_its_header_alone(campaigns_and_key):
    path = f"/api/v1/campaigns/{campaigns_and_key['empty']}/conversions/export.csv"
    response = Client().get(path, headers={"Authorization": f"Bearer {campaigns_and_key['token']}"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b'"conversion_id","order_number"') and body.count(b"\n") == 1, body


@pytest.mark.django_db
def test_a_body_that_raises_still_finishes_the_request():
    # request_finished is what gives a request's connections back to the pool.
    finished: list[object] = []

    def on_finished(**kwargs: object) -> None:
        finished.append(kwargs)

    async def failing_body():
        yield b"first"
        raise RuntimeError("the body failed")

    async def send(message: dict) -> None:
        pass

    response = StreamingHttpResponse(failing_body())
    signals.request_finished.connect(on_finished)
    try:
        with pytest.raises(RuntimeError, match="the body failed"):
            asyncio.run(ClosingASGIHandler().send_response(response, send))
    finally:
        signals.request_finished.disconnect(on_finished)
    assert response.closed and len(finished) == 1
