"""Segment rules: which customers a segment holds, as one database query.

A rule is `{"all": [...]}` or `{"any": [...]}` (nesting freely) of conditions
`{"field": F, "op": OP, "value": V}`:

- `spent` and `average` (with `"currency": "EUR"`): net amount spent in that currency and
  the average order there; a customer who never bought in it has spent 0.
- `orders`: counted orders in all currencies (0 for a customer who never bought).
- `last_order_at`, `first_order_at`: an ISO date or time, or a time relative to now
  (`-90d`, `-12h`, `-30m`); a customer who never bought matches no date condition.
- `tag`: the customer has the tag (`eq`), does not have it (`ne`), has one of (`in`).
- `metadata.<key>` (dotted for nested objects): compared with the customer's metadata.

Ops: eq, ne, gt, gte, lt, lte, in. A bad rule raises Invalid naming its path, e.g.
`rules.all[1].value`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from ordersight.core.errors import Invalid
from ordersight.core.money import is_currency
from ordersight.core.validation import whole_number
from ordersight.core.zones import utc_bound
from ordersight.customers.models import Customer
from ordersight.promotions.models import CustomerFigures, CustomerSpend

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
OPS = (*COMPARISONS, "in")
MONEY_FIELDS = ("spent", "average")
DATE_FIELDS = ("last_order_at", "first_order_at")
FIELDS = (*MONEY_FIELDS, "orders", *DATE_FIELDS, "tag")
MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_IN = 100  # values in one `in` list
MAX_VALUE = Decimal(10) ** 14  # numbers compared stay below this, either sign
MAX_TAG = 64
RELATIVE_MOMENT = re.compile(r"^-([0-9]{1,5})([dhm])$")
METADATA_FIELD = re.compile(r"^metadata(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,63}){1,8}$")
_LOOKUP = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in"}


@dataclass(frozen=True)
class _Paths:
    """Where a condition's columns are, seen from the model the query starts at."""

    id: str  # the customer's id
    figures: str  # prefix of the figures' columns
    customer: str  # prefix of the customer's own columns


FROM_CUSTOMERS = _Paths(id="pk", figures="figures__", customer="")
FROM_FIGURES = _Paths(id="customer_id", figures="", customer="customer__")


@dataclass(frozen=True)
class Compiled:
    q: Q
    # Whether a customer who never bought (no figures) could match: when not, the count
    # can start at the figures alone (a smaller table, one join less).
    may_match_without_orders: bool


class _Compiler:
    def __init__(self, paths: _Paths) -> None:
        self.conditions = 0
        self.paths = paths

    def node(self, rule: Any, path: str, depth: int = 0) -> Compiled:
        if depth > MAX_DEPTH:
            raise _bad(path, _("nests deeper than {depth} levels").format(depth=MAX_DEPTH))
        if not isinstance(rule, dict):
            raise _bad(path, _('must be an object: {"all": [...]}, {"any": [...]} or a condition'))
        groups = [k for k in ("all", "any") if k in rule]
        if groups:
            if len(rule) != 1:
                raise _bad(path, _('a group has only "all" or "any"'))
            key = groups[0]
            children = rule[key]
            if not isinstance(children, list) or not children:
                raise _bad(f"{path}.{key}", _("a non-empty list of rules"))
            parts = [
                self.node(child, f"{path}.{key}[{i}]", depth + 1)
                for i, child in enumerate(children)
            ]
            out = parts[0].q
            for part in parts[1:]:
                out = (out & part.q) if key == "all" else (out | part.q)
            flags = [part.may_match_without_orders for part in parts]
            return Compiled(out, all(flags) if key == "all" else any(flags))
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise _bad(
                path, _("at most {most} conditions in a segment").format(most=MAX_CONDITIONS)
            )
        return condition(rule, path, self.paths)


def _bad(path: str, message: str) -> Invalid:
    """Invalid naming `path`; `message` comes translated."""
    return Invalid(
        _("The rule at {path} is not valid: {message}.").format(path=path, message=message),
        fields={path: message},
    )


def compile_rules(rules: Any, *, path: str = "rules", paths: _Paths = FROM_CUSTOMERS) -> Compiled:
    """The customers the rules select, as a Q over Customer (or over CustomerFigures with
    `FROM_FIGURES`); Invalid naming a bad part."""
    return _Compiler(paths).node(rules, path)


def _number(value: Any, path: str, *, whole: bool = False) -> Decimal | int:
    if isinstance(value, bool):
        raise _bad(f"{path}.value", _("a number"))
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _bad(f"{path}.value", _("a number")) from None
    if not number.is_finite() or abs(number) >= MAX_VALUE:
        raise _bad(f"{path}.value", _("a finite number below 10^14"))
    if whole:
        if number != number.to_integral_value():
            raise _bad(f"{path}.value", _("a whole number"))
        return int(number)
    return number


def _moment(value: Any, path: str) -> datetime:
    text = str(value).strip() if isinstance(value, str) else ""
    relative = RELATIVE_MOMENT.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        step = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}[unit]
        return timezone.now() - amount * step
    try:
        moment = parse_datetime(text)
        day = None if moment else parse_date(text)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.combine(day, datetime.min.time())
    if moment is None:
        raise _bad(f"{path}.value", _("an ISO date or time, or -90d / -12h / -30m"))
    return utc_bound(moment if timezone.is_aware(moment) else timezone.make_aware(moment))


def _values(rule: dict, path: str, parse: Callable[[Any, str], Any]) -> Any:
    """The rule's value parsed; a list of them for `in`."""
    value = rule.get("value")
    if rule["op"] == "in":
        if not isinstance(value, list) or not value or len(value) > MAX_IN:
            raise _bad(
                f"{path}.value", _("a list of 1 to {most} values for in").format(most=MAX_IN)
            )
        return [parse(v, path) for v in value]
    return parse(value, path)


def _compare(prefix: str, op: str, value: Any) -> Q:
    if op == "ne":
        return ~Q(**{f"{prefix}__exact": value})
    return Q(**{f"{prefix}__{_LOOKUP[op]}": value})


def _holds_for_zero(op: str, value: Any) -> bool:
    """Whether a customer with nothing (0) meets `op value`."""
    values = value if isinstance(value, list) else [value]
    checks = {
        "eq": lambda: 0 in values,
        "ne": lambda: value != 0,
        "gt": lambda: value < 0,
        "gte": lambda: value <= 0,
        "lt": lambda: value > 0,
        "lte": lambda: value >= 0,
        "in": lambda: 0 in values,
    }
    return checks[op]()


def condition(rule: dict, path: str, paths: _Paths = FROM_CUSTOMERS) -> Compiled:
    field, op = rule.get("field"), rule.get("op")
    if not isinstance(field, str) or not (field in FIELDS or METADATA_FIELD.match(field)):
        raise _bad(
            f"{path}.field",
            _("one of {choices} or metadata.<key>").format(choices=", ".join(FIELDS)),
        )
    if op not in OPS:
        raise _bad(f"{path}.op", _("one of {choices}").format(choices=", ".join(OPS)))
    extra = set(rule) - {"field", "op", "value", "currency"}
    if extra:
        raise _bad(path, _("unknown key {key}").format(key=repr(sorted(extra)[0])))
    if field in MONEY_FIELDS:
        return _money_condition(rule, path, paths)
    if field == "orders":
        value = _values(rule, path, lambda v, p: _number(v, p, whole=True))
        q = _compare(f"{paths.figures}orders", op, value)
        empty = _holds_for_zero(op, value)
        if empty and paths is FROM_CUSTOMERS:
            q |= Q(figures__isnull=True)
        return Compiled(q, empty)
    if field in DATE_FIELDS:
        if op in ("in", "eq", "ne"):
            raise _bad(f"{path}.op", _("dates compare with gt, gte, lt or lte"))
        moment = _values(rule, path, _moment)
        return Compiled(_compare(f"{paths.figures}{field}", op, moment), False)
    if field == "tag":
        return Compiled(_tag_condition(rule, path, paths), True)
    return Compiled(_metadata_condition(rule, path, field, paths), True)


def _money_condition(rule: dict, path: str, paths: _Paths) -> Compiled:
    currency = str(rule.get("currency") or "").upper()
    if not is_currency(currency):
        raise _bad(f"{path}.currency", _("a currency, e.g. EUR"))
    op = rule["op"]
    value = _values(rule, path, _number)
    field = rule["field"]
    # A customer without a row in that currency has spent 0: the condition is asked of the
    # spend rows, and for the ops 0 meets, turned round to "has no row that fails it".
    rows = CustomerSpend.objects.filter(currency=currency)
    within = f"{paths.id}__in"
    if _holds_for_zero(op, value):
        failing = rows.exclude(_compare(field, op, value))
        return Compiled(~Q(**{within: failing.values("customer_id")}), True)
    return Compiled(
        Q(**{within: rows.filter(_compare(field, op, value)).values("customer_id")}), False
    )


def _tag_condition(rule: dict, path: str, paths: _Paths) -> Q:
    op = rule["op"]
    if op not in ("eq", "ne", "in"):
        raise _bad(f"{path}.op", _("tags take eq, ne or in"))
    names = _values(rule, path, _tag_name)
    names = names if isinstance(names, list) else [names]
    tagged = Customer.objects.filter(tags__name__in=names).values("pk")
    within = Q(**{f"{paths.id}__in": tagged})
    return ~within if op == "ne" else within


def _tag_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TAG:
        raise _bad(f"{path}.value", _("a tag name"))
    return value.strip()


def _metadata_condition(rule: dict, path: str, field: str, paths: _Paths) -> Q:
    op = rule["op"]
    value = rule.get("value")
    if op == "in":
        if not isinstance(value, list) or not 0 < len(value) <= MAX_IN:
            raise _bad(
                f"{path}.value", _("a list of 1 to {most} values for in").format(most=MAX_IN)
            )
    elif op in ("gt", "gte", "lt", "lte"):
        value = float(_number(value, path))  # JSON numbers compare as numbers
    elif isinstance(value, float) and (whole := whole_number(value)) is not None:
        value = whole
    elif not isinstance(value, str | int | bool):
        raise _bad(f"{path}.value", _("a string, whole number or boolean"))
    prefix = f"{paths.customer}metadata__" + field.removeprefix("metadata.").replace(".", "__")
    if op == "in":
        out = Q()
        for item in value:
            out |= Q(**{prefix: item})
        return out
    return _compare(prefix, op, value)


def members(rules: Any) -> QuerySet[Customer]:
    """The customers a segment's rules select."""
    return Customer.objects.filter(compile_rules(rules).q)


def count_members(rules: Any) -> int:
    """How many customers the rules select. When nobody without orders can match, counted
    on the figures alone (one table and an index on each condition, no join)."""
    compiled = compile_rules(rules)
    if compiled.may_match_without_orders:
        return Customer.objects.filter(compiled.q).count()
    return CustomerFigures.objects.filter(compile_rules(rules, paths=FROM_FIGURES).q).count()
