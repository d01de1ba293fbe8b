"""ASGI entry point (uvicorn ordersight.asgi:application); see ordersight/serving.py."""

import os

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from ordersight.core.heap import settle_for_batches
from ordersight.http.asgi_handler import ClosingASGIHandler
from ordersight.http.body_limit import BodyLimit
from ordersight.serving import StreamsAndPages, pages_on_threads

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
# What get_asgi_application() does, with a handler that also finishes a failed response.
django.setup(set_prefix=False)
# The limit wraps Django so an oversized body is refused before Django reads it.
application = BodyLimit(
    StreamsAndPages(
        streams=ClosingASGIHandler(),
        pages=pages_on_threads(WSGIHandler(), settings.WEB_THREADS),
    ),
    settings.MAX_REQUEST_BYTES,
)
# A bulk request makes tens of thousands of rows and objects: collections over everything
# loaded so far took a quarter of a 1,000-order batch's Python time (BENCHMARKS.md).
settle_for_batches()
