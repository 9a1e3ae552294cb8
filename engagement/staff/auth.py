"""Bearer-token checks for staff endpoints."""

from __future__ import annotations

from flask import request

from engagement.errors import Forbidden
from engagement.http import per_request
from engagement.models import Site, StaffToken
from engagement.staff.service import authenticate


def current_staff() -> StaffToken:
    """The authenticated staff token of this request (401 when missing, unknown or revoked)."""
    return per_request("staff", lambda: authenticate(request.headers.get("Authorization")))


def require_admin() -> StaffToken:
    token = current_staff()
    if not token.is_admin:
        raise Forbidden("forbidden", "Only an admin token may do this.")
    return token


def require_site_access(site: Site) -> StaffToken:
    """The staff token, if it may act on ``site``; 403 ``forbidden`` for a moderator of other sites."""
    token = current_staff()
    if not token.may_access(site):
        raise Forbidden("forbidden", f"This token may not act on site {site.slug!r}.")
    return token
