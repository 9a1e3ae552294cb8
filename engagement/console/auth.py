"""Who is signed in to the console, and the CSRF token their forms carry.

The session cookie holds the session's secret (``HttpOnly``, ``SameSite=Strict``, ``Path=/console``,
``Secure`` when the public URL is https). Every state-changing request carries a CSRF token derived from
that secret; the signed-out forms (sign in, follow a link) derive theirs from a cookie of their own, so a
page on another site cannot sign a browser in either.
"""

from __future__ import annotations

import secrets

from flask import Response, request

from engagement.config import public_base_url
from engagement.console import service
from engagement.errors import Forbidden, Unauthorized
from engagement.http import per_request
from engagement.models import ConsoleSession

SESSION_COOKIE = "engagement_console"
FORM_COOKIE = "engagement_console_form"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_NEW_FORM_SECRET = "engagement.console.new_form_secret"  # noqa: S105 (an environ key, not a secret)


def current_session() -> ConsoleSession | None:
    """The live session of this request's cookie, if any (looked up once per request)."""
    return per_request("console-session", lambda: service.live_session(request.cookies.get(SESSION_COOKIE)))


def current_principal() -> service.Principal:
    """Who this console request acts as, in the shape the moderation services take as ``token`` (role,
    sites, ``is_admin``, ``may_access``, ``label``): pass it to them and to ``engagement.staff.access``
    as the API routes pass ``current_staff()``. 401 when nobody is signed in."""
    session = current_session()
    if session is None:
        raise Unauthorized("signed_out", "Sign in to the console first.")
    return service.principal(session)


def csrf_token() -> str:
    """The CSRF token the forms of this page must carry."""
    return service.csrf_token(_csrf_secret())


def require_csrf() -> None:
    """403 ``csrf_failed`` unless the request carries this session's CSRF token (form field or header)."""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not service.csrf_matches(_csrf_secret(), sent):
        raise Forbidden(
            "csrf_failed",
            "This form has expired or did not come from the console. Reload the page and try again.",
        )


def start_session(response: Response, signed_in: service.SignedIn) -> Response:
    """Give the browser its session cookie."""
    response.set_cookie(SESSION_COOKIE, signed_in.secret, **_cookie_flags())
    return response


def end_session(response: Response) -> Response:
    """Take the session cookie back."""
    response.delete_cookie(SESSION_COOKIE, **_cookie_flags())
    return response


def keep_form_secret(response: Response) -> Response:
    """Set the signed-out forms' cookie when this request made one."""
    secret = request.environ.get(_NEW_FORM_SECRET)
    if secret is not None:
        response.set_cookie(FORM_COOKIE, secret, **_cookie_flags())
    return response


def _csrf_secret() -> str:
    session_secret = request.cookies.get(SESSION_COOKIE)
    if session_secret and current_session() is not None:
        return session_secret
    form_secret = request.environ.get(_NEW_FORM_SECRET) or request.cookies.get(FORM_COOKIE)
    if not form_secret or len(form_secret) > service.MAX_SECRET_LENGTH:
        form_secret = request.environ[_NEW_FORM_SECRET] = secrets.token_urlsafe(32)
    return form_secret


def _cookie_flags() -> dict[str, object]:
    # Secure from the configured public URL, never from the request: behind a TLS-terminating proxy the
    # app itself may see plain http.
    return {
        "path": COOKIE_PATH,
        "httponly": True,
        "samesite": "Strict",
        "secure": public_base_url().startswith("https://"),
    }
