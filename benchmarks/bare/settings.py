"""The product's settings with the bare endpoints added to its URLs (benchmarks only)."""

from ordersight.settings import *  # noqa: F403

ROOT_URLCONF = "bare.urls"
