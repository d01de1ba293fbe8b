"""The generic feed: products, customers or orders in ordersight's own format, as JSON Lines
(`{base}/{kind}.jsonl`) or CSV (`{base}/{kind}.csv`), from an https address or a `file://`
path below SYNC_FILE_ROOT, read through `transport.StoreAccess` like any store.

JSON Lines: one object per line, the shapes the bulk API takes (`POST /customers/bulk`,
`/offers/bulk`, `/orders/bulk`). CSV: one row per customer; one row per variant (rows of
one offer share its `name`); one row per order line (rows of one order share its
`external_id`), with these columns:

- customers: external_id, name, email, phone, tags (separated by `;`)
- products: name, category_number, currency, unit_price, sku, variant_name, and
  allow_quantity (true unless `false`)
- orders: external_id, created_at, currency, customer_external_id, status, coupon_code,
  referral_code, sku, name, quantity, unit_price, discount

A row that cannot be read is reported with its line number and the run goes on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ordersight.core.validation import ascii_int
from ordersight.sync.transport import Page, StoreAccess, StoreUnavailable

PAGE_SIZE = 250


class FeedSource:
    """Reads a generic feed; the same `count`/`pages` a Shopify client offers."""

    def __init__(self, base: str, *, timeout: float = 60.0) -> None:
        self.store = StoreAccess(base, files=True, timeout=timeout)

    def _read(self, kind: str) -> tuple[str, str] | None:
        for suffix in ("jsonl", "csv"):
            answer = self.store.get(self.store.url(f"{kind}.{suffix}"))
            if answer.status == 404:
                continue
            if answer.status != 200:
                raise StoreUnavailable(f"the feed answered {answer.status}")
            try:
                return suffix, answer.body.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise StoreUnavailable(f"the {kind} feed is not UTF-8 text") from None
        return None

    def has_file(self, kind: str) -> bool:
        """Whether the feed serves a file for `kind` (JSON Lines or CSV)."""
        for suffix in ("jsonl", "csv"):
            answer = self.store.get(self.store.url(f"{kind}.{suffix}"))
            if answer.status == 200:
                return True
            if answer.status != 404:
                raise StoreUnavailable(f"the feed answered {answer.status}")
        return False

    def count(self, kind: str, since: datetime | None = None) -> int | None:
        return None  # known once read

    def pages(self, kind: str, since: datetime | None = None) -> Iterator[Page]:
        """Every item of the feed (generic feeds are read whole), 250 at a time; an item
        that could not be read carries `_error`."""
        found = self._read(kind)
        if found is None:
            return
        suffix, text = found
        items = list(_jsonl(text) if suffix == "jsonl" else _csv(kind, text))
        for start in range(0, len(items), PAGE_SIZE):
            yield Page(items=items[start : start + PAGE_SIZE], next_url=None)


def _jsonl(text: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield {"_line": number, "_error": f"line {number}: not JSON ({exc.msg})"}
            continue
        if not isinstance(item, dict):
            yield {"_line": number, "_error": f"line {number}: not a JSON object"}
            continue
        yield {**item, "_line": number}


def _csv(kind: str, text: str) -> Iterator[dict[str, Any]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    if kind == "customers":
        for number, row in enumerate(rows, start=2):
            tags = [t.strip() for t in (row.get("tags") or "").split(";") if t.strip()]
            yield {
                "external_id": row.get("external_id") or "",
                "name": row.get("name") or "",
                "email": row.get("email") or "",
                "phone": row.get("phone") or "",
                "tags": tags,
                "_line": number,
            }
        return
    if kind == "products":
        offers: dict[str, dict[str, Any]] = {}
        for number, row in enumerate(rows, start=2):
            name = row.get("name") or ""
            offer = offers.setdefault(
                name,
                {
                    "name": name,
                    "category_number": _int(row.get("category_number")),
                    "currency": row.get("currency") or "",
                    "unit_price": row.get("unit_price") or None,
                    # A store sells any number of each unless the column says otherwise.
                    "allow_quantity": (row.get("allow_quantity") or "true").lower() != "false",
                    "variants": [],
                    "_line": number,
                },
            )
            offer["variants"].append(
                {
                    "sku": row.get("sku") or "",
                    "name": row.get("variant_name") or "",
                    "unit_price": row.get("unit_price") or None,
                }
            )
        yield from offers.values()
        return
    orders: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows, start=2):
        key = row.get("external_id") or f"(line {number})"
        order = orders.setdefault(
            key,
            {
                "external_id": row.get("external_id") or "",
                "created_at": row.get("created_at") or None,
                "currency": row.get("currency") or None,
                "customer_external_id": row.get("customer_external_id") or None,
                "status": row.get("status") or "open",
                "coupon_code": row.get("coupon_code") or "",
                "referral_code": row.get("referral_code") or "",
                "lines": [],
                "_line": number,
            },
        )
        line: dict[str, Any] = {"quantity": _int(row.get("quantity")) or 1}
        if row.get("sku"):
            line["sku"] = row["sku"]
        else:
            line["name"] = row.get("name") or ""
            line["unit_price"] = row.get("unit_price") or None
        if row.get("discount"):
            line["discount"] = row["discount"]
        order["lines"].append(line)
    yield from orders.values()


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return ascii_int(text)
