"""Admin export of a site (JSON Lines, emails included): streamed at once for a small site, or written by
the worker for any size and downloaded when whole."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, send_file, stream_with_context

from engagement.api import alt_response, response, staff_doc
from engagement.http import client_has, conditional
from engagement.portability import jobs, schemas
from engagement.portability.export import export_for_staff
from engagement.staff.auth import current_staff

bp = Blueprint("portability", __name__, url_prefix="/api/v1/moderation/sites/<site>")
NDJSON = "application/x-ndjson"
TAGS = ["moderation"]


@bp.before_request
def authenticate() -> None:
    current_staff()


@bp.get("/export")
@staff_doc(
    "Everything about a site as JSON Lines, emails included (admin), streamed now; it ends with an end "
    "record without which `import json` refuses it. For a large site use POST /exports",
    tags=TAGS,
    errors=(404,),
)
@response(200, NDJSON)
def export_site(site: str) -> Response:
    lines = export_for_staff(token=current_staff(), slug=site)
    response = Response(stream_with_context(lines), mimetype=NDJSON)
    response.headers["Content-Disposition"] = f'attachment; filename="{site}-export.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/exports")
@staff_doc(
    "Ask the worker for an export of the site (admin); answers the job, or the one already queued or running",
    tags=TAGS,
    errors=(404,),
)
@response(202, schemas.ExportJobSchema)
def start_export(site: str) -> dict[str, Any]:
    return schemas.job(jobs.start(token=current_staff(), slug=site), site)


@bp.get("/exports")
@staff_doc("The site's exports, newest first, with their progress (admin)", tags=TAGS, errors=(404,))
@response(200, schemas.ExportJobListSchema)
def list_exports(site: str) -> dict[str, Any]:
    return {"items": [schemas.job(job, site) for job in jobs.jobs_of(token=current_staff(), slug=site)]}


@bp.get("/exports/<job_id>")
@staff_doc("One export's progress, size and SHA-256 (admin)", tags=TAGS, errors=(404,))
@response(200, schemas.ExportJobSchema)
def get_export(site: str, job_id: str) -> dict[str, Any]:
    return schemas.job(jobs.get(token=current_staff(), slug=site, job_id=job_id), site)


@bp.get("/exports/<job_id>/file")
@staff_doc(
    "A finished export's file (admin), with Content-Length and its SHA-256 (ETag, Repr-Digest); 409 while it "
    "is being written, 410 once it failed or expired",
    tags=TAGS,
    errors=(404, 409, 410),
)
@response(200, NDJSON)
@alt_response(304)
def export_file(site: str, job_id: str) -> Response:
    job, path = jobs.file_of(token=current_staff(), slug=site, job_id=job_id)
    if job.sha256 and client_has(job.sha256):
        # Answered before the file is opened (send_file's own 304 leaves it open), as every 304: of its
        # representation's media type, so it is not given an HTML page's policy headers.
        return conditional(job.sha256, None, mimetype=NDJSON, cache_control="private, no-store")
    answer = send_file(
        path,
        mimetype=NDJSON,
        as_attachment=True,
        download_name=f"{site}-export-{job.finished_at:%Y%m%dT%H%M%SZ}.jsonl",
        etag=job.sha256 or False,
        conditional=True,
        max_age=0,
    )
    digest = base64.b64encode(bytes.fromhex(job.sha256 or "")).decode()
    answer.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    answer.headers["Cache-Control"] = "private, no-store"
    return answer
