"""Input rules shared by several apps: metadata objects, currencies, amounts, emails."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ordersight.core.errors import Invalid
from ordersight.core.money import fits_currency, is_currency, minor_units

METADATA_MAX_BYTES = 16 * 1024


def clean_metadata(value: Any, *, field: str = "metadata") -> dict[str, Any]:
    """A metadata value must be a JSON object of at most 16 KB (compact UTF-8)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("Metadata must be a JSON object.", fields={field: "must be a JSON object"})
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_MAX_BYTES:
        raise Invalid(
            f"Metadata is {size} bytes; the limit is {METADATA_MAX_BYTES}.",
            fields={field: f"at most {METADATA_MAX_BYTES} bytes (got {size})"},
        )
    return value


def clean_currency(value: str | None, *, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not is_currency(code):
        raise Invalid(
            f"{value!r} is not an ISO 4217 currency code.",
            fields={field: "unknown currency"},
        )
    return code


def amount_error(amount: Decimal, currency: str, *, allow_zero: bool = True) -> str | None:
    """Why an amount is not acceptable in a currency, or None when it is."""
    if not amount.is_finite():
        return "must be a finite number"
    if amount < 0 or (amount == 0 and not allow_zero):
        return "must be greater than zero" if not allow_zero else "must not be negative"
    if not fits_currency(amount, currency):
        return f"{currency} allows at most {minor_units(currency)} decimal places"
    if amount >= Decimal("1e14"):
        return "is too large"
    return None


def clean_email(value: str | None, *, field: str = "email") -> str:
    email = (value or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid(
            f"{email!r} is not an email address.", fields={field: "invalid email"}
        ) from None
    return email.lower()
