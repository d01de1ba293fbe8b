"""The database or Redis killed, paused and restarted under load: 503s, never a hang or a 500.

The app runs as in production (uvicorn, DEBUG off) against a PostgreSQL cluster and a Redis
of its own, which the tests stop and start while clients place orders, invoice them, list
them and open a page. The app itself is never restarted.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.faults.conftest import BOUND, Answer, App, Load, api, page

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def _assert_answered_well(load: Load) -> None:
    """Every request answered within the bound; 503s where the others would have failed."""
    assert not load.errors, load.errors[:3]
    assert load.answers
    slow = [(a.kind, a.status, round(a.elapsed, 1)) for a in load.answers if a.elapsed > BOUND]
    assert not slow, slow
    statuses = {a.status for a in load.answers}
    assert statuses <= {200, 201, 503}, [
        (a.kind, a.status, a.body[:300]) for a in load.answers if a.status not in (200, 201, 503)
    ]
    for answer in load.answers:
        if answer.kind == "api":
            assert answer.is_json, (answer.status, answer.content_type, answer.body[:200])
        if answer.status == 503:
            _assert_is_a_503(answer)


def _assert_is_a_503(answer: Answer) -> None:
    assert answer.headers.get("retry-after", "").isdigit(), answer.headers
    if answer.kind == "api":
        assert json.loads(answer.body)["error"]["code"] == "unavailable"
    else:
        assert answer.content_type.startswith("text/html"), answer.content_type
        # The site's own page, styled like the others, not a bare server error.
        assert b'data-testid="unavailable"' in answer.body
        assert b"tabler.min.css" in answer.body


def _back_within(app: App, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if api(app, "GET", "orders?limit=1").status == 200 and page(app, "/orders/").status == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"the app did not answer again within {seconds} s of the restart")


def test_redis_killed_then_paused_lets_every_api_call_through(app: App, servers):
    _, redis = servers
    with Load(app) as load:
        time.sleep(1)
        redis.kill()
        time.sleep(4)
        redis.start()
        time.sleep(1)
        redis.pause()
        time.sleep(4)
        redis.resume()
        time.sleep(1)
    _assert_answered_well(load)
    # The rate limiter lets requests through uncounted rather than refusing them.
    assert {a.status for a in load.answers if a.kind == "api"} <= {200, 201}


def test_database_paused_answers_503_within_the_bound_and_resumes(app: App, servers):
    postgres, _ = servers
    with Load(app) as load:
        time.sleep(1)
        postgres.pause()
        paused_at = time.monotonic()
        time.sleep(BOUND + 6)
        resumed_at = time.monotonic()
        postgres.resume()
        time.sleep(2)
    _assert_answered_well(load)
    during = [a for a in load.answers if paused_at + BOUND < a.started + a.elapsed < resumed_at]
    assert {a.status for a in during} == {503}, {a.status for a in during}
    assert {a.kind for a in during} == {"api", "page"}
    _back_within(app, 10)


def test_database_killed_answers_503_and_is_used_again_once_restarted(app: App, servers):
    postgres, _ = servers
    pid = app.process.pid
    with Load(app) as load:
        time.sleep(1)
        postgres.kill()
        time.sleep(4)
        postgres.start()
        _back_within(app, 10)
    _assert_answered_well(load)
    assert 503 in {a.status for a in load.answers}
    assert app.process.poll() is None and app.process.pid == pid


def test_no_order_is_left_half_written(app: App, servers):
    # Runs after the outages above: each order was stored whole or not at all.
    assert app.rows("SELECT count(*) FROM orders_order") != [(0,)]
    assert (
        app.rows(
            "SELECT o.number FROM orders_order o WHERE NOT EXISTS "
            "(SELECT 1 FROM orders_orderline l WHERE l.order_id = o.id)"
        )
        == []
    )
    assert (
        app.rows(
            "SELECT i.number FROM payments_invoice i WHERE NOT EXISTS "
            "(SELECT 1 FROM orders_order o WHERE o.id = i.order_id)"
        )
        == []
    )
