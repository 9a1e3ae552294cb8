"""A site's exports in the console (admins of the site): ask for one, see each one's progress (the worker
writes it), and download it once whole, with its size and SHA-256 to check the copy against. The same
service as the API (engagement.portability.jobs): the same rules, one export at a time per site."""

from __future__ import annotations

from flask import Response, current_app, redirect, request, send_file, url_for

from engagement.console import auth
from engagement.console.blueprint import bp, page
from engagement.console.sites import admin_site
from engagement.portability import jobs

NOTICES = {"asked": "Export asked for: the worker writes it; this page shows its progress."}


@bp.get("/sites/<slug>/exports")
def exports_page(slug: str) -> Response:
    site = admin_site(slug)
    listed = jobs.jobs_of(token=auth.current_principal(), slug=site.slug)
    return page(
        "console/exports.html",
        site=site,
        jobs=listed,
        busy=any(job.status in jobs.ACTIVE for job in listed),
        notice=NOTICES.get(request.args.get("done", "")),
        retention=f"{current_app.config['EXPORT_RETENTION_HOURS']:g} hours",
    )


@bp.post("/sites/<slug>/exports")
def start_export(slug: str) -> Response:
    site = admin_site(slug)
    jobs.start(token=auth.current_principal(), slug=site.slug)
    return redirect(url_for("console.exports_page", slug=site.slug, done="asked"), 303)


@bp.get("/sites/<slug>/exports/<job_id>/file")
def export_file(slug: str, job_id: str) -> Response:
    site = admin_site(slug)
    job, path = jobs.file_of(token=auth.current_principal(), slug=site.slug, job_id=job_id)
    answer = send_file(
        path,
        mimetype="application/x-ndjson",
        as_attachment=True,
        download_name=f"{site.slug}-export-{job.finished_at:%Y%m%dT%H%M%SZ}.jsonl",
        conditional=True,
        etag=job.sha256 or False,
    )
    return answer
