"""Access rules for the staff pages: sign-in, permissions, and a 403 that names what's missing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from ordersight.core.actors import Actor


def permission_label(perm: str) -> str:
    app_label, codename = perm.split(".", 1)
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    return f"“{found.name}” ({perm})" if found else perm


def check_perm(request: HttpRequest, perm: str) -> None:
    """Refuse with a 403 that names the missing permission, whatever the page showed."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"Your role does not have the permission {permission_label(perm)}.")


def require_perm(perm: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            check_perm(request, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def actor_of(request: HttpRequest) -> Actor:
    return Actor(user=request.user)
