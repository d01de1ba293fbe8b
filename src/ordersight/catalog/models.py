"""Categories, offers (what is sold, at what price) and their variants (SKUs)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from ordersight.core.models import ExternalIdBase


class Category(models.Model):
    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["number"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Offer(models.Model):
    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="offers")
    currency = models.CharField(max_length=3)
    unit_price = models.DecimalField(max_digits=18, decimal_places=4)
    allow_quantity = models.BooleanField(
        default=False, help_text="Buyers may order more than one unit (multiple sales)"
    )
    allow_partial_payments = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="offer_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class OfferExternalId(ExternalIdBase):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="external_ids")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="offer_external_id_unique"
            ),
        ]


class Variant(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200, blank=True)
    unit_price = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Overrides the offer's price when set",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__isnull=True) | Q(unit_price__gte=0),
                name="variant_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def price(self) -> Decimal:
        return variant_price(self.unit_price, self.offer.unit_price)

    @property
    def display_name(self) -> str:
        return variant_display_name(self.offer.name, self.name)


def variant_price(own_price: Decimal | None, offer_price: Decimal) -> Decimal:
    """A variant's price: its own when set, else its offer's (for a variant read as a row
    as well as an object)."""
    return own_price if own_price is not None else offer_price


def variant_display_name(offer_name: str, variant_name: str) -> str:
    """What a variant is called on an order line: the offer's name, and the variant's own
    after a dash when it has one."""
    return f"{offer_name} — {variant_name}" if variant_name else offer_name


class VariantExternalId(ExternalIdBase):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="external_ids")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="variant_external_id_unique"
            ),
        ]
