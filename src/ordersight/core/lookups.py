"""`field__any=[…]`: membership in a list, sent as one array parameter on PostgreSQL.

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


def register() -> None:
    Field.register_lookup(AnyOf)
    # Relations keep lookups of their own; `customer__any=[ids]` reads like `customer__in`.
    ForeignObject.register_lookup(AnyOf)
