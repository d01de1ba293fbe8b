"""Domain errors raised by services; the API and the UI each translate them in one place."""

from collections.abc import Mapping


class DomainError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class Invalid(DomainError):
    """The input breaks a rule; `fields` names each offending field."""

    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is well formed but the object's current state does not allow it."""

    status_code = 409
    code = "conflict"


class Unavailable(DomainError):
    """Something outside ordersight (a payment provider) failed for now; try again later."""

    status_code = 503
    code = "unavailable"


class PaymentDeclined(DomainError):
    """The payment provider declined the charge (the card, not the request, is at fault)."""

    status_code = 402
    code = "payment_declined"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}
