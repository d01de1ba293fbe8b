"""ASGI entry point (uvicorn ordersight.asgi:application)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
application = get_asgi_application()
