"""Live updates: messages only after commit, across processes on PostgreSQL, out over SSE."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import AsyncClient

from ordersight.core import live
from tests import factories


def _collect():
    received: list[dict] = []
    arrived = threading.Event()

    def listener(channel, message):
        received.append({"channel": channel, **message})
        arrived.set()

    return received, arrived, live.subscribe(listener)


@pytest.mark.django_db(transaction=True)
def test_messages_arrive_after_commit_and_never_after_rollback():
    live.start_listening()  # PostgreSQL: LISTEN in a thread; SQLite: nothing to start
    received, arrived, unsubscribe = _collect()
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            live.publish_after_commit("orders", {"order": 1, "event": "rolled back"})
            raise RuntimeError
        with transaction.atomic():
            live.publish_after_commit("orders", {"order": 2, "event": "kept"})
            assert not arrived.wait(0.3), "delivered before the commit"
        assert arrived.wait(5)
        assert [m["event"] for m in received] == ["kept"]
    finally:
        unsubscribe()


@pytest.mark.django_db(transaction=True)
def test_an_event_saved_with_its_notice_is_stored_and_announced_after_commit():
    from ordersight.core.actors import Actor
    from ordersight.orders.events import record_event
    from ordersight.orders.models import OrderEvent, OrderEventKind

    order = factories.OrderFactory()
    live.start_listening()
    received, arrived, unsubscribe = _collect()
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            record_event(order, OrderEventKind.UPDATED, Actor.system(), note="gone")
            raise RuntimeError
        with transaction.atomic():
            event = record_event(order, OrderEventKind.UPDATED, Actor.system(), note="kept")
            assert not arrived.wait(0.3), "delivered before the commit"
        assert arrived.wait(5)
        stored = OrderEvent.objects.get(pk=event.pk)
        assert stored.payload == {"note": "kept"} and stored.created_at == event.created_at
        assert list(OrderEvent.objects.filter(order=order).values_list("payload", flat=True)) == [
            {"note": "kept"}
        ]
        assert [(m["order"], m["event"]) for m in received] == [(order.number, "updated")]
    finally:
        unsubscribe()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_write_in_another_process_reaches_this_one():
    import os
    import subprocess
    import sys

    live.start_listening()
    received, arrived, unsubscribe = _collect()
    code = (
        "import django; django.setup(); from ordersight.core import live; "
        "live.publish_after_commit('orders', {'order': 7, 'event': 'from afar'})"
    )
    from django.db import connection

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="ordersight.settings",
        DATABASE_URL=os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        + "/"
        + connection.settings_dict["NAME"],
    )
    try:
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
        assert arrived.wait(5)
        assert received[0]["event"] == "from afar"
    finally:
        unsubscribe()


@pytest.mark.django_db(transaction=True)
def test_sse_stream_sends_order_events_for_signed_in_staff(roles):
    user = factories.UserFactory(username="watcher")
    user.groups.add(roles["Viewer"])

    async def run():
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get("/live/?order=42")
        assert response["Content-Type"] == "text/event-stream"
        chunks = response.streaming_content.__aiter__()
        first = await chunks.__anext__()
        live.publish("orders", {"order": 41, "event": "other order"})
        live.publish("orders", {"order": 42, "event": "status_changed"})
        second = await asyncio.wait_for(chunks.__anext__(), 5)
        await chunks.aclose()
        return first, second

    first, second = async_to_sync(run)()
    first = first.decode() if isinstance(first, bytes) else first
    second = second.decode() if isinstance(second, bytes) else second
    assert first.startswith("retry:")
    event, data = second.strip().split("\n")
    assert event == "event: orders"
    assert json.loads(data.removeprefix("data: ")) == {"order": 42, "event": "status_changed"}


@pytest.mark.django_db
def test_sse_stream_refuses_anonymous_visitors():
    async def run():
        return (await AsyncClient().get("/live/")).status_code

    assert async_to_sync(run)() == 401
