"""Rows read with SQL compiled once, not once per request: the rows that belong to a page of
parents (its orders' lines, their invoices) and one order read by its number.

Django compiles a queryset again for every request: for the details of a page of 50
orders that was more time than running the queries (about 1 ms each, where the query
takes 0.3 ms), and one order read with its relations spent two thirds of its request
compiling. A `CompiledRows` keeps the SQL the ORM compiled for a given number of values
(ids, numbers), with the conversions the ORM would apply to its columns, and runs it with
the values of the request; a `RelatedRows` does so for the ids of a page of parents. The
queryset is the ORM's own, so the SQL is the same on every database; only its compilation
is saved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Parents per read at most (a list page holds up to 500); past that, read in parts.
MAX_PARENTS = 500

Row = tuple[Any, ...]


class CompiledRows:
    """`rows(params)` is a `values_list` queryset whose only parameters are `params`, in
    order (ids, numbers); `run(params)` runs it with the SQL compiled once for each number
    of parameters, and gives its rows as the ORM would (each column converted)."""

    def __init__(self, rows: Callable[[list[int]], QuerySet]) -> None:
        self._rows = rows
        self._compiled: dict[tuple[str, int], tuple[str, list[tuple[int, list, Any]]]] = {}
        self._lock = threading.Lock()

    def run(self, params: list[int]) -> list[Row]:
        connection = connections[DEFAULT_DB_ALIAS]
        sql, converters = self._compile(connection.vendor, len(params))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for position, functions, expression in converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
            converted.append(tuple(values))
        return converted

    def _compile(self, vendor: str, count: int) -> tuple[str, list[tuple[int, list, Any]]]:
        held = self._compiled.get((vendor, count))
        if held is not None:
            return held
        with self._lock:
            sample = list(range(1, count + 1))
            queryset = self._rows(sample)
            compiler = queryset.query.get_compiler(DEFAULT_DB_ALIAS)
            sql, params = compiler.as_sql()
            if list(params) != sample:
                raise ValueError("the given values must be the query's only parameters")
            columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
            converters = [
                (position, functions, expression)
                for position, (functions, expression) in compiler.get_converters(columns).items()
            ]
            held = self._compiled[(vendor, count)] = (sql, converters)
        return held


class RelatedRows(CompiledRows):
    """`rows(ids)` is a `values_list` queryset of the rows of the parents `ids` (filtered by
    `…__in=ids` alone, so the ids are its only parameters), whose first column is the
    parent's id. `of(ids)` runs it: each parent's rows, in the queryset's order."""

    def of(self, ids: Sequence[int]) -> dict[int, list[Row]]:
        ids = list(dict.fromkeys(ids))  # what `__in` keeps: each id once, in order
        grouped: dict[int, list[Row]] = {}
        for start in range(0, len(ids), MAX_PARENTS):
            part = ids[start : start + MAX_PARENTS]
            for row in self.run(part):
                grouped.setdefault(row[0], []).append(row)
        return grouped
