"""Idempotency-Key for API POSTs: the first response is stored and replayed for 24 hours.

The record is inserted in the same transaction as the work the request does. A second
request with the same key blocks on the unique index until the first commits, then replays
its stored response; if the first rolled back, the second does the work itself. So any number
of concurrent retries produce exactly one effect.

The record and the work are one transaction, so this is where it starts and ends: when
PostgreSQL aborts it to break a deadlock, the whole request runs again here
(`retry_on_deadlock`), and a client sees 503 "busy" only if every attempt was aborted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from ordersight.core.deadlocks import (
    busy_body,
    forget_doomed,
    is_retryable,
    raise_if_doomed,
    retry_on_deadlock,
)
from ordersight.core.errors import error_body
from ordersight.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Auth failures say nothing about the request itself, so they must not use up the key.
_NOT_STORED = {401, 403}


class _DoNotStore(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _owner(request: HttpRequest) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        return "key:" + hashlib.sha256(token.encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _invalid_key(message: str) -> JsonResponse:
    return JsonResponse(error_body("invalid", message, {HEADER: message}), status=422)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or not request.path.startswith("/api/") or key is None:
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return _invalid_key(f"must be 1 to {MAX_KEY_LENGTH} characters")
        owner = _owner(request)
        if owner is None:
            return self.get_response(request)  # unauthenticated: the API answers 401
        try:
            body = request.body
        except RequestDataTooBig:
            return self.get_response(request)  # the API answers 413
        request_hash = hashlib.sha256(
            json.dumps([request.method, request.get_full_path()]).encode() + b"\n" + body
        ).hexdigest()
        try:
            return self._first_time(request, owner, key, request_hash)
        except IntegrityError:
            pass
        except DatabaseError as exc:
            if not is_retryable(exc):
                raise
            response = JsonResponse(busy_body(), status=503)
            response["Retry-After"] = "1"
            return response
        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if record is None:  # the first request rolled back between our insert and this read
            return self._first_time(request, owner, key, request_hash)
        if record.request_hash != request_hash:
            return _invalid_key("this key was already used with a different request")
        return _replay(record)

    @retry_on_deadlock
    def _first_time(
        self, request: HttpRequest, owner: str, key: str, request_hash: str
    ) -> HttpResponse:
        now = timezone.now()
        cutoff = now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        try:
            with transaction.atomic():
                forget_doomed()
                IdempotencyRecord.objects.filter(
                    owner=owner, key=key, created_at__lt=cutoff
                ).delete()
                record = IdempotencyRecord.objects.create(
                    owner=owner,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    request_hash=request_hash,
                    status_code=0,
                    content_type="",
                    response_body=b"",
                    created_at=now,
                )
                response = self.get_response(request)
                # The view may have turned an abort into an error response: run it again.
                raise_if_doomed()
                if (
                    response.status_code >= 500
                    or response.status_code in _NOT_STORED
                    or response.streaming
                ):
                    raise _DoNotStore(response)
                record.status_code = response.status_code
                record.content_type = response.get("Content-Type", "application/json")
                record.response_body = response.content
                record.save(update_fields=["status_code", "content_type", "response_body"])
                return response
        except _DoNotStore as skipped:
            return skipped.response
