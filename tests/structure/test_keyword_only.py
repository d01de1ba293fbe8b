"""Services and selectors take their arguments by keyword (STYLE.md), so that a call reads as
what it passes (`refund_invoice(invoice=..., amount=...)`) and a new argument or a reordered
one cannot silently shift another's meaning.

The public functions of every `services` and `selectors` module (or package) are checked;
names starting with an underscore are the module's own and may take what they like.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ordersight

SOURCE = Path(ordersight.__file__).parent
LAYERS = ("services", "selectors")


def _is_service_or_selector(path: Path) -> bool:
    parts = path.relative_to(SOURCE).parts
    return path.stem in LAYERS or (len(parts) > 2 and parts[-2] in LAYERS)


def _positional(tree: ast.Module) -> list[str]:
    """Public functions of a module that take any argument by position."""
    return [
        f"{node.name}({', '.join(a.arg for a in node.args.posonlyargs + node.args.args)})"
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if not node.name.startswith("_")
        if node.args.posonlyargs or node.args.args
    ]


def test_services_and_selectors_take_keyword_arguments_only():
    modules = [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts and _is_service_or_selector(path)
    ]
    assert len(modules) > 20  # every app's, and payments' package of services
    offences = [
        f"{path.relative_to(SOURCE)}: {signature}"
        for path in modules
        for signature in _positional(ast.parse(path.read_text(), str(path)))
    ]
    assert offences == []


def test_the_check_finds_a_positional_argument():
    planted = ast.parse(
        "def refund_invoice(invoice, *, amount): ...\n"
        "def get_order(*, number): ...\n"
        "def _helper(a, b): ...\n"
        "async def stream(request): ...\n"
    )
    assert _positional(planted) == ["refund_invoice(invoice)", "stream(request)"]


def test_packages_of_services_are_checked_module_by_module():
    assert _is_service_or_selector(SOURCE / "payments" / "services" / "capture.py")
    assert _is_service_or_selector(SOURCE / "orders" / "selectors.py")
    assert not _is_service_or_selector(SOURCE / "orders" / "bulk.py")
