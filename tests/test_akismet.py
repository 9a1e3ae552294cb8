"""Akismet: the write-only key, comment-check on each post, and the learning reports, against a fake
Akismet on 127.0.0.1 (tests/fakes/akismet.py)."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
from sqlalchemy import select

from engagement.akismet import client as akismet_client
from engagement.akismet import reports
from engagement.akismet.reports import deliver_due_reports
from engagement.encryption import decrypt_secret
from engagement.extensions import db
from engagement.models import (
    AkismetCheck,
    AkismetReport,
    AuditEntry,
    Comment,
    Site,
    StaffRole,
)
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.fakes.akismet import (
    VALID_KEY,
    FakeAkismet,
    akismet_fixture,  # noqa: F401 (the "akismet" fixture)
)

MOD = "/api/v1/moderation"
ORIGIN = "https://news.example"


@pytest.fixture
def app(make_app, akismet: FakeAkismet):
    app = make_app(AKISMET_URL=akismet.url, AKISMET_TIMEOUT=0.5)
    with app.app_context():
        yield app


@pytest.fixture
def admin(app):
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="chief")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def site(app, client, admin):
    """A site whose key Akismet verified (through the API, as staff set it)."""
    make_site("news", origins=[ORIGIN])
    response = client.patch(f"{MOD}/sites/news", json={"akismet_key": VALID_KEY}, headers=admin)
    assert response.status_code == 200, response.json
    return "news"


def stored(response) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, response.json["comment"]["id"])


def public_ids(client) -> list[int]:
    page = client.get("/api/v1/sites/news/comments", query_string={"thread": "2025/05/xi-putin-moscow"})
    assert page.status_code == 200
    return [c["id"] for c in page.json["comments"]]


# --- the key -------------------------------------------------------------------------------------------


def test_a_verified_key_is_stored_encrypted_and_only_its_presence_is_answered(
    client, admin, akismet, site, caplog
):
    caplog.set_level(logging.DEBUG)
    assert akismet.calls("verify-key") == [{"api_key": VALID_KEY, "blog": ORIGIN}]
    row = db.session.scalar(select(Site).where(Site.slug == "news"))
    assert row.akismet_key_encrypted and VALID_KEY not in row.akismet_key_encrypted
    assert decrypt_secret(row.akismet_key_encrypted) == VALID_KEY
    assert "akismet_key" not in row.settings_json
    answers = [
        client.get(f"{MOD}/sites/news", headers=admin),
        client.get(f"{MOD}/sites", headers=admin),
        client.patch(f"{MOD}/sites/news", json={"max_links": 3}, headers=admin),
        client.get(f"{MOD}/audit", headers=admin),
        client.get(f"{MOD}/sites/news/export", headers=admin),
    ]
    assert answers[0].json["akismet_key_set"] is True
    assert answers[1].json["items"][0]["akismet_key_set"] is True
    for answer in answers:
        assert answer.status_code == 200, answer.request.path
        assert VALID_KEY not in answer.get_data(as_text=True)
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "site_updated")).all()
    assert audit[0].details == {"akismet_key": "set"}
    assert all(VALID_KEY not in json.dumps(entry.details) for entry in audit)


def test_the_key_never_reaches_a_log_line(client, admin, akismet, make_app, caplog):
    caplog.set_level(logging.DEBUG)
    make_site("news", origins=[ORIGIN])
    client.patch(f"{MOD}/sites/news", json={"akismet_key": VALID_KEY}, headers=admin)
    post(client, ip="198.51.100.9")
    akismet.failure = "debug_help"
    post(client, ip="198.51.100.10")
    client.patch(f"{MOD}/sites/news", json={"akismet_key": "wrongkey1234"}, headers=admin)
    assert akismet.calls("comment-check")
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "akismet unavailable" in logged
    assert VALID_KEY not in logged and "wrongkey1234" not in logged


def test_a_key_akismet_calls_invalid_is_a_422_on_the_field_and_nothing_is_saved(client, admin, akismet):
    make_site("news", origins=[ORIGIN])
    response = client.patch(
        f"{MOD}/sites/news", json={"akismet_key": "notakey12345", "max_links": 9}, headers=admin
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "akismet_key_invalid"
    assert list(response.json["error"]["fields"]) == ["akismet_key"]
    site = db.session.scalar(select(Site).where(Site.slug == "news"))
    assert site.akismet_key_encrypted is None and site.settings.max_links == 2


@pytest.mark.parametrize("failure", ["slow", "500", "down"])
def test_a_key_akismet_cannot_verify_is_a_503_and_nothing_is_saved(client, admin, akismet, failure):
    make_site("news", origins=[ORIGIN])
    if failure == "down":
        akismet.stop()
    else:
        akismet.failure = failure
    response = client.patch(f"{MOD}/sites/news", json={"akismet_key": VALID_KEY}, headers=admin)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "akismet_unavailable"
    assert db.session.scalar(select(Site.akismet_key_encrypted).where(Site.slug == "news")) is None


def test_a_key_given_when_a_site_is_created_is_verified_too(client, admin, akismet):
    body = {"slug": "sport", "name": "Sport", "origins": ["https://sport.example"]}
    refused = client.post(f"{MOD}/sites", json={**body, "akismet_key": "notakey12345"}, headers=admin)
    assert refused.status_code == 422 and refused.json["error"]["code"] == "akismet_key_invalid"
    created = client.post(f"{MOD}/sites", json={**body, "akismet_key": VALID_KEY}, headers=admin)
    assert created.status_code == 201 and created.json["akismet_key_set"] is True
    assert VALID_KEY not in created.get_data(as_text=True)
    assert akismet.calls("verify-key")[-1] == {"api_key": VALID_KEY, "blog": "https://sport.example"}


def test_null_removes_the_key_and_the_audit_says_so(client, admin, site):
    response = client.patch(f"{MOD}/sites/news", json={"akismet_key": None}, headers=admin)
    assert response.json["akismet_key_set"] is False
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.details == {"akismet_key": "removed"}


def test_a_malformed_key_is_refused_by_the_schema_without_asking_akismet(client, admin, akismet):
    make_site("news", origins=[ORIGIN])
    response = client.patch(f"{MOD}/sites/news", json={"akismet_key": "has space"}, headers=admin)
    assert response.status_code == 422 and "akismet_key" in response.json["error"]["fields"]
    assert akismet.requests == []


# --- comment-check -------------------------------------------------------------------------------------


def test_a_post_is_checked_with_the_fields_akismet_documents(client, akismet, site, clock):
    first = post(
        client,
        ip="198.51.100.23",
        headers={"User-Agent": "Firefox/140", "Referer": f"{ORIGIN}/2025/05/xi-putin-moscow"},
        author_name="Ann",
        author_email="ann@example.org",
        author_url="https://ann.example",
        body="Well argued.",
    )
    assert first.status_code == 201
    reply = post(client, parent_id=first.json["comment"]["id"], body="Agreed.")
    sent, replied = akismet.calls("comment-check")
    assert sent == {
        "api_key": VALID_KEY,
        "blog": ORIGIN,
        "blog_charset": "UTF-8",
        "user_ip": "198.51.100.23",
        "user_agent": "Firefox/140",
        "referrer": f"{ORIGIN}/2025/05/xi-putin-moscow",
        "permalink": f"{ORIGIN}/2025/05/xi-putin-moscow",
        "comment_type": "comment",
        "comment_author": "Ann",
        "comment_author_email": "ann@example.org",
        "comment_author_url": "https://ann.example",
        "comment_content": "Well argued.",
        "comment_date_gmt": clock().isoformat(),
        "honeypot_field_name": "hp",
    }
    assert replied["comment_type"] == "reply" and reply.status_code == 201


def test_the_site_language_is_sent_as_blog_lang(client, admin, akismet, site):
    client.patch(f"{MOD}/sites/news", json={"akismet_blog_lang": "en, fr"}, headers=admin)
    post(client)
    assert akismet.calls("comment-check")[-1]["blog_lang"] == "en, fr"


def test_ham_keeps_the_local_verdict_and_is_remembered_for_learning(client, site):
    response = post(client)
    assert response.status_code == 201
    assert stored(response).status == "approved"
    assert db.session.get(AkismetCheck, response.json["comment"]["id"]).verdict == "ham"


def test_spam_is_stored_as_spam_with_reason_akismet_and_answered_like_a_held_comment(client, akismet, site):
    akismet.verdict = "true"
    response = post(client)
    assert response.status_code == 202 and response.json["status"] == "pending"
    comment = stored(response)
    assert (comment.status, comment.spam_reasons) == ("spam", ["akismet"])
    assert public_ids(client) == []


def test_discard_is_stored_as_spam_and_answered_like_a_held_comment(client, akismet, site):
    akismet.verdict = "discard"
    response = post(client)
    assert response.status_code == 202 and response.json["status"] == "pending"
    assert response.json["comment"]["author"]["avatar"] is None
    comment = stored(response)
    assert (comment.status, comment.spam_reasons) == ("spam", ["akismet", "akismet_discard"])
    assert public_ids(client) == []


def test_a_comment_held_for_a_first_time_author_is_checked_and_akismet_spam_goes_to_spam(
    client, admin, akismet, site
):
    client.patch(f"{MOD}/sites/news", json={"moderation": "first_time"}, headers=admin)
    held = post(client)
    assert stored(held).status == "pending" and len(akismet.calls("comment-check")) == 1
    akismet.verdict = "true"
    spam = post(client)
    assert (stored(spam).status, stored(spam).spam_reasons) == ("spam", ["first_time", "akismet"])


def test_local_spam_is_not_sent_to_akismet(client, akismet, site):
    response = post(client, hp="http://filled.example")
    assert stored(response).status == "spam"
    assert akismet.calls("comment-check") == []


def test_without_a_key_nothing_is_sent(client, akismet):
    make_site("news", origins=[ORIGIN])
    assert post(client).status_code == 201
    assert akismet.requests == []


def test_the_deployment_key_checks_every_site_without_its_own(make_app, akismet):
    app = make_app(AKISMET_URL=akismet.url, AKISMET_KEY=VALID_KEY)
    with app.app_context():
        make_site("news", origins=[ORIGIN])
        akismet.verdict = "true"
        response = post(app.test_client())
        assert stored(response).status == "spam"
        assert akismet.calls("comment-check")[0]["api_key"] == VALID_KEY


FAILURES = ["slow", "500", "invalid", "debug_help", "down"]


def _break(akismet: FakeAkismet, failure: str) -> None:
    if failure == "down":
        akismet.stop()  # connection refused
    else:
        akismet.failure = failure


@pytest.mark.parametrize("failure", FAILURES)
def test_when_akismet_fails_the_comment_is_held_by_default_never_lost(client, akismet, site, failure):
    _break(akismet, failure)
    response = post(client)
    assert response.status_code == 202
    comment = stored(response)
    assert (comment.status, comment.spam_reasons) == ("pending", ["akismet_unavailable"])
    assert db.session.get(AkismetCheck, comment.id) is None


@pytest.mark.parametrize("failure", FAILURES)
def test_when_akismet_fails_a_site_that_allows_keeps_the_local_verdict_and_says_unchecked(
    client, admin, akismet, site, failure
):
    client.patch(f"{MOD}/sites/news", json={"akismet_failure": "allow"}, headers=admin)
    _break(akismet, failure)
    response = post(client)
    assert response.status_code == 201
    comment = stored(response)
    assert (comment.status, comment.spam_reasons) == ("approved", ["akismet_unchecked"])


def test_no_write_lock_is_held_while_akismet_answers(client, akismet, site, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    path = database_url.removeprefix("sqlite:///")
    took_the_lock: list[bool] = []

    def write_meanwhile() -> None:
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            took_the_lock.append(True)
        except sqlite3.OperationalError:  # "database is locked": the post held it while waiting
            took_the_lock.append(False)
        finally:
            other.close()

    akismet.while_answering = write_meanwhile
    assert post(client).status_code == 201
    assert took_the_lock == [True]


def test_a_timeout_is_bounded_by_the_setting(client, akismet, site):
    akismet.failure, akismet.slow_seconds = "slow", 5
    response = post(client)
    assert response.status_code == 202
    assert response.json["comment"]["id"]


# --- learning ------------------------------------------------------------------------------------------


def _decide(client, admin, comment_id: int, status: str):
    response = client.patch(f"{MOD}/comments/{comment_id}", json={"status": status}, headers=admin)
    assert response.status_code == 200, response.json
    return response


def test_approving_akismet_spam_sends_submit_ham_once_after_an_outage(client, admin, akismet, site, clock):
    akismet.verdict = "true"
    comment_id = post(client, ip="198.51.100.44").json["comment"]["id"]
    checked = akismet.calls("comment-check")[0]
    akismet.stop()
    _decide(client, admin, comment_id, "approved")
    assert akismet.calls("submit-ham") == []  # never inline in the request
    report = db.session.scalar(select(AkismetReport))
    assert (report.kind, report.status) == ("ham", "queued")

    first = deliver_due_reports()
    assert (first.sent, first.retrying) == (0, 1)
    akismet.start()  # the same port
    assert deliver_due_reports().sent == 0  # backing off: not due yet
    clock.advance(minutes=1)
    assert deliver_due_reports().sent == 1
    clock.advance(hours=7)
    assert deliver_due_reports().sent == 0
    [sent] = akismet.calls("submit-ham")
    assert sent == checked  # the same fields comment-check was sent, the client's IP among them
    db.session.expire_all()
    report = db.session.get(AkismetReport, report.id)
    assert (report.status, report.attempts) == ("sent", 2)


def test_marking_spam_a_comment_akismet_passed_sends_submit_spam(client, admin, akismet, site, runner):
    comment_id = post(client).json["comment"]["id"]
    _decide(client, admin, comment_id, "spam")
    _decide(client, admin, comment_id, "approved")  # Akismet passed it: approving teaches nothing
    result = runner.invoke(args=["engagement", "send-akismet"])
    assert "sent 1," in result.output
    assert len(akismet.calls("submit-spam")) == 1 and akismet.calls("submit-ham") == []


def test_decisions_that_agree_with_akismet_send_nothing(client, admin, akismet, site):
    approved = post(client).json["comment"]["id"]
    akismet.verdict = "true"
    spam = post(client).json["comment"]["id"]
    _decide(client, admin, approved, "pending")
    _decide(client, admin, approved, "approved")
    _decide(client, admin, spam, "trash")
    assert db.session.scalars(select(AkismetReport)).all() == []


def test_a_bulk_decision_queues_its_reports_in_one_lookup(client, admin, akismet, site):
    akismet.verdict = "true"
    ids = [post(client).json["comment"]["id"] for _ in range(3)]
    response = client.post(f"{MOD}/comments/bulk", json={"ids": ids, "action": "approve"}, headers=admin)
    assert response.status_code == 200
    assert sorted(r.comment_id for r in db.session.scalars(select(AkismetReport))) == ids


def test_the_mail_process_delivers_the_reports(client, admin, akismet, site, runner):
    akismet.verdict = "true"
    comment_id = post(client).json["comment"]["id"]
    _decide(client, admin, comment_id, "approved")
    runner.invoke(args=["engagement", "send-mail"])
    assert len(akismet.calls("submit-ham")) == 1


def test_erasing_the_author_erases_what_akismet_was_sent_and_drops_the_report(client, admin, akismet, site):
    akismet.verdict = "true"
    comment_id = post(client, author_email="gone@example.org").json["comment"]["id"]
    _decide(client, admin, comment_id, "approved")
    erased = client.post(
        f"{MOD}/people/erase", json={"email": "gone@example.org", "mode": "anonymize"}, headers=admin
    )
    assert erased.status_code == 200, erased.json
    assert db.session.get(AkismetCheck, comment_id) is None
    assert deliver_due_reports().dropped == 1
    assert akismet.calls("submit-ham") == []


def test_what_akismet_was_sent_is_purged_after_thirty_days(client, admin, akismet, site, clock, runner):
    comment_id = post(client).json["comment"]["id"]
    clock.advance(days=31)
    runner.invoke(args=["engagement", "send-mail"])
    assert db.session.get(AkismetCheck, comment_id) is None


def test_out_of_attempts_a_report_is_parked_as_failed(client, admin, akismet, site, clock):
    akismet.verdict = "true"
    comment_id = post(client).json["comment"]["id"]
    _decide(client, admin, comment_id, "approved")
    akismet.failure = "500"
    for _ in range(8):
        deliver_due_reports()
        clock.advance(hours=7)
    report = db.session.scalar(select(AkismetReport).where(AkismetReport.comment_id == comment_id))
    db.session.refresh(report)
    assert (report.status, report.attempts, report.last_error) == ("failed", 8, "submit-ham: HTTP 500")
    akismet.failure = None
    assert deliver_due_reports().sent == 0


def test_a_claimed_report_is_not_sent_by_a_second_sender_before_its_lease_ends(client, admin, site, clock):
    comment_id = post(client).json["comment"]["id"]
    _decide(client, admin, comment_id, "spam")
    assert [claimed[1] for claimed in reports._claim_due()] == [comment_id]
    assert reports._claim_due() == []
    clock.advance(minutes=6)
    assert [claimed[1] for claimed in reports._claim_due()] == [comment_id]


def test_a_stored_key_is_unreadable_under_another_secret_key_and_reads_as_absent(app, make_app, site):
    encrypted = db.session.scalar(select(Site.akismet_key_encrypted).where(Site.slug == "news"))
    with make_app(SECRET_KEY="another-secret").app_context():
        assert decrypt_secret(encrypted) is None


def test_the_http_client_is_pooled_per_process(app):
    assert akismet_client._client() is akismet_client._client()
