"""References the import contract cannot see, checked over the source: SQL naming another
app's table, and ORM lookups reaching up into an app above through a reverse relation.

The layers in pyproject.toml keep an app from importing the apps above it; a string can still
name their tables ("payments_invoice") or follow a relation they own ("invoices__status"),
and then the lower app silently depends on the higher one. Tables are named through their
models (`Invoice._meta.db_table`), which the contract sees, and a lower app reaches a higher
one only through what the higher one installs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

import ordersight
from tests.structure.test_row_locks import _docstrings

SOURCE = Path(ordersight.__file__).parent
# Bottom first, as in pyproject.toml: an app may use the tables and relations of its own
# layer and those below.
LAYERS = [
    {"core"},
    {"accounts"},
    {"catalog", "customers"},
    {"orders"},
    {"payments"},
    {"subscriptions", "campaigns", "promotions", "sync"},
    {"reports"},
    {"api", "web"},
]
LEVEL = {app: level for level, group in enumerate(LAYERS) for app in group}


def _app_of(path: Path) -> str | None:
    parts = path.relative_to(SOURCE).parts
    return parts[0] if len(parts) > 1 and parts[0] in LEVEL else None


def _modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        app = _app_of(path)
        if app is not None and "migrations" not in path.parts:
            found.append((app, path, ast.parse(path.read_text(), str(path))))
    return found


def _strings(tree: ast.Module) -> list[ast.Constant]:
    docstrings = _docstrings(tree)
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def _tables() -> dict[str, str]:
    """Each project table, by name, with the app that owns it."""
    return {
        model._meta.db_table: model._meta.app_label
        for model in apps.get_models()
        if model._meta.app_label in LEVEL
    }


def _upward_accessors() -> dict[str, dict[str, str]]:
    """For each app, the reverse accessors on its models that belong to apps above it:
    {app: {accessor: owning app}} ("orders": {"invoices": "payments"})."""
    found: dict[str, dict[str, str]] = {}
    for model in apps.get_models():
        below = model._meta.app_label
        if below not in LEVEL:
            continue
        for relation in model._meta.related_objects:
            above = relation.related_model._meta.app_label
            if above in LEVEL and LEVEL[above] > LEVEL[below]:
                name = relation.get_accessor_name() or relation.name
                found.setdefault(below, {})[name] = above
                if relation.related_query_name:
                    found[below][relation.related_query_name()] = above
    return found


def test_no_sql_names_the_table_of_another_app(db):
    tables = _tables()
    named = re.compile(r"\b(" + "|".join(map(re.escape, sorted(tables))) + r")\b")
    offences = [
        f"{path.relative_to(SOURCE)}:{node.lineno} names {table} ({tables[table]})"
        for app, path, tree in _modules()
        if app != "core"  # core's helpers write SQL for whatever model they are handed
        for node in _strings(tree)
        for table in named.findall(node.value)
        if tables[table] != app
    ]
    assert offences == []


LOOKUP = re.compile(r"-?[a-z_]+(__[a-z_]+)*")


def _references(node: ast.AST) -> list[tuple[str, int]]:
    """The relation paths a node may follow: a keyword argument (`invoices__status__in=`),
    a string (`"invoices__refunds"`, `"-invoices__amount"`, `"invoices"`) or an attribute
    (`order.invoices`)."""
    if isinstance(node, ast.keyword) and node.arg:
        return [(node.arg, node.value.lineno)]
    if isinstance(node, ast.Attribute):
        return [(node.attr, node.lineno)]
    is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
    if is_text and LOOKUP.fullmatch(node.value):
        return [(node.value.lstrip("-"), node.lineno)]
    return []


def _reaching_up(tree: ast.Module, accessors: dict[str, str]) -> list[tuple[int, str, str]]:
    """(line, path, app above) for each path in `tree` that starts with, or passes through,
    a relation owned by an app above (`order__invoices__status` from a line, too)."""
    found = []
    for node in ast.walk(tree):
        for path, line in _references(node):
            for part in path.split("__"):
                if part in accessors:
                    found.append((line, path, accessors[part]))
                    break
    return found


@pytest.mark.parametrize("app", ["orders", "catalog", "customers", "payments", "accounts"])
def test_no_lookup_reaches_into_an_app_above(app, db):
    accessors = _upward_accessors().get(app, {})
    offences = [
        f"{path.relative_to(SOURCE)}:{line} {name} ({above})"
        for module_app, path, tree in _modules()
        if module_app == app
        for line, name, above in _reaching_up(tree, accessors)
    ]
    assert offences == []


def test_a_planted_reference_of_each_kind_is_found(db):
    accessors = _upward_accessors()["orders"]
    planted = ast.parse(
        "Order.objects.filter(invoices__status='paid')\n"
        "Order.objects.prefetch_related('invoices')\n"
        "OrderLine.objects.values('order__invoices__amount')\n"
        "order.invoices.all()\n"
        "Order.objects.order_by('-invoices__amount')\n"
        "Order.objects.filter(status='open', customer__name='Ada')\n"
    )
    assert sorted(line for line, _, _ in _reaching_up(planted, accessors)) == [1, 2, 3, 4, 5]


def test_the_checks_see_what_they_look_for(db):
    # Guards against the two tests above passing because they look at nothing.
    assert _tables()["payments_invoice"] == "payments"
    assert _upward_accessors()["orders"]["invoices"] == "payments"
    assert {app for app, _, _ in _modules()} >= {"orders", "payments", "promotions", "core"}
