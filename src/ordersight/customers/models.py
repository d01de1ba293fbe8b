"""Customers, the ids other systems know them by, and their tags."""

from django.db import models

from ordersight.core.models import ExternalIdBase


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name


class CustomerExternalId(ExternalIdBase):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_ids")

    class Meta:
        verbose_name = "customer external id"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="customer_external_id_unique"
            ),
        ]
