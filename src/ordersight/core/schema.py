"""Schema changes that stay out of the way of a running store."""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex
from django.db.migrations.operations.base import Operation


class AddIndexWithoutLocking(AddIndex):
    """`AddIndex` that builds the index without stopping writes on PostgreSQL.

    A plain `CREATE INDEX` blocks every insert and update of the table until it is built,
    seconds at a million orders; `CREATE INDEX CONCURRENTLY` lets them go on (it cannot run
    in a transaction: the migration sets `atomic = False`). Elsewhere (SQLite) a plain index.
    """

    atomic = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **self._concurrently(schema_editor))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **self._concurrently(schema_editor))

    def _concurrently(self, schema_editor: Any) -> dict[str, bool]:
        if schema_editor.connection.vendor != "postgresql":
            return {}
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                f"{self.__class__.__name__} cannot run in a transaction: "
                "set atomic = False on the migration."
            )
        return {"concurrently": True}


class AddTrigramIndex(Operation):
    """A trigram index on `UPPER(field)`, the expression Django's `icontains` compares, so a
    search for part of a name or an address reads the index instead of every row.

    PostgreSQL only (`pg_trgm`, a trusted extension the database's owner may create), built
    concurrently like `AddIndexWithoutLocking`; SQLite has no such index and scans.
    """

    atomic = False
    reversible = True

    def __init__(self, model_name: str, field: str, name: str) -> None:
        self.model_name, self.field, self.name = model_name, field, name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"model_name": self.model_name, "field": self.field, "name": self.name}
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # the index lives in the database only: models know nothing of operator classes

    def database_forwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self._applies(schema_editor, model):
            return
        quote = schema_editor.quote_name
        column = model._meta.get_field(self.field).column
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(self.name)} "
            f"ON {quote(model._meta.db_table)} "
            f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self._applies(schema_editor, model):
            quote = schema_editor.quote_name
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(self.name)}")

    def _applies(self, schema_editor: Any, model: Any) -> bool:
        if schema_editor.connection.vendor != "postgresql":
            return False
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                f"{self.__class__.__name__} cannot run in a transaction: "
                "set atomic = False on the migration."
            )
        return self.allow_migrate_model(schema_editor.connection.alias, model)

    def describe(self) -> str:
        return f"Trigram index {self.name} on {self.model_name}.{self.field}"
