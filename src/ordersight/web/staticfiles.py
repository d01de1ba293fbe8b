"""plotly.js served from the installed plotly package, as `web/vendor/plotly.min.js`.

The charts are built with Plotly in Python; the browser needs the matching plotly.js, which
the package ships. A finder serves that file in place (no 4 MB copy in the repository, and
never a version that differs from the Python side); `collectstatic` picks it up too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "web/vendor"
NAME = "plotly.min.js"


def _directory() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


class PlotlyFinder(BaseFinder):
    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:
        if path != f"{PREFIX}/{NAME}":
            return [] if find_all else ""
        found = str(_directory() / NAME)
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        storage = FileSystemStorage(location=_directory())
        storage.prefix = PREFIX
        yield NAME, storage
