"""Subscribers: double opt-in by the mailed link, the native count, one-click unsubscribe, no enumeration."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import event, select

from engagement.extensions import db
from engagement.mailer.sender import deliver_due_messages
from engagement.models import OutboxMessage, OutboxStatus, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site
from tests.smtp import (
    link_path,
    smtp_fixture,  # noqa: F401 (the "smtp" fixture)
    text_of,
)

pytestmark = pytest.mark.smtp


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**smtp.settings)
    with app.app_context():
        make_site("news")
        yield app


def subscribe(client, email, target="site", ip="203.0.113.7"):
    return client.post(
        "/api/v1/sites/news/subscribers",
        json={"email": email, "target": target},
        environ_base={"REMOTE_ADDR": ip},
    )


def native_subscribers(client, target="site"):
    counters = client.get(f"/api/v1/sites/news/engagement?target={target}").json["counters"]
    return counters["subscribers"]["native"]


def test_double_opt_in_by_following_the_links_in_the_mail(client, smtp):
    assert subscribe(client, "Ada@Example.org").status_code == 202
    assert native_subscribers(client) == 0  # requested is not subscribed

    deliver_due_messages()
    message = smtp.one_to("ada@example.org")
    assert message["Subject"] == "Confirm your subscription to News"
    confirm = link_path(message, "/mail/confirm/")

    page = client.get(confirm)  # what a mail scanner does: nothing changes
    assert page.status_code == 200 and '<form method="post">' in page.text
    assert native_subscribers(client) == 0

    done = client.post(confirm)
    assert done.status_code == 200 and "You are subscribed to News" in done.text
    assert native_subscribers(client) == 1
    assert client.post(confirm).status_code == 200  # following it twice counts once
    assert native_subscribers(client) == 1


def test_one_click_unsubscribe_is_a_bare_post_to_the_list_unsubscribe_url(client, smtp):
    subscribe(client, "ada@example.org", target="author:jane-doe")
    deliver_due_messages()
    message = smtp.one_to("ada@example.org")
    client.post(link_path(message, "/mail/confirm/"))
    assert native_subscribers(client, "author:jane-doe") == 1

    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://localhost")
    assert client.get(path).status_code == 200 and native_subscribers(client, "author:jane-doe") == 1
    response = client.post(path)  # no form fields, no cookies: what a mail client sends (RFC 8058)
    assert response.status_code == 200
    assert native_subscribers(client, "author:jane-doe") == 0
    assert client.post(path).status_code == 200  # again: still fine, still 0
    assert native_subscribers(client, "author:jane-doe") == 0


def test_an_address_that_never_confirms_gets_one_mail_and_is_never_counted(client, smtp, clock):
    for _ in range(3):
        subscribe(client, "ada@example.org")
    deliver_due_messages()
    clock.advance(minutes=61)
    subscribe(client, "ada@example.org")  # an hour later a new confirmation may go
    deliver_due_messages()

    assert len(smtp.to("ada@example.org")) == 2
    assert native_subscribers(client) == 0
    statuses = db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()
    assert statuses == ["sent", "suppressed", "suppressed", "sent"]


def test_the_answer_and_the_database_work_are_the_same_for_new_pending_and_confirmed_addresses(
    app, client, smtp
):
    subscribe(client, "confirmed@example.org")
    deliver_due_messages()
    client.post(link_path(smtp.one_to("confirmed@example.org"), "/mail/confirm/"))
    subscribe(client, "pending@example.org")
    subscribe(client, "warm-up@example.org")  # first request on a connection may differ; not the point

    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    answers = {}
    work = {}
    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        for email in ("new@example.org", "pending@example.org", "confirmed@example.org"):
            statements.clear()
            response = subscribe(client, email)
            answers[email] = (response.status_code, response.get_data(), tuple(_stable_headers(response)))
            work[email] = list(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)

    assert len(set(answers.values())) == 1
    assert answers["new@example.org"][0] == 202
    assert work["new@example.org"] == work["pending@example.org"] == work["confirmed@example.org"]
    deliver_due_messages()
    assert len(smtp.to("new@example.org")) == 1
    assert len(smtp.to("pending@example.org")) == 1  # the first request's mail only
    assert len(smtp.to("confirmed@example.org")) == 1  # the confirmation it already followed


def _stable_headers(response):
    return sorted((k, v) for k, v in response.headers.items() if k not in {"X-Request-ID", "Date"})


def test_requests_for_one_address_from_many_ips_mail_it_within_the_address_limit(make_app, smtp, clock):
    app = make_app(**smtp.settings, RATELIMIT_ENABLED=True, RATELIMIT_MAIL_ADDRESS="2 per day")
    with app.app_context():
        make_site("news")
        client = app.test_client()
        for n in range(6):
            clock.advance(hours=2)  # past the per-subscription cooldown every time
            ip = f"198.51.100.{n}"
            assert subscribe(client, "victim@example.org", target=f"section:s{n}", ip=ip).status_code == 202
        deliver_due_messages()
    assert len(smtp.to("victim@example.org")) == 2


def test_subscription_requests_are_rate_limited_per_ip(make_app, smtp):
    app = make_app(**smtp.settings, RATELIMIT_ENABLED=True, RATELIMIT_SUBSCRIBE="2 per minute")
    with app.app_context():
        make_site("news")
        client = app.test_client()
        codes = [subscribe(client, f"reader{n}@example.org").status_code for n in range(3)]
    assert codes == [202, 202, 429]


def test_a_confirmation_link_expires_after_seven_days(client, smtp, clock):
    subscribe(client, "ada@example.org")
    deliver_due_messages()
    confirm = link_path(smtp.one_to("ada@example.org"), "/mail/confirm/")
    clock.advance(days=7, seconds=1)
    response = client.post(confirm)
    assert response.status_code == 410 and "expired" in response.text
    assert native_subscribers(client) == 0


def test_a_tampered_link_is_refused_with_a_page_not_json(client, smtp):
    subscribe(client, "ada@example.org")
    deliver_due_messages()
    confirm = link_path(smtp.one_to("ada@example.org"), "/mail/confirm/")
    response = client.post(confirm[:-3] + "xyz")
    assert response.status_code == 400
    assert response.mimetype == "text/html" and "not valid" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_confirmation_mail_says_what_it_is_and_carries_the_standard_headers(client, smtp):
    subscribe(client, "ada@example.org")
    deliver_due_messages()
    message = smtp.one_to("ada@example.org")
    assert message["From"].addresses[0].display_name == "News"
    assert message["Message-ID"].startswith("<") and message["Date"]
    assert "News" in text_of(message) and "ignore this email" in text_of(message)
    assert message["List-Unsubscribe"].startswith("<http://localhost/mail/unsubscribe/")


def test_links_do_not_carry_the_address_in_readable_form(client, smtp):
    subscribe(client, "ada@example.org")
    deliver_due_messages()
    message = smtp.one_to("ada@example.org")
    for path in (link_path(message, "/mail/confirm/"), message["List-Unsubscribe"].strip("<>")):
        payload = path.rsplit("/", 1)[1].split(".")[0]
        assert b"ada" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_staff_list_and_export_confirmed_subscribers(client, smtp):
    for email in ("ada@example.org", "=1+2@example.org", "pending@example.org"):
        subscribe(client, email)
    deliver_due_messages()
    for email in ("ada@example.org", "=1+2@example.org"):
        client.post(link_path(smtp.one_to(email), "/mail/confirm/"))
    _token, secret = create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="mod")
    headers = {"Authorization": f"Bearer {secret}"}

    listed = client.get("/api/v1/moderation/sites/news/subscribers?limit=1", headers=headers).json
    assert [s["email"] for s in listed["items"]] == ["=1+2@example.org"]
    following = client.get(
        f"/api/v1/moderation/sites/news/subscribers?limit=1&cursor={listed['next_cursor']}", headers=headers
    ).json
    assert [s["email"] for s in following["items"]] == ["ada@example.org"]
    pending = client.get("/api/v1/moderation/sites/news/subscribers?status=pending", headers=headers).json
    assert [(s["email"], s["confirmed"]) for s in pending["items"]] == [("pending@example.org", False)]

    export = client.get("/api/v1/moderation/sites/news/subscribers.csv", headers=headers)
    assert export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0] == "email,target,confirmed_at,created_at"
    assert [line.split(",")[0] for line in lines[1:]] == ["ada@example.org", "'=1+2@example.org"]


def test_suppressed_requests_stay_visible_to_staff_with_the_reason(client, smtp):
    subscribe(client, "ada@example.org")
    subscribe(client, "ada@example.org")
    _token, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="admin")
    listed = client.get(
        "/api/v1/moderation/outbox?status=suppressed", headers={"Authorization": f"Bearer {secret}"}
    ).json
    assert [(m["to"], m["last_error"], m["site"]) for m in listed["items"]] == [
        ("ada@example.org", "a confirmation was sent less than an hour ago", "news")
    ]
    assert db.session.scalar(select(OutboxMessage.status).order_by(OutboxMessage.id)) == OutboxStatus.QUEUED


def test_links_use_the_public_url_when_one_is_set(make_app, smtp):
    app = make_app(**smtp.settings, PUBLIC_URL="https://comments.example/")
    with app.app_context():
        make_site("news")
        subscribe(app.test_client(), "ada@example.org")
        deliver_due_messages()
    message = smtp.one_to("ada@example.org")
    assert "https://comments.example/mail/confirm/" in text_of(message)
    assert message["List-Unsubscribe"].startswith("<https://comments.example/mail/unsubscribe/")


def test_subscribers_csv_is_the_same_whatever_the_chunk_and_fetch_sizes(client, smtp, monkeypatch):
    emails = [f"reader{n}@example.org" for n in range(5)]
    for email in emails:
        subscribe(client, email)
    deliver_due_messages()
    for email in emails:
        client.post(link_path(smtp.one_to(email), "/mail/confirm/"))
    _token, secret = create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="mod")
    url, headers = "/api/v1/moderation/sites/news/subscribers.csv", {"Authorization": f"Bearer {secret}"}
    whole = client.get(url, headers=headers).get_data(as_text=True)

    from engagement.mail import routes, staff

    monkeypatch.setattr(routes, "CSV_CHUNK_ROWS", 2)
    monkeypatch.setattr(staff, "EXPORT_ROWS", 2)
    chunked = client.get(url, headers=headers).get_data(as_text=True)
    assert chunked == whole
    assert sorted(line.split(",")[0] for line in whole.splitlines()[1:]) == sorted(emails)
