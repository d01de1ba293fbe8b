"""Gateway adapters: how ordersight asks a provider to charge or refund.

Every call carries an idempotency key, so a retried call after a timeout can never charge
or refund twice. The built-in test gateway decides by card token, like providers' test modes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import urllib.parse
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from ordersight.core.money import minor_units


class GatewayUnavailable(Exception):
    """The provider could not be reached or answered with a temporary error; try again."""


class GatewayRefused(Exception):
    """The provider answered and refused the request; asking again gets the same answer."""


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    transaction_id: str = ""
    one_click: bool = False
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class RefundResult:
    transaction_id: str


@dataclass(frozen=True)
class ChargeRequest:
    """One charge: the same idempotency key always gets the same answer."""

    amount: Decimal
    currency: str
    token: str
    idempotency_key: str
    one_click: bool = False


class Gateway(Protocol):
    # True when a charge waits on a provider over the network: the billing engine then asks
    # for a batch's charges concurrently; an in-process gateway is simply called in turn.
    remote: bool

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(
        self, *, transaction_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult: ...


# Card tokens the test gateway understands.
TEST_TOKENS = {
    "tok_success": "success",
    "tok_one_click": "one-click success",
    "tok_insufficient_funds": "declined: insufficient funds",
    "tok_hard_decline": "declined: do not honour",
    "tok_gateway_error": "gateway error (temporary)",
}


class TestGateway:
    """Deterministic stand-in for a card provider; remembers results per idempotency key."""

    remote = False

    def __init__(self) -> None:
        self._results: dict[str, ChargeResult | RefundResult] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop remembered results (tests start each case with a fresh provider)."""
        with self._lock:
            self._results.clear()

    @staticmethod
    def _id(prefix: str, key: str) -> str:
        return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:20]}"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        token, idempotency_key = request.token, request.idempotency_key
        with self._lock:
            if idempotency_key in self._results:
                return self._results[idempotency_key]  # type: ignore[return-value]
        if token == "tok_gateway_error":
            raise GatewayUnavailable("the test gateway simulates an outage for this token")
        if token == "tok_insufficient_funds":
            result = ChargeResult(
                False,
                failure_code="insufficient_funds",
                failure_message="The card has insufficient funds.",
            )
        elif token == "tok_hard_decline":
            result = ChargeResult(
                False,
                failure_code="card_declined",
                failure_message="The card was declined (do not honour).",
            )
        elif token in ("tok_success", "tok_one_click"):
            result = ChargeResult(
                True,
                transaction_id=self._id("ch", idempotency_key),
                one_click=request.one_click or token == "tok_one_click",
            )
        else:
            result = ChargeResult(
                False,
                failure_code="invalid_token",
                failure_message=f"Unknown test card token {token!r}.",
            )
        with self._lock:
            return self._results.setdefault(idempotency_key, result)  # type: ignore[return-value]

    def refund(
        self, *, transaction_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult:
        with self._lock:
            result = self._results.setdefault(
                idempotency_key, RefundResult(self._id("re", idempotency_key))
            )
        return result  # type: ignore[return-value]


class StripeGateway:
    """Stripe's PaymentIntents API: one confirmed, off-session intent per charge.

    The idempotency key goes in the `Idempotency-Key` header, so the provider answers a
    repeated request with the first answer instead of charging again. A declined card is a
    402 with a `card_error`; 429, 5xx and network errors are `GatewayUnavailable` (ask again
    later with the same key); a refund the provider refuses is `GatewayRefused`. Each thread
    keeps one connection open (keep-alive).
    """

    remote = True

    def __init__(self, base_url: str, secret_key: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.netloc
        self._prefix = parts.path.rstrip("/")
        self._secret_key = secret_key
        self._timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _post(self, path: str, fields: dict[str, str], idempotency_key: str) -> tuple[int, dict]:
        body = urllib.parse.urlencode(fields)
        headers = {
            "Authorization": f"Bearer {self._secret_key}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": idempotency_key,
        }
        conn = self._connection()
        try:
            conn.request("POST", self._prefix + path, body=body, headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._local.conn = None
            raise GatewayUnavailable(f"no answer from the provider ({exc})") from None
        # 409: a request with this key is still in progress; 401/403: our configuration.
        if status == 429 or status >= 500 or status in (401, 403, 409):
            raise GatewayUnavailable(f"the provider answered HTTP {status}")
        try:
            return status, json.loads(raw)
        except ValueError:
            raise GatewayUnavailable("the provider's answer is not JSON") from None

    def charge(self, request: ChargeRequest) -> ChargeResult:
        amount = int(request.amount.scaleb(minor_units(request.currency)))
        status, body = self._post(
            "/v1/payment_intents",
            {
                "amount": str(amount),
                "currency": request.currency.lower(),
                "payment_method": request.token,
                "confirm": "true",
                "off_session": "true",
            },
            request.idempotency_key,
        )
        if status == 200 and body.get("status") == "succeeded":
            return ChargeResult(True, transaction_id=str(body.get("id", "")))
        error = body.get("error") or {}
        if status == 200:
            # An intent that needs the customer (3-D Secure) cannot be collected off-session.
            return ChargeResult(
                False,
                failure_code=str(body.get("status", "failed"))[:50],
                failure_message="The payment needs the customer's action.",
            )
        return ChargeResult(
            False,
            failure_code=str(error.get("decline_code") or error.get("code") or "failed")[:50],
            failure_message=str(error.get("message", f"HTTP {status}"))[:500],
        )

    def refund(
        self, *, transaction_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult:
        status, body = self._post(
            "/v1/refunds",
            {
                "payment_intent": transaction_id,
                "amount": str(int(amount.scaleb(minor_units(currency)))),
            },
            idempotency_key,
        )
        if status != 200:
            # Temporary answers were raised as GatewayUnavailable above; this one stands (the
            # intent is unknown to the provider, or it holds less than asked back).
            error = body.get("error") or {}
            raise GatewayRefused(str(error.get("message", f"HTTP {status}"))[:500])
        return RefundResult(str(body.get("id", "")))


_test_gateway = TestGateway()
_stripe_gateways: dict[tuple[str, str], StripeGateway] = {}


def gateway_for(provider: str) -> Gateway | None:
    """The adapter for a provider; None for manual methods, where a person records payments."""
    if provider == "test":
        return _test_gateway
    if provider == "stripe":
        key = (settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY)
        if key not in _stripe_gateways:
            _stripe_gateways[key] = StripeGateway(*key)
        return _stripe_gateways[key]
    return None
