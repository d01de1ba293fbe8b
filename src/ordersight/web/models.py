"""What the staff pages keep for the people who use them: saved views of their lists.

A saved view lives with the pages rather than in accounts: it is a page's own state (which
list, which query string), in the pages' vocabulary, which nothing below the pages reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedList(models.TextChoices):
    """The lists a view may be saved on, each the name of the page's URL."""

    ORDERS = "orders", _("All Orders")
    RECURRING = "recurring", _("Recurring Orders")
    PAYMENTS = "payments", _("Payments")
    CUSTOMERS = "customers", _("Customers")
    DISCOUNT_CODES = "discount_codes", _("Discount codes")
    REDEMPTIONS = "redemptions", _("Redemptions")


class SavedView(models.Model):
    """A named query string of a list: a tab above it for its owner, and for everyone when
    shared."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    list_name = models.CharField(max_length=32, choices=SavedList.choices)
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=2000, blank=True)
    shared = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("position", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "list_name", "name"], name="saved_view_name_once_per_list"
            ),
        ]
        indexes = [models.Index(fields=["list_name", "shared"], name="saved_view_list_shared")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_list_name_display()})"

    @property
    def link(self) -> str:
        """The list's query string that opens this view."""
        return f"{self.query}&view={self.pk}" if self.query else f"view={self.pk}"
