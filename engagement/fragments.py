"""Server-rendered HTML: a thread, a counters block or a count link as a fragment the article's own
server includes (nginx SSI, a template include, WordPress), for search engines, readers without
JavaScript and a first paint that needs no script; the widget then adopts what is there.

A fragment is the widget's own markup, drawn from the same data and translation table, styled by the
widget's stylesheet scoped to the container (``dist/widget-ssr.css``, built by build-widget.js), and holds
no script: comment bodies are the HTML the one sanitizer wrote at write time, every other text is
escaped by Jinja. Fragments are revalidated like the JSON they are drawn from (``public, no-cache`` with
an ETag), so nginx or a CDN keeps them and pays a 304 per include.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, render_template
from markupsafe import Markup

from engagement.http import client_has, conditional
from engagement.i18n import Translator, translator

SSR_STYLESHEET = Path(__file__).resolve().parent / "static" / "dist" / "widget-ssr.css"
# Rules only a server-rendered thread needs: the held-comment notice shows when the no-JS form's
# redirect lands on it (#comment-pending), and never otherwise.
_SSR_EXTRA_CSS = ".engagement-ssr #comment-pending:not(:target){display:none}"
# Bumped when the templates change, so caches holding the old markup revalidate to the new.
TEMPLATE_VERSION = "1"


@cache
def stylesheet() -> Markup:
    # The build's own output, never anything a request sent.
    return Markup(SSR_STYLESHEET.read_text(encoding="utf-8") + _SSR_EXTRA_CSS)  # noqa: S704


def json_ld(document: dict[str, Any]) -> Markup:
    """JSON for a <script type="application/ld+json">: no <, > or & survives, so no text in it (a
    comment's body included) can close the element or open another."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    escaped = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(escaped)  # noqa: S704 (nothing left in it can end the script element)


def fragment_etag(*parts: object) -> str:
    """A fragment's ETag from what it is drawn from (the data's own ETag, the language, the options)."""
    digest = hashlib.blake2b(repr((TEMPLATE_VERSION, *parts)).encode(), digest_size=12).hexdigest()
    return f"h.{digest}"


def fragment_response(etag: str, render: Callable[[], str]) -> Response:
    """200 with the rendered fragment, or 304 without rendering it when the client holds ``etag``."""
    body = None if client_has(etag) else render()
    response = conditional(etag, body, mimetype="text/html", cache_control="public, no-cache")
    # Readers' own requests never fetch a fragment; the servers that include one should not sniff it.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def render_fragment(template: str, *, language: str, **context: Any) -> str:
    """``template`` under engagement/templates/html with the language's translator as ``t``."""
    words: Translator = translator(language)
    return render_template(f"html/{template}", tr=words, t=words.t, stylesheet=stylesheet(), **context)
