"""ASGI entry point (uvicorn ordersight.asgi:application); see ordersight/serving.py."""

import os

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

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
