"""API keys: hashed at rest, shown once, scoped, revocable, last use recorded; roles."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ordersight.accounts.models import ApiKey
from ordersight.accounts.roles import ROLES
from ordersight.accounts.services import create_api_key, revoke_api_key
from ordersight.orders.models import Order
from tests import factories
from tests.conftest import ApiClient


def test_key_is_stored_hashed_never_in_clear(db):
    key, token = create_api_key(name="shop", scopes="read")
    assert token not in str(ApiKey.objects.values().get())
    secret = token.split("_", 2)[2]
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_write_scope_implies_read(db):
    key, _ = create_api_key(name="w", scopes="write")
    assert key.scopes == ["read", "write"]


def test_unknown_scope_is_refused(db):
    from ordersight.core.errors import Invalid

    with pytest.raises(Invalid) as err:
        create_api_key(name="x", scopes="read,admin")
    assert "scopes" in err.value.fields


def test_request_without_credentials_is_401(db):
    r = ApiClient().get("orders")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


def test_wrong_token_is_401(db):
    assert ApiClient("os_abc_def").get("orders").status_code == 401
    _, token = create_api_key(name="k", scopes="read")
    assert ApiClient(token + "x").get("orders").status_code == 401


def test_read_key_reads_but_cannot_write(read_api, catalog):
    assert read_api.get("orders").status_code == 200
    r = read_api.post("orders", {"lines": [{"sku": "TEE-M"}]})
    assert r.status_code == 403
    assert "write" in r.json()["error"]["message"]
    assert Order.objects.count() == 0


def test_revoked_key_stops_working(db):
    key, token = create_api_key(name="k", scopes="read")
    client = ApiClient(token)
    assert client.get("orders").status_code == 200
    revoke_api_key(prefix=key.prefix)
    assert client.get("orders").status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(db, monkeypatch):
    key, token = create_api_key(name="k", scopes="read")
    assert key.last_used_at is None
    ApiClient(token).get("orders")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    ApiClient(token).get("orders")
    key.refresh_from_db()
    assert key.last_used_at == first
    later = first + timedelta(minutes=5)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    ApiClient(token).get("orders")
    key.refresh_from_db()
    assert key.last_used_at == later


def test_a_key_used_in_another_process_meanwhile_is_not_stamped_twice(db, monkeypatch):
    key, token = create_api_key(name="k", scopes="read")
    ApiClient(token).get("orders")
    # Another web process stamped it since this one read the key: this one leaves it.
    stamped = timezone.now() + timedelta(minutes=2)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=stamped)
    monkeypatch.setattr("django.utils.timezone.now", lambda: stamped + timedelta(seconds=30))
    ApiClient(token).get("orders")
    key.refresh_from_db()
    assert key.last_used_at == stamped


def _clock_moved(monkeypatch, seconds: float) -> None:
    import time

    from ordersight.accounts import services

    now = time.monotonic() + seconds
    monkeypatch.setattr(services.time, "monotonic", lambda: now)


def test_a_key_revoked_elsewhere_is_refused_within_the_cache_bound(db, monkeypatch):
    from ordersight.accounts.services import KEY_CACHE_SECONDS

    key, token = create_api_key(name="k", scopes="read")
    client = ApiClient(token)
    assert client.get("orders").status_code == 200
    # Revoked by another process (the shell command on another machine): this process
    # reads the key again once its copy is KEY_CACHE_SECONDS old.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    _clock_moved(monkeypatch, KEY_CACHE_SECONDS)
    assert client.get("orders").status_code == 401


def test_a_known_key_is_not_read_again_on_every_request(db, django_assert_num_queries):
    _, token = create_api_key(name="k", scopes="read")
    client = ApiClient(token)
    client.get("orders")
    with django_assert_num_queries(1):  # the page of orders alone: none for the key
        client.get("orders")


def test_command_creates_lists_and_revokes(db):
    out = StringIO()
    call_command("apikey", "create", "--name", "storefront", "--scopes", "read,write", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert ApiClient(token).get("orders").status_code == 200
    key = ApiKey.objects.get(name="storefront")
    listing = StringIO()
    call_command("apikey", "list", stdout=listing)
    assert key.prefix in listing.getvalue() and token not in listing.getvalue()
    call_command("apikey", "revoke", key.prefix, stdout=StringIO())
    assert ApiClient(token).get("orders").status_code == 401


def test_command_rejects_bad_scopes(db):
    with pytest.raises(CommandError):
        call_command("apikey", "create", "--name", "x", "--scopes", "root", stdout=StringIO())


def test_admin_creates_a_key_and_shows_the_token_once(admin_client):
    r = admin_client.post(
        "/admin/accounts/apikey/add/",
        {"name": "from admin", "scope_choices": ["read", "write"]},
        follow=True,
    )
    assert r.status_code == 200
    messages = [str(m) for m in r.context["messages"]]
    token = next(m for m in messages if "shown once" in m).rsplit(" ", 1)[-1]
    assert ApiClient(token).get("orders").status_code == 200
    key = ApiKey.objects.get(name="from admin")
    detail = admin_client.get(f"/admin/accounts/apikey/{key.pk}/change/")
    assert token not in detail.content.decode()


def test_admin_revoke_action(admin_client):
    key, token = create_api_key(name="k", scopes="read")
    admin_client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert ApiClient(token).get("orders").status_code == 401


def test_the_four_roles_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    viewer = Group.objects.get(name="Viewer").permissions.values_list("codename", flat=True)
    assert "view_order" in viewer and "change_order" not in viewer
    manager = Group.objects.get(name="Sales manager").permissions
    assert manager.filter(codename="add_order").exists()
    assert not manager.filter(codename="manage_sales_attribution").exists()
    assert (
        Group.objects.get(name="Admin")
        .permissions.filter(
            codename="manage_sales_attribution", name="Can manage auto sales and generated sales"
        )
        .exists()
    )


def _session(client, role_name: str, roles):
    user = factories.UserFactory(username=role_name.lower().replace(" ", "_"))
    user.groups.add(roles[role_name])
    client.force_login(user)
    return user


def test_viewer_session_reads_but_cannot_write(client, roles, catalog):
    _session(client, "Viewer", roles)
    assert client.get("/api/v1/orders").status_code == 200
    r = client.post(
        "/api/v1/orders", {"lines": [{"sku": "TEE-M"}]}, content_type="application/json"
    )
    assert r.status_code == 403
    assert r.json()["error"]["fields"] == {"permission": "orders.add_order"}
    assert Order.objects.count() == 0


def test_sales_manager_session_creates_orders_and_is_the_actor(client, roles, catalog):
    user = _session(client, "Sales manager", roles)
    r = client.post(
        "/api/v1/orders", {"lines": [{"sku": "TEE-M"}]}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    event = client.get(f"/api/v1/orders/{r.json()['number']}/events").json()[0]
    assert (event["actor_type"], event["actor"]) == ("user", user.username)


def test_session_writes_need_the_csrf_token(roles, catalog):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    _session(client, "Admin", roles)
    r = client.post(
        "/api/v1/orders", {"lines": [{"sku": "TEE-M"}]}, content_type="application/json"
    )
    assert r.status_code in (401, 403)
    assert Order.objects.count() == 0
