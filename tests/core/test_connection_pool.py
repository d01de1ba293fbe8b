"""PostgreSQL connections stay bounded by the pool under concurrent requests."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from ordersight.core.pg_connection import bounded_connection_class

pytestmark = pytest.mark.postgres_only


def _connections_to(dbname: str, params: dict) -> int:
    with psycopg.connect(**params, autocommit=True) as monitor:
        return monitor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND query NOT LIKE 'LISTEN%%'",
            [dbname],
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_request_threads_share_a_bounded_pool():
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] == settings.DB_POOL_MAX
    dbname = connection.settings_dict["NAME"]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    threads_count = settings.DB_POOL_MAX * 4
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def request_thread() -> None:
        # What a request does: take a connection, query, hand it back at the end.
        try:
            start.wait()
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.2)")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request_thread) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    peak = 0
    while any(t.is_alive() for t in threads):
        peak = max(peak, _connections_to(dbname, params))
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert 0 < peak <= settings.DB_POOL_MAX


@pytest.mark.django_db
def test_each_connection_has_the_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DB_STATEMENT_TIMEOUT:g}s"


@pytest.mark.django_db
def test_a_server_that_does_not_answer_in_time_is_given_up_and_the_connection_closed():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    conn = bounded_connection_class(0.5).connect(**params, autocommit=True)
    conn.execute("SET statement_timeout = 0")  # the server would wait: only the client gives up
    backend = conn.info.backend_pid
    try:
        with pytest.raises(psycopg.OperationalError, match=r"did not answer within 0\.5 s"):
            conn.execute("SELECT pg_sleep(5)")
        assert conn.closed
    finally:
        # The server is still sleeping for the client that left; other tests count backends.
        with psycopg.connect(**params, autocommit=True) as monitor:
            monitor.execute("SELECT pg_terminate_backend(%s)", [backend])


@pytest.mark.django_db
def test_migrations_run_without_the_statement_timeout(monkeypatch):
    # An index built on a large orders table may take minutes; `serve` migrates first.
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    seen = {}
    migrate = MigrationExecutor.migrate

    def watched(self, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen["statement_timeout"] = cursor.fetchone()[0]
        seen["wait_limit"] = connection.connection.wait_limit
        return migrate(self, *args, **kwargs)

    monkeypatch.setattr(MigrationExecutor, "migrate", watched)
    call_command("migrate", verbosity=0)
    assert seen == {"statement_timeout": "0", "wait_limit": None}
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DB_STATEMENT_TIMEOUT:g}s"
    assert connection.connection.wait_limit == settings.DB_STATEMENT_TIMEOUT + 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "module", "work"),
    [
        (
            ["reports", "rebuild"],
            "ordersight.reports.management.commands.reports",
            "rebuild_rollups",
        ),
        (
            ["promotions", "rebuild-figures"],
            "ordersight.promotions.management.commands.promotions",
            "rebuild_figures",
        ),
    ],
)
def test_rebuild_commands_run_without_the_statement_timeout(monkeypatch, command, module, work):
    # A rebuild reads every order in a few statements; at millions of orders they outlast a
    # web request's bound.
    import importlib

    from django.core.management import call_command

    seen = {}

    def watched(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen["statement_timeout"] = cursor.fetchone()[0]
        return 0

    monkeypatch.setattr(importlib.import_module(module), work, watched)
    call_command(*command)
    assert seen == {"statement_timeout": "0"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DB_STATEMENT_TIMEOUT:g}s"


@pytest.mark.django_db
def test_timestamps_read_through_the_compiled_parser_are_djangos():
    from datetime import UTC, datetime, timedelta

    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
    from psycopg.pq import Format

    from ordersight.core.pg_connection import TIMESTAMPTZ, QuickTimestampLoader

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert issubclass(loader, QuickTimestampLoader)
    assert loader.timezone is connection.timezone  # Django reads the zone back from it
    moments = [
        datetime(2026, 12, 4, 9, 30, 1, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # a DST change in Europe
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 7, 1, 12, 0, tzinfo=UTC) + timedelta(microseconds=1),
    ]
    with connection.cursor() as cursor:
        read = []
        for moment in moments:
            cursor.execute("SELECT %s::timestamptz", [moment])
            read.append(cursor.fetchone()[0])
    assert read == moments
    assert all(value.tzinfo is connection.timezone for value in read)
    # As Django's own loader would give them (it too keeps the clock and puts its zone on).
    djangos = type("Djangos", (BaseTzLoader,), {"timezone": connection.timezone})(TIMESTAMPTZ)
    ours = loader(TIMESTAMPTZ)
    for text in (b"2026-12-04 09:30:01.123456+00", b"2026-12-04 15:00:01+05:30"):
        assert ours.load(text) == djangos.load(text)
        assert ours.load(text).tzinfo is djangos.load(text).tzinfo
