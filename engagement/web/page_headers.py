"""The headers every HTML page the service serves carries: the demo article, /embed, the pages mailed
links open (/mail/..., /privacy/...), and HTML error pages. Set in one place, for every text/html answer.

The Content-Security-Policy lets a page run only scripts and stylesheets from the service itself, talk
only to the service, be framed by nobody, and post forms only back to the service. No inline script or
style is allowed: the pages keep theirs in static/pages/. The one inline stylesheet allowed is the
widget's own, by its hash: the widget (on the demo page) puts its stylesheet in a <style> in each shadow
root, and CSP applies to shadow roots too; the build writes that exact text to static/dist/widget.css.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from flask import Flask, Response

from engagement.fragments import stylesheet
from engagement.web.widget_bundle import widget_stylesheet


@cache
def content_security_policy() -> str:
    """The policy, built once: the widget's stylesheet does not change while the service runs."""
    # The widget's stylesheet, and its light-DOM copy on the pages a form without JavaScript gets back.
    widget_style = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"
        for text in (widget_stylesheet(), stylesheet())
    )
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' {widget_style}",
            "img-src 'self'",  # the widget's avatars are the service's identicons
            "connect-src 'self'",  # the widget's API calls
            "form-action 'self'",  # the mailed-link pages post back to their own URL
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    @app.after_request
    def protect_html_pages(response: Response) -> Response:
        if response.mimetype != "text/html":
            return response
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy()
        headers["X-Content-Type-Options"] = "nosniff"
        # Pages whose URL carries a token (mail and privacy links) already say no-referrer; keep it.
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response
