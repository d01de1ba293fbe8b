"""Every service that owns a transaction runs it again when PostgreSQL aborts it."""

from __future__ import annotations

import ast
from pathlib import Path

import ordersight

SOURCE = Path(ordersight.__file__).parent


def _decorator_name(node: ast.expr) -> str:
    return ast.unparse(node.func if isinstance(node, ast.Call) else node)


def test_every_public_atomic_service_retries_a_deadlocked_transaction():
    """A deadlock or serialization failure is a reason to run the transaction again, not
    an error for the caller: `retry_on_deadlock` must sit above `transaction.atomic`."""
    missing, checked = [], 0
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.parse(path.read_text(), str(path)).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            names = [_decorator_name(d) for d in node.decorator_list]
            if "transaction.atomic" not in names:
                continue
            checked += 1
            atomic = names.index("transaction.atomic")
            if "retry_on_deadlock" not in names[:atomic]:
                missing.append(f"{path.relative_to(SOURCE)}:{node.lineno} {node.name}")
    assert checked > 40
    assert missing == []
