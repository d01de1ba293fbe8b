"""Access rules for the staff pages: sign-in, permissions, and a 403 that names what's missing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.errors import DomainError, Forbidden

T = TypeVar("T")


def permission_label(perm: str) -> str:
    app_label, codename = perm.split(".", 1)
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    if found is None:
        return perm
    return _("“{name}” ({perm})").format(name=found.name, perm=perm)


def check_perm(request: HttpRequest, perm: str) -> None:
    """Refuse with a 403 that names the missing permission, whatever the page showed."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(
            _("Your role does not have the permission {permission}.").format(
                permission=permission_label(perm)
            )
        )


def require_perm(perm: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            check_perm(request, perm)
            return view(request, *args, **kwargs)

        # Read by the test that pairs every page's permission check with its API twin.
        wrapped.required_permission = perm  # type: ignore[attr-defined]
        return wrapped

    return decorator


def actor_of(request: HttpRequest) -> Actor:
    return Actor(user=request.user)


def run_service(request: HttpRequest, call: Callable[[], T], *, failed: str = "{why}") -> T | None:
    """Run a service for a page. A refusal by the service is the same 403 page the
    decorators give; any other broken rule becomes an error message and None: `failed` is
    the whole sentence, translated, with `{why}` where the service's reason goes."""
    try:
        return call()
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except DomainError as exc:
        # Name the fields too: "rules.all[0].min: an amount from 0" says where to look.
        detail = "; ".join(f"{name}: {text}" for name, text in exc.fields.items())
        why = exc.message + (f" ({detail})" if detail else "")
        messages.error(request, failed.replace("{why}", why))
        return None


# A refused form shows again with what was typed: its fields wait in the session for the
# page the refusal redirects to (`{% typed "form" "field" %}` reads them there, once).
TYPED = "typed_form"


def keep_typed(request: HttpRequest, form: str) -> None:
    fields = {
        name: values if len(values) > 1 else values[0]
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken" and values
    }
    request.session[TYPED] = {"form": form, "fields": fields}


def typed_fields(request: HttpRequest) -> dict[str, Any]:
    """What a refused form held, taken out of the session (an empty dict when nothing was)."""
    session = getattr(request, "session", None)
    if session is None or TYPED not in session:
        return {}
    return session.pop(TYPED)
