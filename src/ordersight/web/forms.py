"""Reading the staff pages' forms into service inputs, naming each bad field.

The new-order form has a variable number of line rows (plain inputs repeated), so it is read
by hand rather than through a Django formset: the service validates the order in full, and
this module only turns text into typed values and maps error names back to form rows.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from ordersight.core.validation import ascii_int, is_id
from ordersight.orders.models import OrderSource, OrderStatus, OrderType
from ordersight.orders.pricing import LineInput, OrderInput


def parse_decimal(raw: str, field: str, errors: dict[str, str]) -> Decimal | None:
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[field] = _("not a number")
        return None
    if not value.is_finite():
        errors[field] = _("not a number")
        return None
    return value


def _parse_lines(post: Any, errors: dict[str, str]) -> tuple[list[dict[str, str]], list]:
    """The line rows as typed, and (form row, LineInput) for each row that is filled in."""
    rows = list(
        zip(
            post.getlist("line_sku"),
            post.getlist("line_name"),
            post.getlist("line_unit_price"),
            post.getlist("line_quantity"),
            post.getlist("line_discount"),
            strict=False,
        )
    )
    typed = [
        {"sku": s, "name": n, "unit_price": p, "quantity": q, "discount": d}
        for s, n, p, q, d in rows
    ]
    lines = []
    for i, row in enumerate(typed):
        if not any(v.strip() for k, v in row.items() if k != "quantity"):
            continue  # an untouched blank row
        quantity_raw = row["quantity"].strip() or "1"
        try:
            quantity = int(quantity_raw)
        except ValueError:
            errors[f"lines[{i}].quantity"] = _("a whole number")
            quantity = 0
        lines.append(
            (
                i,
                LineInput(
                    sku=row["sku"].strip() or None,
                    name=row["name"].strip() or None,
                    unit_price=parse_decimal(row["unit_price"], f"lines[{i}].unit_price", errors),
                    quantity=quantity,
                    discount=parse_decimal(row["discount"], f"lines[{i}].discount", errors)
                    or Decimal(0),
                ),
            )
        )
    return typed, lines


def parse_new_order(
    post: Any,
) -> tuple[OrderInput | None, dict[str, str], list[dict[str, str]], list[int]]:
    """Read the new-order form: the input, field errors, the lines as typed, and for each
    line sent to the service the form row it came from (blank rows are skipped)."""
    errors: dict[str, str] = {}
    typed, lines = _parse_lines(post, errors)
    metadata: Any = {}
    if post.get("metadata", "").strip():
        try:
            metadata = json.loads(post["metadata"])
        except json.JSONDecodeError as exc:
            errors["metadata"] = _("not valid JSON ({reason})").format(reason=exc.msg)
        except RecursionError:
            errors["metadata"] = _("the JSON nests too deeply")
    customer_raw = post.get("customer_id", "").strip()
    customer_id = ascii_int(customer_raw)
    if customer_raw and not is_id(customer_id):
        # Words typed in the picker without choosing one of its suggestions.
        errors["customer_id"] = _("choose a customer from the suggestions, or leave it empty")
    rows = [i for i, _line in lines]
    if errors:
        return None, errors, typed, rows
    data = OrderInput(
        lines=[line for _row, line in lines],
        currency=post.get("currency") or None,
        customer_id=customer_id,
        source=OrderSource.MANUAL,
        order_type=post.get("order_type") or OrderType.STANDARD,
        status=post.get("status") or OrderStatus.OPEN,
        metadata=metadata,
        notes=post.get("notes", ""),
    )
    return data, errors, typed, rows


def rename_line_errors(fields: dict[str, str], rows: list[int]) -> dict[str, str]:
    """Service errors number lines among the filled rows; name them by form row instead."""
    renamed = {}
    for key, message in fields.items():
        if key.startswith("lines[") and "]" in key:
            index = int(key[6 : key.index("]")])
            key = f"lines[{rows[index] if index < len(rows) else index}]{key[key.index(']') + 1 :]}"
        renamed[key] = message
    return renamed
