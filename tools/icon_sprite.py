"""Build the staff app's icon sprite from Tabler Icons: only the icons the pages name.

    npm install @tabler/icons@3 --prefix /tmp/icons
    python tools/icon_sprite.py /tmp/icons/node_modules/@tabler/icons/icons/outline

Names are collected from the templates and the Python of `web/` (see NAMED); the sprite is
written to web/static/web/icons.svg, one <symbol> per icon, so a page
draws an icon with <use> and no inline script or style (the Content-Security-Policy).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "src" / "ordersight" / "web"
# `{% icon "name" %}`, `icon("name")`, and an include's `icon="name"` (an empty state).
NAMED = re.compile(r"""(?:\{%\s*icon\s+|\bicon\(\s*|\bicon=|icon\|default:)["']([a-z0-9-]+)["']""")
BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)
FRAME = '<path stroke="none" d="M0 0h24v24H0z" fill="none" />'


def used_names() -> list[str]:
    names: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        names.update(NAMED.findall(path.read_text()))
    return sorted(names)


def build(source: Path) -> str:
    symbols = []
    for name in used_names():
        svg = (source / f"{name}.svg").read_text()
        body = BODY.search(svg).group(1).replace(FRAME, "")
        body = " ".join(line.strip() for line in body.splitlines() if line.strip())
        symbols.append(f'<symbol id="{name}" viewBox="0 0 24 24">{body}</symbol>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg">\n'
        "<!-- Tabler Icons 3 (MIT, see vendor/tabler-icons/LICENSE); built by"
        " tools/icon_sprite.py -->\n" + "\n".join(symbols) + "\n</svg>\n"
    )


if __name__ == "__main__":
    (WEB / "static" / "web" / "icons.svg").write_text(build(Path(sys.argv[1])))
