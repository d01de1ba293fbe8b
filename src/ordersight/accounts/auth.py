"""How API callers prove who they are: a bearer API key with scopes, or the UI's session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from ordersight.accounts.models import ApiScope
from ordersight.accounts.services import authenticate_api_key
from ordersight.core.actors import Actor
from ordersight.core.errors import Forbidden


def _require(actor: Actor, perm: str) -> None:
    if not actor.has_perm(perm):
        if actor.api_key is not None:
            message = _("This API key lacks the permission {perm}.")
        else:
            message = _("Your role lacks the permission {perm}.")
        raise Forbidden(message.format(perm=perm), fields={"permission": perm})


class ApiKeyBearer(HttpBearer):
    """A bearer API key with `scope`, whose holder has `perm` (see `can_read`)."""

    def __init__(self, scope: str, perm: str) -> None:
        super().__init__()
        self.scope = scope
        self.perm = perm

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        key = authenticate_api_key(token=token)
        if key is None:
            return None
        if not key.has_scope(self.scope):
            raise Forbidden(
                _("This API key has scopes {scopes}; this call needs {scope}.").format(
                    scopes=", ".join(key.scopes), scope=self.scope
                ),
                fields={"Authorization": _("needs the {scope} scope").format(scope=self.scope)},
            )
        request.actor = Actor(api_key=key)
        _require(request.actor, self.perm)
        return key


class SessionUser(SessionAuth):
    """The signed-in UI user; CSRF is checked on writes as for any form.

    A request without a session cookie is simply not signed in: it gets the 401 (with the
    error shape), not a CSRF failure that would hide what is missing.
    """

    def __init__(self, perm: str) -> None:
        super().__init__()
        self.perm = perm

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.actor = Actor(user=user)
            _require(request.actor, self.perm)
        return user


# Each route declares the permission it needs in its `auth`, and it is checked with the
# credentials, before django-ninja reads the body or the query: a caller without it gets
# 403, never a 422 that describes what the route would accept. The view finds the caller
# in `request.actor`.


def can_read(perm: str) -> list[ApiKeyBearer | SessionUser]:
    """`auth` for a route that reads: a read-scope key or a session, holding `perm`."""
    return [ApiKeyBearer(ApiScope.READ, perm), SessionUser(perm)]


def can_write(perm: str) -> list[ApiKeyBearer | SessionUser]:
    """`auth` for a route that writes: a write-scope key or a session, holding `perm`."""
    return [ApiKeyBearer(ApiScope.WRITE, perm), SessionUser(perm)]


def request_actor(request: HttpRequest, perm: str) -> Actor:
    """The caller as an Actor, after checking it also holds `perm` (a second permission a
    route needs only for some of its queries)."""
    actor: Actor = request.actor
    _require(actor, perm)
    return actor
