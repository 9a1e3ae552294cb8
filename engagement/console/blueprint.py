"""The console's blueprint and what every console page shares: the session and CSRF checks before each
request, the headers after it, refusals as pages (or JSON for the pages' scripts), ``page()`` to render a
template with its CSRF token, and the navigation.

Each family of pages (``routes``: sign-in, home and queue; ``sites``; ``counters``; ``admin``) registers
its routes on ``bp`` in a module of its own; ``engagement.console.init_app`` imports them all.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from engagement.console import auth
from engagement.errors import ApiError, TooManyRequests, ValidationFailed, error_response
from engagement.extensions import rate_limit

bp = Blueprint("console", __name__, url_prefix="/console")

SIGNED_OUT_PAGES = {"console.sign_in_page", "console.sign_in", "console.link_page", "console.follow_link"}
LINK_PAGES = {"console.link_page", "console.follow_link"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# One budget per IP for every way of signing in (each is a guess at a secret, or a mail to someone).
sign_in_limit = rate_limit("RATELIMIT_CONSOLE_SIGN_IN", shared_scope="console-sign-in")


@bp.before_request
def require_session_and_csrf() -> Response | None:
    if request.endpoint not in SIGNED_OUT_PAGES and auth.current_session() is None:
        asked = request.full_path.rstrip("?") if request.method in SAFE_METHODS else None
        return redirect(url_for("console.sign_in_page", next=asked), 303)
    if request.method not in SAFE_METHODS:
        auth.require_csrf()
    return None


@bp.after_request
def protect(response: Response) -> Response:
    # Pages of signed-in staff and one-time links: never cached, never indexed, no Referer elsewhere.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    link = request.endpoint in LINK_PAGES
    response.headers["Referrer-Policy"] = "no-referrer" if link else "same-origin"
    return auth.keep_form_secret(response)


@bp.errorhandler(ApiError)
def refused(error: ApiError) -> Response:
    if request.accept_mimetypes.best == "application/json":
        return error_response(
            error.status, error.code, error.message, fields=error.fields, headers=error.headers
        )
    response = page("console/refused.html", status=error.status, error=error)
    response.headers.update(error.headers or {})
    return response


@bp.errorhandler(429)
def too_many(error: HTTPException) -> Response:
    message = "Too many sign-in attempts from here; wait a minute and try again."
    return refused(TooManyRequests("rate_limited", message, retry_after=60))


def page(template: str, *, status: int = 200, **context: Any) -> Response:
    html = render_template(template, csrf_token=auth.csrf_token(), **context)
    return Response(html, status=status, mimetype="text/html")


def wants_json() -> bool:
    """The pages' scripts ask for JSON; a plain form (no script) gets a page or a redirect."""
    return request.accept_mimetypes.best == "application/json"


def load_form(schema: Schema) -> dict[str, Any]:
    """The posted form as ``schema`` loads it; invalid fields are a 422 with their messages."""
    try:
        return schema.load(request.form.to_dict())
    except ValidationError as error:
        raise ValidationFailed(error.messages) from None


# The header's links, in order: (endpoint, label, admins only). A page family adds its entry here.
NAV: list[tuple[str, str, bool]] = [
    ("console.queue_page", "Queue", False),
    ("console.sites_page", "Sites", False),
    ("console.members_page", "Members", True),
    ("console.tokens_page", "Tokens", True),
]


# The pages of one site, linked from each of them: (endpoint taking ``slug``, label, admins only). A page
# adds its entry.
SITE_PAGES: list[tuple[str, str, bool]] = [
    ("console.site_page", "Settings", False),
    ("console.threads_page", "Threads", False),
    ("console.counters_page", "Counters", False),
    ("console.subscribers_page", "Subscribers", False),
    ("console.outbox_page", "Mail", False),
    ("console.audit_page", "Audit log", False),
    ("console.feeds_page", "Feeds", True),
    ("console.webhooks_page", "Webhooks", True),
    ("console.sso_page", "Sign-in", True),
    ("console.exports_page", "Exports", True),
]


@bp.context_processor
def navigation() -> dict[str, Any]:
    """``nav``: the links of the console header for whoever is signed in (nothing when signed out);
    ``site_pages``: the pages of a site they may open, for ``_site_nav.html``, as (endpoint, label)."""
    if auth.current_session() is None:
        return {"nav": [], "site_pages": []}
    is_admin = auth.current_principal().is_admin
    links = [(url_for(endpoint), label, endpoint) for endpoint, label, admin in NAV if is_admin or not admin]
    pages = [(endpoint, label) for endpoint, label, admin in SITE_PAGES if is_admin or not admin]
    return {"nav": links, "site_pages": pages}
