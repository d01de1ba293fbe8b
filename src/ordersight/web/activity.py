"""An order's activity as sentences: each event kind read from its payload in words.

"Invoice 5378 refunded €5.00 by ana: damaged", "Status changed from Open to Completed by mia",
"Metadata changed: gift set". One function per kind (`SENTENCES`), every kind of
`OrderEventKind` listed (a test holds that); a payload of an older shape, or a key a
function does not know, still reads as words, never as a dict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.orders.models import (
    ActorType,
    FulfillmentStatus,
    OrderEvent,
    OrderEventKind,
    OrderSource,
    OrderStatus,
    OrderType,
    PaymentStatus,
    RefundStatus,
)
from ordersight.web.display import money_text

# Words for the fields an update names (the model's own verbose names are column names).
FIELD_NAMES = {
    "metadata": "metadata",
    "notes": "notes",
    "order_type": "order type",
    "coupon_code": "coupon code",
    "referral_code": "referral link",
    "customer": "customer",
    "customer_id": "customer",
    "status": "status",
    "sales_manager": "sales manager",
    "currency": "currency",
    "external_id": "external id",
    "lines": "items",
    "created_at": "order date",
}


@dataclass(frozen=True)
class ActivityEntry:
    sentence: str
    kind: str
    at: datetime
    actor: str


def activity_entries(events: Iterable[OrderEvent], *, currency: str) -> list[ActivityEntry]:
    """The order's events as sentences, in the order they happened."""
    return [
        ActivityEntry(
            sentence=event_sentence(
                event.kind, event.payload or {}, currency=currency, actor=by(event)
            ),
            kind=event.kind,
            at=event.created_at,
            actor=event.actor_label,
        )
        for event in events
    ]


def by(event: OrderEvent) -> str:
    """Who did it, as a sentence ends: "by ana"; nothing for the system's own moves."""
    if event.actor_type == ActorType.SYSTEM or not event.actor_label:
        return ""
    return event.actor_label


def event_sentence(kind: str, payload: Mapping[str, Any], *, currency: str, actor: str = "") -> str:
    """One event in words."""
    words = SENTENCES.get(kind)
    if words is None:  # a kind added to the model before a sentence was written for it
        sentence = capfirst(kind.replace("_", " "))
        rest = _plain_details(payload)
        sentence = f"{sentence}: {rest}" if rest else sentence
    else:
        sentence = words(payload, currency)
    return _with_actor(sentence, actor)


def _with_actor(sentence: str, actor: str) -> str:
    if not actor:
        return sentence
    # "Invoice 5378 refunded €5.00 by ana: damaged": the actor goes before the reason.
    head, colon, reason = sentence.partition(": ")
    return _("{head} by {actor}{rest}").format(
        head=head, actor=actor, rest=f"{colon}{reason}" if colon else ""
    )


# Words of the values a payload holds (the choices' labels).
_LABELS: dict[str, str] = {
    **dict(OrderStatus.choices),
    **dict(PaymentStatus.choices),
    **dict(FulfillmentStatus.choices),
    **dict(OrderSource.choices),
    **dict(OrderType.choices),
}
_REFUND_LABELS = {
    RefundStatus.NONE: "not refunded",
    RefundStatus.PARTIAL: "partly refunded",
    RefundStatus.FULL: "fully refunded",
}


def _label(value: Any) -> str:
    if value is None or value == "":
        return _("nothing")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    return str(_LABELS.get(text, text.replace("_", " ")))


def _amount(value: Any, currency: str) -> str:
    try:
        return money_text(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def _numbers(values: Any) -> str:
    if not isinstance(values, list | tuple):
        return str(values)
    return ", ".join(str(v) for v in values)


def _plain_details(payload: Mapping[str, Any]) -> str:
    """Any payload as words: "reason damaged, total 12.00", lists joined, maps as from → to."""
    parts = []
    for key, value in payload.items():
        name = FIELD_NAMES.get(key, key.replace("_", " "))
        if isinstance(value, Mapping):
            if "from" in value or "to" in value:
                parts.append(
                    _("{name} from {old} to {new}").format(
                        name=name, old=_label(value.get("from")), new=_label(value.get("to"))
                    )
                )
            else:
                parts.append(_("{name} changed").format(name=name))
        elif isinstance(value, list | tuple):
            parts.append(f"{name} {_numbers(value)}")
        elif value not in (None, ""):
            parts.append(f"{name} {_label(value)}")
    return ", ".join(parts)


def _opened(payload: Mapping[str, Any], currency: str, *, text: str, source_text: str) -> str:
    """ "Order created from API, total €12.00, open" (created and imported alike)."""
    if payload.get("source"):
        text = source_text.format(source=_label(payload["source"]))
    if "total" in payload:
        total = _amount(payload["total"], payload.get("currency") or currency)
        text = _("{text}, total {total}").format(text=text, total=total)
    if payload.get("status"):
        text = _("{text}, {status}").format(text=text, status=_label(payload["status"]).lower())
    return text


def _created(payload: Mapping[str, Any], currency: str) -> str:
    return _opened(
        payload, currency, text=_("Order created"), source_text=_("Order created from {source}")
    )


def _imported(payload: Mapping[str, Any], currency: str) -> str:
    return _opened(
        payload, currency, text=_("Order imported"), source_text=_("Order imported from {source}")
    )


def _updated(payload: Mapping[str, Any], currency: str) -> str:
    changed = payload.get("changed")
    if isinstance(changed, list | tuple):  # an import names the fields it changed
        names = [FIELD_NAMES.get(str(n), str(n).replace("_", " ")) for n in changed]
        return _("Order updated: {fields} changed").format(fields=", ".join(names))
    if not isinstance(changed, Mapping) or not changed:
        return _("Order updated")
    parts = []
    for name, change in changed.items():
        field = FIELD_NAMES.get(name, name.replace("_", " "))
        if name == "metadata" and isinstance(change, Mapping):
            parts.append(_metadata_change(change))
        elif isinstance(change, Mapping):
            parts.append(
                _("{field} changed from {old} to {new}").format(
                    field=capfirst(field),
                    old=_label(change.get("from")),
                    new=_label(change.get("to")),
                )
            )
        else:
            parts.append(_("{field} changed").format(field=capfirst(field)))
    return "; ".join(parts)


def _metadata_change(change: Mapping[str, Any]) -> str:
    set_keys = [str(k) for k in change.get("set") or []]
    removed = [str(k) for k in change.get("removed") or []]
    parts = []
    if set_keys:
        parts.append(
            ngettext("{keys} set", "{keys} set", len(set_keys)).format(keys=", ".join(set_keys))
        )
    if removed:
        parts.append(
            ngettext("{keys} removed", "{keys} removed", len(removed)).format(
                keys=", ".join(removed)
            )
        )
    if not parts:
        return _("Metadata changed")
    return _("Metadata changed: {what}").format(what="; ".join(parts))


def _status_changed(payload: Mapping[str, Any], currency: str) -> str:
    text = _("Status changed from {old} to {new}").format(
        old=_label(payload.get("from")), new=_label(payload.get("to"))
    )
    if payload.get("reason"):
        text = f"{text}: {payload['reason']}"
    return text


def _fulfilled(payload: Mapping[str, Any], currency: str) -> str:
    return _("Order marked fulfilled")


def _lines_replaced(payload: Mapping[str, Any], currency: str) -> str:
    if "total" not in payload:
        return _("Items changed")
    new = _amount(payload["total"], currency)
    old_currency = payload.get("previous_currency") or currency
    if "previous_total" in payload:
        return _("Items changed, total from {old} to {new}").format(
            old=_amount(payload["previous_total"], old_currency), new=new
        )
    return _("Items changed, total {new}").format(new=new)


def _attribution_changed(payload: Mapping[str, Any], currency: str) -> str:
    manager = payload.get("manager") or _("the system")
    text = _("Sales manager changed to {manager}").format(manager=manager)
    if payload.get("proposed_by"):
        return _("{text}: proposed by the {source}, not confirmed yet").format(
            text=text, source=payload["proposed_by"]
        )
    return _("{text}: not confirmed yet").format(text=text)


def _attribution_confirmed(payload: Mapping[str, Any], currency: str) -> str:
    manager = payload.get("manager") or _("system")
    return _("Sale confirmed as {manager}'s").format(manager=manager)


def _invoice_issued(payload: Mapping[str, Any], currency: str) -> str:
    numbers = list(payload.get("invoices") or [])
    amounts = [_amount(a, currency) for a in payload.get("amounts") or []]
    listed = (
        ", ".join(f"{n} ({a})" for n, a in zip(numbers, amounts, strict=True))
        if len(numbers) == len(amounts)
        else _numbers(numbers)
    )
    text = ngettext("Invoice {invoices} issued", "Invoices {invoices} issued", len(numbers)).format(
        invoices=listed
    )
    if payload.get("retry_of"):
        text = _("{text}: a retry of invoice {invoice}").format(
            text=text, invoice=payload["retry_of"]
        )
    return text


def _payment_succeeded(payload: Mapping[str, Any], currency: str) -> str:
    text = _("Invoice {invoice} paid {amount}").format(
        invoice=payload.get("invoice", "?"), amount=_amount(payload.get("amount"), currency)
    )
    if payload.get("payment_system"):
        text = _("{text} through {system}").format(text=text, system=payload["payment_system"])
    if payload.get("one_click"):
        text = _("{text}, in one click").format(text=text)
    return text


def _payment_failed(payload: Mapping[str, Any], currency: str) -> str:
    text = _("Payment of invoice {invoice} failed").format(invoice=payload.get("invoice", "?"))
    why = payload.get("message") or str(payload.get("code") or "").replace("_", " ")
    return f"{text}: {why}" if why else text


def _refunded(payload: Mapping[str, Any], currency: str) -> str:
    text = _("Invoice {invoice} refunded {amount}").format(
        invoice=payload.get("invoice", "?"), amount=_amount(payload.get("amount"), currency)
    )
    return f"{text}: {payload['reason']}" if payload.get("reason") else text


def _payment_status_changed(payload: Mapping[str, Any], currency: str) -> str:
    parts = []
    payment = payload.get("payment_status")
    if isinstance(payment, Mapping) and payment.get("from") != payment.get("to"):
        parts.append(
            _("Payment status changed from {old} to {new}").format(
                old=_label(payment.get("from")), new=_label(payment.get("to"))
            )
        )
    refund = payload.get("refund_status")
    if isinstance(refund, Mapping) and refund.get("from") != refund.get("to"):
        parts.append(
            _("now {state}").format(
                state=_REFUND_LABELS.get(refund.get("to"), _label(refund.get("to")))
            )
        )
    text = ", ".join(parts) if parts else _("Payment status recomputed")
    text = capfirst(text)
    if "net" in payload:
        text = _("{text}; {net} received net").format(
            text=text, net=_amount(payload["net"], currency)
        )
    return text


def _discount_applied(payload: Mapping[str, Any], currency: str) -> str:
    amount = _amount(payload.get("amount"), currency)
    if payload.get("code"):
        text = _("Discount code {code} took {amount} off").format(
            code=payload["code"], amount=amount
        )
    else:
        text = _("Discount of {amount} applied").format(amount=amount)
    if "total" in payload:
        text = _("{text}, total now {total}").format(
            text=text, total=_amount(payload["total"], currency)
        )
    return text


def _redemption_rolled_back(payload: Mapping[str, Any], currency: str) -> str:
    return _("Discount code {code} given back ({amount})").format(
        code=payload.get("code", "?"), amount=_amount(payload.get("amount"), currency)
    )


def _invoices_adjusted(payload: Mapping[str, Any], currency: str) -> str:
    voided = list(payload.get("voided") or [])
    new = list(payload.get("invoices") or [])
    parts = []
    if voided:
        parts.append(
            ngettext("Invoice {numbers} voided", "Invoices {numbers} voided", len(voided)).format(
                numbers=_numbers(voided)
            )
        )
    if new:
        parts.append(
            ngettext(
                "re-issued as invoice {numbers}", "re-issued as invoices {numbers}", len(new)
            ).format(numbers=_numbers(new))
        )
    text = capfirst(", ".join(parts)) if parts else _("Pending invoices adjusted")
    asked = payload.get("asked")
    if isinstance(asked, Mapping):
        text = _("{text}; asking {new} instead of {old}").format(
            text=text,
            new=_amount(asked.get("to"), currency),
            old=_amount(asked.get("from"), currency),
        )
    if payload.get("reason"):
        text = f"{text}: {payload['reason']}"
    return text


SENTENCES: dict[str, Callable[[Mapping[str, Any], str], str]] = {
    OrderEventKind.CREATED: _created,
    OrderEventKind.IMPORTED: _imported,
    OrderEventKind.UPDATED: _updated,
    OrderEventKind.STATUS_CHANGED: _status_changed,
    OrderEventKind.FULFILLED: _fulfilled,
    OrderEventKind.LINES_REPLACED: _lines_replaced,
    OrderEventKind.SALES_ATTRIBUTION_CHANGED: _attribution_changed,
    OrderEventKind.SALES_ATTRIBUTION_CONFIRMED: _attribution_confirmed,
    OrderEventKind.INVOICE_ISSUED: _invoice_issued,
    OrderEventKind.PAYMENT_SUCCEEDED: _payment_succeeded,
    OrderEventKind.PAYMENT_FAILED: _payment_failed,
    OrderEventKind.REFUNDED: _refunded,
    OrderEventKind.PAYMENT_STATUS_CHANGED: _payment_status_changed,
    OrderEventKind.DISCOUNT_APPLIED: _discount_applied,
    OrderEventKind.REDEMPTION_ROLLED_BACK: _redemption_rolled_back,
    OrderEventKind.INVOICES_ADJUSTED: _invoices_adjusted,
}
