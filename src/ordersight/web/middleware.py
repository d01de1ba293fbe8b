"""The staff pages' answer to a service's domain error that no view turned into a message, and
to the database or the cache being away."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from ordersight.core.errors import Forbidden, NotFound
from ordersight.core.unavailable import is_unavailable
from ordersight.web.views import unavailable_page


class DomainErrorPages:
    """An unknown order, invoice or customer in a page's URL is a 404, a refusal a 403."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_unavailable(exception) and not request.path.startswith("/api/"):
            # Answered here rather than left to handler500: under ASGI Django renders that in
            # another thread, where the exception it would have to look at is not known.
            return unavailable_page()
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        if isinstance(exception, Forbidden):
            raise PermissionDenied(exception.message) from exception
        return None
