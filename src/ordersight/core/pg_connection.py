"""PostgreSQL connection options with every wait bounded, for the pool that settings.py builds.

The server cancels a statement that runs past `statement_timeout`, but a server that stopped
answering altogether (paused, cut off behind a live TCP peer) cancels nothing, and psycopg
waits for it without end. So the connections of the pool also give up on the client side,
a little after the server would have, and are closed: the pool then replaces them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import errors, pq
from psycopg.adapt import Loader

# Runs of one statement on a connection before it is kept prepared (psycopg's default).
PREPARE_THRESHOLD = 5

# Past the server's own statement timeout, how long the client still waits for an answer.
SILENCE_MARGIN_SECONDS = 2.0


class BoundedConnection(psycopg.Connection):
    """A connection that gives up on a server silent for `wait_limit` seconds, and closes;
    it reads timestamps with psycopg's compiled parser (see `QuickTimestampLoader`)."""

    wait_limit: float | None = None

    @classmethod
    def connect(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        connection = super().connect(*args, **kwargs)
        read_timestamps_quickly(connection)
        return connection

    def wait(self, gen: Any, interval: float | None = None, timeout: float | None = None) -> Any:
        limit = timeout if timeout is not None else self.wait_limit
        kwargs: dict[str, Any] = {"timeout": limit}
        if interval is not None:
            kwargs["interval"] = interval
        try:
            return super().wait(gen, **kwargs)
        except errors.OperationalError as exc:
            # Still ACTIVE: the query is in flight and its answer may come later, so the
            # connection is out of step with the server and cannot be used again.
            if not self.closed and self.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
                self.close()
                raise errors.OperationalError(
                    f"PostgreSQL did not answer within {limit:g} s; connection closed"
                ) from exc
            raise


TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# psycopg's own timestamptz loader: its compiled version where psycopg[binary] is installed.
_PARSER = psycopg.adapters.get_loader(TIMESTAMPTZ, pq.Format.TEXT)


class QuickTimestampLoader(Loader):
    """Django's timestamptz loader (its time zone put on each value) over psycopg's compiled
    parser. Django's own subclasses psycopg's pure-Python parser, which took 5 µs a value: a
    page of 50 orders with their invoices reads 260 timestamps."""

    timezone: Any = None

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._parse = _PARSER(oid, context)

    def load(self, data: Any) -> Any:
        return self._parse.load(data).replace(tzinfo=self.timezone)


def read_timestamps_quickly(connection: psycopg.Connection) -> None:
    """Replace the timestamptz loader Django registered on this connection with a
    `QuickTimestampLoader` for the same time zone (Django reads the zone back from it)."""
    django_loader = connection.adapters.get_loader(TIMESTAMPTZ, pq.Format.TEXT)
    zone = getattr(django_loader, "timezone", None)
    quick = type("QuickTimestampLoader", (QuickTimestampLoader,), {"timezone": zone})
    connection.adapters.register_loader("timestamptz", quick)


def bounded_connection_class(wait_limit: float | None) -> type[BoundedConnection]:
    return type("BoundedConnection", (BoundedConnection,), {"wait_limit": wait_limit})


def bounded_options(
    *,
    pool_min: int,
    pool_max: int,
    pool_timeout: float,
    connect_timeout: int,
    statement_timeout: float,
) -> dict[str, Any]:
    """DATABASES["default"]["OPTIONS"] for PostgreSQL; a timeout of 0 leaves that wait unbounded."""
    wait_limit = statement_timeout + SILENCE_MARGIN_SECONDS if statement_timeout else None
    options: dict[str, Any] = {
        # Parameters bound by the server, and a statement run a few times on a connection
        # kept prepared: PostgreSQL then plans it once, not on every request. Planning the
        # order list's page (four joins) cost as much as running it; with the page's three
        # child reads, half of the database's time for a page of orders.
        "server_side_binding": True,
        "prepare_threshold": PREPARE_THRESHOLD,
        "pool": {
            "min_size": pool_min,
            "max_size": pool_max,
            "timeout": pool_timeout,
            "connection_class": bounded_connection_class(wait_limit),
        },
    }
    if connect_timeout:
        options["connect_timeout"] = connect_timeout
    if statement_timeout:
        options["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    return options


@contextmanager
def without_timeouts(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Lift the statement timeout and the silence bound on this connection for a long job
    (migrations building an index on a large table); a web request's bounds do not fit it."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    raw.wait_limit = None  # this connection only; the class keeps the bound
    try:
        yield
    finally:
        if not raw.closed:
            del raw.wait_limit
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")


def long_command(handle: Callable[..., Any]) -> Callable[..., Any]:
    """A management command's `handle` that rebuilds or loads whole tables: it runs without
    the statement timeout that bounds a web request (on the default database)."""

    @functools.wraps(handle)
    def run(*args: Any, **kwargs: Any) -> Any:
        with without_timeouts(default_connection):
            return handle(*args, **kwargs)

    return run
