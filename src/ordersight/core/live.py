"""Live updates: services publish after commit; SSE streams deliver to open pages.

On SQLite one process serves everything, so an in-process bus is enough. On PostgreSQL
several processes (web servers, the worker) write, so messages travel by NOTIFY, which
PostgreSQL delivers only when the writing transaction commits; each web process LISTENs
and hands what arrives to its own subscribers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, router, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
PG_CHANNEL = "ordersight_live"

_listeners: list[Listener] = []
_lock = threading.Lock()
_pg_thread: threading.Thread | None = None


def subscribe(listener: Listener) -> Callable[[], None]:
    """Register a listener for every message; returns the function that unsubscribes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def publish(channel: str, message: dict[str, Any]) -> None:
    """Deliver to this process's subscribers now."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(channel, message)
        except Exception:  # one broken page must not stop the others
            logger.exception("live listener failed")


def publish_after_commit(channel: str, message: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits, so nobody sees a rolled-back change."""
    if connection.vendor == "postgresql":
        payload = json.dumps({"channel": channel, "message": message}, default=str)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, payload])
    else:
        transaction.on_commit(lambda: publish(channel, message))


def save_and_publish(instance: Model, channel: str, message: dict[str, Any]) -> None:
    """Insert a new row and publish `message` after commit, as `save()` and
    `publish_after_commit` would; on PostgreSQL in one statement (a round trip less for
    every order moment: an event is recorded with its live notice).

    For new rows of models saved by no logic of their own (no save() override, no signal
    receivers, no parent model): an event row. The insert is Django's own, with defaults
    and `auto_now` values; the values the database returns (the id) are set after it.
    """
    meta = instance._meta
    if meta.parents or not instance._state.adding:
        raise ValueError("save_and_publish inserts new rows of models without parents")
    using = router.db_for_write(type(instance))
    if connection.vendor != "postgresql" or using != connection.alias:
        instance.save()
        publish_after_commit(channel, message)
        return
    instance._prepare_related_fields_for_save(operation_name="save")
    query = InsertQuery(type(instance))
    query.insert_values(
        [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field],
        [instance],
    )
    compiler = query.get_compiler(using=using)
    returning = meta.db_returning_fields
    compiler.returning_fields = returning
    [(insert, params)] = compiler.as_sql()
    payload = json.dumps({"channel": channel, "message": message}, default=str)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH saved AS ({insert}) SELECT saved.*, pg_notify(%s, %s) FROM saved",
            [*params, PG_CHANNEL, payload],
        )
        returned = cursor.fetchone()[: len(returning)]  # then pg_notify's empty answer
    for field, value in zip(returning, returned, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using


_stop = threading.Event()


def _listen(params: dict[str, Any]) -> None:
    import psycopg

    while not _stop.is_set():
        try:
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(f"LISTEN {PG_CHANNEL}")
                while not _stop.is_set():
                    # Wake up every second to notice a stop request.
                    for notify in conn.notifies(timeout=1.0):
                        data = json.loads(notify.payload)
                        publish(data["channel"], data["message"])
        except Exception:
            logger.exception("live listener lost its PostgreSQL connection; reconnecting")
            time.sleep(1)


def start_listening() -> None:
    """On PostgreSQL, start (once per process) the thread that turns NOTIFY into messages."""
    global _pg_thread
    if connection.vendor != "postgresql":
        return
    with _lock:
        if _pg_thread is not None and _pg_thread.is_alive():
            return
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("prepare_threshold", None)
        _stop.clear()
        _pg_thread = threading.Thread(
            target=_listen, args=(params,), daemon=True, name="ordersight-live-listener"
        )
        _pg_thread.start()


def stop_listening() -> None:
    """Stop the NOTIFY listener and close its connection (tests, shutdown)."""
    global _pg_thread
    _stop.set()
    if _pg_thread is not None:
        _pg_thread.join(timeout=5)
        _pg_thread = None
