"""Every service that owns a transaction runs it again when PostgreSQL aborts it."""

from __future__ import annotations

import ast
from pathlib import Path

import ordersight

SOURCE = Path(ordersight.__file__).parent


# The thin layers' transaction is the request's (the Idempotency-Key middleware runs it
# again); the demo and data generators load a database no one else is using.
OUTSIDE_SERVICES = {"api", "web", "demo.py", "gendata.py"}


def _decorator_name(node: ast.expr) -> str:
    return ast.unparse(node.func if isinstance(node, ast.Call) else node)


def _statements(body: list[ast.stmt]):
    """The statements of a function body, nested blocks included, nested functions not."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)


def _opens_atomic(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.With)
        and any(_decorator_name(item.context_expr) == "transaction.atomic" for item in node.items)
        for node in _statements(function.body)
    )


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


def test_every_public_service_opening_a_transaction_retries_a_deadlocked_one():
    """The same rule for a service whose body opens `with transaction.atomic()` itself: it
    starts the transaction, so `retry_on_deadlock` must wrap it (it acts only when no
    transaction is open yet)."""
    missing, checked = [], 0
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE)
        if "migrations" in path.parts or relative.parts[0] in OUTSIDE_SERVICES:
            continue
        for node in ast.parse(path.read_text(), str(path)).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if not _opens_atomic(node):
                continue
            checked += 1
            if "retry_on_deadlock" not in [_decorator_name(d) for d in node.decorator_list]:
                missing.append(f"{relative}:{node.lineno} {node.name}")
    assert checked >= 5
    assert missing == []
