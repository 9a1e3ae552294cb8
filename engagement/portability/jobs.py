"""Exports made outside any request: an admin asks (``start``), the worker writes the file (``run_due``)
with its progress, and the file is served only once it is whole, with its size and SHA-256.

An export over HTTP is bounded by the request's timeout (gunicorn's 30 s ended a 600,000-comment export at
a quarter); the worker has no such bound. The file is written as ``<id>.jsonl.part`` and renamed when
its last line (the end record) is on disk, so a file served is never a part. A job whose worker died
(no heartbeat for ``STALE_AFTER``) is marked failed, never left "running"; a new one can be asked for.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update

from engagement import clock
from engagement.database import reading
from engagement.errors import Conflict, Forbidden, Gone, NotFound
from engagement.extensions import db
from engagement.models import Comment, ExportJob, ExportStatus, Site, StaffToken
from engagement.portability.export import export_lines
from engagement.staff.access import site_in_scope

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5_000  # lines between progress notes
STALE_AFTER = timedelta(minutes=10)
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)
ERROR_LENGTH = 400


def start(*, token: StaffToken, slug: str) -> ExportJob:
    """Queue an export of the site (admins: it holds readers' emails). One at a time per site: asking
    again while one is queued or running answers that one."""
    site = _admin_site(token, slug)
    running = db.session.scalar(
        select(ExportJob).where(ExportJob.site_id == site.id, ExportJob.status.in_(ACTIVE))
    )
    if running is not None:
        db.session.commit()  # nothing to write: end the transaction (and SQLite's write lock) now
        return running
    job = ExportJob(
        id=secrets.token_urlsafe(18),
        site_id=site.id,
        requested_by=token.label,
        status=ExportStatus.QUEUED,
        comments_total=db.session.scalar(select(func.count()).where(Comment.site_id == site.id)) or 0,
        created_at=clock.now(),
    )
    db.session.add(job)
    db.session.commit()
    return job


def jobs_of(*, token: StaffToken, slug: str) -> list[ExportJob]:
    """The site's exports, newest first (the last 50)."""
    site = _admin_site(token, slug)
    _mark_stale()
    return list(
        db.session.scalars(
            select(ExportJob)
            .where(ExportJob.site_id == site.id)
            .order_by(ExportJob.created_at.desc(), ExportJob.id)
            .limit(50)
        )
    )


def get(*, token: StaffToken, slug: str, job_id: str) -> ExportJob:
    site = _admin_site(token, slug)
    _mark_stale()
    job = db.session.get(ExportJob, job_id)
    if job is None or job.site_id != site.id:
        raise NotFound("export_not_found", "There is no such export of this site.")
    return job


def file_of(*, token: StaffToken, slug: str, job_id: str) -> tuple[ExportJob, Path]:
    """The finished file of a job: 409 while it is being made, 410 when it failed or expired."""
    job = get(token=token, slug=slug, job_id=job_id)
    if job.status in ACTIVE:
        raise Conflict("export_not_ready", "This export is not finished yet: ask again later.")
    path = _final_path(job)
    if job.status != ExportStatus.COMPLETE or not path.is_file():
        raise Gone("export_gone", f"This export is {job.status}: no file is served. Start a new export.")
    return job, path


def run_due() -> int:
    """Write every queued export, oldest first (the worker, and `flask engagement run-exports`); expire
    old files. How many were written."""
    _mark_stale()
    _expire_old_files()
    written = 0
    while (job := _claim_next()) is not None:
        _write(job)
        written += 1
    return written


def _claim_next() -> ExportJob | None:
    for job_id in db.session.scalars(
        select(ExportJob.id).where(ExportJob.status == ExportStatus.QUEUED).order_by(ExportJob.created_at)
    ):
        now = clock.now()
        # Compare-and-set: two workers never write the same export.
        claimed = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.QUEUED)
            .values(status=ExportStatus.RUNNING, started_at=now, heartbeat_at=now)
        ).rowcount
        db.session.commit()
        if claimed:
            return db.session.get(ExportJob, job_id)
    return None


def _write(job: ExportJob) -> None:
    job_id, site_id = job.id, job.site_id
    site = db.session.get(Site, site_id)
    final = _final_path(job)
    part = final.with_name(final.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    lines = comments = 0
    db.session.commit()  # the claim's transaction: the export reads in its own, deferred one
    try:
        with part.open("wb") as stream, reading():
            for line in export_lines(site=site):
                data = line.encode()
                stream.write(data)
                digest.update(data)
                lines += 1
                comments += line.startswith('{"type":"comment"')
                if lines % PROGRESS_EVERY == 0:
                    _note(job_id, lines=lines, comments_done=comments, heartbeat_at=clock.now())
            stream.flush()
            os.fsync(stream.fileno())
        part.replace(final)
    except Exception as error:  # any failure leaves a failed job and no file, never a part served
        db.session.close()
        part.unlink(missing_ok=True)
        log.exception("export %s of site %s failed", job_id, site_id)
        _note(
            job_id,
            status=ExportStatus.FAILED,
            error=f"{type(error).__name__}: the export stopped; start a new one"[:ERROR_LENGTH],
            finished_at=clock.now(),
        )
        return
    db.session.close()  # the export's read transaction
    _note(
        job_id,
        status=ExportStatus.COMPLETE,
        lines=lines,
        comments_done=comments,
        size=final.stat().st_size,
        sha256=digest.hexdigest(),
        finished_at=clock.now(),
    )


def _note(job_id: str, **values: object) -> None:
    """Record progress on its own connection: the export's reading transaction stays as it is."""
    with reading(only=False), db.engine.begin() as connection:
        connection.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))


def _mark_stale() -> None:
    """A running job without a heartbeat for ``STALE_AFTER``: its worker died; it failed. (Looked for
    first: a read of the listing takes no write lock when there is nothing to mark.)"""
    stale = list(
        db.session.scalars(
            select(ExportJob.id).where(
                ExportJob.status == ExportStatus.RUNNING, ExportJob.heartbeat_at < clock.now() - STALE_AFTER
            )
        )
    )
    if not stale:
        return
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id.in_(stale), ExportJob.status == ExportStatus.RUNNING)
        .values(
            status=ExportStatus.FAILED,
            error="the worker writing it stopped; start a new export",
            finished_at=clock.now(),
        )
    )
    db.session.commit()


def _expire_old_files() -> None:
    retention = timedelta(hours=current_app.config["EXPORT_RETENTION_HOURS"])
    old = list(
        db.session.scalars(
            select(ExportJob).where(
                ExportJob.status == ExportStatus.COMPLETE, ExportJob.finished_at < clock.now() - retention
            )
        )
    )
    for job in old:
        _final_path(job).unlink(missing_ok=True)
        job.status = ExportStatus.EXPIRED
    if old:
        db.session.commit()


def _final_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.id}.jsonl"


def export_dir() -> Path:
    configured = current_app.config.get("EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def _admin_site(token: StaffToken, slug: str) -> Site:
    if not token.is_admin:
        raise Forbidden("forbidden", "Only an admin token may export a site: it includes readers' emails.")
    return site_in_scope(token, slug)
