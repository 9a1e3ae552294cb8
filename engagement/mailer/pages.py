"""The pages a mailed link opens: GET shows what the link would do and a button; only that button's POST
(or a mail client's RFC 8058 one-click POST, which has no form fields) acts, so link scanners that fetch
every URL change nothing. A malformed or forged token is 400, an expired or used one 410; both answer
with a page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from engagement.errors import ApiError

HTML = "text/html"
# The page of the service's own mailed links (confirm, unsubscribe, moderate); privacy has its own.
MAIL_LINK_PAGE = "mail/pages/link.html"
LINK_PAGE_RESPONSES = {200: HTML, 400: HTML, 410: HTML}


def link_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A link page rendered from ``template``."""
    return Response(render_template(template, **context), status=status, mimetype=HTML)


def serve_link_pages(blueprint: Blueprint, refused: Any) -> None:
    """Make every route of ``blueprint`` a link page: ``refused(error)`` answers an ``ApiError`` (a bad,
    expired or used link) with a page, and every answer keeps the token private."""
    blueprint.errorhandler(ApiError)(refused)
    blueprint.after_request(keep_tokens_private)


def keep_tokens_private(response: Response) -> Response:
    # The token in the URL is the reader's key: no caching, no Referer to other sites, no indexing.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
