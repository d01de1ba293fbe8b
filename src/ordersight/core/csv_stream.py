"""Streaming CSV exports in constant memory, with spreadsheet formula injection neutralised.

The export's rows come from the list's own selector queryset, turned into text by SQL
expressions (so both databases write the same cells). On PostgreSQL the compiled query is
streamed with `COPY (...) TO STDOUT WITH CSV`; elsewhere rows are read with `iterator()` and
written by `csv.writer`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, CharField, Expression, F, Func, Q, QuerySet, Value, When
from django.db.models.functions import Cast

from ordersight.core.bidi import BidiControlsReplaced
from ordersight.core.money import MINOR_UNITS

# Spreadsheet programs read a cell as a formula when its first non-blank character is one of
# these (the fullwidth forms too, which some of them fold to ASCII). A cell that starts with
# a tab or a carriage return is treated as hostile as well.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BLANKS = (" ", "\t", "\r", "\n", "\u00a0", "\u3000", "\u2007", "\u202f")
ALWAYS = ("\t", "\r")
CHUNK_BYTES = 64 * 1024


def needs_neutralising(text: str) -> bool:
    """The rule the SQL below applies, in Python (tests hold the two to each other)."""
    if text[:1] in ALWAYS:
        return True
    return text.lstrip("".join(BLANKS))[:1] in FORMULA_STARTS


def _sqlite_chars(chars: tuple[str, ...]) -> str:
    return " || ".join(f"char({ord(c)})" for c in chars)


def _regex_class(chars: tuple[str, ...]) -> str:
    # Escapes like \u003d belong to PostgreSQL's regular expressions, not to the literal.
    return "".join(f"\\u{ord(c):04x}" for c in chars)


class Neutralised(Func):
    """The text, with a leading apostrophe when a spreadsheet would read it as a formula.

    On PostgreSQL the argument appears once in the SQL: a CASE over each prefix repeats it,
    and when the argument is itself an expression (a subquery, say) the database evaluates
    it again for every prefix and row.
    """

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        starts = ", ".join(f"char({ord(c)})" for c in FORMULA_STARTS)
        always = ", ".join(f"char({ord(c)})" for c in ALWAYS)
        first = f"substr(ltrim(%(expressions)s, {_sqlite_chars(BLANKS)}), 1, 1)"
        hostile = f"substr(%(expressions)s, 1, 1) IN ({always}) OR {first} IN ({starts})"
        return self.as_sql(
            compiler,
            connection,
            template=(f"CASE WHEN {hostile} THEN '''' || %(expressions)s ELSE %(expressions)s END"),
        )

    def as_postgresql(self, compiler, connection, **extra):
        pattern = (
            f"^([{_regex_class(ALWAYS)}]|[{_regex_class(BLANKS)}]*[{_regex_class(FORMULA_STARTS)}])"
        )
        return self.as_sql(
            compiler,
            connection,
            template=f"regexp_replace(%(expressions)s, '{pattern}', '''\\1')",
        )


def neutralised(field: str | Expression) -> Neutralised:
    """The text of `field` (a column, an annotation or an expression), safe in a spreadsheet:
    no formula, and no bidi control reordering the cell (core/bidi.py)."""
    return Neutralised(BidiControlsReplaced(F(field) if isinstance(field, str) else field))


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, e.g. 2026-11-23T10:04:05Z."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            # '%%%%' survives the template and leaves '%%' for the driver, like any literal %.
            template="strftime('%%%%Y-%%%%m-%%%%dT%%%%H:%%%%M:%%%%SZ', %(expressions)s)",
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=(
                "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            ),
        )


class IsoDate(Func):
    """A day as ISO 8601 text, e.g. 2026-11-23, whatever the database's date style."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="strftime('%%%%Y-%%%%m-%%%%d', %(expressions)s)"
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')")


class _FixedDecimals(Func):
    output_field = CharField()

    def __init__(self, expression: Expression, places: int) -> None:
        super().__init__(expression)
        self.places = places

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template=f"printf('%%%%.{self.places}f', %(expressions)s)"
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=f"round(%(expressions)s, {self.places})::text",
        )


def money_text(amount_field: str, currency_field: str = "currency") -> Case:
    """An amount as text with exactly its currency's decimals ("12.50", "1200", "1.250")."""
    by_places: dict[int, list[str]] = {}
    for code, places in MINOR_UNITS.items():
        by_places.setdefault(places, []).append(code)
    whens = [
        When(
            Q(**{f"{currency_field}__in": sorted(codes)}),
            then=_FixedDecimals(F(amount_field), places),
        )
        for places, codes in sorted(by_places.items())
        if places != 2
    ]
    return Case(*whens, default=_FixedDecimals(F(amount_field), 2), output_field=CharField())


def decimal_text(field: str, places: int) -> Case:
    """A decimal column as text with exactly `places` decimals, blank when null (SQLite's
    printf would write a null as zero)."""
    return Case(
        When(**{f"{field}__isnull": True}, then=Value("")),
        default=_FixedDecimals(F(field), places),
        output_field=CharField(),
    )


def yes_no(field: str) -> Case:
    """A boolean as "yes"/"no", the same on every database."""
    return Case(
        When(**{field: True}, then=Value("yes")), default=Value("no"), output_field=CharField()
    )


def as_text(field: str) -> Cast:
    return Cast(field, output_field=CharField())


def _rows_via_copy(connection: BaseDatabaseWrapper, sql: str, params: Sequence) -> Iterator[bytes]:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        # Every field quoted, so a bare CR or LF inside a cell can never end the row.
        copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)"
        # Leaving this block early (an error, a client that hung up) cancels the COPY and
        # reads what is left of it, so the connection is clean again when it is given back.
        with raw.copy(copy_sql, params) as copy:
            buffer = bytearray()
            for data in copy:
                buffer += data
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)


def _rows_via_iterator(queryset: QuerySet) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in queryset.iterator(chunk_size=2000):
        writer.writerow(row)
        if out.tell() >= CHUNK_BYTES:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode()


def give_back(connection: BaseDatabaseWrapper) -> None:
    # The request is over for the database once its export ends: the connection goes back
    # to the pool now rather than at request_finished, which an ASGI server never signals
    # when the body raises. Inside a transaction (a test's, say) it stays with its owner.
    if not connection.in_atomic_block:
        connection.close()


def csv_chunks(queryset: QuerySet, header: Sequence[str]) -> Generator[bytes, None, None]:
    """The header line, then the rows of a `values_list` queryset, as CSV bytes in chunks.

    The query is compiled here, before the caller sends any header, so a query that cannot
    run fails the request cleanly, and a selection that is empty by construction (an `__in`
    of nothing, which Django refuses to compile) is a CSV of the header alone. The returned
    generator gives the connection back however it ends: exhausted, raising, or closed early.
    """
    connection = connections[queryset.db]
    try:
        if connection.vendor == "postgresql":
            sql, params = queryset.query.sql_with_params()
            rows = _rows_via_copy(connection, sql, params)
        else:
            queryset.query.get_compiler(queryset.db).as_sql()
            rows = _rows_via_iterator(queryset)
    except EmptyResultSet:
        rows = iter(())
    return _with_header(header, rows, connection)


def _with_header(
    header: Sequence[str], rows: Iterator[bytes], connection: BaseDatabaseWrapper
) -> Generator[bytes, None, None]:
    try:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(header)
        yield out.getvalue().encode()
        yield from rows
    finally:
        # `yield from` has closed `rows` by now (its cursor, its COPY) on every way out.
        give_back(connection)
