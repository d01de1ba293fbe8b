"""Downloads: a list's rows, written as CSV by `core.csv_stream`, as a streamed response.

Under the ASGI handler the body is pulled a chunk at a time on the thread that owns the
request's database connection; under WSGI the generator is read as the server sends it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from ordersight.core.csv_stream import csv_chunks, give_back
from ordersight.core.lists import ListSpec


class _AsyncChunks:
    """The chunks as an ASGI server reads them: one at a time, pulled on the thread that owns
    the request's database connection (a sync iterator would be read whole into memory).

    Django calls `close()` on that same thread when the response ends, the client gone
    included; it ends the generator (closing its cursor and COPY) and gives the connection
    back, even if the body was never started.
    """

    def __init__(self, chunks: Generator[bytes, None, None], connection: BaseDatabaseWrapper):
        self._chunks = chunks
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pull = sync_to_async(next, thread_sensitive=True)
        while (chunk := await pull(self._chunks, None)) is not None:
            yield chunk

    def close(self) -> None:
        self._chunks.close()
        give_back(self._connection)


def csv_response(
    request: HttpRequest, queryset: QuerySet, header: Sequence[str], filename: str
) -> StreamingHttpResponse:
    """The export as a streamed download; the query is compiled (and fails) before this
    returns, so an error is an error response, never a cut body."""
    chunks = csv_chunks(queryset, header)
    content: Iterator[bytes] | _AsyncChunks = chunks
    if isinstance(request, ASGIRequest):
        content = _AsyncChunks(chunks, connections[queryset.db])
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def list_csv(
    request: HttpRequest,
    spec: ListSpec,
    filters: Mapping[str, Any],
    sort: str | None,
    filename: str | None = None,
) -> StreamingHttpResponse:
    """A list's export (`ListSpec.export`: its filters, its sort, its columns) as a download
    named `filename`, else the list's own name."""
    return csv_response(
        request, spec.export(filters, sort), spec.headers, filename or spec.filename
    )
