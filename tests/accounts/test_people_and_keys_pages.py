"""Users and roles, and API keys, on the pages: an Owner invites with a role and gets a
set-password link, changes roles, deactivates; an Admin makes keys (the token shown once)
that may do no more than the Admin may, and revokes them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ordersight.accounts.models import ApiKey
from ordersight.accounts.services import authenticate_api_key, forget_api_keys, role_of
from tests import factories

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def owner(roles):
    return factories.signed_in(roles, "Owner", "olga")


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


def _html(response) -> str:
    return unescape(response.content.decode())


def _invite(client, **changes):
    form = {"username": "ana", "email": "ana@example.com", "role": "Sales manager", **changes}
    return client.post("/settings/users/invite/", form, follow=True)


def test_an_invited_user_sets_a_password_with_the_link_and_signs_in(owner):
    page = _html(_invite(owner, first_name="Ana"))
    assert "ana invited as Sales manager" in page
    link = re.search(r'id="shown-once-value" value="([^"]+)"', page).group(1)
    ana = User.objects.get(username="ana")
    assert role_of(user=ana) == "Sales manager" and not ana.has_usable_password()
    # Shown once: the next visit has no link.
    assert 'data-testid="shown-once"' not in owner.get("/settings/users/").content.decode()

    visitor = Client()
    form_page = visitor.get(link, follow=True)
    assert "Choose your password" in _html(form_page)
    done = visitor.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-pass-phrase-9", "new_password2": "a-long-pass-phrase-9"},
        follow=True,
    )
    assert "Your password is set." in _html(done)
    signed_in = visitor.post("/login/", {"username": "ana", "password": "a-long-pass-phrase-9"})
    assert signed_in.status_code == 302 and "/login/" not in signed_in["Location"]
    spent = Client().get(link, follow=True)
    assert "This link no longer works" in _html(spent)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "ana smith"}, "username"),
        ({"email": "not-an-address"}, "email"),
        ({"role": "Superhero"}, "role"),
        ({"first_name": "x" * 151}, "first_name"),
    ],
)
def test_a_bad_invitation_is_named_kept_and_creates_nobody(owner, changes, field):
    response = owner.post(
        "/settings/users/invite/",
        {"username": "ana", "email": "ana@example.com", "role": "Viewer", **changes},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    if field != "email":
        assert 'value="ana@example.com"' in html
    assert not User.objects.filter(username__in=["ana", "ana smith", ""]).exists()


def test_a_taken_username_is_named(owner):
    _invite(owner)
    response = owner.post(
        "/settings/users/invite/", {"username": "ANA", "email": "b@example.com", "role": "Viewer"}
    )
    assert response.status_code == 422
    assert 'data-testid="error-username"' in response.content.decode()


def test_the_role_is_changed_and_a_user_deactivated_and_reactivated(owner):
    _invite(owner)
    ana = User.objects.get(username="ana")
    done = owner.post(f"/settings/users/{ana.pk}/role/", {"role": "Admin"}, follow=True)
    assert "ana is now Admin." in _html(done)
    ana.refresh_from_db()
    assert role_of(user=ana) == "Admin" and ana.groups.count() == 1
    done = owner.post(f"/settings/users/{ana.pk}/deactivate/", follow=True)
    assert "ana is deactivated" in _html(done)
    ana.refresh_from_db()
    assert not ana.is_active
    owner.post(f"/settings/users/{ana.pk}/reactivate/")
    ana.refresh_from_db()
    assert ana.is_active


def test_an_unknown_role_is_named_and_nothing_changes(owner):
    _invite(owner)
    ana = User.objects.get(username="ana")
    done = owner.post(f"/settings/users/{ana.pk}/role/", {"role": "God"}, follow=True)
    assert "ana was not changed: Unknown role 'God'." in _html(done)
    ana.refresh_from_db()
    assert role_of(user=ana) == "Sales manager"


def test_an_owner_cannot_demote_or_deactivate_themselves(owner, roles):
    me = owner.user
    done = _html(owner.post(f"/settings/users/{me.pk}/deactivate/", follow=True))
    assert "You cannot deactivate yourself" in done
    done = _html(owner.post(f"/settings/users/{me.pk}/role/", {"role": "Viewer"}, follow=True))
    assert "You cannot change the role of yourself" in done
    me.refresh_from_db()
    assert me.is_active and role_of(user=me) == "Owner"
    # Another Owner may be made a Viewer while one remains.
    other = User.objects.create_user(username="oscar")
    other.groups.add(roles["Owner"])
    owner.post(f"/settings/users/{other.pk}/role/", {"role": "Viewer"})
    assert role_of(user=User.objects.get(pk=other.pk)) == "Viewer"


def test_the_only_owner_cannot_be_deactivated_by_another_user(roles):
    olga = User.objects.create_user(username="olga")
    olga.groups.add(roles["Owner"])
    # A user with the permission but not an Owner (a custom grant) still may not.
    from django.contrib.auth.models import Permission

    helper = factories.signed_in(roles, None, "helper")
    helper.user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    done = _html(helper.post(f"/settings/users/{olga.pk}/deactivate/", follow=True))
    assert "olga is the only active Owner" in done
    assert User.objects.get(pk=olga.pk).is_active


def test_an_admin_may_not_manage_people(admin, roles):
    assert admin.get("/settings/users/").status_code == 403
    refused = admin.post(
        "/settings/users/invite/", {"username": "x", "email": "x@example.com", "role": "Owner"}
    )
    assert refused.status_code == 403 and "auth.add_user" in refused.content.decode()
    settings_page = admin.get("/settings/").content.decode()
    assert 'data-testid="settings-users"' not in settings_page
    assert 'data-testid="settings-api-keys"' in settings_page


# --- API keys --------------------------------------------------------------------------------


def test_a_key_is_created_its_token_shown_once_and_it_works_until_revoked(admin):
    done = _html(
        admin.post(
            "/settings/api-keys/new/",
            {
                "name": "Storefront",
                "scopes": ["read", "write"],
                "permissions": ["orders.add_order"],
            },
            follow=True,
        )
    )
    assert "API key Storefront created." in done
    token = re.search(r'id="shown-once-value" value="([^"]+)"', done).group(1)
    key = ApiKey.objects.get(name="Storefront")
    assert key.permissions == ["orders.add_order"] and key.created_by.username == "ada"
    listed = admin.get("/settings/api-keys/").content.decode()
    assert token not in listed
    assert 'only: <span title="orders.add_order">Can add order</span>' in listed
    forget_api_keys()
    assert authenticate_api_key(token=token) == key
    revoked = _html(admin.post(f"/settings/api-keys/{key.prefix}/revoke/", follow=True))
    assert f"API key Storefront ({key.prefix}…) revoked" in revoked
    forget_api_keys()
    assert authenticate_api_key(token=token) is None


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["read"]}, "name"),
        ({"name": "Feed", "scopes": []}, "scopes"),
        ({"name": "Feed", "scopes": ["admin"]}, "scopes"),
        ({"name": "Feed", "scopes": ["read"], "permissions": ["orders.fly"]}, "permissions"),
    ],
)
def test_a_bad_key_is_named_kept_and_not_created(admin, form, field):
    response = admin.post("/settings/api-keys/new/", form)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    if form["name"] == "Feed":
        assert 'value="Feed"' in html
    assert not ApiKey.objects.exists()


def test_a_key_may_do_no_more_than_its_maker(roles):
    from django.contrib.auth.models import Permission

    keeper = factories.signed_in(roles, "Viewer", "kim")
    keeper.user.user_permissions.add(Permission.objects.get(codename="add_apikey"))
    refused = keeper.post(
        "/settings/api-keys/new/",
        {"name": "Sneaky", "scopes": ["read", "write"], "permissions": ["payments.add_refund"]},
    )
    assert refused.status_code == 422
    assert "not yours to give: payments.add_refund" in _html(refused)
    unrestricted = keeper.post("/settings/api-keys/new/", {"name": "All", "scopes": ["write"]})
    assert unrestricted.status_code == 422
    reader = keeper.post("/settings/api-keys/new/", {"name": "Reader", "scopes": ["read"]})
    assert reader.status_code == 302
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["Reader"]


def test_a_sales_manager_may_not_see_or_make_keys(roles):
    manager = factories.signed_in(roles, "Sales manager", "mia")
    page = manager.get("/settings/api-keys/")
    assert page.status_code == 200  # sales managers see every view permission
    assert 'data-testid="api-key-form"' not in page.content.decode()
    refused = manager.post("/settings/api-keys/new/", {"name": "X", "scopes": ["read"]})
    assert refused.status_code == 403 and "accounts.add_apikey" in refused.content.decode()
