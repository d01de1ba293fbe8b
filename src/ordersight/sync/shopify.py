"""A client for Shopify's REST Admin API, as a feed reads it: pages of products, customers or
orders (250 a page, the next page named by the `Link` header), throttling honoured
(`429` with `Retry-After`), server errors retried with backoff.

Written on the standard library: the client needs GET with headers, and one dependency
fewer is one less thing for every installation to carry.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

API_VERSION = "2024-10"
PAGE_SIZE = 250
RETRIES = 4
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 30.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class StoreUnavailable(Exception):
    """The store did not answer usefully after the retries (or refused the credentials)."""


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_url: str | None


class ShopifyClient:
    def __init__(
        self,
        shop_url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.base = shop_url.rstrip("/") + f"/admin/api/{API_VERSION}"
        self.token = token
        self.sleep = sleep
        self.timeout = timeout
        self.requests = 0
        self.throttled = 0

    def _get(self, url: str) -> tuple[Any, dict[str, str]]:
        """GET a URL as JSON, waiting out throttling and retrying server errors."""
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            request = urllib.request.Request(
                url,
                headers={"X-Shopify-Access-Token": self.token, "Accept": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = json.loads(response.read() or b"{}")
                    return body, {k.lower(): v for k, v in response.headers.items()}
            except urllib.error.HTTPError as exc:
                if exc.code == 429:
                    self.throttled += 1
                    self.sleep(_retry_after(exc.headers.get("Retry-After")))
                    if attempt <= RETRIES * 4:
                        continue
                if exc.code >= 500 and attempt <= RETRIES:
                    self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                    continue
                raise StoreUnavailable(f"the store answered {exc.code} for {url}") from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                if attempt <= RETRIES:
                    self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                    continue
                raise StoreUnavailable(f"the store did not answer ({exc})") from None
            except ValueError:
                raise StoreUnavailable(
                    f"the store answered with something not JSON for {url}"
                ) from None

    def count(self, resource: str, updated_at_min: datetime | None = None) -> int | None:
        query = {"status": "any"} if resource == "orders" else {}
        if updated_at_min is not None:
            query["updated_at_min"] = updated_at_min.isoformat()
        url = f"{self.base}/{resource}/count.json?{urllib.parse.urlencode(query)}"
        body, _ = self._get(url)
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
        url: str | None = f"{self.base}/{resource}.json?{urllib.parse.urlencode(query)}"
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
