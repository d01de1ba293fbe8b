"""The account's calendar: which day a moment falls on, in the `TIME_ZONE` setting; and
moments the API is given, brought to UTC."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings


def account_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime) -> date:
    """The account's calendar day of a moment."""
    return moment.astimezone(account_zone()).date()


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start of `start`, start of the day after `end`) in the account's time zone."""
    zone = account_zone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def utc_bound(moment: datetime) -> datetime:
    """An aware moment in UTC, to compare with stored times. PostgreSQL refuses offsets
    beyond 15:59, which ISO 8601 allows; a moment before or after what Python holds in UTC
    bounds nothing more than its limit does."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        limit = datetime.min if moment.year == 1 else datetime.max
        return limit.replace(tzinfo=UTC)
