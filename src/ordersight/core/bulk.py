"""Inserting many rows at once: PostgreSQL COPY where it pays, `bulk_create` elsewhere.

On PostgreSQL, COPY writes rows several times faster than a multi-row INSERT (see
BENCHMARKS.md). COPY returns no ids, so the ids are drawn from the table's own identity
sequence first; callers then link child rows to their parents exactly as after
`bulk_create`. Uniqueness still holds: a duplicate aborts the COPY with the same
IntegrityError a `bulk_create` would raise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson
import psycopg
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Field, JSONField, Model, TextField
from psycopg.types.json import Jsonb

M = TypeVar("M", bound=Model)


def json_text(value: Any) -> str:
    """A JSON value as the text a row stores: orjson's, where the standard encoder took a
    fifth of the figures recounter's time on the kept sales' parts. Keys that are not
    strings become strings, as the standard encoder makes them."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        # orjson stops at 64-bit integers (a store's metadata may hold larger ones); the
        # standard encoder writes them, and refuses what orjson refused for another reason.
        return json.dumps(value)


# Below this many rows one INSERT ... RETURNING is as quick as drawing ids and copying.
COPY_THRESHOLD = 2


def _reserve_ids(model: type[Model], count: int, using: str) -> list[int]:
    meta = model._meta
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


# Columns whose Python value psycopg writes as is; for these, Django's own preparation
# (get_db_prep_save) only re-checks what the services already made sure of, and it took
# most of the time of a COPY. Anything else goes through Django's preparation.
_AS_IS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateTimeField",
        "DecimalField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _cell(field: Field, connection: BaseDatabaseWrapper) -> Callable[[Model], Any]:
    """How to turn an object into this column's COPY value."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        # pre_save fills auto_now fields, as save() and bulk_create() do.
        return lambda obj: field.pre_save(obj, True)
    attname = field.attname
    if field.get_internal_type() in _AS_IS:
        return lambda obj: getattr(obj, attname)
    if isinstance(field, JSONField):
        encoder = field.encoder

        def as_json(obj: Model) -> str | None:
            value = getattr(obj, attname)
            if value is None:
                return None
            return json_text(value) if encoder is None else json.dumps(value, cls=encoder)

        return as_json
    return lambda obj: field.get_db_prep_save(getattr(obj, attname), connection)


def _copy(model: type[Model], objs: Sequence[Model], using: str) -> None:
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated]
    # A primary key that is not generated (one-to-one with a parent) is already set.
    ids = _reserve_ids(model, len(objs), using) if meta.auto_field else [None] * len(objs)
    for obj, pk in zip(objs, ids, strict=True):
        # As bulk_create does: refuse unsaved parents, and take a parent's id even when
        # it was assigned before the parent was saved.
        obj._prepare_related_fields_for_save(operation_name="insert_many")
        if pk is not None:
            obj.pk = pk
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # The psycopg cursor under Django's wrapper raises psycopg's own errors; translate them
    # so a duplicate is the IntegrityError callers already handle.
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        cells = [_cell(f, connection) for f in fields]
        for obj in objs:
            copy.write_row([cell(obj) for cell in cells])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def insert_many(model: type[M], objs: Sequence[M], *, batch_size: int = 1000) -> Sequence[M]:
    """Insert `objs` (new, unsaved) and set their primary keys; COPY on PostgreSQL."""
    using = router.db_for_write(model)
    if connections[using].vendor == "postgresql" and len(objs) >= COPY_THRESHOLD:
        _copy(model, objs, using)
        return objs
    return model.objects.using(using).bulk_create(objs, batch_size=batch_size)


def _sqlite_value(value: Any, connection: BaseDatabaseWrapper) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        # Stored as Django stores it (UTC, no offset), so it sorts and compares the same.
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert plain rows (values in `columns` order) without building model instances: the
    fastest way in for rows written by the thousand (order lines, events, the sales
    rollups); the caller keeps what it needs of them, as no objects come back. Columns
    left out take the table's default (an id from its sequence); values are written as
    given, so the caller has checked them. COPY on PostgreSQL."""
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    count = 0
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json_text(v) if isinstance(v, dict | list) else v for v in row])
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[list[Any]] = []
        for row in rows:
            batch.append([_sqlite_value(v, connection) for v in row])
            if len(batch) == 1000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


@dataclass
class ItemResult:
    """The outcome of one item of a bulk request (orders, offers, customers)."""

    index: int
    result: str = "error"  # created, updated, unchanged or error
    number: int | None = None
    external_id: str | None = None
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    id: int | None = None


def _jsonb(field: JSONField, value: Any, connection: BaseDatabaseWrapper) -> Any:
    if value is None or field.encoder is not None:
        return field.get_db_prep_save(value, connection)
    return Jsonb(value, dumps=json_text)


def _array_type(field: Field, connection: BaseDatabaseWrapper) -> str:
    # Text, not varchar(n): an explicit cast to varchar(n) cuts a long value short, while
    # assigning text to the column refuses it, as an INSERT of the value itself would.
    if isinstance(field, CharField | TextField):
        return "text"
    return field.db_type(connection)


def _unnest(
    connection: BaseDatabaseWrapper, columns: Sequence[Field], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[list[Any]]]:
    """A PostgreSQL `unnest(…)` that turns one array per column back into `rows`, for
    `_execute_binary`.

    Thousands of rows then travel as a few array parameters instead of one placeholder per
    value: the driver's per-placeholder work and the server's parsing of every literal were
    most of the time of a large `VALUES` statement. Returns the FROM item and its parameters.
    """
    marks = ", ".join(f"%b::{_array_type(c, connection)}[]" for c in columns)
    names = ", ".join(connection.ops.quote_name(c.column) for c in columns)
    arrays: list[list[Any]] = [list(values) for values in zip(*rows, strict=True)] or [
        [] for _ in columns
    ]
    return f"unnest({marks}) AS v({names})", arrays


def _execute_binary(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> None:
    """Run a statement with `%b` parameters (arrays) on PostgreSQL, sent in binary.

    Django's cursor binds parameters on the client, and psycopg writes a text array element
    by element, testing each for quotes and escaping it: most of a large upsert's time in the
    worker. The binary form needs neither. It takes a cursor of psycopg's own (server-side
    binding) on the same connection, so the statement runs in the caller's transaction; it
    is logged like any other when queries are.
    """
    with connection.cursor() as cursor, connection.wrap_database_errors:
        logged = cursor.debug_sql(sql, None) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged, psycopg.Cursor(connection.connection) as raw:
            raw.execute(sql, params)


# From this many rows an upsert's rows go to the server by COPY: the driver writes COPY rows
# in C, where it encodes array parameters value by value in Python (a tenth of the CPU of a
# bulk ingest of completed orders, whose recount upserts some 40,000 rollup rows a batch).
COPY_UPSERT_ROWS = 5000


def lock_order(model: type[Model], columns: Sequence[str], alias: str) -> str:
    """The ORDER BY that writes rows of `model` in the order of `columns` (text compared by
    its bytes, as Python compares strings), for rows under `alias`: every writer of a table
    that orders its rows by it locks them alike."""
    connection = connections[router.db_for_write(model)]
    by_column = {f.column: f for f in model._meta.concrete_fields}
    q = connection.ops.quote_name
    return ", ".join(
        f"{alias}.{q(c)}"
        + (' COLLATE "C"' if _array_type(by_column[c], connection) == "text" else "")
        for c in columns
    )


def copied_to_temporary_table(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> str:
    """`rows` copied into a temporary table of `table`'s `columns` (emptied first if this
    transaction made it before; dropped at its end), on PostgreSQL, inside a transaction;
    returns the temporary table's quoted name."""
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    # Named by its columns too: one transaction may copy other columns of the same table.
    shape = hashlib.blake2s(names.encode(), digest_size=4).hexdigest()
    temporary = q(f"upsert_{table.strip(chr(34))}_{shape}")
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {temporary} ON COMMIT DROP AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {temporary}")
        with cursor.cursor.copy(f"COPY {temporary} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return temporary


def upsert_clauses(
    model: type[Model], columns: Sequence[str], *, unique: Sequence[str], adding: bool
) -> tuple[str, str]:
    """The `INSERT INTO … (columns) ` that starts an upsert of `model` and the ` ON CONFLICT
    … DO UPDATE` that ends it (see `upsert_rows`), for a statement with rows between them."""
    q = connections[router.db_for_write(model)].ops.quote_name
    table = q(model._meta.db_table)
    updates = ", ".join(
        f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" if adding else f"{q(c)} = excluded.{q(c)}"
        for c in columns
        if c not in unique
    )
    insert = f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "
    upsert = f" ON CONFLICT ({', '.join(q(c) for c in unique)}) DO UPDATE SET {updates}"
    return insert, upsert


def upsert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    unique: Sequence[str],
    adding: bool = False,
) -> None:
    """Insert plain rows (values in `columns` order); where a row with the same `unique`
    columns exists, overwrite its other columns, or with `adding`, add to them (counters).

    One `INSERT … ON CONFLICT DO UPDATE`, which PostgreSQL and SQLite both run atomically
    per row; on PostgreSQL the rows travel as one array per column and are written in the
    order of their `unique` columns (text by its bytes), so two writers that meet on some
    rows lock them in the same order, whatever order each passed them in. Django's
    `bulk_create` can only overwrite on conflict, not add, and it builds a model instance
    per row.
    """
    if not rows:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column[c] for c in columns]
    insert, upsert = upsert_clauses(model, columns, unique=unique, adding=adding)
    if connection.vendor == "postgresql":
        json_columns = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
        if json_columns:
            rows = [list(row) for row in rows]
            for row in rows:
                for i in json_columns:
                    row[i] = _jsonb(fields[i], row[i], connection)
        order = lock_order(model, unique, "v")
        if len(rows) >= COPY_UPSERT_ROWS and connection.in_atomic_block:
            source = copied_to_temporary_table(connection, table, columns, rows)
            names = ", ".join(f"v.{q(c)}" for c in columns)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{insert}SELECT {names} FROM {source} AS v ORDER BY {order}{upsert}"
                )
            return
        source, arrays = _unnest(connection, fields, rows)
        _execute_binary(
            connection, f"{insert}SELECT * FROM {source} ORDER BY {order}{upsert}", arrays
        )
        return
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cursor.execute(
                f"{insert}VALUES {', '.join([placeholders] * len(chunk))}{upsert}",
                [_sqlite_value(value, connection) for row in chunk for value in row],
            )


def update_many(
    model: type[Model], objs: Sequence[Model], fields: Sequence[str], *, batch_size: int = 1000
) -> None:
    """Write `fields` of many saved rows: one `UPDATE … FROM unnest(…)` on PostgreSQL, one
    `UPDATE … FROM (VALUES …)` per batch elsewhere.

    Django's `bulk_update` builds a CASE expression per field and row, which at thousands of
    rows costs far more than the database's work; this sends the values as a table instead.
    """
    if not objs:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    on_postgres = connection.vendor == "postgresql"

    row_marks = "(" + ", ".join(["%s"] * (1 + len(columns))) + ")"
    names = ", ".join(
        f"column{i + 1} AS {quote(c.column)}" for i, c in enumerate((meta.pk, *columns))
    )
    table = quote(meta.db_table)
    sets = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns)
    pk_column = quote(meta.pk.column)
    if on_postgres:
        rows = [
            [obj.pk, *(c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns)]
            for obj in objs
        ]
        source, arrays = _unnest(connection, [meta.pk, *columns], rows)
        where = f"{table}.{pk_column} = v.{pk_column}"
        _execute_binary(
            connection, f"UPDATE {table} SET {sets} FROM {source} WHERE {where}", arrays
        )
        return
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params: list[Any] = []
            for obj in batch:
                params.append(obj.pk)
                params.extend(
                    c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns
                )
            values = ", ".join([row_marks] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (SELECT {names} FROM (VALUES {values}) AS raw) "
                f"AS v WHERE {table}.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}",
                params,
            )
