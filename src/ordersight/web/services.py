"""Writes of the staff pages' own state: saving, renaming, sharing and deleting saved views."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import QueryDict

from ordersight.core.errors import Forbidden, Invalid
from ordersight.core.validation import text_error
from ordersight.web.models import SavedList, SavedView

NAME_LENGTH = 60
QUERY_LENGTH = 2000
# Where the reader was in the list, and the view itself: never part of what a view keeps.
NOT_KEPT = ("cursor", "at", "partial", "view")


def _clean_name(name: Any) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("Name the view.", fields={"name": "give the view a name"})
    if len(name) > NAME_LENGTH:
        raise Invalid("The name is too long.", fields={"name": f"at most {NAME_LENGTH} characters"})
    problem = text_error(name) or (
        "has a line break or tab" if any(c in name for c in "\r\n\t") else None
    )
    if problem:
        raise Invalid("The name cannot be used.", fields={"name": problem})
    return name


def clean_query(*, query: Any) -> str:
    """The query string a view keeps: its filters and sort, without empty fields."""
    params = QueryDict(query if isinstance(query, str) else "", mutable=True)
    for name in NOT_KEPT:
        params.pop(name, None)
    for name in [k for k, values in params.lists() if not any(v.strip() for v in values)]:
        params.pop(name)  # an empty field of the panel filters nothing
    cleaned = params.urlencode()
    if len(cleaned) > QUERY_LENGTH:
        raise Invalid(
            "The view's filters are too long.",
            fields={"query": f"at most {QUERY_LENGTH} characters"},
        )
    return cleaned


def _check_owner(view: SavedView, user: Any) -> None:
    if view.owner_id != user.pk:
        raise Forbidden(
            "Only the person who saved a view changes it.",
            fields={"view": "saved by someone else"},
        )


def _save(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise Invalid(
            f"You already have a view named {view.name!r} on this list.",
            fields={"name": "you already have a view with this name"},
        ) from None
    return view


def save_view(
    *, owner: Any, list_name: str, name: str, query: str, shared: bool = False
) -> SavedView:
    """A new view of `list_name` for `owner`, after their others."""
    if list_name not in SavedList.values:
        raise Invalid("No such list.", fields={"list": f"one of {', '.join(SavedList.values)}"})
    view = SavedView(
        owner=owner,
        list_name=list_name,
        name=_clean_name(name),
        query=clean_query(query=query),
        shared=bool(shared),
    )
    last = SavedView.objects.filter(owner=owner, list_name=list_name).aggregate(Max("position"))
    view.position = (last["position__max"] or 0) + 1
    return _save(view)


def rename_view(*, view: SavedView, name: str, user: Any) -> SavedView:
    _check_owner(view, user)
    view.name = _clean_name(name)
    return _save(view)


def update_view(*, view: SavedView, query: str, user: Any) -> SavedView:
    """Keep the list's filters as they are now in the view."""
    _check_owner(view, user)
    view.query = clean_query(query=query)
    return _save(view)


def share_view(*, view: SavedView, shared: bool, user: Any) -> SavedView:
    """Show the view to everyone who sees the list (True), or to its owner alone."""
    _check_owner(view, user)
    view.shared = bool(shared)
    return _save(view)


def delete_view(*, view: SavedView, user: Any) -> None:
    _check_owner(view, user)
    view.delete()
