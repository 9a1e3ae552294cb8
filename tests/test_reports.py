"""Readers' reports (issue 16): one per reader, distinct readers (one per IP) hold a comment at the site's
threshold, a moderator's approval dismisses them for good (no brigading loop), ignored reporters, the
staff API and the console's Reported tab."""

from __future__ import annotations

import json

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry, Comment, Report, StaffRole
from engagement.staff import members
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.test_console_queue import queue, signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR

MOD = "/api/v1/moderation"


@pytest.fixture
def site(app):
    return make_site("news", moderation="none", flood_seconds=0, report_threshold=3)


@pytest.fixture
def admin():
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    return {"Authorization": f"Bearer {secret}"}


def published(client) -> int:
    response = post(client, body="A comment some readers will not like.")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["comment"]["id"]


def report(client, comment_id, *, reader, ip="198.51.100.1", reason="abuse", note="", site="news"):
    return client.post(
        f"/api/v1/sites/{site}/comments/{comment_id}/reports",
        json={"reason": reason, "note": note},
        headers={"X-Engagement-Reader": reader},
        environ_base={"REMOTE_ADDR": ip},
    )


def reader(n: int) -> str:
    return f"reader-{n:012d}"


def visible(client, comment_id) -> bool:
    page = client.get("/api/v1/sites/news/comments", query_string={"thread": "2025/05/xi-putin-moscow"}).json
    return any(c["id"] == comment_id for c in page["comments"])


def status_of(comment_id) -> str:
    db.session.expire_all()
    return db.session.get(Comment, comment_id).status


def test_three_distinct_readers_hold_a_comment_and_it_leaves_the_thread(client, site):
    cid = published(client)
    assert visible(client, cid)

    for n in (1, 2):
        assert report(client, cid, reader=reader(n), ip=f"198.51.100.{n}").json == {"reported": True}
    assert status_of(cid) == "approved"
    assert report(client, cid, reader=reader(3), ip="198.51.100.3").status_code == 200

    assert status_of(cid) == "pending"
    assert not visible(client, cid)
    comment = db.session.get(Comment, cid)
    assert "reports" in comment.spam_reasons
    assert comment.moderated_by == "readers' reports"


def test_a_repeat_report_answers_the_same_and_changes_nothing(client, site):
    cid = published(client)
    for _ in range(3):
        assert report(client, cid, reader=reader(1)).json == {"reported": True}
    assert status_of(cid) == "approved"
    assert db.session.get(Comment, cid).open_reports == 1


def test_readers_sharing_one_ip_count_as_one_reporter(client, site):
    cid = published(client)
    for n in (1, 2, 3, 4):
        report(client, cid, reader=reader(n), ip="198.51.100.9")
    assert status_of(cid) == "approved"


def test_readers_of_one_ipv6_network_count_as_one_reporter_and_other_networks_count(client, site):
    # One home line or server has a whole /64 to send from: three of its addresses are one reporter.
    cid = published(client)
    for n, ip in enumerate(("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:fffe")):
        report(client, cid, reader=reader(n), ip=ip)
    assert status_of(cid) == "approved"

    for n, ip in enumerate(("2001:db8:1:3::1", "::ffff:198.51.100.7"), start=10):
        report(client, cid, reader=reader(n), ip=ip)
    assert status_of(cid) == "pending"


def test_approving_dismisses_the_reports_and_older_reports_never_hold_it_again(client, site, admin):
    cid = published(client)
    for n in (1, 2, 3):
        report(client, cid, reader=reader(n), ip=f"198.51.100.{n}")
    assert status_of(cid) == "pending"

    approved = client.patch(f"{MOD}/comments/{cid}", json={"status": "approved"}, headers=admin)
    assert approved.status_code == 200
    assert visible(client, cid)
    # A fourth reader alone does not hold it again: the three before the decision were dismissed.
    report(client, cid, reader=reader(4), ip="198.51.100.4")
    assert status_of(cid) == "approved"
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert "reports_dismissed" in actions


def test_reporters_dismissed_three_times_and_never_upheld_stop_counting(client, site, admin):
    # Three brigaders report three comments each; the moderator keeps all three.
    for _ in range(3):
        cid = published(client)
        for n in (1, 2, 3):
            report(client, cid, reader=reader(n), ip=f"198.51.100.{n}")
        client.patch(f"{MOD}/comments/{cid}", json={"status": "approved"}, headers=admin)
    fresh = published(client)
    for n in (1, 2, 3):
        report(client, fresh, reader=reader(n), ip=f"198.51.100.{n}")
    assert status_of(fresh) == "approved"  # their reports are listed, but no longer count
    listed = client.get(f"{MOD}/comments/{fresh}/reports", headers=admin).json
    assert listed["open"] == 3


def test_spam_upholds_the_reports(client, site, admin):
    cid = published(client)
    report(client, cid, reader=reader(1), note="Selling pills")
    client.patch(f"{MOD}/comments/{cid}", json={"status": "spam"}, headers=admin)
    listed = client.get(f"{MOD}/comments/{cid}/reports", headers=admin).json
    assert listed["open"] == 0
    assert [r["state"] for r in listed["reports"]] == ["upheld"]
    assert listed["reports"][0]["note"] == "Selling pills"
    assert len(listed["reports"][0]["reporter"]) == 12  # hashed and cut, never the reader id


def test_a_threshold_of_zero_never_holds(client, app, admin):
    make_site("news", moderation="none", flood_seconds=0, report_threshold=0)
    cid = published(client)
    for n in range(1, 6):
        report(client, cid, reader=reader(n), ip=f"198.51.100.{n}")
    assert status_of(cid) == "approved"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"reason": "disagree"}, {"X-Engagement-Reader": "reader-000000000001"}, 422, "validation_failed"),
        ({"reason": "other", "note": "x" * 501}, {"X-Engagement-Reader": "reader-000000000001"}, 422, None),
        ({}, {"X-Engagement-Reader": "reader-000000000001"}, 422, None),
        ({"reason": "spam"}, {}, 400, "missing_reader"),
        ({"reason": "spam"}, {"X-Engagement-Reader": "<script>"}, 400, "invalid_reader"),
    ],
)
def test_bad_reports_get_a_clear_error(client, site, body, headers, status, code):
    cid = published(client)
    response = client.post(f"/api/v1/sites/news/comments/{cid}/reports", json=body, headers=headers)
    assert response.status_code == status
    if code:
        assert response.json["error"]["code"] == code


def test_only_approved_comments_of_the_site_can_be_reported(client, site, admin):
    cid = published(client)
    make_site("sport", moderation="none")
    assert report(client, cid, reader=reader(1), site="sport").status_code == 404
    assert report(client, 999_999, reader=reader(1)).status_code == 404
    client.patch(f"{MOD}/comments/{cid}", json={"status": "trash"}, headers=admin)
    assert report(client, cid, reader=reader(2)).json["error"]["code"] == "comment_not_found"


def test_reports_are_rate_limited_per_ip(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REPORTS="2 per minute")
    client = app.test_client()
    with app.app_context():
        make_site("news", moderation="none", flood_seconds=0)
        cid = published(client)
        answers = [report(client, cid, reader=reader(n)).status_code for n in (1, 2, 3)]
    assert answers == [200, 200, 429]


def test_a_report_from_another_origin_is_refused(client, app):
    make_site("news", origins=["https://news.example"], moderation="none", flood_seconds=0)
    cid = published(client)
    response = client.post(
        f"/api/v1/sites/news/comments/{cid}/reports",
        json={"reason": "spam"},
        headers={"X-Engagement-Reader": reader(1), "Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_summary_and_queue_list_reported_comments_most_reported_first(client, site, admin):
    site.settings = site.settings.replace(report_threshold=10)
    db.session.commit()
    once, twice = published(client), published(client)
    report(client, once, reader=reader(1))
    for n in (1, 2):
        report(client, twice, reader=reader(n), ip=f"198.51.100.{n}")
    summary = client.get(f"{MOD}/summary", headers=admin).json["sites"][0]
    assert summary["counts"]["reported"] == 2
    listed = client.get(f"{MOD}/comments", query_string={"status": "reported"}, headers=admin).json
    assert [c["id"] for c in listed["items"]] == [twice, once]
    dismissed = client.post(f"{MOD}/comments/{twice}/reports/dismiss", json={}, headers=admin)
    assert dismissed.json == {"dismissed": 2}
    listed = client.get(f"{MOD}/comments", query_string={"status": "reported"}, headers=admin).json
    assert [c["id"] for c in listed["items"]] == [once]


def test_a_moderator_of_another_site_cannot_see_or_dismiss_reports(client, site):
    cid = published(client)
    make_site("sport")
    _, secret = create_token(role=StaffRole.MODERATOR, site_slugs=["sport"], label="sport desk")
    other = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{MOD}/comments/{cid}/reports", headers=other).status_code == 403
    assert client.post(f"{MOD}/comments/{cid}/reports/dismiss", json={}, headers=other).status_code == 403


def test_the_console_shows_a_reported_tab_with_reasons_and_keep_dismisses(app, client, site):
    members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
    members.create_member(
        email=MODERATOR, display_name="Grace", role=StaffRole.MODERATOR, site_slugs=["news"]
    )
    site.settings = site.settings.replace(report_threshold=10)
    db.session.commit()
    staff = signed_in(app, MODERATOR)
    assert 'data-tab="reported"' not in queue(staff)  # no reports: no tab

    cid = published(client)
    report(client, cid, reader=reader(1), reason="abuse", note="<script>alert(1)</script>")
    report(client, cid, reader=reader(2), ip="198.51.100.2", reason="spam")
    page = queue(staff, tab="reported")
    assert 'data-tab="reported"' in page and f'id="card-{cid}"' in page
    assert "Reported: Abuse or harassment ×1" in page and "Reported: Spam ×1" in page
    assert "<script>alert(1)</script>" not in page

    csrf = staff.get("/console").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    kept = staff.post(
        f"/console/comments/{cid}/decision",
        data={"csrf_token": csrf, "status": "approved", "seen": "approved"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert kept["stale"] is False and kept["undoable"] is False and "2 reports dismissed" in kept["message"]
    assert f'id="card-{cid}"' not in queue(staff, tab="reported")
    assert status_of(cid) == "approved"


def test_a_reader_erases_their_own_reports_and_they_stop_counting(client, site, admin):
    cid = published(client)
    for n in (1, 2):
        report(client, cid, reader=reader(n), ip=f"198.51.100.{n}")
    erased = client.delete("/api/v1/sites/news/reports", headers={"X-Engagement-Reader": reader(1)})
    assert erased.json == {"erased": 1}
    assert db.session.get(Comment, cid).open_reports == 1
    assert len(client.get(f"{MOD}/comments/{cid}/reports", headers=admin).json["reports"]) == 1
    # Erased: the next two readers alone do not reach the threshold of three.
    report(client, cid, reader=reader(3), ip="198.51.100.3")
    assert status_of(cid) == "approved"
    assert client.delete("/api/v1/sites/news/reports").json["error"]["code"] == "missing_reader"


def test_exports_carry_report_counts_but_never_who_reported(client, site, admin):
    site.settings = site.settings.replace(report_threshold=10)
    db.session.commit()
    cid = published(client)
    report(client, cid, reader=reader(1), reason="abuse", note="A personal attack")
    report(client, cid, reader=reader(2), ip="198.51.100.2", reason="spam")
    client.post(f"{MOD}/comments/{cid}/reports/dismiss", json={}, headers=admin)
    report(client, cid, reader=reader(3), ip="198.51.100.3", reason="abuse")

    exported = client.get(f"{MOD}/sites/news/export", headers=admin).get_data(as_text=True)
    comment = next(
        r for r in map(json.loads, exported.splitlines()) if r.get("id") == cid and r["type"] == "comment"
    )
    assert comment["reports"] == {"total": 3, "open": 1, "open_by_reason": {"abuse": 1}}
    assert "A personal attack" not in exported
    with db.session.no_autoflush:
        reporters = [r.reporter for r in db.session.query(Report).all()]
    assert not any(hashed in exported for hashed in reporters)
