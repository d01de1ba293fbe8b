"""Segment rules and discount-code validation rules in plain words: the sentence a list or a
page shows ("Orders ≥ 3 and Spent in EUR ≥ 100"), and the vocabulary the rule builder's rows
are labelled with, so the rows and the sentence say the same thing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from ordersight.promotions import segments as segment_rules


def _symbols() -> dict[str, str]:
    return {
        "eq": "=",
        "ne": "≠",
        "gt": ">",
        "gte": "≥",
        "lt": "<",
        "lte": "≤",
        "in": _("is one of"),
    }


def _date_ops() -> dict[str, str]:
    return {
        "lt": _("before"),
        "lte": _("on or before"),
        "gt": _("after"),
        "gte": _("on or after"),
    }


def _tag_ops() -> dict[str, str]:
    return {"eq": _("is"), "ne": _("is not"), "in": _("is one of")}


def vocabulary() -> dict[str, Any]:
    """Every word the rule builder's rows use, translated: given to the page as JSON."""
    return {
        "segment_fields": [
            ["orders", _("Orders")],
            ["spent", _("Spent in")],
            ["average", _("Average order in")],
            ["last_order_at", _("Last order")],
            ["first_order_at", _("First order")],
            ["tag", _("Tag")],
            ["metadata", _("Metadata")],
        ],
        "code_types": [
            ["order_total", _("Order total")],
            ["items_required", _("Cart holds")],
            ["items_excluded", _("Cart holds none of")],
            ["quantity", _("Quantity")],
            ["segment", _("Customer in segment")],
            ["metadata", _("Order metadata")],
        ],
        "ops": _symbols(),
        "date_ops": _date_ops(),
        "tag_ops": _tag_ops(),
        "words": {
            "all": _("all"),
            "any": _("any"),
            "match": _("Match"),
            "condition": _("Condition"),
            "comparison": _("Comparison"),
            "of_these": _("of these conditions"),
            "add_condition": _("Add condition"),
            "add_group": _("Add group"),
            "remove": _("Remove"),
            "currency": _("Currency"),
            "key": _("Key"),
            "value": _("Value"),
            "values": _("Values, separated by commas"),
            "min": _("From"),
            "max": _("To"),
            "skus": _("SKUs"),
            "categories": _("Category numbers"),
            "sku_or_all": _("SKU (empty: all items)"),
            "segment": _("Segment"),
            "moment": _("Date (2026-01-31) or days back (-90d)"),
            "custom": _("A condition written in JSON"),
            "empty": _("No conditions: everyone matches."),
            "bad_json": _("The JSON is not valid, so the rows were left as they were."),
        },
    }


def _one(value: Any) -> str:
    # As the rule was written: true/false, not Python's True/False.
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _listed(values: Any) -> str:
    items = values if isinstance(values, list) else [values]
    return ", ".join(_one(v) for v in items)


def _moment(value: Any) -> str:
    match = segment_rules.RELATIVE_MOMENT.match(str(value))
    if not match:
        return str(value)
    words = {
        "d": _("%(n)s days ago"),
        "h": _("%(n)s hours ago"),
        "m": _("%(n)s minutes ago"),
    }
    return words[match.group(2)] % {"n": int(match.group(1))}


def _segment_condition(rule: Mapping[str, Any]) -> str:
    field, op, value = rule.get("field"), rule.get("op"), rule.get("value")
    symbol = _symbols().get(op, str(op))
    if field == "orders":
        return f"{_('Orders')} {symbol} {_listed(value)}"
    if field in ("spent", "average"):
        label = _("Spent in") if field == "spent" else _("Average order in")
        return f"{label} {str(rule.get('currency', '')).upper()} {symbol} {_listed(value)}"
    if field in segment_rules.DATE_FIELDS:
        label = _("Last order") if field == "last_order_at" else _("First order")
        if segment_rules.RELATIVE_MOMENT.match(str(value)) and op in ("lt", "lte"):
            return f"{label} {_('more than')} {_moment(value)}"
        if segment_rules.RELATIVE_MOMENT.match(str(value)) and op in ("gt", "gte"):
            return f"{label} {_('less than')} {_moment(value)}"
        return f"{label} {_date_ops().get(op, symbol)} {_moment(value)}"
    if field == "tag":
        return f"{_('Tag')} {_tag_ops().get(op, symbol)} {_listed(value)}"
    if isinstance(field, str) and field.startswith("metadata."):
        return f"{_('Metadata')} {field.removeprefix('metadata.')} {symbol} {_listed(value)}"
    return str(dict(rule))


def _bounds(low: Any, high: Any, unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    if low not in (None, "") and high not in (None, ""):
        return _("between %(low)s and %(high)s") % {"low": low, "high": f"{high}{unit}"}
    if low not in (None, ""):
        return _("at least %(low)s") % {"low": f"{low}{unit}"}
    return _("at most %(high)s") % {"high": f"{high}{unit}"}


def _items(rule: Mapping[str, Any]) -> str:
    parts = []
    if rule.get("skus"):
        parts.append(_("SKU %(skus)s") % {"skus": _listed(rule["skus"])})
    if rule.get("categories"):
        parts.append(_("category %(numbers)s") % {"numbers": _listed(rule["categories"])})
    return _(" or ").join(parts) if rule.get("type") == "items_excluded" else _(" and ").join(parts)


def _code_condition(rule: Mapping[str, Any], segment_names: Mapping[int, str]) -> str:
    kind = rule.get("type")
    if kind == "order_total":
        currency = str(rule.get("currency", "")).upper()
        return f"{_('Order total')} {_bounds(rule.get('min'), rule.get('max'), currency)}"
    if kind == "items_required":
        return f"{_('Cart holds')} {_items(rule)}"
    if kind == "items_excluded":
        return f"{_('Cart holds none of')} {_items(rule)}"
    if kind == "quantity":
        what = (
            _("Quantity of %(sku)s") % {"sku": rule["sku"]}
            if rule.get("sku")
            else _("Items in all")
        )
        return f"{what} {_bounds(rule.get('min'), rule.get('max'))}"
    if kind == "segment":
        name = segment_names.get(rule.get("segment"), f"#{rule.get('segment')}")
        return _("Customer in segment “%(name)s”") % {"name": name}
    if kind == "metadata":
        symbol = _symbols().get(rule.get("op"), str(rule.get("op")))
        return f"{_('Order metadata')} {rule.get('key')} {symbol} {_listed(rule.get('value'))}"
    return str(dict(rule))


def _sentence(rule: Any, condition: Callable[[Mapping[str, Any]], str], nested: bool) -> str:
    if not isinstance(rule, dict):
        return str(rule)
    for key, joiner in (("all", _(" and ")), ("any", _(" or "))):
        if key in rule and isinstance(rule[key], list):
            parts = [_sentence(child, condition, True) for child in rule[key]]
            text = joiner.join(parts)
            return f"({text})" if nested and len(parts) > 1 else text
    return condition(rule)


def describe_segment_rules(rules: Any) -> str:
    """A segment's rules as one sentence: "Orders ≥ 3 and (Tag is vip or Spent in EUR ≥ 100)"."""
    if not rules:
        return _("Everyone")
    return _sentence(rules, _segment_condition, nested=False)


def describe_code_rules(rules: Any, segment_names: Mapping[int, str] | None = None) -> str:
    """A discount code's validation rules as one sentence ("Order total between 20 and 500
    EUR and Cart holds SKU TEE-M"); segments named by `segment_names` (id → name)."""
    if not rules:
        return _("No conditions")
    names = segment_names or {}
    return _sentence(rules, lambda rule: _code_condition(rule, names), nested=False)
