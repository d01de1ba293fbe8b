"""Reads of the staff pages' own state: the saved views a person may open."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ordersight.core.errors import NotFound
from ordersight.core.validation import is_id
from ordersight.web.models import SavedView


def visible_views(*, user: Any, list_name: str) -> QuerySet[SavedView]:
    """The views of a list `user` sees: their own, and those others share."""
    return (
        SavedView.objects.filter(list_name=list_name)
        .filter(Q(owner_id=user.pk) | Q(shared=True))
        .select_related("owner")
        .order_by("position", "id")
    )


def get_view(*, user: Any, view_id: int) -> SavedView:
    """A view `user` may see; another's private view is as good as missing."""
    view = (
        SavedView.objects.filter(Q(owner_id=user.pk) | Q(shared=True), pk=view_id).first()
        if is_id(view_id)
        else None
    )
    if view is None:
        raise NotFound(f"No saved view {view_id}.", fields={"view": "not found"})
    return view
