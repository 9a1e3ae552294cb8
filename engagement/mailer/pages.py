"""The pages a mailed link opens: GET shows what the link would do and a button; only that button's POST
(or a mail client's RFC 8058 one-click POST, which has no form fields) acts, so link scanners that fetch
every URL change nothing. A malformed or forged token is 400, an expired or used one 410; both answer
with a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, render_template, request

from engagement.api import Content, alt_response, doc, response
from engagement.errors import ApiError
from engagement.i18n import mail_translator, negotiate

F = TypeVar("F", bound=Callable[..., Any])

HTML = "text/html"
# The page of the service's own mailed links (confirm, unsubscribe, moderate); privacy has its own.
MAIL_LINK_PAGE = "mail/pages/link.html"


def declare_link_page(summary: str, *, tags: list[str], answer: Content = HTML) -> Callable[[F], F]:
    """The declaration of a route a mailed link opens: ``answer`` (a page, unless said otherwise), or a
    page saying the link is forged or mangled (400) or old or used (410)."""

    def declare(view: F) -> F:
        view = alt_response(410, HTML, description="Expired or used link")(view)
        view = alt_response(400, HTML, description="Forged or mangled link")(view)
        return doc(summary, tags=tags)(response(200, answer)(view))

    return declare


def link_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A link page rendered from ``template``, in the language the reader's browser asks for
    (``Accept-Language``; the mail's own table, English when it speaks none of them)."""
    words = mail_translator(_browser_language())
    page = render_template(template, t=words.t, lang=words.language, dir=words.dir, **context)
    response = Response(page, status=status, mimetype=HTML)
    response.vary.add("Accept-Language")
    return response


def _browser_language() -> str:
    accepted = [language for language, _quality in request.accept_languages]
    return negotiate(*accepted)


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
