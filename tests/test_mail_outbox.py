"""The outbox: nothing lost while the SMTP server is down, each message delivered once, failures parked
for staff, several senders never sharing a message."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from engagement.extensions import db
from engagement.mailer.outbox import claim_due_messages, enqueue_email, retry_delay
from engagement.mailer.sender import deliver_due_messages, watch
from engagement.models import OutboxMessage, OutboxStatus, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site
from tests.smtp import smtp_fixture  # noqa: F401 (the "smtp" fixture)

pytestmark = pytest.mark.smtp


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**smtp.settings, SMTP_MAX_ATTEMPTS=3)
    with app.app_context():
        make_site("news")
        make_site("sport")
        yield app


def subscribe(client, email, site="news"):
    response = client.post(f"/api/v1/sites/{site}/subscribers", json={"email": email})
    assert response.status_code == 202


def outbox():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def bearer(role, sites=()):
    return {"Authorization": f"Bearer {create_token(role=role, site_slugs=list(sites), label='t')[1]}"}


def test_smtp_down_while_requests_arrive_loses_nothing_and_delivers_each_message_once_when_back(
    client, smtp, clock
):
    smtp.stop()
    addresses = [f"reader{n}@example.org" for n in range(12)]  # more than one batch
    for address in addresses:
        subscribe(client, address)

    report = deliver_due_messages()
    assert (report.sent, report.retrying) == (0, 10)  # a dead server is tried once a run, not once a batch
    assert "Connection refused" in report.unreachable
    assert deliver_due_messages().retrying == 2  # the rest of the backlog, on the next run
    assert {(m.status, m.attempts) for m in outbox()} == {("queued", 1)}
    assert all("Connection refused" in m.last_error for m in outbox())
    assert deliver_due_messages().attempted == 0  # backing off, not hammering a dead server

    clock.advance(minutes=6)
    smtp.start()
    assert deliver_due_messages().sent == 12
    assert deliver_due_messages().attempted == 0
    clock.advance(hours=12)
    assert deliver_due_messages().attempted == 0

    received = [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages]
    assert sorted(received) == sorted(addresses)
    assert sorted(m["Message-ID"] for m in smtp.inbox.messages) == sorted(m.message_id for m in outbox())
    assert {m.status for m in outbox()} == {"sent"}


def test_a_server_that_hangs_up_mid_batch_gets_the_rest_later_and_nothing_twice(client, smtp, clock):
    for address in ("a@example.org", "b@example.org", "c@example.org"):
        subscribe(client, address)
    smtp.inbox.refuse["b@example.org"] = "421 4.3.2 Shutting down"

    report = deliver_due_messages()
    assert (report.sent, report.retrying) == (1, 2)  # a went out; b and c wait for the next attempt

    del smtp.inbox.refuse["b@example.org"]
    clock.advance(minutes=6)
    assert deliver_due_messages().sent == 2
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.inbox.messages) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]


def test_a_permanent_refusal_fails_the_message_at_once_and_the_batch_goes_on(client, smtp):
    subscribe(client, "gone@example.org")
    subscribe(client, "ada@example.org")
    smtp.inbox.refuse["gone@example.org"] = "550 5.1.1 No such user"

    report = deliver_due_messages()
    assert (report.sent, report.failed) == (1, 1)
    gone, ada = outbox()
    assert (gone.status, gone.attempts) == ("failed", 1) and "No such user" in gone.last_error
    assert ada.status == "sent"


def test_out_of_attempts_a_message_is_parked_as_failed_for_staff_to_see_and_retry(client, smtp, clock):
    subscribe(client, "ada@example.org")
    smtp.stop()
    for _ in range(3):  # SMTP_MAX_ATTEMPTS
        deliver_due_messages()
        clock.advance(hours=7)
    (message,) = outbox()
    assert (message.status, message.attempts) == ("failed", 3)

    moderator = bearer(StaffRole.MODERATOR, ["news"])
    listed = client.get("/api/v1/moderation/outbox?status=failed", headers=moderator).json["items"]
    assert [(m["id"], m["to"], m["attempts"]) for m in listed] == [(message.id, "ada@example.org", 3)]
    assert "Connection refused" in listed[0]["last_error"]
    other = bearer(StaffRole.MODERATOR, ["sport"])
    assert client.get("/api/v1/moderation/outbox?status=failed", headers=other).json["items"] == []
    assert client.post(f"/api/v1/moderation/outbox/{message.id}/retry", headers=other).status_code == 403

    retried = client.post(f"/api/v1/moderation/outbox/{message.id}/retry", headers=moderator)
    assert retried.status_code == 200
    assert (retried.json["status"], retried.json["attempts"]) == ("queued", 0)
    smtp.start()
    assert deliver_due_messages().sent == 1
    assert len(smtp.to("ada@example.org")) == 1
    again = client.post(f"/api/v1/moderation/outbox/{message.id}/retry", headers=moderator)
    assert again.status_code == 409 and again.json["error"]["code"] == "not_retryable"


def test_backoff_doubles_from_five_minutes_up_to_six_hours():
    delays = [retry_delay(n) for n in range(1, 9)]
    assert delays[:3] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert delays[-1] == timedelta(hours=6)
    assert sum(delays[:7], timedelta()) > timedelta(hours=10)  # 8 attempts outlast a night's outage


def test_a_claimed_message_waits_for_its_lease_before_another_sender_may_take_it(client, clock):
    subscribe(client, "ada@example.org")
    assert len(claim_due_messages(limit=10)) == 1
    assert claim_due_messages(limit=10) == []  # in a sender's hands
    clock.advance(minutes=16)  # that sender died without a word
    assert [m.to_address for m in claim_due_messages(limit=10)] == ["ada@example.org"]


def test_a_sender_skips_the_messages_another_sender_is_claiming_instead_of_waiting(app, client):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: its senders take turns, nothing to skip")
    for n in range(10):
        subscribe(client, f"reader{n}@example.org")
    with db.engine.connect() as other_sender:  # mid-claim: holds the row locks of the first five
        locked = (
            other_sender.execute(text("SELECT id FROM outbox ORDER BY id LIMIT 5 FOR UPDATE")).scalars().all()
        )
        db.session.execute(text("SET lock_timeout = '2s'"))  # waiting instead of skipping would fail
        claimed = [m.id for m in claim_due_messages(limit=10)]
        other_sender.rollback()
    assert len(claimed) == 5 and set(claimed).isdisjoint(locked)


def test_enqueue_email_leaves_the_commit_to_the_caller(app):
    message = enqueue_email(
        to="ann@example.org",
        subject="Your data",
        template="confirm_subscription",
        context={"site_name": "News", "target": "site", "confirm_url": "https://x.example/c"},
        site=None,
    )
    assert message.status == OutboxStatus.QUEUED
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_message_of_no_site_is_shown_to_admins_only(app, client):
    enqueue_email(
        to="ann@example.org",
        subject="Your data",
        template="confirm_subscription",
        context={"site_name": "News", "target": "site", "confirm_url": "https://x.example/c"},
    )
    db.session.commit()
    admin_view = client.get("/api/v1/moderation/outbox", headers=bearer(StaffRole.ADMIN)).json["items"]
    assert [(m["to"], m["site"]) for m in admin_view] == [("ann@example.org", None)]
    moderator = bearer(StaffRole.MODERATOR, ["news"])
    assert client.get("/api/v1/moderation/outbox", headers=moderator).json["items"] == []


def test_send_mail_command_delivers_and_says_what_it_did(app, client, smtp):
    subscribe(client, "ada@example.org")
    result = app.test_cli_runner().invoke(args=["engagement", "send-mail"])
    assert result.exit_code == 0
    assert result.output.strip() == "sent 1, retrying later 0, failed 0"
    assert len(smtp.to("ada@example.org")) == 1


def test_send_mail_command_says_when_the_server_is_unreachable(app, client, smtp):
    subscribe(client, "ada@example.org")
    smtp.stop()
    result = app.test_cli_runner().invoke(args=["engagement", "send-mail"])
    assert result.exit_code == 0  # the message waits for the next run; nothing for cron to alarm about
    assert "sent 0, retrying later 1, failed 0" in result.output
    assert "SMTP server unreachable: ConnectionRefusedError" in result.output


class _OneRound(threading.Event):
    """A stop signal that arrives as soon as the watcher first waits for new mail."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_watch_delivers_what_is_due_and_stops_when_told(client, smtp):
    subscribe(client, "ada@example.org")
    watch(stop=_OneRound(), idle_seconds=5)
    assert len(smtp.to("ada@example.org")) == 1
