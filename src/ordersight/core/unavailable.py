"""What counts as "the database or the cache is away for now" (the 503 that says so is
`http.api_errors.unavailable_json`).

The API's error handlers (http/api_errors.py) and the site's 500 handler (web/views.py) both
go by `UNAVAILABLE_ERRORS`, so a request that meets an unreachable, stopped or overloaded database
or Redis gets a 503 with Retry-After, never a 500, wherever in the stack the error came from.
"""

from __future__ import annotations

import django.db
import psycopg
import redis.exceptions

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
