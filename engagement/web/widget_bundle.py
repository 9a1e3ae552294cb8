"""The widget's source files joined into the one script served as /widget.js.

There is no build step: engagement/static/widget/ holds plain scripts that share one closure scope,
ORDER lists them in load order, and styles.css becomes the WIDGET_CSS string they attach to each
shadow root. Whitespace and whole-line comments are dropped; nothing else is rewritten, which is
safe because the sources keep no multi-line string or template literal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

WIDGET_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "widget"


def widget_script_names(directory: Path = WIDGET_DIRECTORY) -> list[str]:
    """The script files of the widget, in the order ORDER gives."""
    lines = (directory / "ORDER").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def build_widget_bundle(directory: Path = WIDGET_DIRECTORY) -> str:
    """The complete widget.js: the stylesheet as a string, then every script, inside one strict IIFE."""
    css = _compact_css((directory / "styles.css").read_text(encoding="utf-8"))
    parts = [f"const WIDGET_CSS = {json.dumps(css)};"]
    parts += [_compact_js((directory / name).read_text(encoding="utf-8")) for name in widget_script_names(directory)]
    return '(function(){"use strict";\n' + "\n".join(parts) + "\n})();\n"


def _compact_js(source: str) -> str:
    kept = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in kept if line and not line.startswith("//"))


def _compact_css(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    source = re.sub(r"\s+", " ", source)
    # Spaces around these never matter in CSS; a space before ":" can (".a :focus"), so it stays.
    source = re.sub(r"\s*([{};,>])\s*", r"\1", source)
    return re.sub(r":\s+", ":", source).replace(";}", "}").strip()
