"""SQLite checkpoints: a request's commit does not copy the write-ahead log back into the database file;
that is done after its answer has gone out (its response closed), once the log holds the mark's worth of
pages. Outside requests (an import, the worker) SQLite checkpoints in the commit as it always did.

What the log holds and what was copied back are read from the WAL index (the ``-shm`` file), as the
service reads it (``database.wal_frames_to_copy``, SQLite's documented file format)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from engagement import audit, database
from engagement.extensions import db
from tests.factories import make_site, post

MARK_PAGES = 4


def _not_copied_back(database_url: str) -> int:
    """Frames in the log not yet copied into the database file."""
    return database.wal_frames_to_copy(Path(database_url.removeprefix("sqlite:///") + "-shm"))


@pytest.fixture
def low_mark(database_url, monkeypatch):
    """A mark of a few pages, so one post crosses it."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log")
    monkeypatch.setattr(database, "WAL_CHECKPOINT_PAGES", MARK_PAGES)
    monkeypatch.setattr(database, "_REQUEST_AUTOCHECKPOINT_PAGES", 100 * MARK_PAGES)


def test_a_posts_commit_leaves_the_checkpoint_to_after_its_answer(low_mark, make_app, database_url):
    app = make_app()
    at_answer: list[int] = []

    @app.after_request
    def look(response):  # runs once the view has committed, before the response is closed
        at_answer.append(_not_copied_back(database_url))
        return response

    client = app.test_client()
    with app.app_context():
        make_site()
    answer = post(client, body="A comment long enough to write a few pages of the log.")
    assert answer.status_code == 201
    # The commit crossed the mark and copied nothing back: SQLite's own automatic checkpoint would have.
    assert at_answer[-1] >= MARK_PAGES
    answer.close()  # the server has sent the answer
    assert _not_copied_back(database_url) == 0


def test_below_the_mark_nothing_is_copied_back_after_an_answer(make_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log")
    app = make_app()
    client = app.test_client()
    with app.app_context():
        make_site()
    answer = post(client, body="One comment: far below a thousand pages.")
    answer.close()
    # No checkpoint (and no sync of the database file) after every write.
    assert _not_copied_back(database_url) > 0


def test_outside_requests_the_commit_checkpoints_as_sqlite_does(low_mark, app, database_url):
    site = make_site()  # an import or the worker writes in an app context, without a request
    assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == MARK_PAGES
    for n in range(300):
        audit.record(actor="test", action="checkpoint", site_id=site.id, details={"n": n, "pad": "x" * 200})
    db.session.commit()  # far more than the mark's pages, copied back by this commit itself
    assert _not_copied_back(database_url) == 0


def test_the_frames_read_from_the_wal_index_are_the_ones_sqlite_reports(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log")
    make_site()  # a few frames in a log no checkpoint has touched yet
    waiting = _not_copied_back(database_url)
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        busy, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        other.close()
    assert (busy, waiting) == (0, frames) and frames > 0
    assert copied == frames and _not_copied_back(database_url) == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///news.db", "/srv/engagement/instance/news.db-shm"),  # Flask-SQLAlchemy: the instance's
        ("sqlite:///data/news.db", "/srv/engagement/instance/data/news.db-shm"),
        ("sqlite:////var/lib/news.db", "/var/lib/news.db-shm"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
    ],
)
def test_the_files_beside_a_database_are_where_it_is_opened(url, expected):
    app = SimpleNamespace(config={"SQLALCHEMY_DATABASE_URI": url}, instance_path="/srv/engagement/instance")
    found = database.host_file_path(app, suffix="-shm", instance_name="unused")  # type: ignore[arg-type]
    assert found == (None if expected is None else Path(expected))
