"""API keys: hashed at rest, scoped, revocable, with their last use recorded."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ordersight.accounts.roles import OUR_APPS


class ApiScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiKey(models.Model):
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Shown to identify the key")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the secret")
    scopes = models.JSONField(default=list, help_text='e.g. ["read", "write"]')
    # A restricted key (like Stripe's) names the permissions it has, with the same names as
    # the roles' ("orders.add_order"); an empty list means all that its scopes allow.
    permissions = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_restricted(self) -> bool:
        return bool(self.permissions)

    def has_perm(self, perm: str) -> bool:
        """What the key may do: its named permissions, or else every permission of
        ordersight's apps (a write key, like an Admin) or their view permissions (read)."""
        if self.permissions:
            return perm in self.permissions
        app_label, _, codename = perm.partition(".")
        if app_label not in OUR_APPS:
            return False
        return ApiScope.WRITE in self.scopes or codename.startswith("view_")
