"""Staff pages for accounts: the people who sign in (invite with a role, change the role,
deactivate, a new set-password link) and the API keys (create, shown once; revoke)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ordersight.accounts import selectors, services
from ordersight.accounts.models import ApiScope
from ordersight.accounts.roles import OUR_APPS, ROLES
from ordersight.core.errors import DomainError, Forbidden
from ordersight.web.access import actor_of, require_perm

# What each role is for, as the invite and role forms explain it.
ROLE_HELP = {
    "Owner": gettext_lazy("everything, including people and roles"),
    "Admin": gettext_lazy("everything except people and roles"),
    "Sales manager": gettext_lazy("sees everything; creates and edits orders and customers"),
    "Viewer": gettext_lazy("sees everything, changes nothing"),
}
# Shown once, on the page the inviter lands on, then forgotten.
SHOWN_ONCE = "shown_once"


def _refused(request: HttpRequest, exc: DomainError, message: str, **names: Any) -> dict[str, str]:
    """Say why nothing was done: `message` is translated and holds `{reason}` (and `names`)."""
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message) from None
    messages.error(request, message.format(reason=exc.message, **names))
    return exc.fields


def _user(user_id: int) -> Any:
    found = get_user_model().objects.filter(pk=user_id).first()
    if found is None:
        raise Http404(f"No user {user_id}.")
    return found


def _set_password_link(request: HttpRequest, user: Any) -> str:
    """A link with which the user chooses their password (valid for PASSWORD_RESET_TIMEOUT,
    and spent once a password is set or they sign in)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return request.build_absolute_uri(
        reverse("web:password_set", kwargs={"uidb64": uid, "token": token})
    )


def _users_page(
    request: HttpRequest, *, form: Any = None, errors: dict[str, str] | None = None
) -> HttpResponse:
    people = [(user, services.role_of(user=user)) for user in selectors.list_people()]
    return render(
        request,
        "accounts/users.html",
        {
            "section": "settings",
            "people": people,
            "roles": [(role, ROLE_HELP.get(role, "")) for role in ROLES],
            "form": form or {"role": "Viewer"},
            "errors": errors or {},
            "shown_once": request.session.pop(SHOWN_ONCE, None),
        },
        status=422 if errors else 200,
    )


@require_perm("auth.view_user")
def users(request: HttpRequest) -> HttpResponse:
    return _users_page(request)


@require_perm("auth.add_user")
@require_POST
def invite_user(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        user = services.invite_user(
            username=post.get("username", ""),
            email=post.get("email", ""),
            first_name=post.get("first_name", ""),
            last_name=post.get("last_name", ""),
            role=post.get("role", ""),
            actor=actor_of(request),
        )
    except DomainError as exc:
        errors = _refused(request, exc, _("Nobody was invited: {reason}"))
        return _users_page(request, form=post, errors=errors)
    request.session[SHOWN_ONCE] = {
        "user": user.get_username(),
        "link": _set_password_link(request, user),
    }
    messages.success(
        request,
        _(
            "{name} invited as {role}. Send them the set-password link below; it is shown only now."
        ).format(name=user.get_username(), role=post["role"]),
    )
    return redirect("web:users")


@require_perm("auth.change_user")
@require_POST
def user_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    """Change the role, deactivate, reactivate, or make a new set-password link."""
    user = _user(user_id)
    name = user.get_username()
    actor = actor_of(request)
    try:
        if action == "role":
            role = request.POST.get("role", "")
            services.change_role(user=user, role=role, actor=actor)
            messages.success(request, _("{name} is now {role}.").format(name=name, role=role))
        elif action == "deactivate":
            services.set_user_active(user=user, active=False, actor=actor)
            messages.success(
                request, _("{name} is deactivated and can no longer sign in.").format(name=name)
            )
        elif action == "reactivate":
            services.set_user_active(user=user, active=True, actor=actor)
            messages.success(
                request, _("{name} is active again and can sign in.").format(name=name)
            )
        elif action == "link":
            request.session[SHOWN_ONCE] = {"user": name, "link": _set_password_link(request, user)}
            messages.success(
                request,
                _(
                    "A new set-password link for {name} is below; their current password works "
                    "until they use it."
                ).format(name=name),
            )
        else:
            raise Http404(f"No action {action!r}.")
    except DomainError as exc:
        _refused(request, exc, _("{name} was not changed: {reason}"), name=name)
    return redirect("web:users")


# --- API keys --------------------------------------------------------------------------------


def _permission_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Our apps' permissions by app, as a key may be restricted to them."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for app, codename, label in Permission.objects.filter(
        content_type__app_label__in=OUR_APPS
    ).values_list("content_type__app_label", "codename", "name"):
        grouped.setdefault(app, []).append((f"{app}.{codename}", label))
    return [(app, sorted(grouped[app], key=lambda p: p[1])) for app in OUR_APPS if app in grouped]


def _keys_page(
    request: HttpRequest, *, form: Any = None, errors: dict[str, str] | None = None
) -> HttpResponse:
    form = form or {}
    chosen = set(form.getlist("permissions")) if hasattr(form, "getlist") else set()
    choices = _permission_choices()
    groups = [
        (app, options, any(value in chosen for value, _label in options))
        for app, options in choices
    ]
    return render(
        request,
        "accounts/api_keys.html",
        {
            "section": "settings",
            "keys": selectors.list_api_keys(),
            "scopes": ApiScope.choices,
            "permission_groups": groups,
            # A restricted key's permissions by their names, as the picker shows them.
            "permission_labels": {
                value: label for _app, options in choices for value, label in options
            },
            "form": form,
            "chosen_scopes": form.getlist("scopes") if hasattr(form, "getlist") else ["read"],
            "chosen_permissions": chosen,
            "errors": errors or {},
            "shown_once": request.session.pop(SHOWN_ONCE, None),
        },
        status=422 if errors else 200,
    )


@require_perm("accounts.view_apikey")
def api_keys(request: HttpRequest) -> HttpResponse:
    return _keys_page(request)


@require_perm("accounts.add_apikey")
@require_POST
def new_api_key(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        key, token = services.create_api_key(
            name=post.get("name", ""),
            scopes=post.getlist("scopes"),
            permissions=post.getlist("permissions"),
            created_by=request.user,
            actor=actor_of(request),
        )
    except DomainError as exc:
        errors = _refused(request, exc, _("No API key was created: {reason}"))
        return _keys_page(request, form=post, errors=errors)
    request.session[SHOWN_ONCE] = {"key": key.name, "token": token}
    messages.success(
        request,
        _("API key {name} created. Copy its token now: it is not shown again.").format(
            name=key.name
        ),
    )
    return redirect("web:api_keys")


@require_perm("accounts.change_apikey")
@require_POST
def revoke_api_key(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        key = services.revoke_api_key(prefix=prefix, actor=actor_of(request))
    except DomainError as exc:
        _refused(request, exc, _("No key was revoked: {reason}"))
    else:
        messages.success(
            request,
            _("API key {name} ({prefix}…) revoked: it is refused from now on.").format(
                name=key.name, prefix=key.prefix
            ),
        )
    return redirect("web:api_keys")
