"""Privacy requests: staff find and erase an address's data; a reader asks by mail and follows a link."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.mailer.sender import deliver_due_messages
from engagement.models import (
    AuditEntry,
    Comment,
    MailContact,
    OutboxMessage,
    PrivacyRequest,
    Site,
    StaffRole,
    Subscriber,
    Thread,
)
from engagement.privacy.schemas import PersonSchema
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.sql import count_queries

PERSON = "ada.lovelace@example.org"  # as the comment form normalizes "Ada.Lovelace@Example.org"
THREAD = "2025/05/xi-putin-moscow"


def bearer(role=StaffRole.ADMIN, sites=()):
    secret = create_token(role=role, site_slugs=list(sites), label=f"{role}-{len(sites)}")[1]
    return {"Authorization": f"Bearer {secret}"}


def by_person(client, site="news", **overrides):
    response = post(
        client, site=site, author_name="Ada", author_email="Ada.Lovelace@Example.org", **overrides
    )
    assert response.status_code == 201, response.json
    return response.json["comment"]["id"]


def subscribe_confirmed(client, email, site="news"):
    assert client.post(f"/api/v1/sites/{site}/subscribers", json={"email": email}).status_code == 202
    message = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.template == "confirm_subscription")
        .order_by(OutboxMessage.id.desc())
    )
    assert client.post(re.search(r"/mail/confirm/[\w.-]+", message.text_body).group(0)).status_code == 200


def native_subscribers(client, site="news"):
    return client.get(f"/api/v1/sites/{site}/engagement").json["counters"]["subscribers"]["native"]


def ask(client, kind, email=PERSON, site="news", **kwargs):
    """A reader's request through the form; the mail process (send-mail) answers it."""
    response = client.post(f"/api/v1/sites/{site}/privacy", json={"email": email, "request": kind}, **kwargs)
    assert response.status_code == 202
    return response


def answer_requests():
    deliver_due_messages()  # what `flask engagement send-mail` runs


def mailed_link(kind: str) -> str:
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == f"privacy_{kind}"))
    return re.search(rf"/privacy/{kind}/[\w.-]+", message.text_body).group(0)


@pytest.fixture
def world(app, client):
    """Ada commented on two sites (one reply to her, one opt-in to reply mail) and subscribed to one."""
    make_site("news")
    make_site("sport")
    ids = {
        "top": by_person(client, body="My first comment", notify_replies=True),
        "leaf": by_person(client, body="A second one"),
        "sport": by_person(client, site="sport", body="On another site"),
    }
    ids["reply"] = post(client, parent_id=ids["top"], body="Someone answers Ada").json["comment"]["id"]
    subscribe_confirmed(client, PERSON.lower())
    return ids


def thread_row(site="news") -> Thread:
    db.session.expire_all()
    return db.session.scalar(select(Thread).join(Site).where(Thread.key == THREAD, Site.slug == site))


# --- staff ---------------------------------------------------------------------------------------------


def test_staff_find_every_comment_subscription_and_opt_in_of_an_address_case_blind(app, client, world):
    found = client.get("/api/v1/moderation/people?email=ada.lovelace@EXAMPLE.org", headers=bearer()).json

    assert found["email"] == "ada.lovelace@example.org"
    assert {c["id"] for c in found["comments"]} == {world["top"], world["leaf"], world["sport"]}
    assert found["comments"][0]["author"]["email"] == PERSON
    assert [(s["site"], s["target"]) for s in found["subscriptions"]] == [("news", "site")]
    assert [(r["site"], r["threads"]) for r in found["reply_notifications"]] == [("news", [THREAD])]


def test_the_lookup_is_answered_exactly_as_its_schema_dumps_it(app, client, world):
    """The staff lookup is sent as its presenter built it (dumping 500 comments again cost more than
    reading them): it must be, to the last string, what PersonSchema would have dumped, reports included."""
    for n in range(2):
        reported = client.post(
            f"/api/v1/sites/news/comments/{world['leaf']}/reports",
            json={"reason": "abuse", "note": f"note {n}"},
            headers={"X-Engagement-Reader": f"reader-{n:012d}"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
        assert reported.status_code == 200, reported.json
    client.patch(f"/api/v1/moderation/comments/{world['sport']}", json={"status": "spam"}, headers=bearer())

    answer = client.get(f"/api/v1/moderation/people?email={PERSON}", headers=bearer())

    assert answer.status_code == 200
    found = answer.json
    # Everything but the comments is strings already, as the schema dumps it.
    rest = {key: value for key, value in found.items() if key != "comments"}
    assert PersonSchema(exclude=("comments",)).dump(found) == rest
    leaf = next(c for c in found["comments"] if c["id"] == world["leaf"])
    assert leaf["reports"]["open"] == 2
    assert all(isinstance(r["created_at"], str) for r in leaf["reports"]["reports"])
    # The same comment as the moderation queue shows it (dumped there): the two views cannot drift.
    queue = client.get(f"/api/v1/moderation/comments?status=all&email={PERSON}", headers=bearer()).json
    listed = {c["id"]: c for c in queue["items"]}
    for comment in found["comments"]:
        assert comment == listed[comment["id"]]


def test_a_moderator_finds_only_what_is_in_its_sites(app, client, world):
    found = client.get(
        f"/api/v1/moderation/people?email={PERSON}", headers=bearer(StaffRole.MODERATOR, ["sport"])
    )
    assert found.status_code == 200
    assert [c["id"] for c in found.json["comments"]] == [world["sport"]]
    assert found.json["subscriptions"] == [] and found.json["reply_notifications"] == []


def test_anonymize_keeps_the_words_and_removes_name_email_url_ip_and_user_agent(app, client, world):
    before = thread_row()
    count, version = before.comment_count, before.version

    erased = client.post(
        "/api/v1/moderation/people/erase", json={"email": PERSON, "mode": "anonymize"}, headers=bearer()
    )

    assert erased.status_code == 200
    assert erased.json == {
        "email": PERSON.lower(),
        "sso_id": None,
        "mode": "anonymize",
        "comments": 3,
        "subscriptions": 1,
        "reply_notifications": 1,
    }
    top = db.session.get(Comment, world["top"])
    assert (top.author_name, top.author_email, top.author_url, top.ip_hash, top.user_agent) == (
        "Anonymous",
        "",
        None,
        None,
        "",
    )
    assert top.body == "My first comment"
    after = thread_row()
    assert after.comment_count == count and after.version > version  # cached pages show the new name
    page = client.get(f"/api/v1/sites/news/comments?thread={THREAD}").json
    assert {c["author"]["name"] for c in page["comments"]} == {"Anonymous"}


def test_delete_removes_comments_and_leaves_a_placeholder_where_someone_replied(app, client, world):
    count = thread_row().comment_count

    erased = client.post(
        "/api/v1/moderation/people/erase", json={"email": PERSON, "mode": "delete"}, headers=bearer()
    )

    assert erased.status_code == 200 and erased.json["comments"] == 3
    placeholder = db.session.get(Comment, world["top"])
    assert placeholder.status == "deleted" and placeholder.body == "" and placeholder.author_email == ""
    assert db.session.get(Comment, world["leaf"]) is None
    assert db.session.get(Comment, world["reply"]).parent_id == world["top"]
    assert thread_row().comment_count == count - 2
    page = client.get(f"/api/v1/sites/news/comments?thread={THREAD}").json
    assert [c["status"] for c in page["comments"]] == ["deleted"]  # holds another reader's reply in place
    assert page["comments"][0]["replies"][0]["id"] == world["reply"]


def test_deleting_is_for_admins_and_anonymizing_for_any_staff_in_scope(app, client, world):
    moderator = bearer(StaffRole.MODERATOR, ["news"])
    refused = client.post(
        "/api/v1/moderation/people/erase", json={"email": PERSON, "mode": "delete"}, headers=moderator
    )
    assert refused.status_code == 403

    done = client.post(
        "/api/v1/moderation/people/erase", json={"email": PERSON, "mode": "anonymize"}, headers=moderator
    )
    assert done.json["comments"] == 2  # not the comment on sport
    assert db.session.get(Comment, world["sport"]).author_email == PERSON


def test_erasure_ends_subscriptions_opt_ins_and_queued_mail_and_the_count_drops(app, client, world):
    assert native_subscribers(client) == 1
    client.post(
        "/api/v1/moderation/people/erase", json={"email": PERSON, "mode": "anonymize"}, headers=bearer()
    )

    assert native_subscribers(client) == 0
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert db.session.scalar(select(func.count()).select_from(MailContact)) == 0
    assert (
        db.session.scalar(select(func.count()).where(func.lower(OutboxMessage.to_address) == PERSON.lower()))
        == 0
    )


def test_erasure_is_audited_per_comment_without_storing_the_address(app, client, world):
    client.post(
        "/api/v1/moderation/people/erase", json={"email": PERSON, "mode": "anonymize"}, headers=bearer()
    )
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("privacy_%"))))
    assert sorted(e.comment_id for e in entries if e.action == "privacy_anonymized") == sorted(
        [world["top"], world["leaf"], world["sport"]]
    )
    assert {e.action for e in entries} >= {"privacy_unsubscribed", "privacy_mail_forgotten"}
    assert all(PERSON.lower() not in (e.reason + str(e.details)).lower() for e in entries)


# --- a reader's own request ------------------------------------------------------------------------------


def test_a_request_gets_the_same_answer_whether_or_not_the_address_is_known(app, client, world):
    known = ask(client, "export")
    unknown = ask(client, "export", email="stranger@example.org")
    assert known.json == unknown.json

    answer_requests()
    recipients = set(
        db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.template.like("privacy_%")))
    )
    assert recipients == {PERSON.lower()}  # nobody is mailed about a site that knows nothing of them
    # ... nor remembered: the stranger's request is gone once it was looked at.
    assert db.session.scalars(select(PrivacyRequest.email)).all() == [PERSON.lower()]


def test_a_request_costs_the_same_statements_for_a_known_and_an_unknown_address(app, client, world):
    # Timing told them apart (16 ms against 10): the form now only records the request; the mail
    # process looks the address up.
    work = {}
    for email in (PERSON, "stranger@example.org"):
        with count_queries() as statements:
            ask(client, "erase", email=email)
        work[email] = [re.sub(r"\s+", " ", statement) for statement in statements]
    assert work[PERSON] == work["stranger@example.org"]
    assert not any("comments" in statement for statement in work[PERSON])


def test_one_mail_an_hour_per_address_and_kind_of_request(app, client, clock, world):
    for _ in range(3):
        ask(client, "erase")
        answer_requests()
    clock.advance(hours=1)
    ask(client, "erase")
    answer_requests()
    assert db.session.scalar(select(func.count()).where(OutboxMessage.template == "privacy_erase")) == 2


def test_mailed_links_name_the_request_and_never_the_address(app, client, world):
    ask(client, "export")
    answer_requests()
    token = mailed_link("export").rsplit("/", 1)[1]
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"@" not in decoded and b"ada" not in decoded.lower()


def test_the_export_link_downloads_what_this_site_holds_and_nothing_else(app, client, world):
    ask(client, "export")
    answer_requests()
    download = client.get(mailed_link("export"))

    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    data = download.json
    assert data["site"] == "news"
    assert {c["id"] for c in data["comments"]} == {world["top"], world["leaf"]}
    assert "last_moderation" not in data["comments"][0]
    assert [s["target"] for s in data["subscriptions"]] == ["site"]


def test_the_erase_link_asks_first_then_anonymizes(app, client, world):
    ask(client, "erase")
    answer_requests()
    link = mailed_link("erase")

    page = client.get(link)  # what a mail scanner does: nothing changes
    assert page.status_code == 200 and '<form method="post">' in page.text and "2 comments" in page.text
    assert db.session.get(Comment, world["top"]).author_email == PERSON

    done = client.post(link)
    assert done.status_code == 200 and "Anonymous" in done.text
    db.session.expire_all()
    assert db.session.get(Comment, world["top"]).author_name == "Anonymous"
    assert db.session.get(Comment, world["sport"]).author_email == PERSON  # other sites are not this one's
    assert native_subscribers(client) == 0
    assert "nothing to erase" in client.get(link).text
    assert client.post(link).status_code == 200  # again: nothing more happens
    # The request forgets the address once it is erased.
    assert db.session.scalars(select(PrivacyRequest.email)).all() == [""]


def test_links_expire_and_cannot_be_forged(app, client, clock, world):
    ask(client, "erase")
    answer_requests()
    link = mailed_link("erase")

    forged = client.post(link[:-3] + "abc")
    assert forged.status_code == 400 and "not valid" in forged.text
    clock.advance(days=3)
    expired = client.post(link)
    assert expired.status_code == 410 and "expired" in expired.text
    assert db.session.get(Comment, world["top"]).author_email == PERSON
    answer_requests()  # the mail process drops requests whose link has expired, address and all
    assert db.session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0
