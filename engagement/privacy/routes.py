"""Privacy endpoints: staff look-up and erasure, a reader's request, and the pages its mailed links open."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from engagement.api import arguments, doc, response, staff_doc
from engagement.cors import current_site, enable_site_cors
from engagement.errors import ApiError
from engagement.extensions import rate_limit
from engagement.mailer.pages import declare_link_page, link_page, serve_link_pages
from engagement.privacy import presenters, schemas, service
from engagement.sso.sessions import ReaderSession, current_session
from engagement.sso.tokens import SsoRefused
from engagement.staff.auth import current_staff

staff = Blueprint("privacy_staff", __name__, url_prefix="/api/v1/moderation")
public = Blueprint("privacy", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(public)
links = Blueprint("privacy_links", __name__, url_prefix="/privacy")

TAGS = ["privacy"]
_PAGE = "privacy/erase.html"


# --- staff -----------------------------------------------------------------------------------------------


@staff.before_request
def authenticate() -> None:
    current_staff()


@staff.get("/people")
@staff_doc(
    "Every comment, subscription and reply-notification opt-in of an email address, in the token's sites "
    "(or in site), and the comments of a signed-in reader by user id (sso_id, with site)",
    tags=TAGS,
    errors=(403, 404),
)
@arguments(schemas.PersonQuery, location="query")
@response(200, schemas.PersonSchema, presented=True)
def find_person(args: dict[str, Any]) -> dict[str, Any]:
    return presenters.person(service.find_person(token=current_staff(), **args))


@staff.post("/people/erase")
@staff_doc(
    "Erase an email address or a signed-in reader's user id (sso_id, with site): anonymize the comments "
    "(staff) or delete them (admins); mail opt-ins go too",
    tags=TAGS,
    errors=(403, 404),
)
@arguments(schemas.EraseSchema)
@response(200, schemas.ErasureSchema)
def erase_person(erase: dict[str, Any]) -> service.Erasure:
    return service.erase_person(token=current_staff(), **erase)


# --- a reader's request ----------------------------------------------------------------------------------


@public.post("/privacy")
# The same budget as subscribing: both mail an address whoever asks.
@rate_limit("RATELIMIT_SUBSCRIBE")
@doc(
    "Ask for your data or its erasure: 202 and a mailed link, the same answer for every address",
    tags=TAGS,
    errors=(403, 404),
)
@arguments(schemas.PrivacyRequestSchema)
@response(202, schemas.PrivacyAcceptedSchema)
def request_privacy(privacy_request: dict[str, Any], site: str) -> dict[str, Any]:
    service.request_by_email(
        site=current_site(),
        email=privacy_request["email"],
        request=privacy_request["request"],
        language=privacy_request["lang"],
    )
    return {}


@public.get("/privacy/me")
@rate_limit("RATELIMIT_SUBSCRIBE")
@doc(
    "A signed-in reader's data on the site (X-Engagement-Session), at once: the session proves who asks",
    tags=TAGS,
    errors=(401, 404),
)
@response(200, schemas.OwnDataSchema)
def signed_in_readers_data(site: str) -> dict[str, Any]:
    session = _signed_in()
    found = service.own_data(site=current_site(), sso_id=session.sub, email=session.identity.email)
    return {"site": current_site().slug, **presenters.person(found)}


@public.post("/privacy/me/erase")
@rate_limit("RATELIMIT_SUBSCRIBE")
@doc(
    "A signed-in reader erases themselves on the site: comments anonymized, subscriptions removed",
    tags=TAGS,
    errors=(401, 404),
)
@response(200, schemas.ErasureSchema)
def erase_signed_in_reader(site: str) -> service.Erasure:
    session = _signed_in()
    return service.erase_own_data(site=current_site(), sso_id=session.sub, email=session.identity.email)


def _signed_in() -> ReaderSession:
    session = current_session(current_site())
    if session is None:
        raise SsoRefused("sso_session_required", "Sign in first: send X-Engagement-Session.")
    return session


# --- pages opened from mail ------------------------------------------------------------------------------


@links.get("/export/<token>")
@declare_link_page(
    "Download what a site holds about your address (JSON)", tags=TAGS, answer=schemas.OwnDataSchema
)
def export_own_data(token: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    site, found = service.export_by_link(token)
    download = {"Content-Disposition": f'attachment; filename="{site.slug}-my-data.json"'}
    return {"site": site.slug, **presenters.person(found)}, 200, download


@links.get("/erase/<token>")
@declare_link_page("Page asking to confirm erasing your data on a site", tags=TAGS)
def erase_page(token: str) -> Response:
    return _page(step="ask", subject=service.describe_erase_link(token))


@links.post("/erase/<token>")
@declare_link_page("Erase your data on a site: comments anonymized, subscriptions removed", tags=TAGS)
def erase_own_data(token: str) -> Response:
    return _page(step="done", subject=service.erase_by_link(token))


def _page(
    *, step: str, subject: service.ErasureLink | None, error: ApiError | None = None, status: int = 200
) -> Response:
    return link_page(_PAGE, status=status, step=step, subject=subject, error=error)


def _refused(error: ApiError) -> Response:
    return _page(step="refused", subject=None, error=error, status=error.status)


# The token in the URL is the reader's key, as in mail links: no caching, no Referer, no indexing.
serve_link_pages(links, _refused)
