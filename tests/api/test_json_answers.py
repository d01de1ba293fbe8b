"""How the API writes JSON: orjson, with moments in the API's form, and whatever a store put
in metadata written back as it came, integers past 64 bits included."""

from __future__ import annotations

import json
import re

import pytest

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
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", order["created_at"])


def test_an_answer_is_compact_utf8_with_moments_to_the_millisecond(api, catalog):
    created = api.post("orders", {"lines": [{"sku": "TEE-M"}], "notes": "Zoë"})
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json; charset=utf-8"
    assert '"notes":"Zoë"' in created.content.decode("utf-8")
    moment = json.loads(created.content)["created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", moment)
