"""Accounts API: the staff an order can be attributed to, so an integrator can name a sales
manager by username (or id) without access to the admin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from ordersight.accounts.auth import can_read
from ordersight.accounts.selectors import list_sales_managers
from ordersight.http.schemas import error_responses

router = Router(tags=["users"])
ERRORS = error_responses()


class UserOut(Schema):
    id: int
    username: str
    name: str
    roles: list[str]


@router.get("/users", response={200: list[UserOut], **ERRORS}, auth=can_read("orders.view_order"))
def list_users(request: HttpRequest) -> list[dict[str, Any]]:
    """Active sales managers: who an order's `sales_manager` (username) or
    `sales_manager_id` may name. Anyone who may view orders sees them, as orders show them."""
    return [
        {
            "id": user.pk,
            "username": user.get_username(),
            "name": user.get_full_name(),
            "roles": sorted(g.name for g in user.groups.all()),
        }
        for user in list_sales_managers().prefetch_related("groups")
    ]
