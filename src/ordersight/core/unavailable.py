"""What counts as "the database or the cache is away for now", and the 503 that says so.

The API's error handlers (http/api_errors.py) and the site's 500 handler (web/views.py) both
go by `UNAVAILABLE_ERRORS`, so a request that meets an unreachable, stopped or overloaded database
or Redis gets a 503 with Retry-After, never a 500, wherever in the stack the error came from.
"""

from __future__ import annotations

import django.db
import psycopg
import redis.exceptions
from django.http import JsonResponse

from ordersight.core.errors import error_body

# Enough for a restarted database or Redis to be back (measured: about 3 s).
RETRY_AFTER_SECONDS = 5

# Transient by nature: connection refused or lost, pool or statement timeout, a server
# shutting down, a deadlock or serialisation failure, SQLite's "database is locked".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    django.db.OperationalError,
    django.db.InterfaceError,
    psycopg.OperationalError,  # raised unwrapped by code that holds a psycopg cursor itself
    psycopg.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

MESSAGE = "The service is briefly unavailable (its database or cache did not answer). Try again."


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, UNAVAILABLE_ERRORS)


def unavailable_json() -> JsonResponse:
    response = JsonResponse(error_body("unavailable", MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
