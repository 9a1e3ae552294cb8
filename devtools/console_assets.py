"""The staff console's own JavaScript and CSS, and their budget (issue 15): at most 30 KB gzipped together.
Shared by ``make bench`` (which reports it) and the test that holds it."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "engagement"
CONSOLE_TEMPLATES = PACKAGE / "templates" / "console"
STATIC = PACKAGE / "static"
BUDGET_BYTES = 30_000
_STATIC_FILE = re.compile(r"""url_for\('static', filename='([^']+)'\)""")


def assets_size() -> dict[str, Any]:
    """The console's own JavaScript and CSS (every static file its templates load), gzipped one by one
    as a server would send them; their sum is the number held to the 30 KB budget."""
    names = sorted(
        {
            name
            for template in CONSOLE_TEMPLATES.glob("*.html")
            for name in _STATIC_FILE.findall(template.read_text())
        }
    )
    sizes = {name: len(gzip.compress((STATIC / name).read_bytes(), compresslevel=9)) for name in names}
    return {"files": sizes, "gzip_bytes": sum(sizes.values())}
