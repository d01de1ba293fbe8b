"""One declaration per list: which rows, how they sort, and what the CSV export holds.

The UI table, the API list and the CSV export are all built from a list's `ListSpec`, so a
filter means the same everywhere, the export honours the list's sort, and each export header
sits beside the expression that fills it: the two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Expression, F, QuerySet
from django.utils.translation import gettext as _

from ordersight.core.errors import Invalid
from ordersight.core.filtering import apply_filterset

# A sort key or an export cell: a field path ("customer__name") or an expression.
Value = str | Expression

# How far a list counts exactly: beyond it a page says "more than 10,000", so a count never
# reads a million rows to print a number nobody reads to the last digit.
COUNT_BOUND = 10_000


@dataclass(frozen=True)
class Count:
    """How many rows match: exact up to `bound`, else only that there are more."""

    value: int
    bound: int

    @property
    def more(self) -> bool:
        return self.value > self.bound


def bounded_count(queryset: QuerySet, bound: int | None = None) -> Count:
    """Count `queryset` up to `bound` rows in one query: ``SELECT count(*) FROM (SELECT id
    ... LIMIT bound + 1)``, which stops reading once it knows the answer is "more"."""
    bound = COUNT_BOUND if bound is None else bound
    value = queryset.order_by().values("pk")[: bound + 1].count()
    return Count(value=value, bound=bound)


@dataclass(frozen=True)
class ListSpec:
    name: str
    filterset: type[django_filters.FilterSet]
    # The selector's starting point: the rows any caller may list, with their relations.
    base: Callable[[], QuerySet]
    # Sortable columns by name. A field of the row sorts as it is; a related field
    # ("offer__number") or an expression is annotated first. None may ever be null, so
    # keyset pagination (with the id as tiebreak) stays exact.
    sorts: Mapping[str, Value]
    default_sort: str
    # The CSV: (header, value) pairs; values must produce text the same way on every
    # database (see core/csv_stream.py for the helpers).
    columns: Sequence[tuple[str, Value]]
    filename: str

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(header for header, _value in self.columns)

    def rows(self, filters: Mapping[str, Any]) -> QuerySet:
        """The rows that match `filters`; bad filter values raise Invalid naming them."""
        return apply_filterset(self.filterset, filters, self.base())

    def count(self, filters: Mapping[str, Any], bound: int | None = None) -> Count:
        """How many rows match `filters`, from the same selector as the rows (bounded)."""
        return bounded_count(self.rows(filters), bound)

    def sort(self, queryset: QuerySet, sort: str | None) -> tuple[QuerySet, tuple[str, str]]:
        """The queryset ready to sort by `sort` (e.g. "-total"), and its keyset ordering."""
        sort = sort or self.default_sort
        key = sort.lstrip("-")
        if key not in self.sorts:
            raise Invalid(
                _("Cannot sort by {sort}.").format(sort=repr(sort)),
                fields={
                    "sort": _("one of {sorts}, each optionally with a leading -").format(
                        sorts=", ".join(self.sorts)
                    )
                },
            )
        value = self.sorts[key]
        if isinstance(value, str) and "__" not in value:
            name = value
        else:
            # A related column or an expression is annotated, so that a page's last row
            # carries the value its cursor is made of.
            queryset = queryset.annotate(sort_key=F(value) if isinstance(value, str) else value)
            name = "sort_key"
        prefix = "-" if sort.startswith("-") else ""
        return queryset, (f"{prefix}{name}", f"{prefix}id")

    def export(self, filters: Mapping[str, Any], sort: str | None) -> QuerySet:
        """The filtered rows as tuples of text cells in `headers` order, in the list's sort."""
        queryset, ordering = self.sort(self.rows(filters), sort)
        cells = {f"cell_{i}": _expression(value) for i, (_header, value) in enumerate(self.columns)}
        return (
            queryset.select_related(None)
            .prefetch_related(None)
            .order_by(*ordering)
            .annotate(**cells)
            .values_list(*cells)
        )


def as_rows(queryset: QuerySet, ordering: Sequence[str], fields: Sequence[str]) -> QuerySet:
    """`queryset` read as named rows of `fields`, with the columns of its keyset `ordering`
    (a page's cursor is made of them), rather than as model objects: a list that shows or
    writes only these columns skips building an object and its relations for every row."""
    sorted_by = [name.lstrip("-") for name in ordering]
    return queryset.values_list(
        *fields, *(name for name in sorted_by if name not in fields), named=True
    )


def _expression(value: Value) -> Expression:
    return F(value) if isinstance(value, str) else value
