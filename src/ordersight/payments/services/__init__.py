"""Every write to the money trail, one module per job; import them from here.

- `invoicing`: issue invoices (one, installments, amounts) and retry failed ones
- `capture`: card charges, manual payments, a provider's word on a payment
- `refunds`: refunds made here and refunds a provider reports
- `settlement`: the order's payment and refund status, derived from its invoices
- `systems`: payment systems and their fee rules
"""

from ordersight.payments.services.capture import (
    ChargedOrder,
    NewChargedOrder,
    charge_invoice,
    compute_fee,
    create_charged_orders,
    mark_order_paid,
    record_charged_orders,
    record_gateway_result,
    record_manual_payment,
)
from ordersight.payments.services.invoicing import issue_invoices, retry_invoice
from ordersight.payments.services.refunds import (
    check_refundable,
    record_provider_refund,
    refund_invoice,
)
from ordersight.payments.services.settlement import recompute_order_payments
from ordersight.payments.services.systems import (
    create_payment_system,
    remove_fee_rule,
    set_fee_rule,
    update_payment_system,
)

__all__ = [
    "ChargedOrder",
    "NewChargedOrder",
    "charge_invoice",
    "check_refundable",
    "compute_fee",
    "create_charged_orders",
    "create_payment_system",
    "issue_invoices",
    "mark_order_paid",
    "recompute_order_payments",
    "record_charged_orders",
    "record_gateway_result",
    "record_manual_payment",
    "record_provider_refund",
    "refund_invoice",
    "remove_fee_rule",
    "retry_invoice",
    "set_fee_rule",
    "update_payment_system",
]
