"""The four roles as Django groups, each with the permissions the role is meant to have."""

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OWNER, ADMIN, SALES_MANAGER, VIEWER = "Owner", "Admin", "Sales manager", "Viewer"
ROLES = (OWNER, ADMIN, SALES_MANAGER, VIEWER)

OUR_APPS = (
    "accounts",
    "customers",
    "catalog",
    "orders",
    "payments",
    "subscriptions",
    "campaigns",
    "promotions",
    "sync",
    "reports",
)


def _permissions_for(role: str) -> Q:
    ours = Q(content_type__app_label__in=OUR_APPS)
    if role == OWNER:
        return ours | Q(content_type__app_label="auth")
    if role == ADMIN:
        return ours
    if role == SALES_MANAGER:
        return ours & (
            Q(codename__startswith="view_")
            | Q(
                codename__in=[
                    "add_order",
                    "change_order",
                    "add_customer",
                    "change_customer",
                    "add_salesplanentry",
                ]
            )
        )
    return ours & Q(codename__startswith="view_")


def ensure_roles() -> dict[str, Group]:
    """Create the role groups if missing and set their permissions; safe to run repeatedly."""
    groups = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(Permission.objects.filter(_permissions_for(role)))
        groups[role] = group
    return groups


def ensure_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    # post_migrate fires once per app with models, and permissions are created app by app,
    # so wait for the last such app: by then every permission the roles name exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender.label == with_models[-1].label:
        ensure_roles()
