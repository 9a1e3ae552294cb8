"""Staff moderation: the queue, transitions, bulk actions, bans, threads, sites, tokens and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engagement.extensions import db
from engagement.hashing import keyed_hash
from engagement.models import AuditEntry, Ban, Comment, StaffRole, StaffToken
from engagement.sites.service import get_site
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.sql import count_queries

MOD = "/api/v1/moderation"
THREAD = "2025/05/xi-putin-moscow"


def bearer(role: StaffRole = StaffRole.ADMIN, sites: list[str] | None = None, label: str = "desk") -> dict:
    _, secret = create_token(role=role, site_slugs=sites or [], label=label)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin(app):
    make_site("news", moderation="all")
    make_site("sport", moderation="all")
    return bearer(label="chief")


def public_page(client, thread=THREAD):
    return client.get("/api/v1/sites/news/comments", query_string={"thread": thread}).json


def audit_actions(comment_id: int) -> list[tuple[str, str, str | None, str | None]]:
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.comment_id == comment_id).order_by(AuditEntry.id)
    )
    return [(e.actor, e.action, e.from_status, e.to_status) for e in entries]


# --- queue ---------------------------------------------------------------------------------------------


def test_queue_lists_pending_newest_first_with_full_detail(client, admin, clock):
    first = post(client, author_email="one@example.org", body="first").json["comment"]["id"]
    clock.advance(seconds=5)
    second = post(client, author_email="two@example.org", body="second").json["comment"]["id"]
    page = client.get(f"{MOD}/comments", headers=admin).json
    assert [c["id"] for c in page["items"]] == [second, first]
    item = page["items"][0]
    assert item["author"]["email"] == "two@example.org"
    assert item["ip_hash"] and item["body"] == "second" and item["html"] == "<p>second</p>"
    assert item["spam_reasons"] == ["moderation_all"]
    assert item["thread"]["key"] == THREAD and item["site"] == "news"
    assert item["last_moderation"] == {"by": None, "at": None}
    assert page["next_cursor"] is None


def test_queue_filters_and_pages(client, admin, clock):
    for i in range(5):
        post(client, body=f"needle {i}" if i % 2 else f"hay {i}", author_email=f"p{i}@example.org")
        clock.advance(seconds=1)
    post(client, thread="other", body="needle elsewhere")
    needles = client.get(
        f"{MOD}/comments", query_string={"q": "NEEDLE", "thread": THREAD}, headers=admin
    ).json
    assert [c["body"] for c in needles["items"]] == ["needle 3", "needle 1"]
    by_email = client.get(f"{MOD}/comments", query_string={"email": "P2@example.org"}, headers=admin).json
    assert [c["body"] for c in by_email["items"]] == ["hay 2"]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "sort": "oldest", **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{MOD}/comments", query_string=params, headers=admin).json
        seen += [c["body"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["hay 0", "needle 1", "hay 2", "needle 3", "hay 4", "needle elsewhere"]


def test_a_moderator_sees_only_its_sites(client, admin):
    post(client, site="news")
    post(client, site="sport")
    moderator = bearer(StaffRole.MODERATOR, ["sport"], "sports desk")
    items = client.get(f"{MOD}/comments", headers=moderator).json["items"]
    assert {c["site"] for c in items} == {"sport"}
    assert client.get(f"{MOD}/comments", query_string={"site": "news"}, headers=moderator).status_code == 403


# --- transitions ---------------------------------------------------------------------------------------


def test_approving_publishes_counts_and_changes_the_etag_and_is_audited(client, admin):
    comment_id = post(client).json["comment"]["id"]
    etag = client.get("/api/v1/sites/news/comments", query_string={"thread": THREAD}).headers["ETag"]
    response = client.patch(
        f"{MOD}/comments/{comment_id}", json={"status": "approved", "reason": "fine"}, headers=admin
    )
    assert response.status_code == 200
    assert response.json["status"] == "approved"
    assert response.json["last_moderation"]["by"] == "chief"
    page = public_page(client)
    assert page["thread"]["comment_count"] == 1 and page["comments"][0]["id"] == comment_id
    assert client.get("/api/v1/sites/news/comments", query_string={"thread": THREAD}).headers["ETag"] != etag
    assert audit_actions(comment_id) == [
        ("system", "held", None, "pending"),
        ("chief", "status:approved", "pending", "approved"),
    ]


def test_approving_an_email_lets_its_next_comment_through_in_first_time_mode(client, app):
    make_site("news", moderation="first_time")
    admin = bearer()
    held = post(client, author_email="newbie@example.org").json["comment"]["id"]
    client.patch(f"{MOD}/comments/{held}", json={"status": "approved"}, headers=admin)
    assert post(client, author_email="newbie@example.org").status_code == 201


@pytest.mark.parametrize("bin_status", ["trash", "spam"])
def test_restore_returns_a_comment_to_the_status_it_had(client, admin, bin_status):
    comment_id = post(client).json["comment"]["id"]
    client.patch(f"{MOD}/comments/{comment_id}", json={"status": "approved"}, headers=admin)
    client.patch(f"{MOD}/comments/{comment_id}", json={"status": bin_status}, headers=admin)
    assert public_page(client)["thread"]["comment_count"] == 0
    restored = client.patch(f"{MOD}/comments/{comment_id}", json={"status": "restore"}, headers=admin)
    assert restored.json["status"] == "approved"
    assert public_page(client)["thread"]["comment_count"] == 1


def test_restoring_a_comment_that_is_not_binned_is_409(client, admin):
    comment_id = post(client).json["comment"]["id"]
    response = client.patch(f"{MOD}/comments/{comment_id}", json={"status": "restore"}, headers=admin)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_restorable"


def test_a_deleted_placeholder_cannot_be_moderated(client, app):
    make_site("news")
    admin = bearer()
    parent = post(client).json
    post(client, parent_id=parent["comment"]["id"])
    client.delete(
        f"/api/v1/sites/news/comments/{parent['comment']['id']}",
        headers={"Authorization": f"Bearer {parent['edit_token']}"},
    )
    response = client.patch(
        f"{MOD}/comments/{parent['comment']['id']}", json={"status": "approved"}, headers=admin
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "comment_deleted"


def test_staff_edit_rerenders_the_body_and_keeps_the_old_one_in_the_audit(client, admin):
    comment_id = post(client, body="teh typo").json["comment"]["id"]
    client.patch(f"{MOD}/comments/{comment_id}", json={"status": "approved"}, headers=admin)
    response = client.patch(f"{MOD}/comments/{comment_id}", json={"body": "the *fix*"}, headers=admin)
    assert response.json["html"] == "<p>the <em>fix</em></p>"
    assert public_page(client)["comments"][0]["html"] == "<p>the <em>fix</em></p>"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "edited"))
    assert entry.details == {"previous_body": "teh typo"}


def test_pinned_comments_come_first_publicly(client, app, clock):
    make_site("news")
    admin = bearer()
    ids = []
    for _ in range(3):
        ids.append(post(client).json["comment"]["id"])
        clock.advance(seconds=1)
    client.patch(f"{MOD}/comments/{ids[2]}", json={"pinned": True}, headers=admin)
    assert [c["id"] for c in public_page(client)["comments"]] == [ids[2], ids[0], ids[1]]


def test_an_empty_update_is_422(client, admin):
    comment_id = post(client).json["comment"]["id"]
    response = client.patch(f"{MOD}/comments/{comment_id}", json={"reason": "nothing"}, headers=admin)
    assert response.status_code == 422


def test_unknown_comment_is_404(client, admin):
    assert client.get(f"{MOD}/comments/999", headers=admin).json["error"]["code"] == "comment_not_found"


def test_hard_delete_is_for_admins_and_audited(client, admin):
    comment_id = post(client).json["comment"]["id"]
    moderator = bearer(StaffRole.MODERATOR, ["news"], "mod")
    assert client.delete(f"{MOD}/comments/{comment_id}", headers=moderator).status_code == 403
    assert client.delete(f"{MOD}/comments/{comment_id}", headers=admin).status_code == 204
    assert db.session.get(Comment, comment_id) is None
    assert ("chief", "deleted", "pending", None) in audit_actions(comment_id)


# --- bulk ----------------------------------------------------------------------------------------------


def test_bulk_approve_of_1000_pending_comments_keeps_counts_exact(client, app):
    make_site("news", moderation="all")
    admin = bearer()
    from engagement.comments.drafts import Client, NewComment
    from engagement.comments.service import post_comment
    from engagement.sites.service import get_site

    site = get_site("news")
    ids = []
    for i in range(1000):
        posted = post_comment(
            site=site,
            draft=NewComment(
                thread_key=f"t{i % 4}", author_name="N", author_email=f"n{i}@example.org", body=f"b{i}"
            ),
            client=Client(ip=None, user_agent=""),
        )
        ids.append(posted.comment.id)
    with count_queries() as statements:
        response = client.post(f"{MOD}/comments/bulk", json={"ids": ids, "action": "approve"}, headers=admin)
    assert response.status_code == 200
    assert sorted(response.json["updated"]) == ids and response.json["failed"] == {}
    # Loading, updating and auditing are batched, not one statement per comment.
    assert len(statements) < 60, len(statements)
    counts = client.get(
        "/api/v1/sites/news/counts", query_string=[("thread", f"t{i}") for i in range(4)]
    ).json
    assert counts == {"counts": {"t0": 250, "t1": 250, "t2": 250, "t3": 250}}
    assert (
        db.session.scalar(
            select(db.func.count()).select_from(AuditEntry).where(AuditEntry.action == "bulk:approve")
        )
        == 1000
    )


def test_bulk_reports_partial_failures_without_raising(client, admin):
    ok = post(client).json["comment"]["id"]
    other_site = post(client, site="sport").json["comment"]["id"]
    moderator = bearer(StaffRole.MODERATOR, ["news"], "mod")
    response = client.post(
        f"{MOD}/comments/bulk", json={"ids": [ok, other_site, 424242], "action": "spam"}, headers=moderator
    )
    assert response.json == {
        "updated": [ok],
        "failed": {str(other_site): "forbidden", "424242": "comment_not_found"},
    }
    restore = client.post(f"{MOD}/comments/bulk", json={"ids": [ok], "action": "restore"}, headers=moderator)
    assert restore.json["updated"] == [ok]
    again = client.post(f"{MOD}/comments/bulk", json={"ids": [ok], "action": "restore"}, headers=moderator)
    assert again.json["failed"] == {str(ok): "not_restorable"}
    delete = client.post(f"{MOD}/comments/bulk", json={"ids": [ok], "action": "delete"}, headers=moderator)
    assert delete.json["failed"] == {str(ok): "forbidden"}


# --- summary -------------------------------------------------------------------------------------------


def test_summary_counts_each_status_and_the_oldest_pending(client, admin, clock):
    post(client)
    clock.advance(minutes=1)
    second = post(client).json["comment"]["id"]
    client.patch(f"{MOD}/comments/{second}", json={"status": "spam"}, headers=admin)
    sites = {s["site"]: s for s in client.get(f"{MOD}/summary", headers=admin).json["sites"]}
    assert sites["news"]["counts"]["pending"] == 1 and sites["news"]["counts"]["spam"] == 1
    assert sites["news"]["oldest_pending_at"] == "2026-05-07T12:00:00Z"
    assert sites["sport"]["oldest_pending_at"] is None


# --- bans ----------------------------------------------------------------------------------------------


def _ban(client, headers, **body):
    return client.post(f"{MOD}/bans", json={"site": "news", **body}, headers=headers)


def test_an_email_ban_marks_new_comments_spam_with_the_reason(client, app):
    make_site("news")
    admin = bearer()
    ban = _ban(client, admin, kind="email", value="Troll@Example.org", note="abuse").json
    response = post(client, author_email="troll@example.org")
    assert response.status_code == 202
    comment = db.session.get(Comment, response.json["comment"]["id"])
    assert comment.status == "spam" and comment.spam_reasons == [f"ban:{ban['id']}:email"]


def test_an_ip_ban_is_stored_as_a_hash_and_matches(client, app):
    make_site("news")
    admin = bearer()
    ban = _ban(client, admin, kind="ip", value="198.51.100.9", action="moderate").json
    assert ban["value"] != "198.51.100.9" and len(ban["value"]) == 64
    assert post(client, ip="198.51.100.9").status_code == 202
    assert post(client, ip="198.51.100.10").status_code == 201


def test_an_ipv6_ban_holds_the_whole_64_and_a_ban_stored_per_address_before_still_holds(client, app):
    make_site("news")
    admin = bearer()
    _ban(client, admin, kind="ip", value="2001:db8:5:5::1", action="moderate")
    # The same network, another address: one person changing the last bits is still banned.
    assert post(client, ip="2001:db8:5:5:dead:beef:0:1").status_code == 202
    assert post(client, ip="2001:db8:5:6::1").status_code == 201

    # A ban made before the /64 rule holds the hash of one whole address: that address stays banned.
    legacy = Ban(
        site_id=get_site("news").id,
        kind="ip",
        value=keyed_hash("ip", "2001:db8:9:9::7"),
        action="moderate",
        created_by="admin",
    )
    db.session.add(legacy)
    db.session.commit()
    assert post(client, ip="2001:db8:9:9::7").status_code == 202


def test_domain_and_word_bans_match_and_expired_bans_do_not(client, app, clock):
    make_site("news")
    admin = bearer()
    _ban(client, admin, kind="domain", value="spam.example", action="moderate")
    _ban(client, admin, kind="word", value="crypto", expires_at="2026-05-07T13:00:00Z")
    assert post(client, author_email="x@mail.spam.example").status_code == 202
    assert post(client, author_url="https://spam.example/page").status_code == 202
    assert post(client, body="CRYPTO deals").status_code == 202
    clock.advance(hours=2)
    assert post(client, body="crypto again, ban expired").status_code == 201


def test_lifting_a_ban_lets_comments_through(client, app):
    make_site("news")
    admin = bearer()
    ban = _ban(client, admin, kind="word", value="blocked").json
    assert (
        client.get(f"{MOD}/bans", query_string={"site": "news"}, headers=admin).json["items"][0]["id"]
        == ban["id"]
    )
    assert client.delete(f"{MOD}/bans/{ban['id']}", headers=admin).status_code == 204
    assert post(client, body="blocked word").status_code == 201
    assert client.delete(f"{MOD}/bans/{ban['id']}", headers=admin).status_code == 404


def test_ban_author_bans_email_and_ip_and_trashes_their_comments(client, app):
    make_site("news")
    admin = bearer()
    first = post(client, author_email="bad@example.org", ip="198.51.100.20").json["comment"]["id"]
    second = post(client, author_email="bad@example.org", ip="198.51.100.21", thread="x").json["comment"][
        "id"
    ]
    bystander = post(client).json["comment"]["id"]
    response = client.post(
        f"{MOD}/comments/{first}/ban-author",
        json={"kinds": ["email", "ip"], "trash_existing": True},
        headers=admin,
    )
    assert response.status_code == 201
    assert {b["kind"] for b in response.json["bans"]} == {"email", "ip"}
    assert sorted(response.json["trashed"]) == [first, second]
    assert db.session.get(Comment, bystander).status == "approved"
    assert public_page(client)["thread"]["comment_count"] == 1
    assert post(client, author_email="other@example.org", ip="198.51.100.20").status_code == 202


def test_invalid_ban_is_422(client, admin):
    response = _ban(client, admin, kind="phone", value="123")
    assert response.status_code == 422 and "kind" in response.json["error"]["fields"]


# --- threads -------------------------------------------------------------------------------------------


def test_threads_are_listed_by_recency_or_size_and_searchable(client, app):
    make_site("news")
    admin = bearer()
    post(client, thread="a", thread_title="Alpha")
    post(client, thread="b", thread_title="Beta")
    post(client, thread="b")
    recent = client.get(f"{MOD}/sites/news/threads", headers=admin).json["items"]
    assert [t["key"] for t in recent] == ["b", "a"]
    biggest = client.get(
        f"{MOD}/sites/news/threads", query_string={"sort": "most_comments"}, headers=admin
    ).json
    assert biggest["items"][0] == {**biggest["items"][0], "key": "b", "comment_count": 2}
    found = client.get(f"{MOD}/sites/news/threads", query_string={"q": "alp"}, headers=admin).json["items"]
    assert [t["key"] for t in found] == ["a"]


def test_closing_a_thread_stops_comments_and_readers_see_it_at_once(client, app):
    make_site("news")
    admin = bearer()
    post(client)
    etag = client.get("/api/v1/sites/news/comments", query_string={"thread": THREAD}).headers["ETag"]
    response = client.patch(
        f"{MOD}/sites/news/threads",
        query_string={"key": THREAD},
        json={"closed": True, "title": "Fixed"},
        headers=admin,
    )
    assert response.json["closed"] is True and response.json["title"] == "Fixed"
    page = client.get(
        "/api/v1/sites/news/comments", query_string={"thread": THREAD}, headers={"If-None-Match": etag}
    )
    assert page.status_code == 200 and page.json["thread"]["closed"] is True
    assert post(client).json["error"]["code"] == "thread_closed"
    missing = client.patch(
        f"{MOD}/sites/news/threads", query_string={"key": "nope"}, json={"closed": True}, headers=admin
    )
    assert missing.status_code == 404
    bell = client.patch(
        f"{MOD}/sites/news/threads", query_string={"key": THREAD}, json={"title": "A\x07b"}, headers=admin
    )
    assert bell.status_code == 422 and "title" in bell.json["error"]["fields"]


# --- sites ---------------------------------------------------------------------------------------------


def test_admin_creates_and_configures_a_site(client, app):
    admin = bearer()
    created = client.post(
        f"{MOD}/sites",
        json={"slug": "daily", "name": "The Daily", "origins": ["https://daily.example/"], "max_links": 4},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json["origins"] == ["https://daily.example"]
    assert created.json["settings"]["max_links"] == 4
    updated = client.patch(
        f"{MOD}/sites/daily", json={"moderation": "none", "moderation_words": ["casino"]}, headers=admin
    ).json
    assert updated["settings"]["moderation"] == "none"
    assert updated["settings"]["moderation_words"] == ["casino"]
    assert updated["settings"]["max_links"] == 4
    assert (
        client.post(f"{MOD}/sites", json={"slug": "daily", "name": "Again"}, headers=admin).status_code == 409
    )


@pytest.mark.parametrize(
    "body",
    [
        {"moderation": "sometimes"},
        {"max_depth": 0},
        {"origins": ["https://x.example/path"]},
        {"origins": ["javascript:alert(1)"]},
        {"notify_emails": ["not-an-email"]},
        {"edit_window_seconds": -1},
        {"unknown_setting": 1},
        {"name": ""},
        {"name": "   "},
        {"name": "The Daily\nBcc: all@example.org"},  # the sender's name of every mail of the site
        {"name": "The Daily\u2028x"},
        {"name": "The \u202eDaily"},
        {"name": "x" * 201},
    ],
)
def test_site_settings_are_validated(client, admin, body):
    response = client.patch(f"{MOD}/sites/news", json=body, headers=admin)
    assert response.status_code == 422


def test_a_site_name_is_trimmed_and_a_new_one_is_checked_as_a_changed_one(client, admin):
    assert client.patch(f"{MOD}/sites/news", json={"name": "  The News  "}, headers=admin).json["name"] == (
        "The News"
    )
    created = client.post(f"{MOD}/sites", json={"slug": "daily", "name": "Daily\r\nX"}, headers=admin)
    assert created.status_code == 422 and "name" in created.json["error"]["fields"]


def test_a_zero_stale_window_is_accepted_as_documented(client, admin):
    # docs/api.md: "0 turns it off"; the counters service reads 0 as never stale, the schema refused it.
    response = client.patch(f"{MOD}/sites/news", json={"stale_after_hours": 0}, headers=admin)
    assert response.status_code == 200
    assert response.json["settings"]["stale_after_hours"] == 0
    assert client.patch(f"{MOD}/sites/news", json={"stale_after_hours": -1}, headers=admin).status_code == 422


def test_a_moderator_reads_its_own_site_only(client, admin):
    moderator = bearer(StaffRole.MODERATOR, ["news"], "mod")
    assert [s["slug"] for s in client.get(f"{MOD}/sites", headers=moderator).json["items"]] == ["news"]
    assert client.get(f"{MOD}/sites/news", headers=moderator).status_code == 200
    assert client.get(f"{MOD}/sites/sport", headers=moderator).status_code == 403


# --- tokens --------------------------------------------------------------------------------------------


def test_tokens_are_issued_once_listed_without_secrets_and_revocable(client, admin):
    created = client.post(
        f"{MOD}/tokens", json={"role": "moderator", "sites": ["news"], "label": "night desk"}, headers=admin
    )
    assert created.status_code == 201
    secret = created.json["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{MOD}/comments", headers=headers).status_code == 200
    listed = client.get(f"{MOD}/tokens", headers=admin)
    assert secret not in listed.text
    assert {t["label"] for t in listed.json["items"]} >= {"chief", "night desk"}
    revoked = client.delete(f"{MOD}/tokens/{created.json['id']}", headers=admin)
    assert revoked.json["revoked_at"] is not None
    response = client.get(f"{MOD}/comments", headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] == "token_revoked"


def test_a_moderator_token_needs_sites(client, admin):
    response = client.post(f"{MOD}/tokens", json={"role": "moderator", "label": "x"}, headers=admin)
    assert response.status_code == 422 and "sites" in response.json["error"]["fields"]


def test_token_use_is_recorded(client, admin, clock):
    client.get(f"{MOD}/summary", headers=admin)
    token = db.session.scalar(select(StaffToken).where(StaffToken.label == "chief"))
    db.session.refresh(token)
    assert token.last_used_at == clock()


# --- audit ---------------------------------------------------------------------------------------------


def test_the_audit_log_records_rules_staff_and_administration(client, admin):
    comment_id = post(client).json["comment"]["id"]
    client.patch(f"{MOD}/comments/{comment_id}", json={"status": "spam", "reason": "ads"}, headers=admin)
    client.patch(f"{MOD}/sites/news", json={"max_links": 5}, headers=admin)
    _ban(client, admin, kind="word", value="x")
    entries = client.get(f"{MOD}/audit", query_string={"site": "news"}, headers=admin).json["items"]
    actions = [(e["actor"], e["action"]) for e in entries]
    assert actions[:4] == [
        ("chief", "ban_created"),
        ("chief", "site_updated"),
        ("chief", "status:spam"),
        ("system", "held"),
    ]
    spam = entries[2]
    assert spam["comment_id"] == comment_id and spam["reason"] == "ads"
    assert spam["from_status"] == "pending" and spam["to_status"] == "spam"
    by_comment = client.get(f"{MOD}/audit", query_string={"comment_id": comment_id}, headers=admin).json[
        "items"
    ]
    assert len(by_comment) == 2
    by_actor = client.get(f"{MOD}/audit", query_string={"actor": "system"}, headers=admin).json["items"]
    assert {e["actor"] for e in by_actor} == {"system"}


def test_the_audit_log_cannot_be_changed_through_the_api(app):
    audit_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/moderation/audit")]
    assert {m for r in audit_rules for m in r.methods} <= {"GET", "HEAD", "OPTIONS"}
