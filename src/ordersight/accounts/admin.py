"""Admin for API keys: creating one shows its token once; revoking keeps the row for audit."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.http import HttpRequest

from ordersight.accounts.models import ApiKey, ApiScope
from ordersight.accounts.roles import OUR_APPS
from ordersight.accounts.services import create_api_key, revoke_api_key


def _permission_choices() -> list[tuple[str, str]]:
    permissions = Permission.objects.filter(content_type__app_label__in=OUR_APPS)
    rows = permissions.select_related("content_type").order_by("content_type__app_label", "name")
    return [(f"{p.content_type.app_label}.{p.codename}", p.name) for p in rows]


class ApiKeyCreateForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
        label="Scopes",
    )
    permission_choices = forms.MultipleChoiceField(
        choices=_permission_choices,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        required=False,
        label="Restrict to permissions",
        help_text="Leave empty for everything the scopes allow.",
    )

    class Meta:
        model = ApiKey
        fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "scopes",
        "permissions",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [
            "prefix",
            "scopes",
            "permissions",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "scope_choices", "permission_choices"]
        return ["name", *self.get_readonly_fields(request, obj)]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, token = create_api_key(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scope_choices"],
            permissions=form.cleaned_data["permission_choices"],
            created_by=request.user,
        )
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.warning(request, f"Token for {key.name} (shown once, copy it now): {token}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        # Through the service, like the shell command, so revoking means one thing.
        prefixes = list(queryset.filter(revoked_at__isnull=True).values_list("prefix", flat=True))
        for prefix in prefixes:
            revoke_api_key(prefix=prefix)
        messages.success(request, f"Revoked {len(prefixes)} key(s).")
