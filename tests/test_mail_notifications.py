"""Reply notifications: confirmed opt-in first, one mail per approved reply, never your own reply."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, update

from engagement.extensions import db
from engagement.mailer.sender import deliver_due_messages
from engagement.models import OutboxMessage, StaffRole, Thread
from engagement.sites.service import create_site
from engagement.staff.service import create_token
from tests.factories import post
from tests.smtp import (
    html_of,
    link_path,
    link_paths,
    smtp_fixture,  # noqa: F401 (the "smtp" fixture)
    text_of,
)

pytestmark = pytest.mark.smtp

ADA = "ada@example.org"


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**smtp.settings, SMTP_FROM="Comments <comments@zeitung.example>")
    with app.app_context():
        yield app


def make_zeitung():
    """A site whose name is not ASCII, approving comments at once."""
    settings = {"moderation": "none", "flood_seconds": 0}
    return create_site(slug="zeitung", name="Zürcher Zeitung", origins=[], settings=settings)


@pytest.fixture
def site(app):
    return make_zeitung()


def ada_comment(client, **overrides):
    """Ada's comment, opting in to reply notifications."""
    fields = {"author_name": "Ada", "author_email": ADA, "notify_replies": True, **overrides}
    return post(client, site="zeitung", **fields).json["comment"]["id"]


def reply(client, parent_id, name="Grace", email="grace@example.org", **overrides):
    return post(
        client, site="zeitung", parent_id=parent_id, author_name=name, author_email=email, **overrides
    )


def confirm_by_mail(client, smtp, email=ADA):
    deliver_due_messages()
    message = smtp.one_to(email)
    assert message["Subject"] == "Confirm reply notifications from Zürcher Zeitung"
    assert client.post(link_path(message, "/mail/confirm/")).status_code == 200
    smtp.inbox.messages.clear()


def test_a_confirmed_reader_gets_one_mail_per_approved_reply_with_the_reply_and_a_link(client, smtp, site):
    parent = ada_comment(client)
    confirm_by_mail(client, smtp)

    first = reply(client, parent, body="Good point, **Ada**.").json["comment"]["id"]
    deliver_due_messages()
    message = smtp.one_to(ADA)
    assert message["Subject"] == "Grace replied to your comment on Xi Jinping to Join Putin in Moscow"
    assert "> Good point, Ada." in text_of(message)
    assert f"https://news.example/2025/05/xi-putin-moscow#comment-{first}" in text_of(message)
    assert "Good point, Ada." in html_of(message)
    deliver_due_messages()
    assert len(smtp.to(ADA)) == 1  # delivered once, not again on the next run


def test_notification_headers_name_the_site_hide_the_replier_and_allow_one_click_unsubscribe(
    client, smtp, site
):
    parent = ada_comment(client)
    confirm_by_mail(client, smtp)
    reply(client, parent)
    deliver_due_messages()
    message = smtp.one_to(ADA)
    raw = smtp.inbox.raw[-1]

    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Zürcher Zeitung", "comments@zeitung.example")
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0].lower()  # the name is RFC 2047 encoded on the wire
    assert message["Reply-To"] is None and b"grace@example.org" not in raw
    assert message["Message-ID"].endswith("@zeitung.example>")
    assert message["Date"].datetime.year == 2026
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"].startswith("<http://localhost/mail/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


def test_no_message_goes_to_an_address_that_has_not_confirmed(client, smtp, site):
    parent = ada_comment(client)
    reply(client, parent)
    reply(client, parent, name="Linus", email="linus@example.org")
    deliver_due_messages()
    (only,) = smtp.to(ADA)
    assert "Confirm" in only["Subject"]
    assert db.session.scalar(select(func.count()).where(OutboxMessage.template == "reply_notification")) == 0


def test_replying_to_yourself_never_notifies_you(client, smtp, site):
    parent = ada_comment(client)
    confirm_by_mail(client, smtp)
    reply(client, parent, name="Ada again", email="ADA@example.org")
    deliver_due_messages()
    assert smtp.to(ADA) == []


def test_a_reply_held_for_moderation_notifies_once_when_approved_however_often(client, smtp, site):
    admin = {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='ops')[1]}"}
    parent = ada_comment(client)
    confirm_by_mail(client, smtp)
    client.patch("/api/v1/moderation/sites/zeitung", json={"moderation": "all"}, headers=admin)
    held = reply(client, parent)
    assert held.status_code == 202
    deliver_due_messages()
    assert smtp.to(ADA) == []

    comment_id = held.json["comment"]["id"]
    for status in ("approved", "trash", "approved"):
        response = client.patch(
            f"/api/v1/moderation/comments/{comment_id}", json={"status": status}, headers=admin
        )
        assert response.status_code == 200
    deliver_due_messages()
    assert len(smtp.to(ADA)) == 1


def test_unsubscribing_from_a_thread_keeps_the_others(client, smtp, site):
    in_moscow = ada_comment(client)
    in_brics = ada_comment(client, thread="2025/05/brics", thread_url="https://news.example/2025/05/brics")
    confirm_by_mail(client, smtp)
    reply(client, in_moscow)
    deliver_due_messages()
    stop_thread, _stop_site = link_paths(smtp.one_to(ADA), "/mail/unsubscribe/")
    page = client.get(stop_thread)
    assert "Xi Jinping to Join Putin in Moscow" in page.text
    client.post(stop_thread)
    smtp.inbox.messages.clear()

    reply(client, in_moscow, name="Linus", email="linus@example.org")
    reply(client, in_brics, thread="2025/05/brics", thread_url="https://news.example/2025/05/brics")
    deliver_due_messages()
    (only,) = smtp.to(ADA)
    assert "brics" in text_of(only)


def test_one_click_unsubscribe_stops_every_notification_of_the_site_until_confirmed_again(
    client, smtp, site, clock
):
    parent = ada_comment(client)
    confirm_by_mail(client, smtp)
    reply(client, parent)
    deliver_due_messages()
    header = smtp.one_to(ADA)["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    assert client.post(header).status_code == 200  # a bare POST, as mail clients send it
    smtp.inbox.messages.clear()

    reply(client, parent, name="Linus", email="linus@example.org")
    deliver_due_messages()
    assert smtp.to(ADA) == []
    # Someone else ticking the box with Ada's address cannot switch her back on: it needs her confirmation.
    clock.advance(hours=2)  # past the hour in which no second confirmation goes out
    ada_comment(client, author_name="Not Ada", body="I am totally Ada.")
    deliver_due_messages()
    assert "Confirm" in smtp.one_to(ADA)["Subject"]


def test_an_opt_in_on_a_spam_comment_mails_nobody(client, smtp, site):
    ada_comment(client, hp="I am a bot")
    deliver_due_messages()
    assert smtp.inbox.messages == []


def test_without_an_smtp_host_mail_is_logged_and_marked_sent(make_app):
    app = make_app()  # no SMTP_HOST: the development default
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append
    logger = logging.getLogger("engagement.mailer.sender")
    with app.app_context():
        make_zeitung()
        ada_comment(app.test_client())
        logger.addHandler(handler)
        try:
            report = deliver_due_messages()
        finally:
            logger.removeHandler(handler)
        assert report.sent == 1
        (record,) = [r for r in logged if r.getMessage() == "mail"]
        assert record.fields["to"] == ADA and "/mail/confirm/" in record.fields["text"]
        assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_a_title_with_line_breaks_cannot_add_headers_and_a_long_one_is_cut(client, smtp, site):
    title = "Line one\r\nBcc: everyone@example.org\r\n" + "x" * 260
    # The API refuses such a title (422); an import or a row from before that rule can still hold one.
    refused = post(client, site="zeitung", author_email=ADA, thread_title=title)
    assert refused.status_code == 422 and "thread_title" in refused.json["error"]["fields"]
    parent = ada_comment(client)
    db.session.execute(update(Thread).values(title=title))
    db.session.commit()
    confirm_by_mail(client, smtp)
    reply(client, parent)
    deliver_due_messages()
    message = smtp.one_to(ADA)
    assert message["Bcc"] is None
    # Folding a long header may add blanks on the way (RFC 5322 folding white space); the words arrive.
    assert " ".join(message["Subject"].split()).startswith("Grace replied to your comment on Line one Bcc:")
    stored = db.session.scalar(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == ADA).order_by(OutboxMessage.id.desc())
    )
    assert len(stored) == 300 and stored.endswith("…") and "\n" not in stored


def test_a_site_name_or_title_stored_before_the_rules_still_goes_out_on_one_line(client, smtp, site):
    # The API now refuses both (one line, no bidi overrides); a row from before, or an import, may hold
    # them: a line break in the site's name made every mail of the site fail to build, and was lost.
    parent = ada_comment(client)
    confirm_by_mail(client, smtp)
    site.name = "Zürcher\nZeitung\x07"
    db.session.execute(update(Thread).values(title="Harbour\u2028news \u202eevil"))
    db.session.commit()

    reply(client, parent)
    report = deliver_due_messages()

    assert report.sent == 1 and report.failed == 0
    message = smtp.one_to(ADA)
    assert message["From"].addresses[0].display_name == "Zürcher Zeitung"
    subject = " ".join(message["Subject"].split())
    assert subject == "Grace replied to your comment on Harbour news evil"
