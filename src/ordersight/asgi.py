"""ASGI entry point (uvicorn ordersight.asgi:application)."""

import os

import django
from django.conf import settings

from ordersight.core.asgi_handler import ClosingASGIHandler
from ordersight.core.body_limit import BodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
# What get_asgi_application() does, with a handler that also finishes a failed response.
django.setup(set_prefix=False)
# The limit wraps Django so an oversized body is refused before Django reads it.
application = BodyLimit(ClosingASGIHandler(), settings.MAX_REQUEST_BYTES)
