"""The sources and order types an order may have: the built-in ones and those the account
added (`OrderChoice`). Order input, filters, pages and reports all ask here."""

from __future__ import annotations

from collections.abc import Iterable

from ordersight.orders.models import ChoiceKind, OrderChoice, OrderSource, OrderType

BUILT_IN = {ChoiceKind.SOURCE: OrderSource, ChoiceKind.ORDER_TYPE: OrderType}


def _choices(kind: ChoiceKind) -> list[tuple[str, str]]:
    built_in = [(value, str(label)) for value, label in BUILT_IN[kind].choices]
    added = OrderChoice.objects.filter(kind=kind).order_by("label").values_list("value", "label")
    return built_in + list(added)


def source_choices() -> list[tuple[str, str]]:
    return _choices(ChoiceKind.SOURCE)


def order_type_choices() -> list[tuple[str, str]]:
    return _choices(ChoiceKind.ORDER_TYPE)


def source_values() -> list[str]:
    return all_values(ChoiceKind.SOURCE)


def order_type_values() -> list[str]:
    return all_values(ChoiceKind.ORDER_TYPE)


def is_built_in(kind: ChoiceKind, value: str) -> bool:
    return value in BUILT_IN[kind].values


def known_values(kind: ChoiceKind, named: Iterable[str]) -> frozenset[str]:
    """The built-in values and those of `named` the account added: the table is read only
    when an order names a value that is not built in (most name a built-in one)."""
    built_in = frozenset(BUILT_IN[kind].values)
    others = set(named) - built_in
    if not others:
        return built_in
    added = OrderChoice.objects.filter(kind=kind, value__in=others).values_list("value", flat=True)
    return built_in | frozenset(added)


def all_values(kind: ChoiceKind) -> list[str]:
    return [value for value, _ in _choices(kind)]
