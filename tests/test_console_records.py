"""A site's record pages in the console: subscribers (and their CSV), the outbox with Retry, the audit log;
the API's services, permission checks and query schemas behind each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engagement import audit, clock
from engagement.extensions import db
from engagement.models import AuditEntry, OutboxMessage, OutboxStatus, Subscriber
from engagement.sites.service import get_site
from tests import test_console_sites as site_pages
from tests.test_console_sign_in import csrf_of
from tests.test_console_sites import HOSTILE, HOSTILE_IMG, html

# The site pages' staff: sites "news" and "sport", an admin and a moderator of "news" only.
staff, admin, moderator = site_pages.staff, site_pages.admin, site_pages.moderator


def subscriber(slug: str, email: str, *, target: str = "site", confirmed: bool = True) -> Subscriber:
    now = clock.now()
    row = Subscriber(
        site_id=get_site(slug).id, target=target, email=email, confirmed_at=now if confirmed else None
    )
    db.session.add(row)
    db.session.commit()
    return row


def message(
    slug: str | None, *, status: str = OutboxStatus.FAILED, subject: str = "Confirm"
) -> OutboxMessage:
    row = OutboxMessage(
        site_id=get_site(slug).id if slug else None,
        message_id=f"<{clock.now().timestamp()}.{subject}@test>",
        template="confirm_subscription",
        to_address="reader@example.org",
        subject=subject,
        text_body="text",
        html_body="<p>html</p>",
        status=status,
        attempts=8,
        next_attempt_at=clock.now(),
        last_error="550 mailbox unavailable",
    )
    db.session.add(row)
    db.session.commit()
    return row


def audit_entry(actor: str, action: str, site_id: int, comment_id: int) -> None:
    audit.write([{**audit.entry(actor=actor, action=action, site_id=site_id), "comment_id": comment_id}])


@pytest.mark.parametrize("page", ["subscribers", "outbox", "audit"])
def test_each_record_page_is_linked_from_the_sites_pages(admin, page):
    assert f'href="/console/sites/news/{page}"' in html(admin.get("/console/sites/news"))


@pytest.mark.parametrize(
    "path",
    ["subscribers", "subscribers.csv", "outbox", "audit", "subscribers?status=all", "audit?actor=x"],
)
def test_a_moderator_of_one_site_gets_403_pages_on_another_and_404_on_an_unknown_one(moderator, path):
    assert moderator.get(f"/console/sites/news/{path}").status_code == 200
    refused = moderator.get(f"/console/sites/sport/{path}")
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert moderator.get(f"/console/sites/nowhere/{path}").status_code == 404


def retry(client, slug, message_id):
    csrf = csrf_of(client.get("/console"))
    return client.post(f"/console/sites/{slug}/outbox/{message_id}/retry", data={"csrf_token": csrf})


def test_a_moderator_cannot_retry_a_message_of_another_site(moderator):
    other = message("sport")
    assert retry(moderator, "sport", other.id).status_code == 403
    assert retry(moderator, "news", other.id).status_code == 404  # not a message of this site
    assert db.session.get(OutboxMessage, other.id).status == OutboxStatus.FAILED


def test_a_message_is_retried_from_its_own_sites_page_only(admin):
    other = message("sport")
    assert retry(admin, "news", other.id).status_code == 404
    assert retry(admin, "sport", other.id).status_code == 303


def test_subscribers_are_listed_by_state_and_target(admin):
    subscriber("news", "kim@example.org")
    subscriber("news", "lee@example.org", confirmed=False)
    subscriber("news", "max@example.org", target="newsletter")
    subscriber("sport", "other@example.org")
    confirmed = html(admin.get("/console/sites/news/subscribers"))
    assert "kim@example.org" in confirmed and "max@example.org" in confirmed
    assert "lee@example.org" not in confirmed and "other@example.org" not in confirmed
    assert 'aria-current="page">Confirmed<' in confirmed  # the API's default state
    assert "lee@example.org" in html(admin.get("/console/sites/news/subscribers?status=pending"))
    one_target = html(admin.get("/console/sites/news/subscribers?target=newsletter&status=all"))
    assert "max@example.org" in one_target and "kim@example.org" not in one_target
    assert "subscribers.csv?status=all&amp;target=newsletter" in one_target


def test_subscribers_come_a_page_at_a_time(admin, monkeypatch):
    monkeypatch.setattr("engagement.console.records.PAGE_SIZE", 2)
    for n in range(3):
        subscriber("news", f"reader{n}@example.org")
    first = html(admin.get("/console/sites/news/subscribers"))
    assert "reader2@example.org" in first and "reader0@example.org" not in first
    next_link = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = html(admin.get(next_link))
    assert "reader0@example.org" in second and "reader2@example.org" not in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=nope", 'id="status-error"'),
        ("target=" + "x" * 65, 'id="target-error"'),
        ("cursor=garbage", "This cursor is not valid"),
    ],
)
def test_a_filter_that_is_not_valid_is_a_message_not_an_error(admin, query, message):
    assert message in html(admin.get(f"/console/sites/news/subscribers?{query}"), 422)


def test_the_csv_export_is_the_apis_with_formula_cells_made_inert(admin):
    subscriber("news", "=cmd@example.org")
    subscriber("news", "kim@example.org")
    response = admin.get("/console/sites/news/subscribers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="news-subscribers.csv"'
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "email,target,confirmed_at,created_at"
    assert lines[1].startswith("'=cmd@example.org,site,") and lines[2].startswith("kim@example.org,site,")
    assert admin.get("/console/sites/news/subscribers.csv?status=bad").status_code == 422


def test_failed_messages_come_first_and_a_retry_queues_one_again(admin):
    failed = message("news", subject="Failed one")
    message("news", status=OutboxStatus.SENT, subject="Sent one")
    page = html(admin.get("/console/sites/news/outbox"))
    assert "Failed one" in page and "Sent one" not in page and "550 mailbox unavailable" in page
    assert "Sent one" in html(admin.get("/console/sites/news/outbox?status=all"))
    csrf = csrf_of(admin.get("/console/sites/news/outbox"))
    retried = admin.post(
        f"/console/sites/news/outbox/{failed.id}/retry", data={"csrf_token": csrf, "status": "failed"}
    )
    assert retried.status_code == 303
    assert html(admin.get(retried.headers["Location"])).count(f"Message {failed.id} queued again.") == 1
    db.session.expire_all()
    row = db.session.get(OutboxMessage, failed.id)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "mail_retried")).one()
    assert entry.details["outbox_id"] == failed.id


def test_retrying_needs_the_csrf_token_and_an_existing_retryable_message(admin):
    failed = message("news")
    sent = message("news", status=OutboxStatus.SENT, subject="Sent")
    assert admin.post(f"/console/sites/news/outbox/{failed.id}/retry").status_code == 403
    csrf = csrf_of(admin.get("/console/sites/news/outbox"))
    assert (
        admin.post(f"/console/sites/news/outbox/{sent.id}/retry", data={"csrf_token": csrf}).status_code
        == 409
    )
    for missing in (999999, 2**70):
        assert (
            admin.post(f"/console/sites/news/outbox/{missing}/retry", data={"csrf_token": csrf}).status_code
            == 404
        )


def test_the_audit_log_lists_the_sites_entries_filtered_as_the_api_filters_them(admin):
    news, sport = get_site("news"), get_site("sport")
    audit_entry("ada", "comment_approved", news.id, 7)
    audit_entry("grace", "comment_spam", news.id, 8)
    audit_entry("ada", "comment_trashed", sport.id, 9)
    db.session.commit()
    page = html(admin.get("/console/sites/news/audit"))
    assert "comment_approved" in page and "comment_spam" in page and "comment_trashed" not in page
    by_actor = html(admin.get("/console/sites/news/audit?actor=grace"))
    assert "comment_spam" in by_actor and "comment_approved" not in by_actor
    by_comment = html(admin.get("/console/sites/news/audit?comment_id=7"))
    assert "comment_approved" in by_comment and "comment_spam" not in by_comment


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45", "-1", str(2**70)])
def test_a_filter_the_audit_schema_refuses_is_a_field_error_not_a_500(admin, value):
    page = html(
        admin.get("/console/sites/news/audit", query_string={"comment_id": value, "actor": "ada"}), 422
    )
    assert 'id="comment_id-error"' in page and 'aria-invalid="true"' in page
    assert 'name="comment_id" type="text" value="' in page and 'value="ada"' in page


@pytest.mark.parametrize("query", ["actor=" + "a" * 300, "cursor=" + "%ff" * 50, "limit=-5&junk=%00"])
def test_hostile_audit_query_strings_never_answer_500(admin, query):
    assert admin.get(f"/console/sites/news/audit?{query}").status_code in (200, 422)


def test_hostile_values_on_the_record_pages_render_inert(admin):
    subscriber("news", "reader@example.org", target=HOSTILE[:64])
    message("news", subject=HOSTILE_IMG)
    news = get_site("news")
    audit.record(actor=HOSTILE, action="x", site_id=news.id, details={"label": HOSTILE, "n": HOSTILE_IMG})
    db.session.commit()
    for path in ("subscribers?target=" + HOSTILE[:64], "outbox", "audit", "audit?actor=" + HOSTILE):
        page = admin.get(f"/console/sites/news/{path}").get_data(as_text=True)
        assert HOSTILE not in page and HOSTILE_IMG not in page
    assert "&lt;script&gt;" in admin.get("/console/sites/news/audit").get_data(as_text=True)
