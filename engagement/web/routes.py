"""The widget script, the demo article page (what `make run` opens) and the embed instructions."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, url_for

from engagement.config import public_base_url
from engagement.demo import DEMO_SLUG
from engagement.http import conditional
from engagement.web.article import MORE_ARTICLES, demo_article
from engagement.web.widget_bundle import widget_bundle, widget_language

bp = Blueprint("web", __name__)


@dataclass(frozen=True)
class WidgetScript:
    source: bytes
    gzipped: bytes
    digest: str


def widget_script() -> WidgetScript:
    """The built bundle, read and compressed once per app (it does not change while the app runs)."""
    script = current_app.extensions.get("engagement.widget")
    if script is None:
        source = widget_bundle().encode()
        script = WidgetScript(
            source=source,
            gzipped=gzip.compress(source, compresslevel=9, mtime=0),
            digest=hashlib.sha256(source).hexdigest()[:16],
        )
        current_app.extensions["engagement.widget"] = script
    return script


def _script_response(script: WidgetScript, cache_control: str) -> Response:
    response = conditional(
        script.digest,
        script.source,
        mimetype="text/javascript",
        cache_control=cache_control,
        compressed=script.gzipped,
    )
    # Pages on any origin load the widget; it is public code.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/widget.js")
def widget() -> Response:
    """The stable URL pages embed: cached briefly and revalidated by ETag so releases roll out."""
    return _script_response(widget_script(), "public, max-age=300")


@bp.get("/widget.<digest>.js")
def widget_versioned(digest: str) -> Response:
    """The content-addressed URL: cacheable forever because a new release has a new address."""
    script = widget_script()
    if digest != script.digest:
        abort(404)
    return _script_response(script, "public, max-age=31536000, immutable")


@bp.get("/widget/lang/<name>")
def widget_language_file(name: str) -> Response:
    """A language's texts for the widget: named by its content's hash, so cacheable forever."""
    body = widget_language(name)
    if body is None:
        abort(404)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Access-Control-Allow-Origin"] = "*"  # the widget on any page reads it
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/")
def demo_page() -> str:
    """A real article page with the comment thread, the Stay Connected block and comment counts."""
    return render_template(
        "demo.html",
        article=demo_article(),
        site=DEMO_SLUG,
        more_articles=MORE_ARTICLES,
        widget_url=url_for("web.widget_versioned", digest=widget_script().digest),
    )


@bp.get("/embed")
def embed_page() -> str:
    """How to put the widget on a page: the snippet, with a copy button."""
    return render_template("embed.html", origin=public_base_url(), site=DEMO_SLUG)
