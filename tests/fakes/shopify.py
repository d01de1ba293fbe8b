"""A fake Shopify store on 127.0.0.1: the REST Admin API's list and count endpoints as the
sync reads them.

It serves `GET /admin/api/<version>/{products,customers,orders}.json` in pages of `limit`
(at most 250) with the next page named by a `Link: <…page_info=…>; rel="next"` header,
filters by `updated_at_min`, answers `…/count.json`, checks `X-Shopify-Access-Token`, and
misbehaves on purpose: `throttle_every` makes every Nth request a 429 with `Retry-After`,
`fail_next(n)` makes the next n requests 500s; as a hostile store would, `redirect_to`
answers every request for another path with a redirect there, and `next_link` names that
address as the next page. `send_webhook` posts a signed order webhook to the app, as the
store does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "shpat_test_ordersight"


@dataclass
class Store:
    products: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    throttle_every: int = 0
    retry_after: str = "0.01"
    failures_left: int = 0
    redirect_to: str | None = None
    next_link: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int) -> None:
        self.failures_left = count


def _cursor(offset: int, since: str | None) -> str:
    """As Shopify's page_info: opaque, and carrying the first page's filters."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "s": since}).encode()).decode()


def _decode(page_info: str) -> tuple[int, str | None]:
    data = json.loads(base64.urlsafe_b64decode(page_info.encode()))
    return int(data["o"]), data.get("s")


class FakeShopify:
    def __init__(self) -> None:
        self.store = Store()
        store = self.store

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                with store.lock:
                    store.requests.append(self.path)
                    number = len(store.requests)
                    if store.failures_left > 0:
                        store.failures_left -= 1
                        return self._send(500, {"errors": "Internal Server Error"})
                    if store.throttle_every and number % store.throttle_every == 0:
                        return self._send(
                            429,
                            {"errors": "Exceeded 2 calls per second"},
                            {"Retry-After": store.retry_after},
                        )
                if store.redirect_to and url.path != urllib.parse.urlsplit(store.redirect_to).path:
                    self.send_response(302)
                    self.send_header("Location", store.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if self.headers.get("X-Shopify-Access-Token") != TOKEN:
                    return self._send(401, {"errors": "[API] Invalid API key or access token"})
                parts = url.path.strip("/").split("/")  # admin, api, version, resource.json
                if len(parts) < 4 or parts[0] != "admin":
                    return self._send(404, {"errors": "Not Found"})
                resource = parts[3].removesuffix(".json")
                counting = len(parts) == 5 and parts[4] == "count.json"
                rows = getattr(store, resource, None)
                if rows is None:
                    return self._send(404, {"errors": "Not Found"})
                offset, since = 0, query.get("updated_at_min")
                if "page_info" in query:
                    offset, since = _decode(query["page_info"])
                if since:
                    moment = datetime.fromisoformat(since)
                    rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= moment]
                if counting:
                    return self._send(200, {"count": len(rows)})
                limit = min(int(query.get("limit", 50)), 250)
                page = rows[offset : offset + limit]
                headers = {}
                if store.next_link:
                    headers["Link"] = f'<{store.next_link}>; rel="next"'
                elif offset + limit < len(rows):
                    next_query = urllib.parse.urlencode(
                        {"limit": limit, "page_info": _cursor(offset + limit, since)}
                    )
                    host = f"http://{self.headers.get('Host')}"
                    headers["Link"] = f'<{host}{url.path}?{next_query}>; rel="next"'
                return self._send(200, {resource: page}, headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeShopify:
        self._thread.start()
        return self

    def webhook(self, topic: str, order: dict[str, Any], secret: str) -> tuple[bytes, dict]:
        """An order webhook as Shopify sends it: the JSON body and its headers, signed with
        the app's webhook secret (base64 HMAC-SHA256 of the raw body)."""
        body = json.dumps(order).encode()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        headers = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": "fake.myshopify.com",
        }
        return body, headers

    def send_webhook(self, url: str, topic: str, order: dict[str, Any], secret: str) -> int:
        """POST the webhook to the app at `url`, as the store does; returns the status."""
        body, headers = self.webhook(topic, order, secret)
        request = urllib.request.Request(
            url, data=body, method="POST", headers={**headers, "Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
