"""Exports written by the worker (issue 20): never served until whole, always with their size and SHA-256,
failed (never "running" forever) when they stop, and only ever to an admin of the site."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from engagement.extensions import db
from engagement.mailer import sender
from engagement.models import ExportJob, StaffRole
from engagement.portability import export, jobs
from engagement.staff.service import create_token
from tests.factories import make_site, post

EXPORTS = "/api/v1/moderation/sites/news/exports"


def bearer(role=StaffRole.ADMIN, sites=()):
    _, secret = create_token(role=role, site_slugs=list(sites), label=f"{role}-desk")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin(app):
    make_site("news")
    make_site("other")
    return bearer()


def _run(runner) -> None:
    # The test's requests share its app context, so the last one's transaction is still open here (in
    # production each request ends its own): end it, as the worker is another process.
    db.session.remove()
    result = runner.invoke(args=["engagement", "run-exports"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_an_export_is_served_only_once_whole_with_its_size_and_checksum(app, client, admin, runner, tmp_path):
    for n in range(3):
        post(client, body=f"Comment {n}")
    started = client.post(EXPORTS, headers=admin)
    assert started.status_code == 202
    job = started.json
    assert job["status"] == "queued" and job["comments_total"] == 3 and job["file_url"] is None
    early = client.get(f"{EXPORTS}/{job['id']}/file", headers=admin)
    assert early.status_code == 409 and early.json["error"]["code"] == "export_not_ready"
    assert client.post(EXPORTS, headers=admin).json["id"] == job["id"]  # one at a time per site

    _run(runner)
    done = client.get(f"{EXPORTS}/{job['id']}", headers=admin).json
    assert done["status"] == "complete" and done["comments_done"] == 3 and done["lines"] >= 6
    download = client.get(done["file_url"], headers=admin)
    body = download.get_data()
    download.close()
    assert download.status_code == 200 and int(download.headers["Content-Length"]) == done["size"] == len(
        body
    )
    assert hashlib.sha256(body).hexdigest() == done["sha256"]
    assert download.headers["ETag"] == f'"{done["sha256"]}"'
    assert (
        download.headers["Repr-Digest"]
        == f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
    )
    assert body.decode().splitlines()[-1].startswith('{"type":"end"')
    for held in (download.headers["ETag"], f"W/{download.headers['ETag']}"):
        revalidated = client.get(done["file_url"], headers={**admin, "If-None-Match": held})
        assert revalidated.status_code == 304 and revalidated.headers["ETag"] == download.headers["ETag"]
        assert revalidated.headers["Cache-Control"] == "private, no-store" and revalidated.data == b""
        # A file's 304, not an HTML page's: no page policy headers, no Content-Type.
        assert "Content-Security-Policy" not in revalidated.headers
        assert "Content-Type" not in revalidated.headers
    # What was downloaded restores.
    path = tmp_path / "download.jsonl"
    path.write_bytes(body)
    restored = runner.invoke(args=["engagement", "import", "json", str(path), "--site", "copy"])
    assert restored.exit_code == 0, restored.output
    assert not list(Path(app.config["EXPORT_DIR"]).glob("*.part"))


def test_only_an_admin_reaches_a_sites_exports_and_no_id_reaches_another_sites(app, client, admin, runner):
    moderator = bearer(StaffRole.MODERATOR, ["news"])
    assert client.post(EXPORTS, headers=moderator).status_code == 403
    assert client.get(EXPORTS, headers=moderator).status_code == 403
    job = client.post(EXPORTS, headers=admin).json
    _run(runner)
    assert client.get(f"{EXPORTS}/{job['id']}/file", headers=moderator).status_code == 403
    other = f"/api/v1/moderation/sites/other/exports/{job['id']}"
    assert client.get(other, headers=admin).json["error"]["code"] == "export_not_found"
    assert client.get(f"{other}/file", headers=admin).status_code == 404
    for guessed in ("1", "x" * 300, "..%2F..%2Fsecret_key", job["id"][:-1]):
        response = client.get(f"{EXPORTS}/{guessed}/file", headers=admin)
        assert response.status_code == 404 and response.is_json
    assert client.post("/api/v1/moderation/sites/nowhere/exports", headers=admin).status_code == 404
    assert client.get(EXPORTS).status_code == 401


def test_an_export_that_stops_is_failed_and_never_served(app, client, admin, runner, monkeypatch):
    post(client, body="One comment")

    def broken(site):
        raise RuntimeError("the disk filled up")
        yield  # pragma: no cover

    monkeypatch.setattr(export, "_mail", broken)
    job = client.post(EXPORTS, headers=admin).json
    _run(runner)
    failed = client.get(f"{EXPORTS}/{job['id']}", headers=admin).json
    assert (
        failed["status"] == "failed" and "start a new one" in failed["error"] and failed["file_url"] is None
    )
    assert "disk" not in failed["error"]  # the exception's words stay in the log
    gone = client.get(f"{EXPORTS}/{job['id']}/file", headers=admin)
    assert gone.status_code == 410 and gone.json["error"]["code"] == "export_gone"
    assert not list(Path(app.config["EXPORT_DIR"]).glob("*"))
    assert client.post(EXPORTS, headers=admin).json["id"] != job["id"]  # a new one may be asked for


def test_an_export_whose_worker_died_stops_being_running(app, client, admin, clock):
    job = client.post(EXPORTS, headers=admin).json
    jobs._claim_next()  # a worker took it, then died
    assert client.get(f"{EXPORTS}/{job['id']}", headers=admin).json["status"] == "running"
    clock.advance(minutes=11)
    stale = client.get(f"{EXPORTS}/{job['id']}", headers=admin).json
    assert stale["status"] == "failed" and "worker" in stale["error"]


def test_a_finished_exports_file_is_removed_after_the_retention_time(app, client, admin, runner, clock):
    job = client.post(EXPORTS, headers=admin).json
    _run(runner)
    clock.advance(hours=app.config["EXPORT_RETENTION_HOURS"] + 1)
    _run(runner)
    assert client.get(f"{EXPORTS}/{job['id']}", headers=admin).json["status"] == "expired"
    assert client.get(f"{EXPORTS}/{job['id']}/file", headers=admin).status_code == 410
    assert not list(Path(app.config["EXPORT_DIR"]).glob("*.jsonl"))


def test_the_worker_writes_queued_exports_before_its_round_of_mail(app, client, admin):
    job = client.post(EXPORTS, headers=admin).json
    sender.deliver_one_batch()
    assert db.session.get(ExportJob, job["id"]).status == "complete"
