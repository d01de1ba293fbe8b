"""Store connections on the pages: created and edited with each bad field named and what was
typed kept, secrets only as operator-prefixed variable names (never their values), and Test
connection asking the store once under the same address rules as a run."""

from __future__ import annotations

from html import unescape

import pytest

from ordersight.core.actors import Actor
from ordersight.sync import services
from ordersight.sync.models import Feed, StoreConnection
from tests import factories
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db
TOKEN_ENV = "ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST"


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


def _form(**changes: str) -> dict[str, str]:
    return {
        "name": "main",
        "platform": "shopify",
        "shop_url": "https://main.example.com",
        "currency": "EUR",
        "token_env": TOKEN_ENV,
        "webhook_secret_env": "",
        "customer_tag": "b2b",
        "metafield_namespace": "ordersight",
        "refresh_minutes": "10",
        **changes,
    }


def test_a_connection_is_created_with_its_three_feeds_and_says_so(admin):
    response = admin.post("/sync/connections/new/", _form(), follow=True)
    connection = StoreConnection.objects.get(name="main")
    assert connection.token_env == TOKEN_ENV
    assert Feed.objects.filter(connection=connection).count() == 3
    html = response.content.decode()
    assert "Store connection main created" in html
    assert 'data-testid="feed-products"' in html


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("name", "a/b", "no slash"),
        ("name", "New", "the page that adds a connection"),
        ("shop_url", "http://main.example.com", "https"),
        ("shop_url", "https://10.0.0.5", "the store's address"),
        ("token_env", "DATABASE_URL", "ORDERSIGHT_SYNC_"),
        ("webhook_secret_env", "SECRET_KEY", "ORDERSIGHT_SYNC_"),
        ("refresh_minutes", "often", "whole number of minutes"),
        ("refresh_minutes", "0", "1 to 1440"),
        ("currency", "XXX1", "a currency"),
    ],
)
def test_a_bad_field_is_named_and_what_was_typed_is_kept(admin, field, value, says):
    response = admin.post("/sync/connections/new/", _form(**{field: value}))
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    assert says in unescape(html)
    assert 'value="https://main.example.com"' in html or field == "shop_url"
    assert not StoreConnection.objects.exists()


def test_a_taken_name_is_named(admin):
    admin.post("/sync/connections/new/", _form())
    response = admin.post("/sync/connections/new/", _form(shop_url="https://other.example.com"))
    assert response.status_code == 422
    assert 'data-testid="error-name"' in response.content.decode()
    assert 'value="https://other.example.com"' in response.content.decode()


def test_edit_changes_the_settings_but_never_the_name_or_platform(admin):
    admin.post("/sync/connections/new/", _form())
    form = _form(name="renamed", platform="feed", currency="GBP", refresh_minutes="30")
    response = admin.post("/sync/connections/main/edit/", form, follow=True)
    assert "Store connection main saved." in response.content.decode()
    connection = StoreConnection.objects.get()
    assert (connection.name, connection.platform) == ("main", "shopify")
    assert (connection.currency, connection.refresh_minutes) == ("GBP", 30)
    assert connection.is_active is False  # the box was not ticked


def test_edit_with_a_bad_variable_name_saves_nothing(admin):
    admin.post("/sync/connections/new/", _form())
    response = admin.post("/sync/connections/main/edit/", _form(token_env="HOME", currency="GBP"))
    assert response.status_code == 422
    assert 'data-testid="error-token_env"' in response.content.decode()
    assert 'value="HOME"' in response.content.decode()
    assert StoreConnection.objects.get().currency == "EUR"


def test_the_page_names_the_variable_and_never_shows_the_secret(admin, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "shpat_very_secret_value")
    admin.post("/sync/connections/new/", _form())
    html = admin.get("/sync/connections/main/").content.decode()
    assert TOKEN_ENV in html and "set on the server" in html
    assert "shpat_very_secret_value" not in html
    html = admin.get("/sync/connections/main/edit/").content.decode()
    assert "shpat_very_secret_value" not in html


def test_the_service_refuses_to_change_name_or_platform():
    connection = services.create_connection(
        actor=Actor.system(), name="main", shop_url="https://main.example.com"
    )
    with pytest.raises(services.Invalid) as refused:
        services.update_connection(
            connection=connection, changes={"name": "x", "platform": "feed"}, actor=Actor.system()
        )
    assert refused.value.fields == {"name": "cannot be changed", "platform": "cannot be changed"}


def test_test_connection_says_the_store_answered(admin, shop, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    StoreConnection.objects.create(
        name="main", platform="shopify", shop_url=shop.url, token_env=TOKEN_ENV
    )
    response = admin.post("/sync/connections/main/test/", follow=True)
    assert "main: connected; the store answered and counts 0 products." in (
        response.content.decode()
    )
    assert len(shop.store.requests) == 1


def test_test_connection_with_a_wrong_token_says_what_the_store_answered(admin, shop, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "wrong")
    StoreConnection.objects.create(
        name="main", platform="shopify", shop_url=shop.url, token_env=TOKEN_ENV
    )
    response = admin.post("/sync/connections/main/test/", follow=True)
    assert "main: the connection failed; the store answered 401." in response.content.decode()


def test_test_connection_asks_once_without_retrying_a_failing_store(admin, shop, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    StoreConnection.objects.create(
        name="main", platform="shopify", shop_url=shop.url, token_env=TOKEN_ENV
    )
    shop.store.fail_next(5)
    response = admin.post("/sync/connections/main/test/", follow=True)
    assert "the store answered 500" in response.content.decode()
    assert len(shop.store.requests) == 1


def test_test_connection_refuses_a_private_address_unless_allowed(admin, settings):
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True
    StoreConnection.objects.create(name="main", platform="feed", shop_url="http://127.0.0.1:9/feed")
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = False
    response = admin.post("/sync/connections/main/test/", follow=True)
    html = response.content.decode()
    assert "main: the connection failed; the store&#x27;s address is refused" in html


def test_test_connection_of_a_feed_names_the_files_it_found(admin, settings, tmp_path):
    settings.SYNC_FILE_ROOT = str(tmp_path)
    (tmp_path / "customers.jsonl").write_text("")
    services.create_connection(
        actor=Actor.system(), name="files", platform="feed", shop_url=tmp_path.as_uri()
    )
    response = admin.post("/sync/connections/files/test/", follow=True)
    assert "files: connected; the feed answered with files for customers." in (
        response.content.decode()
    )
