"""Bulk actions on a staff list: the ticked rows, or every row its filters match, each row
through the same service as its single action (or a bulk service that writes what the
single action would, a batch at a time: Check on All Orders), and a result that says what
was done and what was refused, and why.

"Select all matching" runs inside the request, in batches, up to `BULK_LIMIT` rows (the
bound up to which lists count exactly), and is refused beyond it with a word to narrow the
filters. In the request rather than in a worker: the person who asked reads the result at
once ("38 confirmed; 2 refused: …") and may act on the refusals, where a task would need a
place to leave its result and a page to poll it; each row is its own short transaction
(the service's), so a few thousand rows take seconds and never hold a lock for long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.core.errors import DomainError, Invalid
from ordersight.core.lists import ListSpec
from ordersight.core.validation import ascii_int, is_id
from ordersight.web.lists import selector_filters

# Rows changed in one request at most; each through its own service call.
BULK_LIMIT = 10_000
# Rows read at once while acting on them.
BATCH = 200
# Ticked rows a form may send (a page shows 50).
MAX_TICKED = 500
# Refusals named one by one in the result; the rest are counted.
NAMED_REFUSALS = 5

# What was done, given how many rows it was done to: a "%(count)s" marks where the number goes,
# e.g. `lambda n: ngettext("%(count)s order confirmed", "%(count)s orders confirmed", n)`.
DoneText = Callable[[int], str]


@dataclass
class BulkResult:
    done: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (row, why)

    def message(self, done: DoneText) -> str:
        """ "38 orders confirmed; 2 refused: Order 1043 is declined …; Order 1044 …." """
        text = done(self.done) % {"count": number_format(self.done, force_grouping=True)}
        if not self.refused:
            return _("{done}.").format(done=text)
        reasons = [
            (why if why.lower().startswith(row.lower()) else f"{row}: {why}").rstrip(".")
            for row, why in self.refused[:NAMED_REFUSALS]
        ]
        more = len(self.refused) - NAMED_REFUSALS
        if more > 0:
            reasons.append(ngettext("and %(n)d more", "and %(n)d more", more) % {"n": more})
        return ngettext(
            "{done}; {count} refused: {reasons}.",
            "{done}; {count} refused: {reasons}.",
            len(self.refused),
        ).format(
            done=text,
            count=number_format(len(self.refused), force_grouping=True),
            reasons="; ".join(reasons),
        )


def chosen_ids(
    data: QueryDict, spec: ListSpec, fixed: Mapping[str, str] | None = None
) -> list[int]:
    """The ids of the rows an action applies to: the ticked `ids`, or with `scope=matching`
    every row the list's filters (`query`, the page's query string, with `fixed` filters
    the page always applies) match, up to the limit. Bad input is refused naming the field."""
    if data.get("scope") == "matching":
        filters = selector_filters(QueryDict(data.get("query", "")))
        filters.update(fixed or {})
        ids = list(spec.rows(filters).order_by("pk").values_list("pk", flat=True)[: BULK_LIMIT + 1])
        if len(ids) > BULK_LIMIT:
            raise Invalid(
                _("More than %(limit)s rows match.") % {"limit": f"{BULK_LIMIT:,}"},
                fields={
                    "scope": _("narrow the filters to %(limit)s rows or fewer")
                    % {"limit": f"{BULK_LIMIT:,}"}
                },
            )
        if not ids:
            raise Invalid(_("No rows match."), fields={"scope": _("no rows match these filters")})
        return ids
    raw = data.getlist("ids")
    if not raw:
        raise Invalid(_("Tick at least one row."), fields={"ids": _("tick at least one row")})
    if len(raw) > MAX_TICKED:
        raise Invalid(
            _("Too many rows ticked."),
            fields={
                "ids": _("at most %(limit)s; use Select all matching for more")
                % {"limit": MAX_TICKED}
            },
        )
    ids = [ascii_int(value) for value in raw]
    if not all(is_id(number) for number in ids):
        raise Invalid(_("Not a row of this list."), fields={"ids": _("whole numbers (row ids)")})
    return sorted(set(ids))


def run_bulk(
    *,
    rows: QuerySet,
    ids: Sequence[int],
    act: Callable[[Any], Any],
    name: Callable[[Any], str],
) -> BulkResult:
    """Call `act` on each row of `rows` whose id is in `ids`, in batches, each its own call
    of the service; a rule the service enforces refuses that row alone, named by `name`.
    Rows gone meanwhile are skipped."""
    result = BulkResult()
    for start in range(0, len(ids), BATCH):
        for row in rows.filter(pk__in=ids[start : start + BATCH]).order_by("pk"):
            try:
                act(row)
            except DomainError as exc:  # Forbidden too: a rule on this row for this person
                result.refused.append((name(row), exc.message))
            else:
                result.done += 1
    return result


def tell(
    request: HttpRequest,
    result: BulkResult,
    done: DoneText | tuple[str, str],
    words: str = "",
) -> None:
    """The result as the page's message: a warning when some rows were refused.

    `done` says what was done for a number of rows (see `DoneText`). The older form, nouns
    and words (`("code", "codes"), "activated"`), puts English words together that no
    translation can follow; it stays until every caller says its whole phrase."""
    text = result.message(done if callable(done) else _english_phrase(done, words))
    if result.refused:
        messages.warning(request, text)
    else:
        messages.success(request, text)


def _english_phrase(nouns: tuple[str, str], words: str) -> DoneText:
    return lambda n: f"%(count)s {nouns[0] if n == 1 else nouns[1]} {words}"


def refuse(request: HttpRequest, exc: Invalid) -> None:
    """Input the action cannot start with, named by field."""
    detail = "; ".join(f"{name}: {text}" for name, text in exc.fields.items())
    messages.error(request, f"{exc.message} ({detail})" if detail else exc.message)
