"""Idempotency-Key on POSTs: stored first response, replay, mismatch, expiry, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ordersight.core.models import IdempotencyRecord
from ordersight.core.tasks import purge_expired_records
from ordersight.orders.models import Order
from tests.conftest import ApiClient

BODY = {"lines": [{"sku": "TEE-M"}]}


def _post(api, key: str, body=BODY):
    return api.post("orders", body, headers={"Idempotency-Key": key})


def test_same_key_replays_the_first_response(api, catalog):
    first = _post(api, "k-1")
    again = _post(api, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_422(api, catalog):
    _post(api, "k-1")
    r = _post(api, "k-1", {"lines": [{"sku": "TEE-L"}]})
    assert r.status_code == 422
    assert "Idempotency-Key" in r.json()["error"]["fields"]
    assert Order.objects.count() == 1


def test_other_keys_and_no_key_do_new_work(api, catalog):
    _post(api, "k-1")
    _post(api, "k-2")
    api.post("orders", BODY)
    assert Order.objects.count() == 3


def test_keys_belong_to_their_caller(api, catalog, write_token):
    from ordersight.accounts.services import create_api_key

    other = ApiClient(create_api_key(name="other", scopes="read,write")[1])
    _post(api, "shared")
    _post(other, "shared")
    assert Order.objects.count() == 2


def test_a_rejected_request_is_replayed_as_rejected(api, catalog):
    bad = {"lines": [{"sku": "NOPE"}]}
    first = _post(api, "k-bad", bad)
    again = _post(api, "k-bad", bad)
    assert first.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"


def test_auth_failures_do_not_use_up_the_key(catalog, read_token, write_token):
    assert _post(ApiClient(read_token), "k-1").status_code == 403
    assert _post(ApiClient(write_token), "k-1").status_code == 201


def test_replay_expires_after_24_hours(api, catalog):
    _post(api, "k-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    r = _post(api, "k-1")
    assert r.status_code == 201 and not r.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 2


def test_purge_removes_only_expired_records(api, catalog):
    _post(api, "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    _post(api, "new")
    assert purge_expired_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_overlong_key_is_rejected(api, catalog):
    r = _post(api, "k" * 300)
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["error"]["fields"]
    assert Order.objects.count() == 0


def test_key_also_guards_transitions(api, catalog):
    number = api.post("orders", BODY).json()["number"]
    path = f"orders/{number}/cancel"
    first = api.post(path, headers={"Idempotency-Key": "c-1"})
    again = api.post(path, headers={"Idempotency-Key": "c-1"})
    assert first.status_code == again.status_code == 200  # not a 409 the second time


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_create_one_order(write_token, catalog):
    def send(_):
        try:
            r = _post(ApiClient(write_token), "concurrent-key")
            return r.status_code, r.json()["number"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))
    assert {code for code, _ in results} == {201}
    assert len({number for _, number in results}) == 1
    assert Order.objects.count() == 1


def test_periodic_task_purges_expired_records(api, catalog):
    from ordersight.core.tasks import purge_idempotency_records

    _post(api, "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=30))
    assert purge_idempotency_records.call_local() == 1
