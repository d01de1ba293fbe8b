"""The filter panel of a staff list, rendered from the list's own FilterSet.

Every filter the API takes appears on the page with the same name, so a filtered page is a
link the API understands too. Filters whose values come from the database (offers, managers,
payment systems) get their options from the view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape as escape_html

import django_filters
from django.http import QueryDict
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# The date range is chosen with the presets; these two show for a custom range.
RANGE_FILTERS = ("created_after", "created_before")


@dataclass(frozen=True)
class Suggested:
    """Options too many to list (a catalog's offers): the field is a picker whose
    suggestions come from `url` as the person types (web/suggestions.py); `chosen` holds
    the option of the value in the URL, for its words in the chip and the field."""

    url: str
    chosen: Sequence[tuple[str, str]] = ()
    placeholder: str = ""


@dataclass
class PanelField:
    name: str
    label: str
    kind: str  # select, suggest, text or date
    value: str
    options: Sequence[tuple[str, str]] = field(default_factory=list)
    suggest: str = ""  # where a picker's suggestions come from
    placeholder: str = ""

    @property
    def input_type(self) -> str:
        """A date range bound is picked as a date; a time given in the link (the API takes
        them too) stays visible as text, since a date input would show it blank."""
        if self.kind != "date" or not self.value:
            return self.kind
        try:
            date.fromisoformat(self.value)
        except ValueError:
            return "text"
        return "date" if len(self.value) == 10 else "text"


def _kind_and_options(
    flt: django_filters.Filter, given: Sequence[tuple[str, str]] | Suggested | None
) -> tuple[str, Sequence[tuple[str, str]]]:
    if isinstance(given, Suggested):
        return "suggest", given.chosen
    if given is not None:
        return "select", given
    if isinstance(flt, django_filters.BooleanFilter):
        return "select", [("true", _("Yes")), ("false", _("No"))]
    choices = flt.extra.get("choices")
    if callable(choices):  # choices the account can extend, read now
        choices = choices()
    if choices:
        return "select", [(str(v), str(label)) for v, label in choices]
    return "text", []


@dataclass(frozen=True)
class Chip:
    """One filter in the URL as the page shows it: "Status: Open", with a link without it."""

    name: str
    label: str
    value: str  # as in the URL
    shown: str  # in words: the option's label where the panel has one
    remove: str  # the query string without this one value
    known: bool = True  # False: the list has no such filter, so it chooses nothing


# Parameters that say where the reader is in the list, dropped when a filter changes.
PLACE_PARAMS = ("cursor", "at", "partial")


def _without(params: QueryDict, name: str, value: str | None = None) -> QueryDict:
    remaining = params.copy()
    for place in PLACE_PARAMS:
        remaining.pop(place, None)
    if value is None:
        remaining.pop(name, None)
    else:
        kept = [v for v in remaining.getlist(name) if v != value]
        remaining.setlist(name, kept) if kept else remaining.pop(name, None)
    return remaining


def filter_chips(
    params: QueryDict,
    panel: Sequence[PanelField],
    presets: Sequence[tuple[str, str]],
    page_params: Sequence[str],
) -> list[Chip]:
    """Every filter in the query string as a removable chip, the panel's or not, so a link
    from a dashboard figure never filters by something the page does not show.

    A date preset is one chip (it stands for its range); a range given by its bounds (a
    drill-down) is one chip per bound. Each value of a many-valued filter is its own chip.
    """
    fields = {f.name: f for f in panel}
    preset = params.get("preset", "")
    chips = []
    if preset and preset != "custom":
        remove = _without(_without(_without(params, "preset"), "created_after"), "created_before")
        label = dict(presets).get(preset, preset)
        chips.append(Chip("preset", _("Date"), preset, label, f"?{remove.urlencode()}"))
    for name, values in params.lists():
        if name in page_params or (name in RANGE_FILTERS and preset not in ("", "custom")):
            continue
        field_ = fields.get(name)
        for value in values:
            if not value.strip():
                continue  # an empty field of the panel filters nothing
            remaining = _without(params, name, value)
            if name in RANGE_FILTERS and not any(remaining.get(r) for r in RANGE_FILTERS):
                remaining.pop("preset", None)  # no bound left: no custom range either
            if field_ is None:
                chips.append(
                    Chip(name, name, value, value, f"?{remaining.urlencode()}", known=False)
                )
                continue
            shown = dict(field_.options).get(value, value)
            chips.append(Chip(name, field_.label, value, shown, f"?{remaining.urlencode()}"))
    return chips


def kept_params(params: QueryDict, panel: Sequence[PanelField]) -> list[tuple[str, str]]:
    """What the panel's form repeats as hidden fields so that Apply keeps it: the values of
    filters it has no field for and the other values of a many-valued filter (its field shows
    one)."""
    fields = {f.name for f in panel}
    kept = []
    for name, values in params.lists():
        if name in PLACE_PARAMS or name in ("preset", "sort"):
            continue
        shown = values[:-1] if name in fields else values
        kept.extend((name, value) for value in shown if value.strip())
    return kept


def panel_fields(
    filterset: type[django_filters.FilterSet],
    params: QueryDict,
    options: Mapping[str, Sequence[tuple[str, str]] | Suggested] | None = None,
) -> list[PanelField]:
    """One field per filter of `filterset`, search first, with the values in `params`."""
    options = options or {}
    fields = []
    names = sorted(filterset.base_filters, key=lambda name: name != "q")
    for name in names:
        flt = filterset.base_filters[name]
        label = str(flt.label or name.replace("_", " ").capitalize())
        given = options.get(name)
        if name in RANGE_FILTERS:
            kind, choices = "date", []
        else:
            kind, choices = _kind_and_options(flt, given)
        picker = given if isinstance(given, Suggested) else Suggested("")
        fields.append(
            PanelField(
                name,
                label,
                kind,
                params.get(name, ""),
                choices,
                picker.url,
                picker.placeholder,
            )
        )
    return fields


class Options:
    """The <option>s of a select, rendered once for each value it may have selected.

    A list page shows hundreds of options (the panel's offers, two manager pickers on every
    row); a template loop renders each through several nodes, which cost more than the
    page's SQL. `none_selects` is the value marked when the selected value is None.
    """

    def __init__(self, choices: Sequence[tuple[object, str]], none_selects: str = "") -> None:
        self.choices = [(str(value), str(label)) for value, label in choices]
        self.none_selects = none_selects
        self._rendered: dict[str, SafeString] = {}

    def html(self, selected: object) -> SafeString:
        key = self.none_selects if selected is None else str(selected)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = mark_safe(
                "".join(
                    # What Django's escape runs, without its lazy-string wrapper: a page's
                    # panel holds hundreds of options.
                    f'<option value="{escape_html(value)}"{" selected" if value == key else ""}>'
                    f"{escape_html(label)}</option>"
                    for value, label in self.choices
                )
            )
        return rendered
