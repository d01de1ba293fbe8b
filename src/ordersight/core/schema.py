"""Schema changes that stay out of the way of a running store."""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex


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
