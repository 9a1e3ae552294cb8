"""What the export endpoints answer."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields

from engagement.clock import isoformat_z
from engagement.models import ExportJob, ExportStatus


class ExportJobSchema(Schema):
    id = fields.String()
    site = fields.String()
    status = fields.String(
        metadata={
            "enum": [s.value for s in ExportStatus],
            "description": "queued, running, complete, failed or expired",
        }
    )
    requested_by = fields.String()
    comments_total = fields.Integer(metadata={"description": "Comments the site had when it was asked for"})
    comments_done = fields.Integer(metadata={"description": "Comments written so far"})
    lines = fields.Integer(metadata={"description": "Lines written so far (every line once complete)"})
    size = fields.Integer(allow_none=True, metadata={"description": "Bytes of the file, once complete"})
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the file, once complete"})
    error = fields.String(allow_none=True)
    created_at = fields.String()
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    file_url = fields.String(allow_none=True, metadata={"description": "Where to download it, once complete"})


class ExportJobListSchema(Schema):
    items = fields.List(fields.Nested(ExportJobSchema))


def job(export: ExportJob, slug: str) -> dict[str, Any]:
    complete = export.status == ExportStatus.COMPLETE
    return {
        "id": export.id,
        "site": slug,
        "status": export.status,
        "requested_by": export.requested_by,
        "comments_total": export.comments_total,
        "comments_done": export.comments_done,
        "lines": export.lines,
        "size": export.size,
        "sha256": export.sha256,
        "error": export.error,
        "created_at": isoformat_z(export.created_at),
        "started_at": isoformat_z(export.started_at),
        "finished_at": isoformat_z(export.finished_at),
        "file_url": url_for("portability.export_file", site=slug, job_id=export.id) if complete else None,
    }
