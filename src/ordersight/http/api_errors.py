"""One translation of every API failure into {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from ordersight.core.deadlocks import busy_body, is_retryable, note_doomed
from ordersight.core.errors import DomainError, error_body
from ordersight.core.unavailable import MESSAGE, RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS
from ordersight.core.validation import validation_fields

logger = logging.getLogger(__name__)


def bad_signature(header: str, message: str) -> Status:
    """The 401 a webhook gets when its signature header does not verify the body."""
    return Status(401, error_body("bad_signature", message, {header: message}))


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return respond(request, exc.status_code, exc.as_dict())

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields = validation_fields(exc.errors)
        return respond(
            request,
            422,
            error_body("invalid", f"Invalid input: {', '.join(sorted(fields))}.", fields),
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(
            request,
            401,
            error_body(
                "unauthenticated",
                "Send 'Authorization: Bearer <API key>' or sign in.",
                {"Authorization": "missing or invalid credentials"},
            ),
        )

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(
            request,
            413,
            error_body("too_large", "The request body is too large.", {"body": "too large"}),
        )

    @api.exception_handler(RecursionError)
    def too_deep(request: HttpRequest, exc: RecursionError) -> HttpResponse:
        return respond(
            request,
            400,
            error_body("malformed", "The JSON nests too deeply.", {"body": "nested too deeply"}),
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # ninja's parser could not read the body as JSON
            return respond(
                request,
                400,
                error_body("malformed", "The request body is not valid JSON.", {"body": str(exc)}),
            )
        return respond(request, exc.status_code, error_body("http_error", str(exc)))

    def unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
        if is_retryable(exc):
            # PostgreSQL aborted the transaction to break a deadlock and the service's own
            # retries ran out, or it is part of the Idempotency-Key transaction, which runs
            # the whole request again when told so.
            note_doomed(exc)
            response = respond(request, 503, busy_body())
            response["Retry-After"] = "1"
            return response
        logger.warning("503 on %s %s: %s", request.method, request.path, exc)
        return unavailable_json()

    for error_class in UNAVAILABLE_ERRORS:
        api.add_exception_handler(error_class, unavailable)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return respond(request, 500, error_body("server_error", "Something went wrong."))


_STATUS_CODES = {404: "not_found", 405: "method_not_allowed", 500: "server_error"}
_STATUS_MESSAGES = {
    404: "No such API path or object.",
    405: "This path does not answer this method.",
    500: "Something went wrong.",
}


class ApiErrorsAsJson:
    """Every error under /api/ answers in the API's error shape, also when it comes from
    outside the API's handlers: a path the URL patterns refuse (Django's 404 page), a method
    a route does not take (ninja's empty 405), a failure in a middleware (the 500 page).

    Outermost in MIDDLEWARE, so it sees what every other layer answers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.streaming
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return self._as_json(request, response)
        return response

    @staticmethod
    def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        fields = {}
        if status == 405 and response.has_header("Allow"):
            fields["method"] = f"one of {response['Allow']}"
        body = error_body(
            _STATUS_CODES.get(status, "http_error"),
            _STATUS_MESSAGES.get(status, response.reason_phrase),
            fields,
        )
        out = JsonResponse(body, status=status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if response.has_header(header):
                out[header] = response[header]
        return out


def unavailable_json() -> JsonResponse:
    """The 503 for a database or cache that is away for now, with when to try again."""
    response = JsonResponse(error_body("unavailable", MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
