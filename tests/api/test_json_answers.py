"""How the API writes JSON: orjson, with moments whole (to the microsecond, "Z" for UTC), and
whatever a store put in metadata written back as it came, integers past 64 bits included."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from ordersight.api.lists import json_bytes
from ordersight.orders.models import Order

pytestmark = pytest.mark.django_db


def test_metadata_with_integers_past_64_bits_is_answered_as_sent(api, catalog):
    metadata = {"erp_id": 10**30, "negative": -(2**70), "name": "Zoë", "plain": 7}
    created = api.post("orders", {"lines": [{"sku": "TEE-M"}], "metadata": metadata})
    assert created.status_code == 201, created.content
    number = json.loads(created.content)["number"]
    for answer in (created, api.get(f"orders/{number}"), api.get("orders", limit=5)):
        assert answer.status_code == 200 or answer.status_code == 201
        body = json.loads(answer.content)
        order = (
            body if "number" in body else next(o for o in body["items"] if o["number"] == number)
        )
        assert order["metadata"] == metadata
        # Written by the standard encoder (orjson stops at 64 bits) in the same form.
        assert order["created_at"] == _stored_moment(number)


def _stored_moment(number: int) -> str:
    created_at = Order.objects.get(number=number).created_at
    assert created_at.tzinfo is not None and created_at.utcoffset() == timedelta(0)
    return created_at.replace(tzinfo=None).isoformat() + "Z"


def test_an_answer_is_compact_utf8_with_moments_whole(api, catalog):
    created = api.post("orders", {"lines": [{"sku": "TEE-M"}], "notes": "Zoë"})
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json; charset=utf-8"
    assert '"notes":"Zoë"' in created.content.decode("utf-8")
    number = json.loads(created.content)["number"]
    # The moment as stored, so a client can compare two moments exactly.
    for answer in (created, api.get(f"orders/{number}"), api.get("orders", limit=5)):
        body = json.loads(answer.content)
        order = body["items"][0] if "items" in body else body
        assert order["number"] == number
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", order["created_at"])
        assert order["created_at"] == _stored_moment(number)


def test_moments_are_written_alike_by_either_encoder():
    moment = datetime(2026, 12, 5, 17, 0, 0, 123456, tzinfo=UTC)
    values = {"at": moment, "whole_second": moment.replace(microsecond=0), "day": moment.date()}
    expected = '{"at":"2026-12-05T17:00:00.123456Z","whole_second":"2026-12-05T17:00:00Z",'
    expected += '"day":"2026-12-05"'
    assert json_bytes(values).decode() == expected + "}"
    # Past 64 bits the standard encoder writes the answer: the moments stay as they were.
    assert json_bytes({**values, "big": 2**70}).decode() == expected + f',"big":{2**70}}}'


class _Moment(datetime):
    """A subclass of datetime, as some libraries make (orjson leaves them to Python)."""


def test_a_subclass_of_datetime_is_written_as_a_moment():
    plain = datetime(2026, 12, 5, 17, 0, 0, 123456, tzinfo=UTC)
    subclassed = _Moment(2026, 12, 5, 17, 0, 0, 123456, tzinfo=UTC)
    assert json_bytes({"at": subclassed}) == json_bytes({"at": plain})
    assert json_bytes({"at": subclassed, "big": 2**70}) == json_bytes({"at": plain, "big": 2**70})
