"""Which app reacts to which moment of an order's life: the one list a reader opens.

Handlers run in order, in the transaction of the service that recorded the event (see
`ordersight.orders.lifecycle`). A new app adds its handlers here; orders never imports it.
"""

from ordersight.orders.lifecycle import Handler, Moment
from ordersight.payments import handlers as payments

HANDLERS: dict[Moment, tuple[Handler, ...]] = {
    Moment.CREATED: (),
    Moment.LINES_REPLACED: (payments.recompute_after_lines_replaced,),
    Moment.COMPLETED: (),
    Moment.DECLINED: (payments.fail_pending_invoices,),
    Moment.CANCELLED: (),
    Moment.REFUNDED: (),
}
