"""Deployment checks for store sync: what the operator has opened up is said at every start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def sync_network_allowances(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when sync may reach private networks or read local files, so the choice stays
    a deliberate one (`serve` runs `check --deploy` and prints it)."""
    found = []
    if settings.SYNC_ALLOW_PRIVATE_NETWORKS:
        found.append(
            Warning(
                "SYNC_ALLOW_PRIVATE_NETWORKS is on: store connections may reach private and "
                "loopback addresses (and plain http there).",
                hint="Turn it off unless a store runs on your own network.",
                id="ordersight.sync.W001",
            )
        )
    if settings.SYNC_FILE_ROOT:
        found.append(
            Warning(
                f"SYNC_FILE_ROOT is set: generic feeds may read files below "
                f"{settings.SYNC_FILE_ROOT}.",
                hint="Keep only feed files in that folder.",
                id="ordersight.sync.W002",
            )
        )
    return found
