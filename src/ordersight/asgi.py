"""ASGI entry point (uvicorn ordersight.asgi:application)."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from ordersight.core.body_limit import BodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
# The limit wraps Django so an oversized body is refused before Django reads it.
application = BodyLimit(get_asgi_application(), settings.MAX_REQUEST_BYTES)
