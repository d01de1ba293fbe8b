"""Every icon a page names is in the sprite (tools/icon_sprite.py builds it from Tabler
Icons), and the sprite carries only those: a new icon fails here until the sprite is rebuilt."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPRITE = ROOT / "src" / "ordersight" / "web" / "static" / "web" / "icons.svg"


def _builder():
    spec = importlib.util.spec_from_file_location("icon_sprite", ROOT / "tools" / "icon_sprite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sprite_holds_exactly_the_icons_the_pages_name():
    named = set(_builder().used_names())
    drawn = set(re.findall(r'<symbol id="([a-z0-9-]+)"', SPRITE.read_text()))
    assert {"receipt", "check", "download", "inbox"} <= named
    assert named == drawn


def test_the_vendored_kit_keeps_its_licences():
    static = ROOT / "src" / "ordersight" / "web" / "static" / "web" / "vendor"
    assert "MIT License" in (static / "tabler" / "LICENSE").read_text()
    assert "MIT License" in (static / "tabler-icons" / "LICENSE").read_text()
    assert (static / "tabler" / "tabler.min.css").stat().st_size > 100_000
