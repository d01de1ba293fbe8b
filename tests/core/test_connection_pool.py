"""PostgreSQL connections stay bounded by the pool under concurrent requests."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

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
