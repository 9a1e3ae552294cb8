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

from flask import Response, current_app, render_template
from markupsafe import Markup

from engagement.caching import BoundedMap
from engagement.http import client_has, conditional
from engagement.i18n import MESSAGES_PATH, Translator, translator

SSR_STYLESHEET = Path(__file__).resolve().parent / "static" / "dist" / "widget-ssr.css"
# Rules only a server-rendered thread needs: the held-comment notice shows when the no-JS form's
# redirect lands on it (#comment-pending), and never otherwise.
_SSR_EXTRA_CSS = ".engagement-ssr #comment-pending:not(:target){display:none}"
TEMPLATES = Path(__file__).resolve().parent / "templates" / "html"


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


@cache
def _markup_version() -> str:
    """A digest of what turns data into a fragment (templates, stylesheet, translations): a deploy that
    changes any of them changes every ETag, so no cache keeps the old markup."""
    digest = hashlib.blake2b(digest_size=8)
    for path in [*sorted(TEMPLATES.glob("*.html")), SSR_STYLESHEET, MESSAGES_PATH]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fragment_etag(*parts: object) -> str:
    """A fragment's ETag from everything it is drawn from (the data's own ETag, the site, the language,
    the options) and the markup's version: the rendered cache below relies on it being complete."""
    digest = hashlib.blake2b(repr((_markup_version(), *parts)).encode(), digest_size=12).hexdigest()
    return f"h.{digest}"


_RENDERED = "engagement.fragments"


def _rendered() -> BoundedMap[str, str]:
    """Rendered fragments by ETag, per app. The ETag is drawn from everything a fragment is made of (the
    data's own version, the site, the language, the options, the markup's version), so an entry is never
    stale and never invalidated: a change makes a new ETag and the old entry ages out. Rendering costs
    some 4 ms a thread page against 0.3 ms for its JSON, and every article view an SSI include serves
    asks for it."""
    found: BoundedMap[str, str] | None = current_app.extensions.get(_RENDERED)
    if found is None:
        found = current_app.extensions[_RENDERED] = BoundedMap(
            max_entries=2048, max_bytes=32 * 2**20, lru=True
        )
    return found


def fragment_response(etag: str, render: Callable[[], str]) -> Response:
    """200 with the rendered fragment (rendered once per ETag per process), or 304 without rendering it
    when the client holds ``etag``."""
    body = None
    if not client_has(etag):
        rendered = _rendered()
        body = rendered.get(etag)
        if body is None:
            body = render()
            rendered.put(etag, body)
    response = conditional(etag, body, mimetype="text/html", cache_control="public, no-cache")
    # Readers' own requests never fetch a fragment; the servers that include one should not sniff it.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def render_fragment(template: str, *, language: str, **context: Any) -> str:
    """``template`` under engagement/templates/html with the language's translator as ``t``."""
    words: Translator = translator(language)
    return render_template(f"html/{template}", tr=words, t=words.t, stylesheet=stylesheet(), **context)
