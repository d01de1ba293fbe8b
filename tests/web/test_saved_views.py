"""Saved views: a person's named filters of a list, as tabs above it; shared ones for all,
private ones for their owner alone; bad names refused naming the field."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.messages import get_messages

from ordersight.core.errors import Forbidden, Invalid
from ordersight.web import services
from ordersight.web.models import SavedView
from tests import factories


@pytest.fixture
def ana(roles):
    return factories.signed_in(roles, "Admin", "ana")


@pytest.fixture
def ben(roles):
    return factories.signed_in(roles, "Viewer", "ben")


def _tabs(client, path: str = "/orders/") -> dict[str, str]:
    body = client.get(path).content.decode()
    tabs = re.findall(
        r'href="\?([^"]*)" data-testid="saved-view" data-view="\d+"[^>]*>([^<]+)<', body
    )
    return {name.strip(): html.unescape(query) for query, name in tabs}


def _save(client, **data):
    return client.post("/views/", {"list": "orders", **data})


def test_a_saved_view_keeps_the_filters_and_opens_as_a_tab(ana):
    response = _save(
        ana, name="Awaiting confirm", query="status=open&currency=EUR&cursor=abc&at=51&q="
    )
    view = SavedView.objects.get()
    assert (view.name, view.query, view.shared) == (
        "Awaiting confirm",
        "status=open&currency=EUR",
        False,
    )
    assert response.url == f"/orders/?status=open&currency=EUR&view={view.pk}"
    assert _tabs(ana) == {"Awaiting confirm": f"status=open&currency=EUR&view={view.pk}"}
    body = ana.get(response.url).content.decode()
    assert re.search(
        rf'class="nav-link active" aria-current="page"\s+href="\?[^"]*view={view.pk}"', body
    )
    assert 'data-testid="view-modified"' not in body
    changed = ana.get(f"/orders/?status=open&view={view.pk}").content.decode()
    assert 'data-testid="view-modified"' in changed


def test_a_private_view_is_never_shown_to_another_person(ana, ben):
    _save(ana, name="Mine only", query="status=open")
    view = SavedView.objects.get()
    assert _tabs(ben) == {}
    body = ben.get(f"/orders/?status=open&view={view.pk}").content.decode()
    assert "Mine only" not in body
    # Nor changed by them: to another person it is as good as missing.
    response = ben.post(f"/views/{view.pk}/rename/", {"name": "Theirs"})
    assert "No saved view" in next(str(m) for m in get_messages(response.wsgi_request))
    assert ben.post(f"/views/{view.pk}/delete/").status_code == 302
    assert SavedView.objects.get().name == "Mine only"


def test_a_shared_view_is_a_tab_for_everyone_but_changed_by_its_owner_alone(ana, ben):
    _save(ana, name="EUR sales", query="currency=EUR&status=completed", shared="on")
    view = SavedView.objects.get()
    assert _tabs(ben) == {"EUR sales": f"currency=EUR&status=completed&view={view.pk}"}
    body = ben.get(f"/orders/?{view.link}").content.decode()
    assert "· ana" in body  # whose view it is
    assert 'data-testid="manage-view"' not in body
    assert ben.post(f"/views/{view.pk}/rename/", {"name": "Mine now"}).status_code == 403
    assert ben.post(f"/views/{view.pk}/unshare/").status_code == 403
    assert SavedView.objects.get().name == "EUR sales"


def test_the_owner_renames_unshares_and_deletes(ana, ben):
    _save(ana, name="EUR", query="currency=EUR", shared="on")
    view = SavedView.objects.get()
    ana.post(f"/views/{view.pk}/rename/", {"name": "Euro orders"})
    assert _tabs(ben) == {"Euro orders": f"currency=EUR&view={view.pk}"}
    ana.post(f"/views/{view.pk}/unshare/")
    assert _tabs(ben) == {}
    assert list(_tabs(ana)) == ["Euro orders"]
    response = ana.post(f"/views/{view.pk}/delete/")
    assert response.url == "/orders/"
    assert not SavedView.objects.exists()


def test_the_owner_keeps_changed_filters_in_the_view(ana, ben):
    _save(ana, name="Open", query="status=open", shared="on")
    view = SavedView.objects.get()
    body = ana.get(f"/orders/?status=open&currency=EUR&view={view.pk}").content.decode()
    assert 'data-testid="update-view"' in body
    ana.post(f"/views/{view.pk}/update/", {"query": "status=open&currency=EUR&cursor=x"})
    assert SavedView.objects.get().query == "status=open&currency=EUR"
    # Another person sees that the filters differ, but cannot change the view.
    theirs = ben.get(f"/orders/?status=draft&view={view.pk}").content.decode()
    assert 'data-testid="view-modified"' in theirs
    assert 'data-testid="update-view"' not in theirs
    assert ben.post(f"/views/{view.pk}/update/", {"query": "status=draft"}).status_code == 403
    assert SavedView.objects.get().query == "status=open&currency=EUR"


def test_views_belong_to_their_list(ana):
    _save(ana, name="Paused", query="status=paused", list="recurring")
    assert _tabs(ana) == {}
    assert list(_tabs(ana, "/orders/recurring/")) == ["Paused"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "give the view a name"),
        ("   ", "give the view a name"),
        ("x" * 61, "at most 60 characters"),
        ("two\nlines", "has a line break or tab"),
        ("bad\u202ename", "bidi"),
    ],
)
def test_a_bad_name_is_refused_naming_the_field(roles, name, why):
    user = factories.UserFactory(username="nia")
    with pytest.raises(Invalid) as refused:
        services.save_view(owner=user, list_name="orders", name=name, query="")
    assert why in refused.value.fields["name"]


def test_the_same_name_twice_on_a_list_is_refused_naming_the_field(ana):
    _save(ana, name="Open", query="status=open")
    response = _save(ana, name="Open", query="status=draft")
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    # One sentence: what was not done, then the service's reason and the field it names.
    assert message.startswith("View not saved: ")
    assert "name: you already have a view with this name" in message
    assert SavedView.objects.count() == 1
    assert response.url == "/orders/?status=draft"  # the list as it was, to try another name


def test_an_unknown_list_or_an_overlong_query_is_refused(roles):
    user = factories.UserFactory(username="nia")
    with pytest.raises(Invalid) as refused:
        services.save_view(owner=user, list_name="invoices", name="A", query="")
    assert "list" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        services.save_view(owner=user, list_name="orders", name="A", query="q=" + "x" * 2001)
    assert "query" in refused.value.fields


def test_only_the_owner_changes_a_view_whoever_calls(roles):
    owner, other = factories.UserFactory(username="o1"), factories.UserFactory(username="o2")
    view = services.save_view(owner=owner, list_name="orders", name="A", query="", shared=True)
    with pytest.raises(Forbidden):
        services.rename_view(view=view, name="B", user=other)
    with pytest.raises(Forbidden):
        services.delete_view(view=view, user=other)


def test_new_views_come_after_the_owners_others(roles):
    user = factories.UserFactory(username="nia")
    first = services.save_view(owner=user, list_name="orders", name="A", query="")
    second = services.save_view(owner=user, list_name="orders", name="B", query="")
    assert second.position == first.position + 1


def test_saving_a_view_needs_a_sign_in(db, client):
    response = client.post("/views/", {"list": "orders", "name": "A"})
    assert response.status_code == 302 and "/login/" in response.url
    assert not SavedView.objects.exists()
