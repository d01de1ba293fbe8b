"""Writes for accounts: API keys (create, authenticate, revoke)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, Permission
from django.utils import timezone

from ordersight.accounts.models import ApiKey, ApiScope
from ordersight.core.errors import Invalid, NotFound

TOKEN_PREFIX = "os"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a web process answers from the key it read instead of reading it again: a key
# revoked in another process (the admin, `ordersight apikey revoke`) is refused by every
# process within this many seconds, by the one that revoked it at once. Reading the key on
# every request was a query per API call, a tenth of a page of orders.
KEY_CACHE_SECONDS = 10.0
# Active keys of this process, by prefix: (when read, on the monotonic clock; the key).
# Only keys found active are kept, so made-up prefixes cannot fill it; the bound is for
# an account with very many keys.
_active_keys: dict[str, tuple[float, ApiKey]] = {}
_ACTIVE_KEYS_MAX = 1000


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: Iterable[str] | str) -> list[str]:
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in cleaned if s not in ApiScope.values]
    if unknown or not cleaned:
        allowed = ", ".join(ApiScope.values)
        raise Invalid(
            f"Scopes must be some of: {allowed}.",
            fields={"scopes": f"unknown scope(s): {', '.join(unknown)}" if unknown else "empty"},
        )
    if ApiScope.WRITE in cleaned and ApiScope.READ not in cleaned:
        cleaned = sorted([*cleaned, ApiScope.READ])  # a key that may write may also read
    return cleaned


def parse_permissions(permissions: Iterable[str] | str) -> list[str]:
    """Permission names as the roles use them; each must exist."""
    if isinstance(permissions, str):
        permissions = permissions.split(",")
    wanted = sorted({p.strip() for p in permissions if p.strip()})
    known = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise Invalid(
            f"Unknown permission(s): {', '.join(unknown)}.",
            fields={"permissions": f"unknown: {', '.join(unknown)}"},
        )
    return wanted


def create_api_key(
    *,
    name: str,
    scopes: Iterable[str] | str,
    permissions: Iterable[str] | str = (),
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its token; the token is not stored and never shown again.

    With `permissions` the key is restricted to them (a storefront key that may create
    orders but not refund); without, it may do all that its scopes allow.
    """
    name = name.strip()
    if not name:
        raise Invalid("An API key needs a name.", fields={"name": "required"})
    scope_list = parse_scopes(scopes)
    permission_list = parse_permissions(permissions)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=_hash(secret),
        scopes=scope_list,
        permissions=permission_list,
        created_by=created_by,
    )
    return key, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def active_api_key(prefix: str) -> ApiKey | None:
    """The active (not revoked) key with this prefix, as read at most KEY_CACHE_SECONDS ago
    by this process; the secret is not checked here (see `authenticate_api_key`)."""
    now = time.monotonic()
    held = _active_keys.get(prefix)
    if held is not None and now - held[0] < KEY_CACHE_SECONDS:
        return held[1]
    key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None:
        _active_keys.pop(prefix, None)
        return None
    if len(_active_keys) >= _ACTIVE_KEYS_MAX:
        _active_keys.clear()
    _active_keys[prefix] = (now, key)
    return key


def forget_api_keys() -> None:
    """Read every key afresh on its next use (tests; a process that changed keys)."""
    _active_keys.clear()


def authenticate_api_key(token: str) -> ApiKey | None:
    """The active key for a bearer token, or None; records when the key was last used."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    _, prefix, secret = parts
    key = active_api_key(prefix)
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so processes holding the same key stamp it once a minute between
        # them, not once each.
        ApiKey.objects.filter(pk=key.pk).exclude(
            last_used_at__gt=now - LAST_USED_RESOLUTION
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke_api_key(*, prefix: str) -> ApiKey:
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None:
        raise NotFound(f"No API key with prefix {prefix}.", fields={"prefix": "not found"})
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    _active_keys.pop(prefix, None)
    return key
