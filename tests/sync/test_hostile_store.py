"""A store that answers slowly, endlessly or too much cannot hold a sync worker: each request
has an overall deadline (however slowly the bytes come), the answer's size is capped while
it is read, and what asking again cannot change (too large, redirected too often, a
refused address) is not asked again."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from ordersight.sync import transport
from ordersight.sync.shopify import ShopifyClient
from ordersight.sync.transport import PermanentFailure, StoreAccess, StoreUnavailable

Behaviour = Callable[[socket.socket, threading.Event], None]


class RawStore:
    """A store on 127.0.0.1 that answers every connection with `behaviour`."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client:
            client.recv(65536)
            with contextlib.suppress(OSError):  # the client hung up
                self.behaviour(client, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def raw_store(settings) -> Iterator[Callable[[Behaviour], RawStore]]:
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True  # it listens on 127.0.0.1
    stores: list[RawStore] = []

    def start(behaviour: Behaviour) -> RawStore:
        stores.append(RawStore(behaviour))
        return stores[-1]

    yield start
    for store in stores:
        store.close()


def drip_body(client: socket.socket, stop: threading.Event) -> None:
    client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    while not stop.wait(0.05):
        client.sendall(b" ")


def drip_body_to_its_close(client: socket.socket, stop: threading.Event) -> None:
    client.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while not stop.wait(0.05):
        client.sendall(b" ")


def drip_headers(client: socket.socket, stop: threading.Event) -> None:
    client.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.05):
        client.sendall(b"X")


@pytest.mark.parametrize("behaviour", [drip_body, drip_body_to_its_close, drip_headers])
def test_a_store_dripping_its_answer_is_given_up_at_the_deadline(raw_store, behaviour):
    store = raw_store(behaviour)
    access = StoreAccess(store.url, timeout=30.0, deadline=0.5)
    with pytest.raises(PermanentFailure, match="did not answer within"):
        access.get(store.url + "/customers.json")


def test_an_answer_too_large_is_refused_while_read_and_not_asked_again(raw_store, monkeypatch):
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 100_000)

    def endless(client: socket.socket, stop: threading.Event) -> None:
        client.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        while not stop.is_set():  # no length: the body ends when the store says so
            client.sendall(b"x" * 65536)

    store = raw_store(endless)
    client = ShopifyClient(store.url, "token", sleep=lambda s: None)
    with pytest.raises(PermanentFailure, match="too large"):
        client.count("customers")
    assert client.requests == 1 and store.connections == 1


def test_a_store_redirecting_endlessly_is_not_asked_again(raw_store):
    def loop(client: socket.socket, stop: threading.Event) -> None:
        client.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")

    store = raw_store(loop)
    client = ShopifyClient(store.url, "token", sleep=lambda s: None)
    with pytest.raises(PermanentFailure, match="redirected too many times"):
        client.count("customers")
    assert client.requests == 1 and store.connections == transport.MAX_REDIRECTS + 1


def test_a_store_that_fails_now_and_then_is_still_asked_again(raw_store):
    """Not everything is final: a store that could not be reached is asked again."""
    answers = iter([b"not http\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"])

    def flaky(client: socket.socket, stop: threading.Event) -> None:
        client.sendall(next(answers) + b'{"count": 3}')

    store = raw_store(flaky)
    client = ShopifyClient(store.url, "token", sleep=lambda s: None)
    assert client.count("customers") == 3 and client.requests == 2
    assert issubclass(PermanentFailure, StoreUnavailable)  # a run still reads it as failed
