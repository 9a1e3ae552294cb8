"""The console's exports page: an admin asks for an export, follows it and downloads it once the worker
wrote it whole (its size and SHA-256 on the page); moderators get nothing; a form without its CSRF token
starts nothing."""

from __future__ import annotations

import hashlib

import pytest

from engagement.extensions import db
from engagement.models import ExportJob
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of
from tests.test_console_sites import html, staff  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("staff")  # two sites; Ada, an admin; Grace, a moderator of "news"
PAGE = "/console/sites/news/exports"


def test_an_admin_asks_for_an_export_and_downloads_it_once_whole(app, runner):
    admin = signed_in(app, ADMIN)
    assert "No exports yet." in html(admin.get(PAGE))
    asked = admin.post(PAGE, data={"csrf_token": csrf_of(admin.get(PAGE))})
    assert asked.status_code == 303
    waiting = html(admin.get(asked.headers["Location"]))
    assert "Export asked for" in waiting and "queued" in waiting and "check again" in waiting
    assert "Download" not in waiting
    db.session.remove()  # the requests share the test's context; the worker is another process
    assert runner.invoke(args=["engagement", "run-exports"]).exit_code == 0
    done = html(admin.get(PAGE))
    job = db.session.scalars(db.select(ExportJob)).one()
    assert "complete" in done and job.sha256 in done and f"{job.size:,} bytes" in done
    download = admin.get(f"{PAGE}/{job.id}/file")
    body = download.get_data()
    download.close()
    assert download.status_code == 200 and hashlib.sha256(body).hexdigest() == job.sha256
    assert body.decode().splitlines()[-1].startswith('{"type":"end"')


def test_moderators_and_forged_forms_get_nothing(app):
    moderator = signed_in(app, MODERATOR)
    assert moderator.get(PAGE).status_code == 403
    assert (
        moderator.post(
            PAGE, data={"csrf_token": csrf_of(moderator.get("/console/sites/news/threads"))}
        ).status_code
        == 403
    )
    assert "Exports" not in html(moderator.get("/console/sites/news/threads"))
    admin = signed_in(app, ADMIN)
    assert admin.post(PAGE, data={"csrf_token": "forged"}).status_code == 403
    assert admin.post(PAGE, data={}).status_code == 403
    assert db.session.scalars(db.select(ExportJob)).first() is None
    assert admin.get(f"{PAGE}/not-a-job/file").status_code == 404
