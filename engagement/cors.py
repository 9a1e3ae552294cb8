"""CORS for the public, per-site API: only a site's allowed origins may read its answers from a browser.

No credentials are ever allowed (the API uses no cookies). A browser write whose ``Origin`` is not one of
the site's origins is refused outright, so another page cannot post in a reader's name.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from engagement.errors import ApiError, Forbidden
from engagement.http import per_request
from engagement.models import SiteSnapshot
from engagement.readers import READER_HEADER, SESSION_HEADER
from engagement.sites.service import public_site

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALLOWED_HEADERS = f"Content-Type, Authorization, {READER_HEADER}, {SESSION_HEADER}"
ALLOWED_METHODS = "GET, POST, PATCH, DELETE"


def current_site() -> SiteSnapshot:
    """The site named in the URL, once per request, from the process's site cache (404 ``site_not_found``)."""
    slug = request.view_args["site"]
    return per_request(f"site:{slug}", lambda: public_site(slug))


def enable_site_cors(blueprint: Blueprint) -> None:
    """Attach the per-site CORS policy to a blueprint whose routes all take a ``site`` argument."""

    @blueprint.before_request
    def refuse_foreign_writes() -> None:
        origin = request.headers.get("Origin")
        if request.method not in _WRITE_METHODS or origin is None:
            return
        if not current_site().allows_origin(origin):
            raise Forbidden("origin_not_allowed", f"Origin {origin} may not write to this site.")

    @blueprint.after_request
    def add_cors_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        _vary_on_origin(response)
        if origin is None:
            return response
        try:
            site = current_site()
        except ApiError:  # an unknown site answers 404 without CORS headers
            return response
        if site.allows_origin(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        return response


def _vary_on_origin(response: Response) -> None:
    # The header as a string: ``response.vary.add`` parses it into a set and writes it back, on every
    # public answer.
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Origin"
    elif "origin" not in (part.strip().lower() for part in vary.split(",")):
        response.headers["Vary"] = f"{vary}, Origin"
