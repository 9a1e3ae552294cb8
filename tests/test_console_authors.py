"""The queue's author panel and banning an author from the console: what the panel counts and lists,
the bans it finds, the ban form's fields and errors, and who may see or ban whom."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from engagement.extensions import db
from engagement.models import Ban, Comment
from tests.factories import post
from tests.test_console_queue import CANARY, comment_id, decide, signed_in, staff  # noqa: F401 (fixture)
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of

pytestmark = pytest.mark.usefixtures("staff")
FRAGMENT = {"X-Console-Fragment": "1"}


def ban(client, cid, *, json=False, csrf=None, **data):
    csrf = csrf if csrf is not None else csrf_of(client.get("/console"))
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/console/comments/{cid}/ban", data={"csrf_token": csrf, **data}, headers=headers)


def test_the_panel_counts_the_authors_comments_on_the_site_and_lists_the_last_ten(app, client):
    ids = [
        comment_id(post(client, "news", author_email="kim@example.org", body=f"Number {n}."))
        for n in range(12)
    ]
    comment_id(post(client, "news", author_email="other@example.org", body="Someone else."))
    comment_id(post(client, "sport", author_email="kim@example.org", body="Another site."))
    admin = signed_in(app, ADMIN)
    decide(admin, ids[0], "spam")
    decide(admin, ids[1], "trash")
    decide(admin, ids[2], "approved")
    response = admin.get(f"/console/comments/{ids[-1]}/author", headers=FRAGMENT)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<script" not in html
    assert "12: 9 pending, 1 approved, 1 spam, 1 trash" in html
    assert "17% (spam and trash)" in html  # 2 of 12
    recent = html[html.index('<ol class="recent">') :]
    assert recent.count("<li") == 10
    assert "Number 11." in recent and "Number 2." in recent and "Number 1." not in recent
    assert "Someone else." not in html and "Another site." not in html
    page = admin.get(f"/console/comments/{ids[-1]}/author").get_data(as_text=True)
    assert "<html" in page and "Back to the queue" in page and "<script" not in page


def test_the_panel_shows_the_bans_in_force_that_match_email_ip_or_domain(app, client):
    cid = comment_id(post(client, "news", author_email="kim@mail.example.org"))
    admin = signed_in(app, ADMIN)
    token = {"X-CSRF-Token": csrf_of(admin.get("/console")), "Accept": "application/json"}
    assert ban(admin, cid, json=True, kinds=["email", "domain"], expires="7d").status_code == 200
    # Unrelated bans: another email on the site, and the same email on another site.
    db.session.add(Ban(site_id=1, kind="email", value="someone@else.org", action="spam", created_by="t"))
    db.session.commit()
    html = admin.get(f"/console/comments/{cid}/author", headers=FRAGMENT).get_data(as_text=True)
    assert html.count(">Unban<") == 2
    assert "kim@mail.example.org" in html and "mail.example.org" in html and "someone@else.org" not in html
    lifted = db.session.scalars(db.select(Ban.id).where(Ban.kind == "domain")).one()
    response = admin.post(f"/console/bans/{lifted}/delete", headers=token)
    assert response.get_json()["message"] == f"Ban {lifted} lifted."
    html = admin.get(f"/console/comments/{cid}/author", headers=FRAGMENT).get_data(as_text=True)
    assert html.count(">Unban<") == 1


def test_banning_by_email_ip_and_domain_for_a_week(app, client, clock):
    cid = comment_id(post(client, "news", author_email="Kim@Example.org"))
    admin = signed_in(app, ADMIN)
    response = ban(admin, cid, json=True, kinds=["email", "ip", "domain"], expires="7d", note="troll")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["message"].startswith(f"Banned the author of comment {cid} by email, ip,")
    bans = db.session.scalars(db.select(Ban).order_by(Ban.id)).all()
    assert [b.kind for b in bans] == ["email", "ip", "domain"]
    assert bans[0].value == "kim@example.org" and bans[2].value == "example.org"
    assert all(b.note == "troll" and b.expires_at is not None for b in bans)


def test_banning_without_script_redirects_to_the_author_and_can_trash_their_comments(app, client):
    first = comment_id(post(client, "news", author_email="kim@example.org"))
    cid = comment_id(post(client, "news", author_email="kim@example.org", body="Again."))
    admin = signed_in(app, ADMIN)
    page = admin.get(f"/console/comments/{cid}/ban").get_data(as_text=True)
    assert 'name="kinds" value="email" checked' in page and 'value="forever" checked' in page
    response = ban(admin, cid, kinds="email", expires="forever", trash_existing="true")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/console/comments/{cid}/author"
    assert db.session.scalars(db.select(Ban.expires_at)).one() is None
    assert db.session.get(Comment, first).status == "trash"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"expires": "forever"}, "kinds", "Choose at least one: email, IP or email domain."),
        ({"kinds": "name", "expires": "forever"}, "kinds", "Must be one of: email, ip, domain."),
        ({"kinds": "email", "expires": "a year"}, "expires", "Must be one of: 1d, 7d, 30d, forever."),
        ({"kinds": "email", "note": "x" * 1001}, "note", "Longer than maximum length 1000."),
    ],
)
def test_bad_ban_fields_are_422_with_the_message_next_to_the_field(app, client, data, field, message):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    response = ban(admin, cid, **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error">' in page and message.split(":")[0] in page
    answer = ban(admin, cid, json=True, **data)
    assert answer.status_code == 422 and field in answer.get_json()["error"]["fields"]
    assert db.session.scalars(db.select(Ban)).all() == []


def test_a_kind_the_comment_has_no_value_for_is_a_field_error(app, client):
    cid = comment_id(post(client, "news"))
    comment = db.session.get(Comment, cid)
    comment.author_email = ""
    db.session.commit()
    response = ban(signed_in(app, ADMIN), cid, kinds=["ip", "domain"], note="kept " + CANARY)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This comment has no email domain to ban." in page
    assert 'value="kept &lt;script&gt;' in page and "<script>alert" not in page
    assert db.session.scalars(db.select(Ban)).all() == []


def test_a_moderator_cannot_see_or_ban_the_author_of_another_sites_comment(app, client):
    sport = comment_id(post(client, "sport", author_email="kim@example.org", body="Sport secret."))
    moderator = signed_in(app, MODERATOR)
    for headers in ({}, FRAGMENT):
        response = moderator.get(f"/console/comments/{sport}/author", headers=headers)
        assert response.status_code == 403 and "Sport secret." not in response.get_data(as_text=True)
    assert moderator.get(f"/console/comments/{sport}/ban").status_code == 403
    assert ban(moderator, sport, kinds="email").status_code == 403
    assert ban(moderator, sport, kinds="").status_code == 403  # a bad form tells nothing either
    assert moderator.get("/console/comments/999999/author").status_code == 404
    assert moderator.get(f"/console/comments/{2**70}/author").status_code == 404
    assert db.session.scalars(db.select(Ban)).all() == []


def test_a_moderator_cannot_lift_another_sites_ban(app, client):
    sport = comment_id(post(client, "sport"))
    ban(signed_in(app, ADMIN), sport, kinds="email")
    ban_id = db.session.scalars(db.select(Ban.id)).one()
    moderator = signed_in(app, MODERATOR)
    csrf = csrf_of(moderator.get("/console"))
    assert moderator.post(f"/console/bans/{ban_id}/delete", data={"csrf_token": csrf}).status_code == 403
    assert moderator.post("/console/bans/424242/delete", data={"csrf_token": csrf}).status_code == 404
    assert db.session.get(Ban, ban_id) is not None


def test_ban_and_unban_need_the_csrf_token(app, client):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    assert ban(admin, cid, csrf="", kinds="email").status_code == 403
    ban(admin, cid, kinds="email")
    ban_id = db.session.scalars(db.select(Ban.id)).one()
    assert admin.post(f"/console/bans/{ban_id}/delete", data={"csrf_token": "0" * 64}).status_code == 403
    assert db.session.get(Ban, ban_id) is not None


def test_hostile_author_names_user_agents_and_titles_are_inert_in_the_panel(app, client):
    cid = comment_id(
        post(
            client,
            "news",
            body=CANARY + " body",
            thread_title=CANARY,
            headers={"User-Agent": "<img src=x onerror=alert(1)>"},
        )
    )
    comment = db.session.get(Comment, cid)
    comment.author_name = CANARY
    comment.author_email = "<img src=x onerror=alert(1)>@example.org"
    comment.user_agent = "<img src=x onerror=alert(1)>"
    db.session.commit()
    admin = signed_in(app, ADMIN)
    ban(admin, cid, kinds=["email", "domain"])
    for headers in (FRAGMENT, {}):
        html = admin.get(f"/console/comments/{cid}/author", headers=headers).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert" in html and "&lt;img src=x" in html
    page = admin.get(f"/console/comments/{cid}/ban").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page


def test_the_panel_reads_the_authors_comments_from_the_email_site_indexes(app, client):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    cid = comment_id(post(client, "news", author_email="kim@example.org"))
    for n in range(5):
        comment_id(post(client, "news", author_email=f"other{n}@example.org", body=f"Other {n}."))
    admin = signed_in(app, ADMIN)
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM comments" in statement and "author_email" in statement.split("WHERE", 1)[-1]:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert admin.get(f"/console/comments/{cid}/author", headers=FRAGMENT).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(sent) == 3  # counts, first seen, the last ten
    for statement, parameters in sent:
        plan = " ".join(
            str(row[-1])
            for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
        assert "ix_comments_email_site" in plan, plan
        assert "SCAN comments" not in plan, plan


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", f"/console/comments/{2**70}/ban", {}),
        ("post", f"/console/comments/{2**70}/ban", {"kinds": "email"}),
        ("post", f"/console/comments/{2**70}/ban", {"kinds": "nonsense", "expires": "\x00"}),
        ("post", f"/console/bans/{2**70}/delete", {"comment": "x"}),
        ("post", "/console/bans/999/delete", {"comment": "<script>"}),
    ],
)
def test_ids_out_of_range_and_junk_are_404_not_errors(app, client, method, path, data):
    admin = signed_in(app, ADMIN)
    csrf = csrf_of(admin.get("/console"))
    response = getattr(admin, method)(path, data={"csrf_token": csrf, **data})
    assert response.status_code == 404
