"""Moderator alerts: a held comment is mailed with Approve/Spam/Trash links that ask first and work once;
an address gets at most one mail about a site every 5 minutes, the comments held meanwhile in one digest."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engagement.extensions import db
from engagement.mailer.sender import deliver_due_messages
from engagement.models import OutboxMessage, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.smtp import (
    html_of,
    smtp_fixture,  # noqa: F401 (the "smtp" fixture)
    text_of,
)

pytestmark = pytest.mark.smtp

MOD = "desk@news.example"
NIGHT = "night@news.example"
THREAD = "2025/05/xi-putin-moscow"


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**smtp.settings)
    with app.app_context():
        make_site("news", moderation="all", notify_emails=[MOD, NIGHT])
        yield app


@pytest.fixture
def admin():
    return {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='ops')[1]}"}


def held_comment(client, body="Hold me, please.", **where):
    response = post(client, author_name="Linus", author_email="linus@example.org", body=body, **where)
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
    assert len(smtp.to(NIGHT)) == 1
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
    night = action_link(smtp.one_to(NIGHT), "trash")
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
    client.patch("/api/v1/moderation/sites/news", json={"notify_emails": [NIGHT]}, headers=admin)
    assert client.post(approve).status_code == 403
    assert approved_ids(client) == ([], 0)


def test_an_approved_comment_alerts_nobody(client, smtp, admin):
    client.patch("/api/v1/moderation/sites/news", json={"moderation": "none"}, headers=admin)
    assert post(client).status_code == 201
    deliver_due_messages()
    assert smtp.inbox.messages == []


# --- at most one mail per address per site every 5 minutes ------------------------------------------------


class Deliveries:
    """A sender that runs whenever the test says, noting the (frozen) time each message arrived."""

    def __init__(self, smtp, clock):
        self.smtp, self.clock, self.times = smtp, clock, []

    def run(self):
        deliver_due_messages()
        self.times += [self.clock.current] * (len(self.smtp.inbox.messages) - len(self.times))

    def to(self, address):
        """(arrival time, message) of every message to ``address``."""
        mine = self.smtp.to(address)
        return [(at, m) for at, m in zip(self.times, self.smtp.inbox.messages, strict=True) if m in mine]


def quoted(message):
    """The comment texts a mail shows, in order (its "> " lines)."""
    return [line[2:] for line in text_of(message).splitlines() if line.startswith("> ")]


def links_by_comment(message):
    """{comment text: {"approve": path, "spam": path, "trash": path}} for each comment of a mail."""
    found, current = {}, None
    for line in text_of(message).splitlines():
        if line.startswith("> "):
            current = line[2:]
        elif "/mail/moderate/" in line:
            action = line.split(":")[0].lower()
            found.setdefault(current, {})[action] = "/mail/moderate/" + line.rsplit("/mail/moderate/", 1)[1]
    return found


def subject(message):
    return message["Subject"].lstrip()  # Python folds long subjects right after "Subject:"


def test_300_comments_held_in_an_hour_mail_each_address_12_times_and_every_comment_once(client, smtp, clock):
    mail = Deliveries(smtp, clock)
    bodies = [f"Flood comment {n}." for n in range(300)]
    for body in bodies:  # one IP, one every 12 seconds, a sender running all along
        held_comment(client, body)
        mail.run()
        clock.advance(seconds=12)

    for address in (MOD, NIGHT):
        # The alert at once, then a digest at the end of each 5-minute window, never more.
        assert len(mail.to(address)) == 12
    clock.advance(minutes=5)
    mail.run()  # the digest of the hour's last window
    for address in (MOD, NIGHT):
        received = mail.to(address)
        times = [at for at, _ in received]
        assert all(later - earlier >= timedelta(minutes=5) for earlier, later in itertools.pairwise(times))
        assert subject(received[0][1]).startswith("[News] Comment awaiting moderation on")
        assert [subject(m) for _, m in received[1:]] == ["[News] 24 comments awaiting moderation"] + [
            "[News] 25 comments awaiting moderation"
        ] * 11
        assert sorted(text for _, m in received for text in quoted(m)) == sorted(bodies)


def test_the_window_ends_exactly_five_minutes_after_the_mail_that_opened_it(client, smtp, clock):
    mail = Deliveries(smtp, clock)
    start = clock.current
    held_comment(client, "First.")
    mail.run()
    clock.advance(minutes=4, seconds=59)
    held_comment(client, "Second.")
    mail.run()
    assert len(mail.to(MOD)) == 1  # the digest waits for the end of the window

    clock.advance(seconds=1)
    mail.run()
    held_comment(client, "Third.")  # the digest that just went opened a new window
    mail.run()
    assert [(at - start, quoted(m)) for at, m in mail.to(MOD)] == [
        (timedelta(0), ["First."]),
        (timedelta(minutes=5), ["Second."]),
    ]

    clock.advance(minutes=5)
    mail.run()
    clock.advance(minutes=5)  # 12:15, five minutes after the last digest: its window is over, so at once
    held_comment(client, "Fourth.")
    mail.run()
    received = mail.to(MOD)
    assert [(at - start, quoted(m)) for at, m in received[2:]] == [
        (timedelta(minutes=10), ["Third."]),
        (timedelta(minutes=15), ["Fourth."]),
    ]
    assert subject(received[3][1]).startswith("[News] Comment awaiting moderation on")


def test_each_comment_of_a_digest_has_its_own_links_and_each_works_once(client, smtp, clock):
    held_comment(client, "First.")
    second, third = held_comment(client, "Second."), held_comment(client, "Third.")
    deliver_due_messages()
    assert len(smtp.to(MOD)) == 1
    clock.advance(minutes=5)
    deliver_due_messages()

    _, digest = smtp.to(MOD)
    assert subject(digest) == "[News] 2 comments awaiting moderation"
    assert digest["Reply-To"] is None  # several commenters: no one to answer
    assert html_of(digest).count(">Approve</a>") == 2
    links = links_by_comment(digest)
    assert list(links) == ["Second.", "Third."]
    assert client.post(links["Second."]["approve"]).status_code == 200
    assert client.post(links["Second."]["approve"]).status_code == 409
    assert client.post(links["Second."]["trash"]).status_code == 409  # spent with the first
    assert client.post(links["Third."]["approve"]).status_code == 200  # another comment's links are its own
    assert sorted(approved_ids(client)[0]) == [second, third]


def test_a_comment_moderated_before_its_digest_goes_is_listed_and_its_link_says_so(
    client, smtp, clock, admin
):
    held_comment(client, "First.")
    second = held_comment(client, "Second.")
    client.patch(f"/api/v1/moderation/comments/{second}", json={"status": "spam"}, headers=admin)
    held_comment(client, "Third.")
    clock.advance(minutes=5)
    deliver_due_messages()

    links = links_by_comment(smtp.to(MOD)[1])
    assert list(links) == ["Second.", "Third."]
    page = client.get(links["Second."]["approve"])
    assert page.status_code == 409 and "This comment was already moderated. (spam, " in page.text


def test_a_digest_lists_the_first_25_comments_and_counts_the_rest(client, smtp, clock):
    held_comment(client, "Opening.")
    bodies = [f"Held {n}." for n in range(30)]
    for body in bodies:
        held_comment(client, body)
    held_comment(client, "Long. " * 200)
    clock.advance(minutes=5)
    deliver_due_messages()

    _, digest = smtp.to(MOD)
    assert subject(digest) == "[News] 31 comments awaiting moderation"
    assert quoted(digest) == bodies[:25]
    assert "6 more comments held after these are waiting in the moderation queue" in text_of(digest)
    assert len(links_by_comment(digest)) == 25


def test_a_long_comment_is_cut_in_a_digest(client, smtp, clock):
    held_comment(client, "First.")
    held_comment(client, "Long. " * 200)
    clock.advance(minutes=5)
    deliver_due_messages()

    [excerpt] = quoted(smtp.to(MOD)[1])
    assert excerpt.startswith("Long. Long.") and excerpt.endswith("…") and len(excerpt) <= 500


def test_each_site_and_each_address_has_its_own_window(client, smtp, clock, admin):
    make_site("sport", moderation="all", notify_emails=[MOD])
    held_comment(client, "News first.")
    held_comment(client, "Sport first.", site="sport")  # the desk's window on news does not hold it back
    client.patch(
        "/api/v1/moderation/sites/news",
        json={"notify_emails": [MOD, NIGHT, "late@news.example"]},
        headers=admin,
    )
    held_comment(client, "News second.")  # the newcomer has had nothing yet: at once
    deliver_due_messages()
    assert [quoted(m) for m in smtp.to(MOD)] == [["News first."], ["Sport first."]]
    assert [quoted(m) for m in smtp.to(NIGHT)] == [["News first."]]
    assert [quoted(m) for m in smtp.to("late@news.example")] == [["News second."]]

    clock.advance(minutes=5)
    deliver_due_messages()
    assert [quoted(m) for m in smtp.to(MOD)[2:]] == [["News second."]]
    assert [quoted(m) for m in smtp.to(NIGHT)[1:]] == [["News second."]]
    assert len(smtp.to("late@news.example")) == 1


def test_an_address_removed_while_its_digest_collects_still_gets_it_but_cannot_moderate(
    client, smtp, clock, admin
):
    held_comment(client, "First.")
    second = held_comment(client, "Second.")
    client.patch("/api/v1/moderation/sites/news", json={"notify_emails": [MOD]}, headers=admin)
    held_comment(client, "Third.")
    clock.advance(minutes=5)
    deliver_due_messages()

    _, night_digest = smtp.to(NIGHT)
    assert subject(night_digest) == "[News] 1 comment awaiting moderation"
    assert quoted(night_digest) == ["Second."]  # held while the address moderated the site
    assert quoted(smtp.to(MOD)[1]) == ["Second.", "Third."]
    assert client.post(links_by_comment(night_digest)["Second."]["approve"]).status_code == 403
    assert client.get(f"/api/v1/moderation/comments/{second}", headers=admin).json["status"] == "pending"


def test_a_digest_staff_send_early_opens_a_new_window_and_loses_no_comment(client, smtp, clock, admin):
    held_comment(client, "First.")
    held_comment(client, "Second.")
    digest_id = db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.template == "moderation_digest", OutboxMessage.to_address == MOD
        )
    )
    assert client.post(f"/api/v1/moderation/outbox/{digest_id}/retry", headers=admin).status_code == 200
    deliver_due_messages()
    clock.advance(minutes=1)
    held_comment(client, "Third.")  # the early digest has gone: no rewriting what was sent
    deliver_due_messages()
    assert [quoted(m) for m in smtp.to(MOD)] == [["First."], ["Second."]]

    clock.advance(minutes=4)
    deliver_due_messages()
    assert len(smtp.to(MOD)) == 2  # five minutes after the early digest, not after the alert
    clock.advance(minutes=1)
    deliver_due_messages()
    assert [quoted(m) for m in smtp.to(MOD)[2:]] == [["Third."]]


@pytest.mark.load
def test_comments_held_at_once_from_many_connections_give_one_alert_and_one_digest(app, client, smtp, clock):
    bodies = [f"Concurrent {n}." for n in range(24)]

    def hold(body):
        return post(app.test_client(), body=body, thread=f"race/{body}").status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(hold, bodies)) == [202] * 24
    deliver_due_messages()
    clock.advance(minutes=5)
    deliver_due_messages()
    for address in (MOD, NIGHT):
        alert, digest = smtp.to(address)
        assert subject(digest) == "[News] 23 comments awaiting moderation"
        assert sorted(quoted(alert) + quoted(digest)) == sorted(bodies)


@pytest.mark.postgres
@pytest.mark.parametrize("window", ["none yet", "running"])
def test_two_comments_held_at_once_on_postgresql_share_one_window(app, client, smtp, clock, window):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: two transactions cannot overlap")
    if window == "running":
        held_comment(client, "Opening.")
    statuses = hold_two_at_once(app, "One of two.", "Two of two.")
    assert statuses == [202, 202]
    deliver_due_messages()
    for address in (MOD, NIGHT):
        assert len(smtp.to(address)) == 1  # one window, opened by the one comment mailed at once
    clock.advance(minutes=5)
    deliver_due_messages()

    expected = (
        ["Opening.", "One of two.", "Two of two."] if window == "running" else ["One of two.", "Two of two."]
    )
    for address in (MOD, NIGHT):
        alert, digest = smtp.to(address)
        assert quoted(alert) == expected[:1]
        assert sorted(quoted(digest)) == sorted(expected[1:])


def hold_two_at_once(app, first, second):
    """Hold two comments (each in a thread of its own) in two transactions that overlap: the first,
    its writes flushed, stops just before its commit until the second is waiting for a lock, or done
    if nothing made it wait."""
    watcher = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    first_writes_done, second_finished = threading.Event(), threading.Event()
    statuses = {}

    def second_is_waiting_for_a_lock():
        with watcher.connect() as connection:
            return connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )

    def before_commit(session):
        if threading.current_thread().name != "first" or first_writes_done.is_set():
            return
        session.flush()
        first_writes_done.set()
        deadline = time.monotonic() + 10
        while not second_finished.is_set() and not second_is_waiting_for_a_lock():
            assert time.monotonic() < deadline, "the second transaction neither waited nor finished"
            second_finished.wait(0.01)

    def hold(name, body):
        statuses[name] = post(app.test_client(), body=body, thread=f"race/{name}").status_code
        if name == "second":
            second_finished.set()

    event.listen(Session, "before_commit", before_commit)
    try:
        one = threading.Thread(target=hold, args=("first", first), name="first")
        one.start()
        assert first_writes_done.wait(10)
        two = threading.Thread(target=hold, args=("second", second), name="second")
        two.start()
        one.join(20)
        two.join(20)
    finally:
        event.remove(Session, "before_commit", before_commit)
        watcher.dispose()
    return [statuses.get("first"), statuses.get("second")]
