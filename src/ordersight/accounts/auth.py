"""How API callers prove who they are: a bearer API key with scopes, or the UI's session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from ordersight.accounts.models import ApiScope
from ordersight.accounts.services import authenticate_api_key
from ordersight.core.actors import Actor
from ordersight.core.errors import Forbidden


class ApiKeyBearer(HttpBearer):
    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        key = authenticate_api_key(token)
        if key is None:
            return None
        if not key.has_scope(self.scope):
            raise Forbidden(
                f"This API key has scopes {', '.join(key.scopes)}; this call needs {self.scope}.",
                fields={"Authorization": f"needs the {self.scope} scope"},
            )
        request.actor = Actor(api_key=key)
        return key


class SessionUser(SessionAuth):
    """The signed-in UI user; CSRF is checked on writes as for any form.

    A request without a session cookie is simply not signed in: it gets the 401 (with the
    error shape), not a CSRF failure that would hide what is missing.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.actor = Actor(user=user)
        return user


READ = [ApiKeyBearer(ApiScope.READ), SessionUser()]
WRITE = [ApiKeyBearer(ApiScope.WRITE), SessionUser()]


def request_actor(request: HttpRequest, perm: str) -> Actor:
    """The caller as an Actor, after checking a session user holds `perm`.

    API keys were already checked by scope when they authenticated.
    """
    actor: Actor = request.actor
    if not actor.has_perm(perm):
        who = "This API key" if actor.api_key is not None else "Your role"
        raise Forbidden(f"{who} lacks the permission {perm}.", fields={"permission": perm})
    return actor
