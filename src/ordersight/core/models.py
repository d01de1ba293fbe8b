"""Shared tables: named number sequences, the idempotency store, the external-id shape."""

from django.db import models


class Sequence(models.Model):
    """A named counter handing out human numbers (orders, invoices) without gaps from races."""

    name = models.CharField(max_length=50, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for later retries."""

    owner = models.CharField(max_length=100, help_text="API key or user the key belongs to")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    response_body = models.BinaryField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class ExternalIdBase(models.Model):
    """An id an outside system (a store, a feed) uses for one of our objects."""

    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
