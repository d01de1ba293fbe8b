"""The report's figures as JSON values and CSV rows: money as strings with the currency's
decimals, the change in percent, totals below the rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from ordersight.core.bidi import replace_bidi_controls
from ordersight.core.csv_stream import needs_neutralising
from ordersight.core.money import format_money
from ordersight.reports.selectors import Breakdown, BreakdownRow, Figures, change_percent

MONEY = ("gross", "refunds", "net", "fees", "funds_credited", "average")


def figures_out(figures: Figures, currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {"orders": figures.orders, "units": figures.units}
    for name in MONEY:
        value = figures.value(name)
        out[name] = None if value is None else format_money(value, currency)
    for name in ("commission", "discount"):
        if getattr(figures, name) is not None:
            out[name] = format_money(getattr(figures, name), currency)
    return out


def change_out(current: Figures, previous: Figures | None) -> dict[str, str | None]:
    """Percent change per figure; None where the previous figure is zero or missing."""
    names = ("orders", "units", "gross", "refunds", "net", "average")
    if previous is None:
        return dict.fromkeys(names)
    return {
        name: _percent(change_percent(current=current.value(name), previous=previous.value(name)))
        for name in names
    }


def _percent(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def row_out(row: BreakdownRow, *, compare: bool) -> dict[str, Any]:
    out = {"key": row.key, "label": row.label, "currency": row.currency}
    out.update(figures_out(row.figures, row.currency))
    if row.confirmed is not None and row.unconfirmed is not None:
        out["confirmed"] = figures_out(row.confirmed, row.currency)
        out["unconfirmed"] = figures_out(row.unconfirmed, row.currency)
    if compare:
        out["previous"] = figures_out(row.previous, row.currency) if row.previous else None
        out["change"] = change_out(row.figures, row.previous)
    return out


def totals_out(
    totals: dict[str, Figures], previous: dict[str, Figures] | None = None
) -> list[dict[str, Any]]:
    out = []
    for currency, figures in totals.items():
        item = {"currency": currency, **figures_out(figures, currency)}
        if previous is not None:
            before = previous.get(currency)
            item["previous"] = figures_out(before, currency) if before else None
            item["change"] = change_out(figures, before)
        out.append(item)
    return out


def _cell(row: BreakdownRow, column: str) -> Any:
    currency = row.currency
    if column in ("key", "label", "currency"):
        return getattr(row, column)
    part, _, name = column.partition("_")
    if part in ("confirmed", "unconfirmed", "previous") and name in ("orders", "net"):
        figures = getattr(row, part)
        if figures is None:
            return ""
        value = figures.value(name)
        return value if name == "orders" else format_money(value, currency)
    if column == "change_net":
        change = change_percent(
            current=row.figures.net, previous=row.previous.net if row.previous else None
        )
        return "" if change is None else change
    value = row.figures.value(column)
    if value is None:
        return ""
    return format_money(value, currency) if column in (*MONEY, "commission", "discount") else value


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading quote and bidi controls are
    replaced (as the list exports do)."""
    if not isinstance(value, str):
        return value
    value = replace_bidi_controls(value)
    return "'" + value if needs_neutralising(value) else value


def breakdown_csv(breakdown: Breakdown, columns: Sequence[str]) -> Iterator[str]:
    """The rows, then one total row per currency (completed sales, refunds subtracted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(columns)
    yield flush()
    for row in breakdown.rows:
        writer.writerow([_safe(_cell(row, c)) for c in columns])
        if buffer.tell() > 64 * 1024:
            yield flush()
    for currency, figures in breakdown.totals.items():
        total = BreakdownRow(
            key="total", label="Total, refunds subtracted", currency=currency, figures=figures
        )
        writer.writerow([_safe(_cell(total, c)) for c in columns])
    yield flush()
