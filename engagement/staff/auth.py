"""Bearer-token checks for staff endpoints."""

from __future__ import annotations

from flask import request

from engagement.http import per_request
from engagement.models import StaffToken
from engagement.staff.service import authenticate


def current_staff() -> StaffToken:
    """The authenticated staff token of this request (401 when missing, unknown or revoked)."""
    return per_request("staff", lambda: authenticate(request.headers.get("Authorization")))
