"""No emoji in the staff app: a box without an emoji font shows an empty square instead
(the feed status dots once did). Icons come from the SVG sprite; the arrows of a change
(▲ ▼) are geometric shapes every font has, not emoji."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ordersight"
# Emoji blocks: symbols and pictographs, dingbats, miscellaneous symbols and technical
# signs (⏸, ⌛), arrows and stars drawn as emoji (⬆, ⭐), and the emoji variation selector.
# The command key sign ⌘ (U+2318), which the search box names, is text in every common font.
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u2317\u2319-\u23ff\u2b00-\u2bff\ufe0f\u200d\u20e3]"
)
SOURCES = sorted(
    path
    for pattern in ("**/*.html", "**/*.py", "web/static/web/*.js", "web/static/web/*.css")
    for path in SRC.glob(pattern)
    if "vendor" not in path.parts
)


def test_the_scan_reads_the_templates_and_the_code():
    names = {path.name for path in SOURCES}
    assert {"base.html", "_feeds.html", "app.js", "activity.py"} <= names


def test_no_emoji_in_the_templates_or_the_code():
    found = [
        f"{path.relative_to(SRC)}:{number}: {match.group()!r} in {line.strip()[:80]}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in EMOJI.finditer(line)
    ]
    assert found == []


def test_the_pattern_catches_the_emoji_that_were_there():
    assert EMOJI.search("🟢 Up to date") and EMOJI.search("🟠 late") and EMOJI.search("⚠️")
    assert not EMOJI.search("▲ 12.5% ▼ — €5.00 · … ⌘-K")
