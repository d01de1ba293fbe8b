"""When payments fall due: intervals of days, weeks or months from the initial payment.

Dates are computed from the start, never from the previous date, so a recurring order
started on 31 January is due on 28 (or 29) February, 31 March, 30 April: a short month
clamps the day without shifting the ones after it.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from ordersight.core.errors import Invalid


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_date(start: datetime, unit: str, count: int, periods: int) -> datetime:
    """The date `periods` intervals after `start`."""
    if unit == "month":
        return add_months(start, count * periods)
    days = count * periods * (7 if unit == "week" else 1)
    return start + timedelta(days=days)


def next_due_after(
    start: datetime, unit: str, count: int, periods: int, after: datetime
) -> datetime:
    """The first due date from `periods` intervals on that is later than `after`.

    After a long pause the dates that passed meanwhile are not charged one after another:
    the payment that fell due is made on activation, and the schedule carries on from the
    next date still ahead.
    """
    moment = due_date(start, unit, count, periods)
    while moment <= after:
        periods += 1
        moment = due_date(start, unit, count, periods)
    return moment


_DURATION = re.compile(r"^\s*(\d{1,6})\s*([mhd])\s*$")
# The plain spelling of a duration, for the API's schema: the parser also reads leading
# zeros and spaces around the parts.
DURATION_PATTERN = r"^[1-9][0-9]{0,5}[mhd]$"
_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, *, field: str) -> int:
    """'30m', '2h' or '1d' as seconds."""
    found = _DURATION.match(text or "")
    if not found or int(found.group(1)) == 0:
        raise Invalid(
            _("{field}: {text} is not a duration.").format(field=field, text=repr(text)),
            fields={field: _("a whole number of minutes, hours or days, e.g. 30m, 2h, 1d")},
        )
    return int(found.group(1)) * _SECONDS[found.group(2)]


def format_duration(seconds: int) -> str:
    for suffix, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return f"{seconds}s"
