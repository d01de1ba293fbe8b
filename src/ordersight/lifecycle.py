"""Which app reacts to which moment of an order's life: the one list a reader opens.

Handlers run in order, in the transaction of the service that recorded the event (see
`ordersight.orders.lifecycle`). A new app adds its handlers here; orders never imports it.
"""

from ordersight.campaigns.handlers import track_conversions
from ordersight.orders.lifecycle import Handler, Moment
from ordersight.payments import handlers as payments
from ordersight.reports.handlers import recount_sales
from ordersight.subscriptions import handlers as billing

HANDLERS: dict[Moment, tuple[Handler, ...]] = {
    Moment.CREATED: (recount_sales, track_conversions),
    # Payments first: a new total can change the paid state the figures read.
    Moment.LINES_REPLACED: (
        payments.recompute_after_lines_replaced,
        recount_sales,
        track_conversions,
    ),
    Moment.COMPLETED: (recount_sales, track_conversions),
    Moment.DECLINED: (payments.fail_pending_invoices, recount_sales, track_conversions),
    Moment.CANCELLED: (recount_sales, billing.stop_retrying_cancelled_child, track_conversions),
    Moment.REFUNDED: (recount_sales, billing.note_child_refund, track_conversions),
    Moment.PAYMENT_SETTLED: (recount_sales, track_conversions),
    # A code added later (a re-imported order, an edit) attributes the order then.
    Moment.DETAILS_CHANGED: (recount_sales, track_conversions),
}
