"""Privacy endpoints: staff look-up and erasure, a reader's request, and the pages its mailed links open."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from engagement.cors import current_site, enable_site_cors
from engagement.errors import ApiError
from engagement.extensions import rate_limit
from engagement.http import load_body, load_query
from engagement.mailer.pages import HTML, link_page, serve_link_pages
from engagement.openapi import STAFF_SECURITY, documented
from engagement.privacy import presenters, schemas, service
from engagement.staff.auth import current_staff

staff = Blueprint("privacy_staff", __name__, url_prefix="/api/v1/moderation")
public = Blueprint("privacy", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(public)
links = Blueprint("privacy_links", __name__, url_prefix="/privacy")

TAGS = ["privacy"]
_PAGE = "privacy/erase.html"
# A forged or mangled link (400 invalid_link) or an old one (410 link_expired): a page saying so.
_REFUSED = {400: HTML, 410: HTML}
# What a reader downloads about themselves: their data, not staff's notes about it.
_OWN_DATA = schemas.PersonSchema(exclude=("comments.last_moderation", "comments.spam_reasons"))


# --- staff -----------------------------------------------------------------------------------------------


@staff.before_request
def authenticate() -> None:
    current_staff()


@staff.get("/people")
@documented(
    "Every comment, subscription and reply-notification opt-in of an email address, in the token's sites",
    tags=TAGS,
    query=schemas.PersonQuery,
    responses={200: schemas.PersonSchema},
    security=STAFF_SECURITY,
    errors=(422,),
)
def find_person() -> Response:
    args = load_query(schemas.PersonQuery)
    found = service.find_person(token=current_staff(), email=args["email"])
    return jsonify(schemas.PersonSchema().dump(presenters.person(found)))


@staff.post("/people/erase")
@documented(
    "Erase an email address: anonymize its comments (staff) or delete them (admins); mail opt-ins go too",
    tags=TAGS,
    body=schemas.EraseSchema,
    responses={200: schemas.ErasureSchema},
    security=STAFF_SECURITY,
)
def erase_person() -> Response:
    data = load_body(schemas.EraseSchema)
    erasure = service.erase_person(token=current_staff(), email=data["email"], mode=data["mode"])
    return jsonify(schemas.ErasureSchema().dump(erasure))


# --- a reader's request ----------------------------------------------------------------------------------


@public.post("/privacy")
# The same budget as subscribing: both mail an address whoever asks.
@rate_limit("RATELIMIT_SUBSCRIBE")
@documented(
    "Ask for your data or its erasure: 202 and a mailed link, the same answer for every address",
    tags=TAGS,
    body=schemas.PrivacyRequestSchema,
    responses={202: schemas.PrivacyAcceptedSchema},
    errors=(403, 404),
)
def request_privacy(site: str) -> tuple[Response, int]:
    data = load_body(schemas.PrivacyRequestSchema)
    service.request_by_email(site=current_site(), email=data["email"], request=data["request"])
    return jsonify(schemas.PrivacyAcceptedSchema().dump({})), 202


# --- pages opened from mail ------------------------------------------------------------------------------


@links.get("/export/<token>")
@documented(
    "Download what a site holds about your address (JSON)",
    tags=TAGS,
    responses={200: schemas.PersonSchema, **_REFUSED},
)
def export_own_data(token: str) -> Response:
    site, found = service.export_by_link(token)
    response = jsonify({"site": site.slug, **_OWN_DATA.dump(presenters.person(found))})
    response.headers["Content-Disposition"] = f'attachment; filename="{site.slug}-my-data.json"'
    return response


@links.get("/erase/<token>")
@documented(
    "Page asking to confirm erasing your data on a site", tags=TAGS, responses={200: HTML, **_REFUSED}
)
def erase_page(token: str) -> Response:
    return _page(step="ask", subject=service.describe_erase_link(token))


@links.post("/erase/<token>")
@documented(
    "Erase your data on a site: comments anonymized, subscriptions removed",
    tags=TAGS,
    responses={200: HTML, **_REFUSED},
)
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
