"""Discount codes' validation rules: checked against a cart, each failure a readable reason.

A rule is `{"all": [...]}` or `{"any": [...]}` (nesting freely) of conditions:

- `{"type": "order_total", "currency": "EUR", "min": "50.00", "max": "500.00"}`
- `{"type": "items_required", "skus": [...], "categories": [...]}`: every one of them
- `{"type": "items_excluded", "skus": [...], "categories": [...]}`: none of them
- `{"type": "quantity", "sku": "TEE-M", "min": 1, "max": 3}` (without `sku`: all items)
- `{"type": "segment", "segment": 12}`: the order's customer is in the segment
- `{"type": "metadata", "key": "channel", "op": "eq", "value": "mobile_app"}` (`op` eq or in)

`check_rules` refuses a malformed rule naming its path; `evaluate` says why a cart fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from ordersight.core.errors import Invalid
from ordersight.core.money import format_money, is_currency
from ordersight.core.validation import MAX_AMOUNT, is_id, whole_number
from ordersight.promotions.models import Segment
from ordersight.promotions.segments import members

TYPES = ("order_total", "items_required", "items_excluded", "quantity", "segment", "metadata")
MAX_DEPTH = 8
MAX_QUANTITY = 10**6  # a quantity rule's bounds
MAX_IN = 100  # values in a metadata rule's `in` list
METADATA_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class CartLine:
    position: int
    sku: str
    category_number: int | None
    quantity: int
    total: Decimal  # after any discount the line already has


@dataclass
class Cart:
    currency: str
    lines: Sequence[CartLine]
    customer_id: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))


def _bad(path: str, message: str) -> Invalid:
    """Invalid naming `path`; `message` comes translated."""
    return Invalid(
        _("The rule at {path} is not valid: {message}.").format(path=path, message=message),
        fields={path: message},
    )


# --- Checking a rule as written ------------------------------------------------------------


def check_rules(rule: Any, path: str = "rules", depth: int = 0) -> None:
    """Raise Invalid naming the first malformed part of a rule tree."""
    if depth > MAX_DEPTH:
        raise _bad(path, _("nests deeper than {depth} levels").format(depth=MAX_DEPTH))
    if not isinstance(rule, dict):
        raise _bad(path, _('must be an object: {"all": [...]}, {"any": [...]} or a condition'))
    for key in ("all", "any"):
        if key in rule:
            children = rule[key]
            if len(rule) != 1 or not isinstance(children, list) or not children:
                raise _bad(f"{path}.{key}", _("a group holds one non-empty list of rules"))
            for i, child in enumerate(children):
                check_rules(child, f"{path}.{key}[{i}]", depth + 1)
            return
    kind = rule.get("type")
    if kind not in TYPES:
        raise _bad(f"{path}.type", _("one of {choices}").format(choices=", ".join(TYPES)))
    _CHECKS[kind](rule, path)


def _decimal(rule: dict, name: str, path: str) -> Decimal | None:
    if rule.get(name) is None:
        return None
    try:
        value = Decimal(str(rule[name]))
    except (InvalidOperation, ValueError):
        raise _bad(f"{path}.{name}", _("an amount such as 50.00")) from None
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
        raise _bad(f"{path}.{name}", _("an amount from 0"))
    return value


def _whole(rule: dict, name: str, path: str) -> int | None:
    if rule.get(name) is None:
        return None
    value = whole_number(rule[name])
    if value is None or not 0 <= value <= MAX_QUANTITY:
        raise _bad(f"{path}.{name}", _("a whole number from 0"))
    return value


def _only(rule: dict, path: str, allowed: set[str]) -> None:
    extra = set(rule) - allowed - {"type"}
    if extra:
        raise _bad(path, _("unknown key {key}").format(key=repr(sorted(extra)[0])))


def _check_bounds(low: Decimal | int | None, high: Decimal | int | None, path: str) -> None:
    if low is None and high is None:
        raise _bad(path, _("give min, max or both"))
    if low is not None and high is not None and high < low:
        raise _bad(f"{path}.max", _("at least min"))


def _check_total(rule: dict, path: str) -> None:
    _only(rule, path, {"currency", "min", "max"})
    if not is_currency(str(rule.get("currency") or "")):
        raise _bad(f"{path}.currency", _("a currency, e.g. EUR"))
    _check_bounds(_decimal(rule, "min", path), _decimal(rule, "max", path), path)


def _check_items(rule: dict, path: str) -> None:
    _only(rule, path, {"skus", "categories"})
    skus, categories = rule.get("skus", []), rule.get("categories", [])
    if not isinstance(skus, list) or not all(isinstance(s, str) and s for s in skus):
        raise _bad(f"{path}.skus", _("a list of SKUs"))
    if not isinstance(categories, list) or not all(
        (number := whole_number(c)) is not None and number > 0 for c in categories
    ):
        raise _bad(f"{path}.categories", _("a list of category numbers"))
    if not skus and not categories:
        raise _bad(path, _("name skus, categories or both"))


def _check_quantity(rule: dict, path: str) -> None:
    _only(rule, path, {"sku", "min", "max"})
    if "sku" in rule and not (isinstance(rule["sku"], str) and rule["sku"]):
        raise _bad(f"{path}.sku", _("a SKU"))
    _check_bounds(_whole(rule, "min", path), _whole(rule, "max", path), path)


def _check_segment(rule: dict, path: str) -> None:
    _only(rule, path, {"segment"})
    pk = whole_number(rule.get("segment"))
    if not is_id(pk) or not Segment.objects.filter(pk=pk).exists():
        raise _bad(f"{path}.segment", _("the id of an existing segment"))


def _check_metadata(rule: dict, path: str) -> None:
    _only(rule, path, {"key", "op", "value"})
    if not isinstance(rule.get("key"), str) or not METADATA_KEY.match(rule["key"]):
        raise _bad(f"{path}.key", _("a metadata key"))
    if rule.get("op") not in ("eq", "in"):
        raise _bad(f"{path}.op", _("eq or in"))
    value = rule.get("value")
    if rule["op"] == "in" and (not isinstance(value, list) or not 0 < len(value) <= MAX_IN):
        raise _bad(f"{path}.value", _("a list of 1 to {most} values").format(most=MAX_IN))
    if rule["op"] == "eq" and isinstance(value, dict | list):
        raise _bad(f"{path}.value", _("a single value"))


_CHECKS = {
    "order_total": _check_total,
    "items_required": _check_items,
    "items_excluded": _check_items,
    "quantity": _check_quantity,
    "segment": _check_segment,
    "metadata": _check_metadata,
}


# --- Evaluating a cart ---------------------------------------------------------------------


def evaluate(rule: dict | None, cart: Cart) -> list[str]:
    """Why the cart fails the rule: an empty list when it passes."""
    if not rule:
        return []
    if "all" in rule:
        return [reason for child in rule["all"] for reason in evaluate(child, cart)]
    if "any" in rule:
        failures = [evaluate(child, cart) for child in rule["any"]]
        if any(not reasons for reasons in failures):
            return []
        flat = [reason for reasons in failures for reason in reasons]
        return [_("none of these holds: {reasons}").format(reasons="; ".join(flat))]
    return _EVALUATE[rule["type"]](rule, cart)


def _total_fails(rule: dict, cart: Cart) -> list[str]:
    currency = rule["currency"].upper()
    if cart.currency != currency:
        return [
            _("the order is in {have}; this rule is for orders in {currency}").format(
                have=cart.currency, currency=currency
            )
        ]
    total, shown = cart.total, format_money(cart.total, currency)
    low, high = _decimal(rule, "min", ""), _decimal(rule, "max", "")
    if low is not None and total < low:
        return [
            _("the order total {total} {currency} is below {low}").format(
                total=shown, currency=currency, low=format_money(low, currency)
            )
        ]
    if high is not None and total > high:
        return [
            _("the order total {total} {currency} is above {high}").format(
                total=shown, currency=currency, high=format_money(high, currency)
            )
        ]
    return []


def _required_fails(rule: dict, cart: Cart) -> list[str]:
    skus = {line.sku for line in cart.lines}
    categories = {line.category_number for line in cart.lines}
    out = [
        _("the cart needs SKU {sku}").format(sku=sku)
        for sku in rule.get("skus", [])
        if sku not in skus
    ]
    out += [
        _("the cart needs an item of category {category}").format(category=c)
        for c in map(whole_number, rule.get("categories", []))
        if c not in categories
    ]
    return out


def _excluded_fails(rule: dict, cart: Cart) -> list[str]:
    skus = {line.sku for line in cart.lines}
    categories = {line.category_number for line in cart.lines}
    out = [
        _("the cart may not hold SKU {sku}").format(sku=sku)
        for sku in rule.get("skus", [])
        if sku in skus
    ]
    out += [
        _("the cart may not hold items of category {category}").format(category=c)
        for c in map(whole_number, rule.get("categories", []))
        if c in categories
    ]
    return out


def _quantity_fails(rule: dict, cart: Cart) -> list[str]:
    sku = rule.get("sku")
    lines = [ln for ln in cart.lines if sku is None or ln.sku == sku]
    count = sum(ln.quantity for ln in lines)
    what = _("of SKU {sku}").format(sku=sku) if sku else _("items in all")
    low, high = _whole(rule, "min", ""), _whole(rule, "max", "")
    if low is not None and count < low:
        return [
            _("at least {low} {what} (the cart has {count})").format(
                low=low, what=what, count=count
            )
        ]
    if high is not None and count > high:
        return [
            _("at most {high} {what} (the cart has {count})").format(
                high=high, what=what, count=count
            )
        ]
    return []


def _segment_fails(rule: dict, cart: Cart) -> list[str]:
    segment = Segment.objects.filter(pk=whole_number(rule["segment"])).first()
    if segment is None:
        return [_("segment {id} no longer exists").format(id=rule["segment"])]
    if cart.customer_id is None:
        return [
            _("only for customers in the segment {name}; the order names none").format(
                name=repr(segment.name)
            )
        ]
    if not members(segment.rules).filter(pk=cart.customer_id).exists():
        return [_("the customer is not in the segment {name}").format(name=repr(segment.name))]
    return []


def _metadata_fails(rule: dict, cart: Cart) -> list[str]:
    key, value = rule["key"], rule.get("value")
    have = cart.metadata.get(key)
    wanted = value if rule["op"] == "in" else [value]
    if have in wanted:
        return []
    shown = _(" or ").join(str(v) for v in wanted)
    return [
        _("metadata {key} must be {wanted} (it is {have})").format(
            key=key, wanted=shown, have=have if have is not None else _("missing")
        )
    ]


_EVALUATE = {
    "order_total": _total_fails,
    "items_required": _required_fails,
    "items_excluded": _excluded_fails,
    "quantity": _quantity_fails,
    "segment": _segment_fails,
    "metadata": _metadata_fails,
}
