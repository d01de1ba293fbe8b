"""The filter panel of a staff list, rendered from the list's own FilterSet.

Every filter the API takes appears on the page with the same name, so a filtered page is a
link the API understands too. Filters whose values come from the database (offers, managers,
payment systems) get their options from the view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import django_filters
from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The date range is chosen with the presets; these two show for a custom range.
RANGE_FILTERS = ("created_after", "created_before")


@dataclass
class PanelField:
    name: str
    label: str
    kind: str  # select, text or date
    value: str
    options: Sequence[tuple[str, str]] = field(default_factory=list)

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
    flt: django_filters.Filter, given: Sequence[tuple[str, str]] | None
) -> tuple[str, Sequence[tuple[str, str]]]:
    if given is not None:
        return "select", given
    if isinstance(flt, django_filters.BooleanFilter):
        return "select", [("true", "Yes"), ("false", "No")]
    choices = flt.extra.get("choices")
    if callable(choices):  # choices the account can extend, read now
        choices = choices()
    if choices:
        return "select", [(str(v), str(label)) for v, label in choices]
    return "text", []


def panel_fields(
    filterset: type[django_filters.FilterSet],
    params: QueryDict,
    options: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> list[PanelField]:
    """One field per filter of `filterset`, search first, with the values in `params`."""
    options = options or {}
    fields = []
    names = sorted(filterset.base_filters, key=lambda name: name != "q")
    for name in names:
        flt = filterset.base_filters[name]
        label = str(flt.label or name.replace("_", " ").capitalize())
        if name in RANGE_FILTERS:
            kind, choices = "date", []
        else:
            kind, choices = _kind_and_options(flt, options.get(name))
        fields.append(PanelField(name, label, kind, params.get(name, ""), choices))
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
                    f'<option value="{escape(value)}"{" selected" if value == key else ""}>'
                    f"{escape(label)}</option>"
                    for value, label in self.choices
                )
            )
        return rendered
