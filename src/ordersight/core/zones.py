"""The account's calendar: which day a moment falls on, in the `TIME_ZONE` setting."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.conf import settings


def account_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime) -> date:
    """The account's calendar day of a moment."""
    return moment.astimezone(account_zone()).date()
