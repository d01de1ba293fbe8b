"""Bidirectional control characters: which ones ordersight refuses in input and neutralises
in exports.

The embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder the text that
follows them, so a name or code holding one reads differently from what it is ("‮gpj.exe"
shows as "exe.jpg"), in a page, a spreadsheet or a terminal. They have no place in names,
codes or amounts, and text input refuses them (`core/validation.py`). The marks U+200E,
U+200F and U+061C only set the direction of neighbouring neutral characters: they are how
right-to-left names are written correctly, so names may hold them; codes and identifiers are
ASCII already.

Exports replace each control with U+FFFD, so a value stored before the rule (or by a path
that bypassed it) shows that something was there without reordering the cell.
"""

from __future__ import annotations

import re

from django.db.models import CharField, Func
from django.utils.translation import gettext as _

BIDI_CONTROLS = (
    *(chr(c) for c in range(0x202A, 0x202F)),  # LRE, RLE, PDF, LRO, RLO
    *(chr(c) for c in range(0x2066, 0x206A)),  # LRI, RLI, FSI, PDI
)
REPLACEMENT = "\ufffd"
_CONTROL = re.compile(f"[{''.join(BIDI_CONTROLS)}]")


def first_bidi_control(text: str) -> str | None:
    """The first bidi control character in `text`, or None."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def bidi_control_error(text: str) -> str | None:
    """Why `text` is refused for its bidi controls ("contains U+202E, a bidirectional
    control character"), or None."""
    control = first_bidi_control(text)
    if control is None:
        return None
    return _("contains {code}, a bidirectional control character").format(
        code=f"U+{ord(control):04X}"
    )


def replace_bidi_controls(text: str) -> str:
    """`text` with each bidi control replaced by U+FFFD (what the SQL below does)."""
    return _CONTROL.sub(REPLACEMENT, text)


class BidiControlsReplaced(Func):
    """The text with each bidi control replaced by U+FFFD, in SQL, so an export streamed by
    PostgreSQL's COPY and one written row by row on SQLite hold the same cells."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        template = "%(expressions)s"
        for control in BIDI_CONTROLS:
            template = f"replace({template}, char({ord(control)}), char({ord(REPLACEMENT)}))"
        return self.as_sql(compiler, connection, template=template)

    def as_postgresql(self, compiler, connection, **extra):
        controls = " || ".join(f"chr({ord(c)})" for c in BIDI_CONTROLS)
        replacements = f"repeat(chr({ord(REPLACEMENT)}), {len(BIDI_CONTROLS)})"
        return self.as_sql(
            compiler,
            connection,
            template=f"translate(%(expressions)s, {controls}, {replacements})",
        )
