"""Writes for accounts: people (invite, change role, deactivate) and API keys (create,
authenticate, revoke)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.accounts.models import ApiKey, ApiScope
from ordersight.accounts.roles import OUR_APPS, OWNER, ROLES
from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid, NotFound

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


def parse_scopes(*, scopes: Iterable[str] | str) -> list[str]:
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in cleaned if s not in ApiScope.values]
    if unknown or not cleaned:
        allowed = ", ".join(ApiScope.values)
        raise Invalid(
            _("Scopes must be some of: {allowed}.").format(allowed=allowed),
            fields={
                "scopes": _("unknown scope(s): {scopes}").format(scopes=", ".join(unknown))
                if unknown
                else _("empty")
            },
        )
    if ApiScope.WRITE in cleaned and ApiScope.READ not in cleaned:
        cleaned = sorted([*cleaned, ApiScope.READ])  # a key that may write may also read
    return cleaned


def parse_permissions(*, permissions: Iterable[str] | str) -> list[str]:
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
            _("Unknown permission(s): {permissions}.").format(permissions=", ".join(unknown)),
            fields={
                "permissions": _("unknown: {permissions}").format(permissions=", ".join(unknown))
            },
        )
    return wanted


def _refuse_more_than_held(actor: Actor, scopes: list[str], permissions: list[str]) -> None:
    """A person may make a key that does only what they may do themselves."""
    if permissions:
        wanted = permissions
    else:  # all that the scopes allow: every permission of our apps, or their view ones
        found = Permission.objects.filter(content_type__app_label__in=OUR_APPS)
        if ApiScope.WRITE not in scopes:
            found = found.filter(codename__startswith="view_")
        wanted = [
            f"{app}.{code}"
            for app, code in found.values_list("content_type__app_label", "codename")
        ]
    unheld = sorted(p for p in wanted if not actor.has_perm(p))
    if unheld:
        shown = ", ".join(unheld[:5])
        if len(unheld) > 5:
            more = len(unheld) - 5
            shown += ngettext(" and {count} more", " and {count} more", more).format(count=more)
        raise Invalid(
            _("A key may only do what you may do yourself; you lack {shown}.").format(shown=shown),
            fields={"permissions": _("not yours to give: {shown}").format(shown=shown)},
        )


def create_api_key(
    *,
    name: str,
    scopes: Iterable[str] | str,
    permissions: Iterable[str] | str = (),
    created_by: AbstractBaseUser | None = None,
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its token; the token is not stored and never shown again.

    With `permissions` the key is restricted to them (a storefront key that may create
    orders but not refund); without, it may do all that its scopes allow. Made by a person
    (`actor`), the key may hold no permission that person lacks.
    """
    if actor is not None:
        actor.require("accounts.add_apikey")
    name = name.strip()
    if not name:
        raise Invalid(_("An API key needs a name."), fields={"name": _("required")})
    if len(name) > 100:
        raise Invalid(
            _("An API key's name is at most 100 characters."),
            fields={"name": _("at most 100 characters")},
        )
    scope_list = parse_scopes(scopes=scopes)
    permission_list = parse_permissions(permissions=permissions)
    if actor is not None:
        _refuse_more_than_held(actor, scope_list, permission_list)
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


def active_api_key(*, prefix: str) -> ApiKey | None:
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


def authenticate_api_key(*, token: str) -> ApiKey | None:
    """The active key for a bearer token, or None; records when the key was last used."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    _token_prefix, prefix, secret = parts
    key = active_api_key(prefix=prefix)
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


def revoke_api_key(*, prefix: str, actor: Actor | None = None) -> ApiKey:
    if actor is not None:
        actor.require("accounts.change_apikey")
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None:
        raise NotFound(
            _("No API key with prefix {prefix}.").format(prefix=prefix),
            fields={"prefix": _("not found")},
        )
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    _active_keys.pop(prefix, None)
    return key


# --- People and their roles ------------------------------------------------------------------

MAX_USERNAME = 150


def _role_group(role: str) -> Group:
    if role not in ROLES:
        raise Invalid(
            _("Unknown role {role}.").format(role=repr(role)),
            fields={"role": _("one of {roles}").format(roles=", ".join(ROLES))},
        )
    return Group.objects.get_or_create(name=role)[0]


def role_of(*, user: AbstractBaseUser) -> str:
    """The user's role: the first of the roles they hold, Owner for a superuser."""
    if user.is_superuser:
        return OWNER
    held = {g.name for g in user.groups.all()}
    return next((role for role in ROLES if role in held), "")


def _active_owners() -> int:
    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=OWNER), is_active=True)
        .distinct()
        .count()
    )


def _refuse_losing_the_last_owner(user: AbstractBaseUser) -> None:
    if role_of(user=user) == OWNER and user.is_active and _active_owners() <= 1:
        raise Conflict(
            _("{username} is the only active Owner; make someone else Owner first.").format(
                username=user.get_username()
            ),
            fields={"role": _("the account needs an active Owner")},
        )


@retry_on_deadlock
@transaction.atomic
def invite_user(
    *,
    username: str,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    actor: Actor,
) -> AbstractBaseUser:
    """A new person with a role and no password yet: they choose one through the
    set-password link the page gives the inviter."""
    actor.require("auth.add_user")
    errors: dict[str, str] = {}
    username = (username or "").strip()
    model = get_user_model()
    if not username or len(username) > MAX_USERNAME:
        errors["username"] = _("1 to {max} characters").format(max=MAX_USERNAME)
    else:
        try:
            model.username_validator(username)
        except ValidationError:
            errors["username"] = _("letters, digits and @ . + - _ only")
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("an e-mail address, e.g. ana@example.com")
    if role not in ROLES:
        errors["role"] = _("one of {roles}").format(roles=", ".join(ROLES))
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value or "") > 150:
            errors[field] = _("at most 150 characters")
    if errors:
        raise Invalid(_("The invitation is not valid."), fields=errors)
    if model.objects.filter(username__iexact=username).exists():
        raise Conflict(
            _("The username {username} is taken.").format(username=username),
            fields={"username": _("taken")},
        )
    try:
        with transaction.atomic():
            user = model.objects.create_user(
                username=username,
                email=email,
                first_name=(first_name or "").strip(),
                last_name=(last_name or "").strip(),
            )
    except IntegrityError:
        raise Conflict(
            _("The username {username} is taken.").format(username=username),
            fields={"username": _("taken")},
        ) from None
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.add(_role_group(role))
    return user


def _refuse_self(user: AbstractBaseUser, actor: Actor, message: str) -> None:
    """Refuse, with `message` (already translated), an Owner acting on themselves."""
    if actor.user is not None and actor.user.pk == user.pk:
        raise Conflict(message, fields={"user": _("yourself")})


@retry_on_deadlock
@transaction.atomic
def change_role(*, user: AbstractBaseUser, role: str, actor: Actor) -> AbstractBaseUser:
    """Give the user this role in place of the one they had."""
    actor.require("auth.change_user")
    group = _role_group(role)
    _refuse_self(user, actor, _("You cannot change the role of yourself; ask another Owner."))
    if role != OWNER:
        _refuse_losing_the_last_owner(user)
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(group)
    if user.is_superuser and role != OWNER:
        # An Owner made by the install (a superuser) takes the role given like anyone else.
        user.is_superuser = False
        user.save(update_fields=["is_superuser"])
    return user


@retry_on_deadlock
@transaction.atomic
def set_user_active(*, user: AbstractBaseUser, active: bool, actor: Actor) -> AbstractBaseUser:
    """Deactivate (they can no longer sign in; what they did stays theirs) or reactivate."""
    actor.require("auth.change_user")
    if not active:
        _refuse_self(user, actor, _("You cannot deactivate yourself; ask another Owner."))
        _refuse_losing_the_last_owner(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user
