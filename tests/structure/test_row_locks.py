"""Row locks, checked over the whole source: one strength, and customers through one helper.

Rows other tables refer to (orders, customers, invoices, codes, creators…) get KEY SHARE
locks from PostgreSQL's foreign key checks whenever a row naming them is inserted. FOR
UPDATE conflicts with those, and two writers then deadlock (one recounting figures, the
other committing its new orders). No row here is deleted or renumbered under a lock, so
FOR NO KEY UPDATE is always enough, and it does not conflict with KEY SHARE.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ordersight

SOURCE = Path(ordersight.__file__).parent
CUSTOMER_LOCKS = SOURCE / "customers" / "services.py"
RAW_LOCK = re.compile(r"\bFOR\s+(UPDATE|SHARE)\b", re.IGNORECASE)


def _modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(), str(path)))
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _lock_calls(tree: ast.Module) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "select_for_update"
    ]


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_every_row_lock_is_for_no_key_update():
    full_locks = [
        f"{path.relative_to(SOURCE)}:{call.lineno}"
        for path, tree in _modules()
        for call in _lock_calls(tree)
        if not any(
            k.arg == "no_key" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in call.keywords
        )
    ]
    assert full_locks == [], "select_for_update without no_key=True"


def test_no_sql_string_takes_a_row_lock_of_its_own():
    raw = []
    for path, tree in _modules():
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and RAW_LOCK.search(node.value)
            ):
                raw.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    assert raw == []


def test_customer_rows_are_locked_only_by_the_customers_helper():
    elsewhere = [
        f"{path.relative_to(SOURCE)}:{call.lineno}"
        for path, tree in _modules()
        if path != CUSTOMER_LOCKS
        for call in _lock_calls(tree)
        if "Customer" in _names_in(call.func)
    ]
    assert elsewhere == [], "lock customers with customers.services.lock_customers"
