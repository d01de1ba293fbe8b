"""The rows of the busiest lists (All Orders, a campaign's orders and commissions), drawn in
Python.

Through the template engine a row cost half a millisecond (some 50 variable lookups, three
links, translations and the row's actions, each a node): 50 rows were most of the page's
time. Here a row is a few string formats with the same markup, words and rules as the
template had; what is the same on every row (words, badges, a form's CSRF field) is made
once per page. The list's template places the rows and draws the empty state.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.campaigns.models import Approval, ConversionStatus
from ordersight.campaigns.selectors import MemberCommissions
from ordersight.orders.models import Order, OrderStatus
from ordersight.web.templatetags.web import (
    badge,
    icon,
    may_confirm,
    may_decline,
    money,
    row_url,
    status_badge,
)
from ordersight.web.templatetags.web import when as moment


def _escaped(value: Any) -> Any:
    if type(value) is int or isinstance(value, SafeData):
        return value
    return html.escape(str(value))


def fill(template: str, *args: Any, **kwargs: Any) -> SafeString:
    """`format_html` for a row's cells: the same escaping (`html.escape` of what is not
    already safe), without the lazy-string checks each value goes through there, which
    were a third of a row's time."""
    return mark_safe(
        template.format(
            *(_escaped(arg) for arg in args),
            **{name: _escaped(value) for name, value in kwargs.items()},
        )
    )


def _joined(rows: Iterable[str]) -> SafeString:
    return mark_safe("\n".join(rows))


class RowContext:
    """What every row of a page shares: the person, and what each of a row's forms carries
    (the CSRF field, the way back to this page)."""

    def __init__(self, request: HttpRequest) -> None:
        self.user = request.user
        self.back = fill(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">',
            get_token(request),
            request.get_full_path(),
        )


# --- All Orders ---------------------------------------------------------------------------

_TOGGLE = mark_safe(
    '<svg aria-hidden="true" viewBox="0 0 16 16" width="12" height="12">'
    '<path d="M6 3l5 5-5 5" fill="none" stroke="currentColor" stroke-width="2"/></svg>'
)
_NO_CUSTOMER = mark_safe('<span class="text-secondary">—</span>')

_ORDER_ROW = (
    '<tr class="order-row" data-number="{number}" data-invoices-url="{invoices_url}" '
    'data-detail-row="inv-{number}">'
    '<td class="select-col"><input class="form-check-input" type="checkbox" name="ids" '
    'value="{pk}" form="bulk-form" data-bulk-row aria-label="{select_label}" '
    'data-testid="select-row"></td>'
    '<td class="text-nowrap"><button type="button" class="row-toggle btn btn-sm btn-link p-0" '
    'data-row-toggle aria-expanded="false" aria-controls="inv-{number}" '
    'aria-label="{invoices_label}">{toggle}</button> '
    '<a href="{order_url}">{number}</a></td>'
    "<td>{created}</td><td>{customer}</td><td>{badge}</td><td>{item}</td>"
    '<td class="wide-only">{category}</td><td class="wide-only">{offer}</td>'
    '<td class="text-end">{subtotal}</td><td class="text-end mid-only">{unit_price}</td>'
    '<td class="text-end mid-only">{quantity}</td><td>{manager}</td>'
    '<td class="text-nowrap actions-col">{actions}</td></tr>\n'
    '<tr id="inv-{number}" class="d-none invoice-row"><td colspan="13"></td></tr>'
)
_DIALOG_BUTTON = (
    '<button type="button" class="btn btn-sm btn-outline-{}" data-testid="{}" '
    'data-dialog-form="{}" data-dialog-action="{}" data-dialog-choice="{}" '
    'data-dialog-number="{}">{}</button>'
)
_ORDER_ACTION = (
    '<form method="post" action="{}" class="d-inline" data-confirm="{}" '
    'data-confirm-detail="{}" data-confirm-button="{}"{}>{}'
    '<button class="btn btn-sm btn-outline-{}" type="submit" data-testid="{}">{}</button>'
    "</form>"
)


class OrderRowContext(RowContext):
    """What All Orders' rows share: the person's permissions, and the words and icons that
    are the same on each row."""

    def __init__(self, request: HttpRequest, *, can_attribute: bool, can_change: bool) -> None:
        super().__init__(request)
        self.can_attribute = can_attribute
        self.can_change = can_change
        self.select = _("Select order %(number)s")
        self.invoices = _("Invoices of order %(number)s")
        self.system = _("system")
        self.check = fill("{}{}", icon("check"), _("Check"))
        self.add_user = fill("{}{}", icon("user-plus"), _("Add user"))
        self.confirm = _("Confirm order %(number)s?")
        self.confirm_words = (
            _("It becomes a completed sale although it is not paid in full."),
            _("Confirm order"),
            _("Confirm"),
        )
        self.decline = _("Decline order %(number)s?")
        self.decline_words = (
            _("Its pending invoices will fail."),
            _("Decline order"),
            _("Decline"),
        )
        self.decline_reason = fill(
            ' data-confirm-reason="{}" data-confirm-tone="danger"', _("Reason (optional)")
        )


def order_rows(
    orders: Iterable[Order], request: HttpRequest, *, can_attribute: bool, can_change: bool
) -> SafeString:
    """The rows of a page of All Orders (the orders as `ORDER_LIST` reads them)."""
    shared = OrderRowContext(request, can_attribute=can_attribute, can_change=can_change)
    return _joined(_order_row(order, shared) for order in orders)


def _order_row(order: Order, shared: OrderRowContext) -> str:
    number = order.number
    currency = order.currency
    customer = order.customer
    return fill(
        _ORDER_ROW,
        number=number,
        pk=order.pk,
        invoices_url=row_url("web:order_invoices", number),
        order_url=row_url("web:order", number),
        select_label=shared.select % {"number": number},
        invoices_label=shared.invoices % {"number": number},
        toggle=_TOGGLE,
        created=moment(order.created_at),
        customer=(
            fill('<a href="{}">{}</a>', row_url("web:customer", order.customer_id), customer.name)
            if customer is not None
            else _NO_CUSTOMER
        ),
        badge=badge(order),
        item=_item(order),
        category=_or_blank(order.lead_category_number),
        offer=_or_blank(order.lead_offer_number),
        subtotal=money(order.subtotal, currency),
        unit_price=_money_or_blank(order.lead_unit_price, currency),
        quantity=_or_blank(order.lead_quantity),
        manager=_manager(order, shared),
        actions=_order_actions(order, shared),
    )


def _or_blank(value: Any) -> Any:
    return "" if value is None else value


def _money_or_blank(amount: Any, currency: str) -> str:
    # No price on the lead line (a free line): an empty cell, like its other columns.
    return "" if amount is None else money(amount, currency)


def _item(order: Order) -> SafeString:
    if order.line_count <= 1:
        return fill("{}", order.lead_item)
    more = order.line_count - 1
    return fill(
        '{} <span class="text-secondary small">{}</span>',
        order.lead_item,
        ngettext("+%(n)s more", "+%(n)s more", more) % {"n": more},
    )


def _manager(order: Order, shared: OrderRowContext) -> SafeString:
    state = "confirmed" if order.sales_confirmed_at else "unconfirmed"
    if order.sales_manager is not None:
        return fill(
            '<span class="sales-manager {}" data-testid="sales-manager">{}</span>',
            state,
            order.sales_manager.get_username(),
        )
    return fill('<span class="sales-manager {}">{}</span>', state, shared.system)


def _order_actions(order: Order, shared: OrderRowContext) -> SafeString:
    """Check and Add user open the page's one form of each (`_attribution_forms.html`) in
    the dialog, with this row's address and manager (app.js, data-dialog-form); Confirm and
    Decline are offered as the service's own rules allow this person."""
    parts = []
    number = order.number
    if shared.can_attribute:
        address = row_url("web:order_attribution", number)
        choice = order.sales_manager_id or "system"
        if order.status == OrderStatus.COMPLETED and not order.sales_confirmed_at:
            parts.append(
                fill(
                    _DIALOG_BUTTON,
                    "success",
                    "check",
                    "check-form",
                    address,
                    choice,
                    number,
                    shared.check,
                )
            )
        parts.append(
            fill(
                _DIALOG_BUTTON,
                "secondary",
                "add-user",
                "assign-form",
                address,
                choice,
                number,
                shared.add_user,
            )
        )
    if shared.can_change and may_confirm(order, shared.user):
        parts.append(_order_action(shared, number, "confirm", shared.confirm, shared.confirm_words))
    if shared.can_change and order.can_be_confirmed and may_decline(order, shared.user):
        parts.append(
            _order_action(
                shared,
                number,
                "decline",
                shared.decline,
                shared.decline_words,
                tone="danger",
                extra=shared.decline_reason,
            )
        )
    return _joined(parts)


def _order_action(
    shared: OrderRowContext,
    number: int,
    action: str,
    question: str,
    words: tuple[str, str, str],
    *,
    tone: str = "primary",
    extra: str = "",
) -> str:
    """A row's Confirm or Decline: a form posting the action, asking before it is sent."""
    detail, button, label = words
    return fill(
        _ORDER_ACTION,
        row_url("web:order_action", number, action),
        question % {"number": number},
        detail,
        button,
        extra,
        shared.back,
        tone,
        action,
        label,
    )


# --- A campaign's Performance tab ---------------------------------------------------------

_CONVERSION_ROW = (
    '<tr data-order="{number}" data-conversion="{pk}" data-creator="{handle}" '
    'data-currency="{currency}" data-approval="{approval}" data-status="{status}">'
    '<td class="select-col"><input class="form-check-input" type="checkbox" name="ids" '
    'value="{pk}" form="bulk-form" data-bulk-row aria-label="{select_label}" '
    'data-testid="select"></td>'
    '<td><a href="{order_url}">{number}</a></td>'
    '<td><a href="{creator_url}">{creator}</a> <span class="small text-secondary">{code}</span>'
    "</td><td>{ordered_at}</td>"
    '<td class="text-end">{amount}</td>'
    '<td data-testid="conversion-status">{status_badge}</td>'
    '<td data-testid="conversion-approval">{approval_badge} {approval_form}</td>'
    '<td data-label="{commission_label}" class="text-end{struck}">{commission}</td></tr>'
)
_REJECT_FORM = (
    '<form method="post" action="{}" class="d-inline" data-confirm="{}" '
    'data-confirm-detail="{}" data-confirm-reason="{}" data-confirm-button="{}" '
    'data-confirm-tone="danger">{}<button class="btn btn-sm btn-outline-danger py-0" '
    'data-testid="reject">{}</button></form>'
)
_UNDO_FORM = (
    '<form method="post" action="{}" class="d-inline">{}'
    '<button class="btn btn-sm btn-outline-secondary py-0" data-testid="undo">{}</button>'
    "</form>"
)


class ConversionRowContext(RowContext):
    """What a campaign's order rows share: whether this person approves conversions, the
    status and approval badges, and the words of the row's forms."""

    def __init__(self, request: HttpRequest, *, can_approve: bool) -> None:
        super().__init__(request)
        self.can_approve = can_approve
        self.select = _("Select order %(number)s")
        self.commission = _("Commission")
        self.statuses = {
            value: status_badge(str(label)) for value, label in ConversionStatus.choices
        }
        self.approvals = {value: status_badge(str(label)) for value, label in Approval.choices}
        self.reject_question = _("Reject the conversion of order %(number)s?")
        self.reject_words = (
            _("The creator's commission on it stops counting; Undo brings it back."),
            _("Reason (optional)"),
            _("Reject"),
        )
        self.undo = _("Undo")


# What a campaign's Orders table reads of each conversion (`web.lists.list_page`'s `fields`):
# rows of these columns rather than conversions with their order, creator and campaign.
CONVERSION_ROW_FIELDS = (
    "id",
    "order__number",
    "creator_id",
    "creator__handle",
    "creator__name",
    "code",
    "currency",
    "status",
    "approval",
    "ordered_at",
    "gross",
    "refunds",
    "commission",
)


def conversion_rows(
    conversions: Iterable[Any], request: HttpRequest, *, can_approve: bool
) -> SafeString:
    """The rows of a campaign's Orders table (`PERFORMANCE_LIST`'s rows of
    `CONVERSION_ROW_FIELDS`), with Reject or Undo where this person approves conversions."""
    shared = ConversionRowContext(request, can_approve=can_approve)
    return _joined(_conversion_row(c, shared) for c in conversions)


def _conversion_row(conversion: Any, shared: ConversionRowContext) -> str:
    number = conversion.order__number
    currency = conversion.currency
    amount = money(conversion.gross, currency)
    if conversion.refunds:
        amount = fill(
            '{} <span class="small text-secondary">(−{})</span>',
            amount,
            money(conversion.refunds, currency),
        )
    return fill(
        _CONVERSION_ROW,
        number=number,
        pk=conversion.id,
        handle=conversion.creator__handle,
        currency=currency,
        approval=conversion.approval,
        status=conversion.status,
        select_label=shared.select % {"number": number},
        order_url=row_url("web:order", number),
        creator_url=row_url("web:creator", conversion.creator_id),
        creator=conversion.creator__name,
        code=conversion.code,
        ordered_at=moment(conversion.ordered_at),
        amount=amount,
        status_badge=shared.statuses.get(conversion.status) or status_badge(conversion.status),
        approval_badge=(
            shared.approvals.get(conversion.approval) or status_badge(conversion.approval)
        ),
        approval_form=_approval_form(conversion, number, shared),
        commission_label=shared.commission,
        struck=(
            " text-decoration-line-through text-secondary"
            if conversion.approval == Approval.REJECTED
            else ""
        ),
        commission=money(conversion.commission, currency),
    )


def _approval_form(conversion: Any, number: int, shared: ConversionRowContext) -> str:
    if not shared.can_approve:
        return ""
    if conversion.approval == Approval.APPROVED:
        detail, reason, button = shared.reject_words
        return fill(
            _REJECT_FORM,
            row_url("web:conversion_approval", conversion.id, "reject"),
            shared.reject_question % {"number": number},
            detail,
            reason,
            button,
            shared.back,
            button,
        )
    return fill(
        _UNDO_FORM,
        row_url("web:conversion_approval", conversion.id, "undo"),
        shared.back,
        shared.undo,
    )


def commission_rows(members: list[MemberCommissions]) -> SafeString:
    """The commission table's rows, a creator and currency each: a campaign of 50 creators
    selling in three currencies has 150."""
    return _joined(
        fill(
            '<tr data-creator="{}"><td>{}</td><td class="text-end">{}</td>'
            '<td class="text-end">{}</td>'
            '<td class="text-end" data-testid="commission-{}-{}">{}</td></tr>',
            m.handle,
            m.name,
            t.sales,
            money(t.net_sales, t.currency),
            m.handle,
            t.currency,
            money(t.commission, t.currency),
        )
        for m in members
        for t in m.totals
    )
