"""Readers' reports: the widget's ``POST .../comments/{id}/reports`` and the staff view and dismissal."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from engagement.api import arguments, doc, response, staff_doc
from engagement.cors import current_site, enable_site_cors
from engagement.extensions import rate_limit
from engagement.hashing import ip_hash
from engagement.readers import READER_HEADER, required_reader
from engagement.reports import schemas, service
from engagement.staff.auth import current_staff

public = Blueprint("reports", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(public)
staff = Blueprint("reports_staff", __name__, url_prefix="/api/v1/moderation")

TAGS = ["reports"]


@public.post("/comments/<int:comment_id>/reports")
@rate_limit("RATELIMIT_REPORTS")
@doc(
    "Report an approved comment (once per reader; a repeat answers the same and changes nothing)",
    tags=TAGS,
    headers={READER_HEADER: "Random reader id kept by the widget"},
    errors=(400, 403, 404),
)
@arguments(schemas.NewReportSchema)
@response(200, schemas.ReportedSchema)
def report_comment(report: dict[str, Any], site: str, comment_id: int) -> dict[str, Any]:
    # The same answer whether the report was new, a repeat, or the one that held the comment: a reader
    # learns nothing about other readers' reports.
    service.report_comment(
        site=current_site(),
        comment_id=comment_id,
        reporter=required_reader(),
        ip_hash=ip_hash(request.remote_addr),
        reason=report["reason"],
        note=report["note"],
    )
    return {"reported": True}


@public.delete("/reports")
@rate_limit("RATELIMIT_REPORTS")
@doc(
    "Erase every report this reader made on the site (reports hold no email: the reader erases them here)",
    tags=TAGS,
    headers={READER_HEADER: "Random reader id kept by the widget"},
    errors=(400, 403, 404),
)
@response(200, schemas.ErasedSchema)
def erase_reports(site: str) -> dict[str, Any]:
    return {"erased": service.erase_reader_reports(site=current_site(), reporter=required_reader())}


@staff.before_request
def authenticate() -> None:
    current_staff()


@staff.get("/comments/<int:comment_id>/reports")
@staff_doc(
    "A comment's reports: open ones by reason, and every report (reporters hashed)", tags=TAGS, errors=(404,)
)
@response(200, schemas.CommentReportsSchema)
def comment_reports(comment_id: int) -> dict[str, Any]:
    return service.comment_reports(token=current_staff(), comment_id=comment_id)


@staff.post("/comments/<int:comment_id>/reports/dismiss")
@staff_doc("Dismiss a comment's open reports without changing the comment", tags=TAGS, errors=(404,))
@arguments(schemas.DismissSchema)
@response(200, schemas.DismissedSchema)
def dismiss_reports(body: dict[str, Any], comment_id: int) -> dict[str, Any]:
    dismissed = service.dismiss_reports(token=current_staff(), comment_id=comment_id, reason=body["reason"])
    return {"dismissed": dismissed}
