"""Payment systems (merchant accounts) and their fee rules per currency.

A fresh install takes card and manual payments once a payment system exists: these are the
writes behind `POST/PATCH /api/v1/payment-systems` and the admin. The webhook secret is
written here and never read back out by the API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid, NotFound
from ordersight.core.money import is_currency
from ordersight.core.validation import amount_error
from ordersight.payments.models import FeeRule, PaymentSystem, Provider

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
SECRET_MIN = 16
EDITABLE = ("name", "supports_one_click", "webhook_secret", "is_active")


def _clean(fields: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not 0 < len(name) <= 100:
            errors["name"] = _("1 to 100 characters")
        clean["name"] = name
    if "webhook_secret" in fields:
        secret = fields["webhook_secret"] or ""
        if secret and not SECRET_MIN <= len(secret) <= 200:
            errors["webhook_secret"] = _("{min} to 200 characters, or empty for none").format(
                min=SECRET_MIN
            )
        clean["webhook_secret"] = secret
    for flag in ("supports_one_click", "is_active"):
        if flag in fields:
            clean[flag] = bool(fields[flag])
    return clean


def _save(system: PaymentSystem) -> PaymentSystem:
    try:
        with transaction.atomic():
            system.save()
    except IntegrityError:
        raise Conflict(
            _("Another payment system has this code or name."),
            fields={"name": _("already used"), "code": _("already used")},
        ) from None
    return system


@retry_on_deadlock
@transaction.atomic
def create_payment_system(
    *,
    code: str,
    name: str,
    provider: str,
    supports_one_click: bool = False,
    webhook_secret: str = "",
    is_active: bool = True,
) -> PaymentSystem:
    """A new merchant account; `code` names it in webhook URLs and never changes."""
    errors: dict[str, str] = {}
    if not CODE_PATTERN.match(code or ""):
        errors["code"] = _("lowercase letters, digits, - and _, at most 50, starting alphanumeric")
    elif code == "new":
        # /settings/payment-systems/new/ is the page that adds one: a system so coded had none.
        errors["code"] = _("“new” is the address of the page that adds a payment system")
    if provider not in Provider.values:
        errors["provider"] = _("one of {choices}").format(choices=", ".join(Provider.values))
    clean = _clean(
        {
            "name": name,
            "supports_one_click": supports_one_click,
            "webhook_secret": webhook_secret,
            "is_active": is_active,
        },
        errors,
    )
    if provider == Provider.MANUAL and supports_one_click:
        errors["supports_one_click"] = _("a manual payment method has no one-click payments")
    if errors:
        raise Invalid(_("The payment system is not valid."), fields=errors)
    return _save(PaymentSystem(code=code, provider=provider, **clean))


@retry_on_deadlock
@transaction.atomic
def update_payment_system(*, system: PaymentSystem, changes: Mapping[str, Any]) -> PaymentSystem:
    """Change a payment system's name, one-click, webhook secret or active flag."""
    errors: dict[str, str] = {}
    unknown = sorted(set(changes) - set(EDITABLE))
    for name in unknown:
        errors[name] = (
            _("cannot be changed") if name in ("code", "provider") else _("unknown field")
        )
    clean = _clean(changes, errors)
    if system.is_manual and clean.get("supports_one_click"):
        errors["supports_one_click"] = _("a manual payment method has no one-click payments")
    if errors:
        raise Invalid(_("The changes are not valid."), fields=errors)
    system = PaymentSystem.objects.select_for_update(no_key=True).get(pk=system.pk)
    for name, value in clean.items():
        setattr(system, name, value)
    return _save(system)


@retry_on_deadlock
@transaction.atomic
def set_fee_rule(
    *, system: PaymentSystem, currency: str, percent: Decimal, fixed: Decimal
) -> FeeRule:
    """What the provider keeps of a payment in one currency: percent of it plus a fixed part."""
    errors: dict[str, str] = {}
    currency = (currency or "").upper()
    if not is_currency(currency):
        errors["currency"] = _("unknown currency {currency}").format(currency=repr(currency))
    if not (percent.is_finite() and 0 <= percent < 100) or percent != percent.quantize(
        Decimal("0.0001")
    ):
        errors["percent"] = _("from 0 up to (not including) 100, at most 4 decimals")
    if "currency" not in errors:
        problem = amount_error(fixed, currency)
        if problem:
            errors["fixed"] = problem
    if errors:
        raise Invalid(_("The fee rule is not valid."), fields=errors)
    rule, _created = FeeRule.objects.update_or_create(
        payment_system=system, currency=currency, defaults={"percent": percent, "fixed": fixed}
    )
    return rule


@retry_on_deadlock
@transaction.atomic
def remove_fee_rule(*, system: PaymentSystem, currency: str) -> None:
    deleted, _by_model = FeeRule.objects.filter(
        payment_system=system, currency=currency.upper()
    ).delete()
    if not deleted:
        # The rule is the resource the path names: one that is not there is a 404.
        raise NotFound(
            _("{system} has no fee rule for {currency}.").format(
                system=system.name, currency=currency
            ),
            fields={"currency": _("no fee rule")},
        )
