"""The widget as built: the files `make widget` writes to engagement/static/dist/ (docs/widget.md).

esbuild (build-widget.js) bundles and minifies the ES modules in engagement/static/widget/, with their
stylesheet and translation table, into widget.js, and writes the stylesheet the widget injects to
widget.css. Both are committed, so the service reads them and needs no Node; a test rebuilds them and
fails when they are stale.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

WIDGET_BUILD_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "dist"


def widget_bundle() -> str:
    """widget.js: every module of the widget in one minified script that defines no global."""
    return (WIDGET_BUILD_DIRECTORY / "widget.js").read_text(encoding="utf-8")


def widget_stylesheet() -> str:
    """The text of the <style> the widget puts in each shadow root (pages that embed the widget under a
    CSP allow it by this text's hash)."""
    return (WIDGET_BUILD_DIRECTORY / "widget.css").read_text(encoding="utf-8")


_LANGUAGE_FILE = re.compile(r"[a-z]{2,3}\.[0-9a-f]{12}\.json\Z")


@cache
def widget_language(name: str) -> bytes | None:
    """One language's texts as the build wrote them (dist/lang/<language>.<hash>.json), or None for a
    name the build did not write. Only names of that exact shape are looked up: no path reaches further."""
    if not _LANGUAGE_FILE.match(name):
        return None
    path = WIDGET_BUILD_DIRECTORY / "lang" / name
    return path.read_bytes() if path.is_file() else None
