"""`field__any=[…]`: membership in a list, sent as one array parameter on PostgreSQL; and
`__in` with a long list sent the same way there.

Django's `__in` writes one placeholder per value, which the driver and the server then take
apart value by value; for the hundreds of ids a batch recount reads by, that was a visible
part of every order write. `__any` sends `= ANY(%s)` with the list as a single array on
PostgreSQL (the index is used as for `IN`) and falls back to `IN (…)` elsewhere. The values
must already be what the column stores (ids, codes): they are not converted one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

# From this many values an `__in` goes as one array on PostgreSQL. PostgreSQL binds the
# parameters itself (core/pg_connection.py), and a statement holds at most 65,535 of them:
# a list of every customer of a year's report, say, would fail there. Well below that, the
# driver's parsing of a statement with thousands of placeholders (the SKUs of a bulk batch)
# cost more than the query: a tenth of a 1,000-order batch's Python time.
LONG_LIST = 1_000


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return list(dict.fromkeys(self.rhs))

    def as_sql(self, compiler, connection) -> tuple[str, tuple]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        sql, params = any_of_sql(lhs, self.rhs, connection)
        return sql, (*lhs_params, *params)


def any_of_sql(column: str, values: Sequence[Any], connection: Any) -> tuple[str, tuple]:
    """`column` is one of `values` (not empty), for hand-written SQL: one array parameter
    on PostgreSQL, one placeholder per value elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", (list(values),)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", tuple(values)


class _LongListAsArray:
    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple]:
        lookup: Any = self
        if (
            lookup.rhs_is_direct_value()
            and not isinstance(lookup.lhs, ColPairs)
            and not lookup.bilateral_transforms
            and len(lookup.rhs) >= LONG_LIST
            and not any(hasattr(value, "resolve_expression") for value in lookup.rhs)
        ):
            lhs, lhs_params = lookup.process_lhs(compiler, connection)
            # Django's own preparation of each value (None dropped, duplicates too).
            _placeholders, params = lookup.process_rhs(compiler, connection)
            return f"{lhs} = ANY(%s)", (*lhs_params, list(params))
        return lookup.as_sql(compiler, connection)


class InLongListAsArray(_LongListAsArray, In):
    """Django's `__in`, with a long list of plain values as one array on PostgreSQL."""


class RelatedInLongListAsArray(_LongListAsArray, RelatedIn):
    """The same for a relation (`customer__in=[…]`, ids or objects)."""


def register() -> None:
    Field.register_lookup(AnyOf)
    Field.register_lookup(InLongListAsArray)
    ForeignObject.register_lookup(RelatedInLongListAsArray)
    # Relations keep lookups of their own; `customer__any=[ids]` reads like `customer__in`.
    ForeignObject.register_lookup(AnyOf)
