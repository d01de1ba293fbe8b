"""A client for Shopify's REST Admin API, as a feed reads it: pages of products, customers or
orders (250 a page, the next page named by the `Link` header), throttling honoured
(`429` with `Retry-After`), server errors and failures to connect retried with backoff;
what asking again cannot change (`PermanentFailure`) is not retried.

Every request goes through `transport.StoreAccess`, which keeps it on the store's own
address and off the addresses the operator has not allowed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from ordersight.sync.transport import Page, PermanentFailure, StoreAccess, StoreUnavailable

API_VERSION = "2024-10"
PAGE_SIZE = 250
RETRIES = 4
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 30.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class ShopifyClient:
    def __init__(
        self,
        shop_url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.store = StoreAccess(shop_url, timeout=timeout)
        self.token = token
        self.sleep = sleep
        self.requests = 0
        self.throttled = 0

    def _url(self, path: str, query: dict[str, Any]) -> str:
        return self.store.url(f"admin/api/{API_VERSION}/{path}", query)

    def _get(self, url: str, *, retries: int = RETRIES) -> tuple[Any, dict[str, str]]:
        """GET a URL as JSON, waiting out throttling and retrying server errors (`retries`
        times; none for a person waiting on a connection test)."""
        attempt = 0
        headers = {"X-Shopify-Access-Token": self.token, "Accept": "application/json"}
        while True:
            attempt += 1
            self.requests += 1
            try:
                answer = self.store.get(url, headers=headers)
            except PermanentFailure:
                raise
            except StoreUnavailable:
                if attempt <= retries:
                    self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                    continue
                raise
            if answer.status == 429:
                self.throttled += 1
                self.sleep(_retry_after(answer.headers.get("retry-after")))
                if attempt <= retries * 4:
                    continue
            if answer.status >= 500 and attempt <= retries:
                self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            if not 200 <= answer.status < 300:
                raise StoreUnavailable(f"the store answered {answer.status}")
            try:
                return json.loads(answer.body or b"{}"), answer.headers
            except ValueError:
                raise StoreUnavailable("the store answered with something not JSON") from None

    def count(
        self, resource: str, updated_at_min: datetime | None = None, *, once: bool = False
    ) -> int | None:
        """How many items the store has (changed since `updated_at_min`); `once` asks a
        single time, without waiting out throttling or retrying."""
        query = {"status": "any"} if resource == "orders" else {}
        if updated_at_min is not None:
            query["updated_at_min"] = updated_at_min.isoformat()
        url = self._url(f"{resource}/count.json", query)
        body, _ = self._get(url, retries=0 if once else RETRIES)
        count = body.get("count") if isinstance(body, dict) else None
        return count if isinstance(count, int) else None

    def pages(self, resource: str, updated_at_min: datetime | None = None) -> Iterator[Page]:
        """Every page of a resource (`products`, `customers`, `orders`), oldest change first
        when `updated_at_min` asks for what changed since."""
        query: dict[str, Any] = {"limit": PAGE_SIZE}
        if resource == "orders":
            query["status"] = "any"
        if updated_at_min is not None:
            query["updated_at_min"] = updated_at_min.isoformat()
        url: str | None = self._url(f"{resource}.json", query)
        while url:
            body, headers = self._get(url)
            items = body.get(resource) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise StoreUnavailable(f"the store's answer has no {resource!r} list")
            match = _NEXT.search(headers.get("link", ""))
            url = match.group(1) if match else None
            yield Page(items=items, next_url=url)


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value else 2.0
    except ValueError:
        seconds = 2.0
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)
