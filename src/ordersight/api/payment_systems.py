"""Payment systems API: merchant accounts and their fee rules, so a fresh install can take
card and manual payments through the API alone. The webhook secret is write-only."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.accounts.auth import can_read, can_write
from ordersight.core.money import CURRENCY_CODES, format_money
from ordersight.http.schemas import Amount, StrictIn, error_responses, slug, text
from ordersight.payments import selectors, services
from ordersight.payments.models import PaymentSystem, Provider
from ordersight.payments.services.systems import CODE_PATTERN, SECRET_MIN

router = Router(tags=["payment systems"])
ERRORS = error_responses()
FEE_PERCENT = {"type": "string", "pattern": r"^[0-9]{1,2}(\.[0-9]{1,4})?$", "examples": ["2.9"]}
# Empty for none, else long enough to be a secret.
WebhookSecret = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": 0},
                {"type": "string", "minLength": SECRET_MIN, "maxLength": 200},
            ]
        }
    ),
]


# An ISO 4217 code as the schema lists them; the service reads it in any case.
CurrencyCode = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(CURRENCY_CODES)})]


class FeeRuleOut(Schema):
    currency: str
    percent: str
    fixed: str


class PaymentSystemOut(Schema):
    code: str
    name: str
    provider: str
    supports_one_click: bool
    is_active: bool
    has_webhook_secret: bool = Field(..., description="The secret itself is never shown")
    webhook_url: str
    fee_rules: list[FeeRuleOut]


class PaymentSystemIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {
                        "properties": {"provider": {"const": Provider.MANUAL}},
                        "required": ["provider"],
                    },
                    "then": {"properties": {"supports_one_click": {"const": False}}},
                    "description": "A manual payment method has no one-click payments",
                }
            ]
        }
    )

    code: slug(CODE_PATTERN.pattern, "Lowercase slug; names the system in its webhook URL")
    name: text(100) = Field(..., description="Merchant account name, shown on invoices")
    provider: Literal[tuple(Provider.values)] = Field(
        ..., description="test (card gateway) or manual"
    )
    supports_one_click: bool = False
    webhook_secret: WebhookSecret = Field(
        "", description="Shared secret that signs provider webhooks"
    )
    is_active: bool = True


class PaymentSystemUpdateIn(StrictIn):
    name: text(100) = None
    supports_one_click: bool | None = None
    webhook_secret: WebhookSecret | None = None
    is_active: bool | None = None


class FeeRuleIn(StrictIn):
    percent: Annotated[Decimal, WithJsonSchema(FEE_PERCENT)] = Field(
        Decimal(0), description="Percent of the amount, 0 to under 100"
    )
    fixed: Amount = Field(Decimal(0), description="A fixed part in the currency")


def payment_system_out(system: PaymentSystem) -> dict[str, Any]:
    return {
        "code": system.code,
        "name": system.name,
        "provider": system.provider,
        "supports_one_click": system.supports_one_click,
        "is_active": system.is_active,
        "has_webhook_secret": bool(system.webhook_secret),
        "webhook_url": f"/api/v1/payments/webhooks/{system.code}",
        "fee_rules": [
            {
                "currency": rule.currency,
                "percent": str(rule.percent.normalize()),
                "fixed": format_money(rule.fixed, rule.currency),
            }
            for rule in system.fee_rules.all()
        ],
    }


@router.get(
    "/payment-systems",
    response={200: list[PaymentSystemOut], **ERRORS},
    auth=can_read("payments.view_paymentsystem"),
)
def list_payment_systems(request: HttpRequest):
    return [payment_system_out(s) for s in selectors.list_payment_systems()]


@router.post(
    "/payment-systems",
    response={201: PaymentSystemOut, **ERRORS},
    auth=can_write("payments.add_paymentsystem"),
)
def create_payment_system(request: HttpRequest, payload: PaymentSystemIn):
    system = services.create_payment_system(**payload.model_dump())
    return Status(201, payment_system_out(selectors.get_payment_system(code=system.code)))


@router.get(
    "/payment-systems/{code}",
    response={200: PaymentSystemOut, **ERRORS},
    auth=can_read("payments.view_paymentsystem"),
)
def get_payment_system(request: HttpRequest, code: str):
    return payment_system_out(selectors.get_payment_system(code=code, missing=True))


@router.patch(
    "/payment-systems/{code}",
    response={200: PaymentSystemOut, **ERRORS},
    auth=can_write("payments.change_paymentsystem"),
)
def update_payment_system(request: HttpRequest, code: str, payload: PaymentSystemUpdateIn):
    system = selectors.get_payment_system(code=code, missing=True)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    services.update_payment_system(system=system, changes=changes)
    return payment_system_out(selectors.get_payment_system(code=code))


@router.put(
    "/payment-systems/{code}/fee-rules/{currency}",
    response={200: PaymentSystemOut, **ERRORS},
    auth=can_write("payments.change_paymentsystem"),
)
def set_fee_rule(request: HttpRequest, code: str, currency: CurrencyCode, payload: FeeRuleIn):
    """What the provider keeps of each payment in this currency: percent + fixed. `fixed`
    has at most the currency's decimals (JPY none, EUR two)."""
    system = selectors.get_payment_system(code=code, missing=True)
    services.set_fee_rule(
        system=system, currency=currency, percent=payload.percent, fixed=payload.fixed
    )
    return payment_system_out(selectors.get_payment_system(code=code))


@router.delete(
    "/payment-systems/{code}/fee-rules/{currency}",
    response={200: PaymentSystemOut, **ERRORS},
    auth=can_write("payments.change_paymentsystem"),
)
def remove_fee_rule(request: HttpRequest, code: str, currency: str):
    system = selectors.get_payment_system(code=code, missing=True)
    services.remove_fee_rule(system=system, currency=currency)
    return payment_system_out(selectors.get_payment_system(code=code))
