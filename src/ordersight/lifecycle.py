"""Which app reacts to which moment of an order's life, and which figures every moment
keeps: the two lists a reader opens.

Both run in the transaction of the service that recorded the event (see
`ordersight.orders.lifecycle`): first each change's reactions, then every projection once for
all the changes heard together, from the orders' facts read once for all of them. A new app
adds its handlers here; orders never imports it.
"""

from ordersight.campaigns.handlers import track_conversions
from ordersight.orders.lifecycle import Handler, Moment, Projection
from ordersight.payments import handlers as payments
from ordersight.payments.facts import FactsOfOrders
from ordersight.promotions import handlers as promotions
from ordersight.promotions.handlers import recount_figures
from ordersight.reports.handlers import recount_sales
from ordersight.subscriptions import handlers as billing

# What a moment sets off in another app, in this order. Payments come first: a new total
# moves the pending invoices (or is refused while one is with the payment provider) and can
# change the paid state the figures read.
REACTIONS: dict[Moment, tuple[Handler, ...]] = {
    Moment.LINES_REPLACED: (payments.follow_new_total,),
    Moment.DECLINED: (payments.void_invoices_of_declined_order,),
    Moment.CANCELLED: (
        payments.void_invoices_of_cancelled_order,
        promotions.roll_back_redemption,
        billing.stop_retrying_cancelled_child,
    ),
    Moment.REFUNDED: (billing.note_child_refund,),
}

# The kept figures, brought up to date after the reactions, each once for every change heard
# together. Lock order: conversions and their creator's totals (campaigns), then customers'
# figures (promotions), then the rollup rows (reports), so two transactions never take them
# in opposite orders. Who made a sale (a sales attribution named or checked) moves only the
# report by sales manager: conversions and customers' figures pass over it.
PROJECTIONS: tuple[Projection, ...] = (track_conversions, recount_figures, recount_sales)

# What the projections read their orders' facts through: each order, its lines and its
# invoices read once for all three (payments knows what money an invoice took).
FACTS = FactsOfOrders
