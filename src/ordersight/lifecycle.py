"""Which app reacts to which moment of an order's life: the one list a reader opens.

Handlers run in order, in the transaction of the service that recorded the event (see
`ordersight.orders.lifecycle`). A new app adds its handlers here; orders never imports it.
"""

from ordersight.campaigns.handlers import track_conversions
from ordersight.orders.lifecycle import Handler, Moment
from ordersight.payments import handlers as payments
from ordersight.promotions import handlers as promotions
from ordersight.promotions.handlers import recount_figures
from ordersight.reports.handlers import move_sales_attribution, recount_sales
from ordersight.subscriptions import handlers as billing

# Lock order: conversions and their creator's totals (campaigns), then customers' figures
# (promotions), then the rollup rows (reports), at every moment, so two transactions never
# take them in opposite orders.
HANDLERS: dict[Moment, tuple[Handler, ...]] = {
    Moment.CREATED: (track_conversions, recount_figures, recount_sales),
    # Payments first: a new total moves the pending invoices (or is refused while one is
    # with the payment provider) and can change the paid state the figures read.
    Moment.LINES_REPLACED: (
        payments.follow_new_total,
        track_conversions,
        recount_figures,
        recount_sales,
    ),
    Moment.COMPLETED: (track_conversions, recount_figures, recount_sales),
    Moment.DECLINED: (
        payments.void_invoices_of_declined_order,
        track_conversions,
        recount_figures,
        recount_sales,
    ),
    Moment.CANCELLED: (
        payments.void_invoices_of_cancelled_order,
        promotions.roll_back_redemption,
        track_conversions,
        recount_figures,
        recount_sales,
        billing.stop_retrying_cancelled_child,
    ),
    Moment.REFUNDED: (track_conversions, recount_figures, recount_sales, billing.note_child_refund),
    Moment.PAYMENT_SETTLED: (track_conversions, recount_figures, recount_sales),
    # A code added later (a re-imported order, an edit) attributes the order then; a new
    # customer on the order moves its figures.
    Moment.DETAILS_CHANGED: (track_conversions, recount_figures, recount_sales),
    # Who made a sale moves only the report by sales manager: conversions and customers'
    # figures never read it.
    Moment.SALES_ATTRIBUTED: (move_sales_attribution,),
}
