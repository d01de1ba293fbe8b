"""A fake Stripe on 127.0.0.1: the PaymentIntents and Refunds APIs with idempotency keys, as
tests need them.

It speaks what the Stripe gateway adapter sends (form-encoded `POST /v1/payment_intents` and
`POST /v1/refunds`, `Authorization: Bearer`, `Idempotency-Key`) and answers like Stripe: the
intent on success, a 402 `card_error` with a `decline_code` on a decline, 500 for the outage
token, a refund of what an intent it made still holds or a 400 `invalid_request_error`, 409
while a request with the same key is still in progress, and the first answer again, unchanged,
for a repeated key. It keeps a ledger of every charge it made, so tests count double charges from
the provider's side. `hold()` makes it charge and then keep the answer back, so a test can
kill the worker that is waiting for it.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_KEY = "sk_test_ordersight"

DECLINES = {
    "tok_insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
    "tok_hard_decline": ("do_not_honor", "Your card was declined."),
}
SUCCEEDS = ("tok_success", "tok_one_click", "pm_card_visa")


@dataclass
class Charge:
    key: str
    intent_id: str
    amount: int
    currency: str
    payment_method: str


@dataclass
class RefundMade:
    key: str
    refund_id: str
    intent_id: str
    amount: int


@dataclass
class Ledger:
    charges: list[Charge] = field(default_factory=list)
    refunds: list[RefundMade] = field(default_factory=list)
    answers: dict[str, tuple[int, dict]] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)
    requests: int = 0
    replays: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def charges_per_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for charge in self.charges:
            counts[charge.key] = counts.get(charge.key, 0) + 1
        return counts


class FakeStripe:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.ledger = Ledger()
        self.delay = delay
        self._hold = threading.Event()
        self.held = threading.Event()  # set once a charge was made and its answer held back
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeStripe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        """Charge the next request, then keep its answer back until `release()`."""
        self._hold.set()

    def release(self) -> None:
        self._release.set()

    def _answer(self, key: str, form: dict[str, str]) -> tuple[int, dict]:
        method = form.get("payment_method", "")
        if method == "tok_gateway_error":
            return 500, {"error": {"type": "api_error", "message": "Simulated outage."}}
        if method in DECLINES:
            code, message = DECLINES[method]
            intent = {"id": f"pi_{secrets.token_hex(8)}", "status": "requires_payment_method"}
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": code,
                "message": message,
                "payment_intent": intent,
            }
            return 402, {"error": error}
        if method not in SUCCEEDS:
            error = {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such PaymentMethod: '{method}'",
                "param": "payment_method",
            }
            return 400, {"error": error}
        try:
            amount = int(form["amount"])
        except (KeyError, ValueError):
            return 400, {"error": {"type": "invalid_request_error", "param": "amount"}}
        intent_id = f"pi_{secrets.token_hex(12)}"
        with self.ledger.lock:
            self.ledger.charges.append(
                Charge(key, intent_id, amount, form.get("currency", ""), method)
            )
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": form.get("currency", ""),
            "status": "succeeded",
            "latest_charge": f"ch_{secrets.token_hex(12)}",
        }
        return 200, intent

    def _refund(self, key: str, form: dict[str, str]) -> tuple[int, dict]:
        intent_id = form.get("payment_intent", "")
        with self.ledger.lock:
            charge = next((c for c in self.ledger.charges if c.intent_id == intent_id), None)
            if charge is None:
                error = {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "message": f"No such payment_intent: '{intent_id}'",
                    "param": "payment_intent",
                }
                return 400, {"error": error}
            left = charge.amount - sum(
                r.amount for r in self.ledger.refunds if r.intent_id == intent_id
            )
            try:
                amount = int(form.get("amount", left))
            except ValueError:
                return 400, {"error": {"type": "invalid_request_error", "param": "amount"}}
            if not 0 < amount <= left:
                error = {
                    "type": "invalid_request_error",
                    "code": "amount_too_large" if left else "charge_already_refunded",
                    "message": f"Refund amount ({amount}) is greater than what is left ({left}).",
                    "param": "amount",
                }
                return 400, {"error": error}
            refund = RefundMade(key, f"re_{secrets.token_hex(12)}", intent_id, amount)
            self.ledger.refunds.append(refund)
        body = {
            "id": refund.refund_id,
            "object": "refund",
            "amount": amount,
            "payment_intent": intent_id,
            "status": "succeeded",
        }
        return 200, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes: without this, Nagle's algorithm
                # and the client's delayed ACK add 40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict, replayed: bool = False) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                    self._send(401, {"error": {"type": "invalid_request_error"}})
                    return
                answer = {"/v1/payment_intents": fake._answer, "/v1/refunds": fake._refund}
                if self.path not in answer:
                    self._send(404, {"error": {"type": "invalid_request_error"}})
                    return
                key = self.headers.get("Idempotency-Key") or secrets.token_hex(8)
                ledger = fake.ledger
                with ledger.lock:
                    ledger.requests += 1
                    if key in ledger.answers:
                        ledger.replays += 1
                        status, body = ledger.answers[key]
                        replay = True
                    elif key in ledger.in_progress:
                        status, body = 409, {"error": {"type": "idempotency_error"}}
                        replay = None
                    else:
                        ledger.in_progress.add(key)
                        replay = False
                if replay is None or replay:
                    self._send(status, body, replayed=bool(replay))
                    return
                if fake.delay:
                    time.sleep(fake.delay)
                status, body = answer[self.path](key, form)
                # Stripe saves the answer of a request that reached its servers (not 5xx).
                with ledger.lock:
                    ledger.in_progress.discard(key)
                    if status < 500:
                        ledger.answers[key] = (status, body)
                if status == 200 and self.path == "/v1/payment_intents" and fake._hold.is_set():
                    fake._hold.clear()
                    fake.held.set()
                    fake._release.wait(60)
                self._send(status, body)

        return Handler
