"""Admin export of a site: GET /api/v1/moderation/sites/<site>/export, streamed as JSON Lines."""

from __future__ import annotations

from flask import Blueprint, Response, stream_with_context

from engagement.api import response, staff_doc
from engagement.portability.export import export_for_staff
from engagement.staff.auth import current_staff

bp = Blueprint("portability", __name__, url_prefix="/api/v1/moderation/sites/<site>")
NDJSON = "application/x-ndjson"


@bp.before_request
def authenticate() -> None:
    current_staff()


@bp.get("/export")
@staff_doc(
    "Everything about a site as JSON Lines, emails included (admin); `import json` restores it",
    tags=["moderation"],
    errors=(404,),
)
@response(200, NDJSON)
def export_site(site: str) -> Response:
    lines = export_for_staff(token=current_staff(), slug=site)
    response = Response(stream_with_context(lines), mimetype=NDJSON)
    response.headers["Content-Disposition"] = f'attachment; filename="{site}-export.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response
