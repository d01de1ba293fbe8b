"""Gateway adapters: how ordersight asks a provider to charge or refund.

Every call carries an idempotency key, so a retried call after a timeout can never charge
or refund twice. The built-in test gateway decides by card token, like providers' test modes.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class GatewayUnavailable(Exception):
    """The provider could not be reached or answered with a temporary error; try again."""


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


_test_gateway = TestGateway()


def gateway_for(provider: str) -> Gateway | None:
    """The adapter for a provider; None for manual methods, where a person records payments."""
    if provider == "test":
        return _test_gateway
    return None
