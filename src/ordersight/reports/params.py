"""The report parameters, read the same way by the pages and the API: a range (a preset or
`from`/`to`, both days included), the filters, the breakdown and its sort. Bad values are
refused naming the parameter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ordersight.core.errors import Invalid
from ordersight.core.money import CURRENCY_CODES
from ordersight.core.zones import account_zone as report_zone
from ordersight.orders.choices import order_type_choices, source_choices
from ordersight.reports.definitions import APP_MEASURE, GroupBy
from ordersight.reports.selectors import COLUMNS, SalesQuery, month_end, month_start

PRESETS = {
    "today": gettext_lazy("Today"),
    "7d": gettext_lazy("Last 7 days"),
    "30d": gettext_lazy("Last 30 days"),
    "90d": gettext_lazy("Last 90 days"),
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_year": gettext_lazy("This year"),
}
DEFAULT_PRESET = "30d"
MAX_DAYS = 3 * 366 + 1  # three years and a day: the longest range one report covers
MAX_LIMIT = 100_000
SORTABLE = ("key", "label", "currency", *COLUMNS, "commission", "discount")
EXTRA_COLUMNS = (
    "commission",  # by campaign or creator
    "discount",  # by discount code
    "confirmed_orders",
    "confirmed_net",
    "unconfirmed_orders",
    "unconfirmed_net",
    "previous_orders",
    "previous_net",
    "change_net",
)
CSV_COLUMNS = ("key", "label", "currency", *COLUMNS)
KNOWN = frozenset(
    {
        "range",
        "from",
        "to",
        "currency",
        "order_type",
        "source",
        "include_unconfirmed",
        "kind",
        "group_by",
        "sort",
        "limit",
        "compare",
        "columns",
    }
)


def today() -> date:
    return timezone.now().astimezone(report_zone()).date()


def preset_range(preset: str, *, on: date | None = None) -> tuple[date, date]:
    """The days a preset covers, ending today (in the account's time zone)."""
    day = on or today()
    if preset == "today":
        return day, day
    if preset in ("7d", "30d", "90d"):
        return day - timedelta(days=int(preset[:-1]) - 1), day
    if preset == "this_month":
        return month_start(day=day), day
    if preset == "last_month":
        last = month_start(day=day) - timedelta(days=1)
        return month_start(day=last), month_end(day=last)
    if preset == "this_year":
        return day.replace(month=1, day=1), day
    raise ValueError(preset)


def day_range(preset: str | None, start: date | None, end: date | None) -> tuple[date, date]:
    """The days a page or request asks about: `from`/`to` (both included) or a preset (30
    days by default); Invalid naming the parameter for a bad combination."""
    if start is None and end is None:
        if preset and preset not in PRESETS:
            raise Invalid(
                _("Unknown range."),
                fields={"range": _("one of {choices}").format(choices=", ".join(PRESETS))},
            )
        return preset_range(preset or DEFAULT_PRESET)
    if start is None or end is None:
        missing = "from" if start is None else "to"
        raise Invalid(_("Give both from and to."), fields={missing: _("required with the other")})
    if end < start:
        raise Invalid(_("The range ends before it starts."), fields={"to": _("on or after from")})
    if (end - start).days + 1 > MAX_DAYS:
        raise Invalid(
            _("The range is too long."),
            fields={"to": _("at most {days} days").format(days=MAX_DAYS)},
        )
    return start, end


def _with_all(choices: Callable[[], list[tuple[str, str]]]) -> Callable[[], list]:
    return lambda: [("", gettext_lazy("All")), *choices()]


def _fixed(choices: list[tuple[str, Any]]) -> Callable[[], list[tuple[str, Any]]]:
    # Given as a function, the list is shared by every form: a list of choices is deep-copied
    # with each form made, which for the currencies was a quarter of a report request.
    return lambda: choices


_CURRENCIES = [("", gettext_lazy("All")), *((c, c) for c in sorted(CURRENCY_CODES))]


class ReportForm(forms.Form):
    range = forms.ChoiceField(
        choices=_fixed([("", gettext_lazy("Custom")), *PRESETS.items()]), required=False
    )
    currency = forms.ChoiceField(choices=_fixed(_CURRENCIES), required=False)
    order_type = forms.ChoiceField(choices=_with_all(order_type_choices), required=False)
    source = forms.ChoiceField(choices=_with_all(source_choices), required=False)
    include_unconfirmed = forms.BooleanField(required=False)
    kind = forms.ChoiceField(
        choices=_fixed(
            [
                ("", gettext_lazy("All")),
                ("recurring", gettext_lazy("Recurring")),
                ("one_off", gettext_lazy("One-off")),
            ]
        ),
        required=False,
    )
    group_by = forms.ChoiceField(
        choices=_fixed([(g.value, g.value) for g in GroupBy]), required=False
    )
    sort = forms.CharField(required=False, max_length=40)
    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)
    compare = forms.BooleanField(required=False)
    columns = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so these two are added by name.
        self.fields["from"] = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
        self.fields["to"] = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"].strip()
        if sort and sort.lstrip("-") not in SORTABLE:
            raise forms.ValidationError(
                _("sort by one of {choices}, - for descending").format(choices=", ".join(SORTABLE))
            )
        return sort

    def clean_columns(self) -> list[str]:
        raw = self.cleaned_data["columns"].strip()
        if not raw:
            return list(CSV_COLUMNS)
        columns = [c.strip() for c in raw.split(",") if c.strip()]
        unknown = [c for c in columns if c not in CSV_COLUMNS + EXTRA_COLUMNS]
        if unknown:
            raise forms.ValidationError(
                _("unknown column {unknown}; choose from {choices}").format(
                    unknown=", ".join(unknown), choices=", ".join(CSV_COLUMNS + EXTRA_COLUMNS)
                )
            )
        return list(dict.fromkeys(columns))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end, preset = data.get("from"), data.get("to"), data.get("range")
        if "from" in self.errors or "to" in self.errors:
            return data
        if start is None and end is None:
            start, end = preset_range(preset or DEFAULT_PRESET)
        elif start is None or end is None:
            missing = "from" if start is None else "to"
            self.add_error(missing, _("give both from and to (YYYY-MM-DD), or a range preset"))
            return data
        elif end < start:
            self.add_error("to", _("must be on or after from"))
            return data
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("to", _("a report covers at most {days} days").format(days=MAX_DAYS))
            return data
        data["query"] = SalesQuery(
            start=start,
            end=end,
            currency=data.get("currency") or None,
            order_type=data.get("order_type") or None,
            source=data.get("source") or None,
            include_unconfirmed=bool(data.get("include_unconfirmed")),
            kind=data.get("kind") or None,
        )
        return data


def read_report_params(params: Mapping[str, Any], *, need_group: bool = False) -> dict[str, Any]:
    """The cleaned parameters (with `query`, a SalesQuery), or Invalid naming each bad one."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise Invalid(
            _("Unknown parameter: {names}.").format(names=", ".join(unknown)),
            fields={name: _("unknown parameter") for name in unknown},
        )
    form = ReportForm(params)
    if not form.is_valid():
        fields = {name: "; ".join(str(e) for e in errs) for name, errs in form.errors.items()}
        raise Invalid(_("The report parameters are not valid."), fields=fields)
    data = form.cleaned_data
    measure = APP_MEASURE.get(data.get("group_by"))
    if measure and not params.get("columns"):
        data["columns"] = [*data["columns"], measure]
    if need_group and not data.get("group_by"):
        raise Invalid(
            _("Say what to break the sales down by."),
            fields={
                "group_by": _("one of {choices}").format(
                    choices=", ".join(g.value for g in GroupBy)
                )
            },
        )
    return data
