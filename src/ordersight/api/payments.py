"""Payments API: the Payments list and export, invoices, charges, manual payments, refunds,
confirm, and the signed provider webhook."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema, Status

from ordersight.accounts.auth import can_read, can_write
from ordersight.api.lists import list_export, list_page
from ordersight.api.payment_schemas import (
    ChargeIn,
    InvoiceOut,
    IssueInvoicesIn,
    ManualPaymentIn,
    RefundIn,
    RefundOut,
    invoice_out,
    refund_out,
)
from ordersight.http.api_errors import bad_signature
from ordersight.http.query_schemas import query_schema
from ordersight.http.schemas import PageOut, error_responses
from ordersight.orders.selectors import get_order
from ordersight.payments import selectors, services, webhooks
from ordersight.payments.filters import InvoiceFilterSet

router = Router(tags=["payments"])
InvoiceListQuery = query_schema(
    InvoiceFilterSet, "InvoiceListQuery", sorts=selectors.INVOICE_LIST.sorts
)
ERRORS = error_responses(503)


class WebhookOut(Schema):
    event_id: str
    status: str
    duplicate: bool


@router.get(
    "/payments",
    response={200: PageOut[InvoiceOut], **ERRORS},
    auth=can_read("payments.view_invoice"),
)
def list_payments(request: HttpRequest, params: Query[InvoiceListQuery]):
    """Every invoice (payment attempt), newest first, with the same filters as the export."""
    return list_page(request, selectors.INVOICE_LIST, params, invoice_out)


@router.get(
    "/payments/export.csv", response={200: None, **ERRORS}, auth=can_read("payments.view_invoice")
)
def export_payments(request: HttpRequest, params: Query[InvoiceListQuery]) -> StreamingHttpResponse:
    return list_export(request, selectors.INVOICE_LIST, params)


@router.get(
    "/invoices/{int:number}",
    response={200: InvoiceOut, **ERRORS},
    auth=can_read("payments.view_invoice"),
)
def get_invoice(request: HttpRequest, number: int):
    return invoice_out(selectors.get_invoice(number=number))


@router.post(
    "/orders/{int:number}/invoices",
    response={201: list[InvoiceOut], **ERRORS},
    auth=can_write("payments.add_invoice"),
)
def issue_invoices(request: HttpRequest, number: int, payload: IssueInvoicesIn):
    """Invoice the order's balance: one invoice, N installments, or the given amounts."""
    actor = request.actor
    invoices = services.issue_invoices(
        order=get_order(number=number),
        installments=payload.installments,
        amounts=payload.amounts,
        actor=actor,
    )
    return Status(201, [invoice_out(selectors.get_invoice(number=i.number)) for i in invoices])


@router.post(
    "/orders/{int:number}/payments/manual",
    response={201: InvoiceOut, **ERRORS},
    auth=can_write("payments.add_invoice"),
)
def record_manual_payment(request: HttpRequest, number: int, payload: ManualPaymentIn):
    """Record money received by bank transfer or another manual method, with the buyer's note."""
    actor = request.actor
    invoice = None
    if payload.invoice is not None:
        invoice = selectors.get_invoice(number=payload.invoice, field="invoice")
    paid = services.record_manual_payment(
        order=get_order(number=number),
        payment_system=selectors.get_payment_system(code=payload.payment_system),
        amount=payload.amount,
        currency=payload.currency,
        invoice=invoice,
        buyer_comment=payload.buyer_comment,
        actor=actor,
    )
    return Status(201, invoice_out(selectors.get_invoice(number=paid.number)))


@router.post(
    "/invoices/{int:number}/charge",
    response={200: InvoiceOut, **ERRORS},
    auth=can_write("payments.change_invoice"),
)
def charge_invoice(request: HttpRequest, number: int, payload: ChargeIn):
    """Charge a pending invoice through a card gateway; a decline is a failed invoice (200)."""
    actor = request.actor
    services.charge_invoice(
        invoice=selectors.get_invoice(number=number),
        payment_system=selectors.get_payment_system(code=payload.payment_system),
        card_token=payload.card_token,
        one_click=payload.one_click,
        actor=actor,
    )
    return invoice_out(selectors.get_invoice(number=number))


@router.post(
    "/invoices/{int:number}/retry",
    response={201: InvoiceOut, **ERRORS},
    auth=can_write("payments.add_invoice"),
)
def retry_invoice(request: HttpRequest, number: int):
    """A new attempt (new invoice) for a failed one; the failed attempt stays on record."""
    actor = request.actor
    new = services.retry_invoice(invoice=selectors.get_invoice(number=number), actor=actor)
    return Status(201, invoice_out(selectors.get_invoice(number=new.number)))


@router.post(
    "/invoices/{int:number}/refunds",
    response={201: RefundOut, **ERRORS},
    auth=can_write("payments.add_refund"),
)
def refund_invoice(request: HttpRequest, number: int, payload: RefundIn):
    """Refund part or all of a captured invoice; send an Idempotency-Key to retry safely."""
    actor = request.actor
    refund = services.refund_invoice(
        invoice=selectors.get_invoice(number=number),
        amount=payload.amount,
        reason=payload.reason,
        actor=actor,
    )
    return Status(201, refund_out(refund))


@router.post("/payments/webhooks/{code}", response={200: WebhookOut, **ERRORS}, auth=None)
def provider_webhook(request: HttpRequest, code: str):
    """Events from a payment provider, signed with the payment system's webhook secret."""
    try:
        event, new = webhooks.handle_webhook(
            system_code=code,
            body=request.body,
            signature=request.headers.get(webhooks.SIGNATURE_HEADER, ""),
        )
    except webhooks.SignatureError as exc:
        return bad_signature(webhooks.SIGNATURE_HEADER, str(exc))
    return {"event_id": event.event_id, "status": event.status, "duplicate": not new}
