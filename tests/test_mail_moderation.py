"""Moderator alerts: a held comment is mailed with Approve/Spam/Trash links that ask first and work once."""

from __future__ import annotations

import pytest

from engagement.mail.sender import deliver_due_messages
from engagement.models import StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.smtp import (
    smtp_fixture,  # noqa: F401 (the "smtp" fixture)
    text_of,
)

pytestmark = pytest.mark.smtp

MOD = "desk@news.example"
THREAD = "2025/05/xi-putin-moscow"


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**smtp.settings)
    with app.app_context():
        make_site("news", moderation="all", notify_emails=[MOD, "night@news.example"])
        yield app


@pytest.fixture
def admin():
    return {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='ops')[1]}"}


def held_comment(client):
    response = post(client, author_name="Linus", author_email="linus@example.org", body="Hold me, please.")
    assert response.status_code == 202
    return response.json["comment"]["id"]


def alert_link(smtp, action):
    """Deliver the alerts and take one link from the moderator's mail."""
    deliver_due_messages()
    return action_link(smtp.one_to(MOD), action)


def action_link(message, action):
    """The path of the link on the mail's "Approve:", "Spam:" or "Trash:" line."""
    line = next(line for line in text_of(message).splitlines() if line.lower().startswith(action))
    return "/mail/moderate/" + line.rsplit("/mail/moderate/", 1)[1]


def approved_ids(client):
    page = client.get(f"/api/v1/sites/news/comments?thread={THREAD}").json
    return [c["id"] for c in page["comments"]], page["thread"]["comment_count"]


def test_a_held_comment_is_mailed_to_every_notify_address_with_the_commenter_as_reply_to(client, smtp):
    held_comment(client)
    deliver_due_messages()
    message = smtp.one_to(MOD)
    assert len(smtp.to("night@news.example")) == 1
    # Python folds this 83-character header right after "Subject:"; readers drop the leading blank.
    subject = message["Subject"].lstrip()
    assert subject == "[News] Comment awaiting moderation on Xi Jinping to Join Putin in Moscow"
    assert message["Reply-To"] == "linus@example.org"
    assert "> Hold me, please." in text_of(message)
    assert [line.split(":")[0] for line in text_of(message).splitlines() if "/mail/moderate/" in line] == [
        "Approve",
        "Spam",
        "Trash",
    ]


def test_a_moderator_approves_by_the_mailed_link_get_asks_post_acts_and_the_link_works_once(
    client, smtp, admin
):
    comment_id = held_comment(client)
    approve = alert_link(smtp, "approve")

    page = client.get(approve)  # a link scanner or a preview: nothing happens
    assert page.status_code == 200 and "Approve" in page.text and "Hold me, please." in page.text
    assert approved_ids(client) == ([], 0)

    done = client.post(approve)
    assert done.status_code == 200 and "Approved." in done.text
    assert approved_ids(client) == ([comment_id], 1)
    audit = client.get(f"/api/v1/moderation/audit?comment_id={comment_id}", headers=admin).json["items"]
    assert (audit[0]["actor"], audit[0]["to_status"]) == (f"email:{MOD}", "approved")

    again = client.post(approve)
    assert again.status_code == 409 and "already been used" in again.text
    assert client.get(approve).status_code == 409


def test_the_other_links_of_a_mail_are_spent_with_the_first_one(client, smtp):
    held_comment(client)
    deliver_due_messages()
    message = smtp.one_to(MOD)
    client.post(action_link(message, "spam"))
    assert client.post(action_link(message, "approve")).status_code == 409
    assert approved_ids(client) == ([], 0)


def test_a_decision_already_taken_by_a_colleague_is_not_overridden(client, smtp):
    held_comment(client)
    deliver_due_messages()
    night = action_link(smtp.one_to("night@news.example"), "trash")
    client.post(action_link(smtp.one_to(MOD), "approve"))
    response = client.post(night)
    assert response.status_code == 409 and "already moderated" in response.text
    assert len(approved_ids(client)[0]) == 1


def test_moderation_links_expire_after_seven_days(client, smtp, clock):
    held_comment(client)
    approve = alert_link(smtp, "approve")
    clock.advance(days=7, seconds=1)
    response = client.post(approve)
    assert response.status_code == 410 and "expired" in response.text
    assert approved_ids(client) == ([], 0)


def test_an_address_removed_from_notify_emails_can_no_longer_moderate(client, smtp, admin):
    held_comment(client)
    approve = alert_link(smtp, "approve")
    client.patch(
        "/api/v1/moderation/sites/news", json={"notify_emails": ["night@news.example"]}, headers=admin
    )
    assert client.post(approve).status_code == 403
    assert approved_ids(client) == ([], 0)


def test_an_approved_comment_alerts_nobody(client, smtp, admin):
    client.patch("/api/v1/moderation/sites/news", json={"moderation": "none"}, headers=admin)
    assert post(client).status_code == 201
    deliver_due_messages()
    assert smtp.inbox.messages == []
