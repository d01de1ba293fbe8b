"""Payments round and share money only through core/money.py (STYLE: one rounding rule and
one way of sharing an amount over lines), so invoices never drift apart by a minor unit."""

from __future__ import annotations

import ast
from pathlib import Path

import ordersight

PAYMENTS = Path(ordersight.__file__).parent / "payments"


def _rounding_modes_imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "decimal"
        for alias in node.names
        if alias.name.startswith("ROUND_")
    }


def test_payments_take_rounding_and_sharing_from_core_money():
    rounding_here = {
        str(path.relative_to(PAYMENTS)): modes
        for path in sorted(PAYMENTS.rglob("*.py"))
        if "migrations" not in path.parts and (modes := _rounding_modes_imported(path))
    }
    assert rounding_here == {}
