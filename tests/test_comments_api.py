"""Reader comments API: post, list, reply, edit, delete, like, counts, feed, avatars."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import delete, func, select, text, update

from engagement.database import realign_id_sequence
from engagement.extensions import db
from engagement.models import Comment, Thread
from tests.factories import comment_payload, make_site, post

THREAD = "2025/05/xi-putin-moscow"
API = "/api/v1/sites/news"


@pytest.fixture
def site(app):
    return make_site("news", origins=["https://news.example"])


def listing(client, thread=THREAD, **params):
    return client.get(f"{API}/comments", query_string={"thread": thread, **params})


# --- posting and listing -------------------------------------------------------------------------------


def test_first_comment_creates_the_thread_and_is_listed(client, site):
    response = post(client, author_name="Ann", body="Hello *world*")
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "approved"
    assert body["edit_token"] and body["edit_expires_at"].endswith("Z")
    assert body["comment"]["html"] == "<p>Hello <em>world</em></p>"
    assert body["comment"]["author"]["name"] == "Ann"

    page = listing(client).json
    assert page["thread"] == {
        "key": THREAD,
        "title": "Xi Jinping to Join Putin in Moscow",
        "url": "https://news.example/2025/05/xi-putin-moscow",
        "comment_count": 1,
        "closed": False,
    }
    [comment] = page["comments"]
    assert set(comment) == {
        "id", "parent_id", "depth", "author", "html", "created_at", "edited_at", "likes", "status", "replies",
        "reply_count", "more_replies", "replies_cursor",
    }  # fmt: skip
    assert comment["author"]["avatar"].startswith("/api/v1/sites/news/avatars/")
    assert page["next_cursor"] is None
    # The site's limits a client applies, and nothing else: each one is part of the page's ETag.
    assert page["settings"] == {
        "max_depth": 5,
        "max_body_length": 10_000,
        "edit_window_seconds": 900,
        "live_interval_seconds": 30,
        "sso_required": False,
        "sso_login_url": None,
    }


def test_unknown_site_is_404_site_not_found(client, site):
    response = client.get("/api/v1/sites/nope/comments", query_string={"thread": THREAD})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "site_not_found"


def test_unknown_thread_lists_empty_and_creates_nothing(client, site):
    response = listing(client, thread="never/commented")
    assert response.status_code == 200
    assert response.json["comments"] == []
    assert response.json["thread"]["comment_count"] == 0
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_a_thread_not_made_yet_is_answered_with_its_own_key_never_with_another_ones(client, site):
    # Every thread without a comment yet has the same version; its cached page must not serve another.
    first = listing(client, thread="never/commented").json
    second = listing(client, thread="not/yet/either").json
    assert first["thread"]["key"] == "never/commented"
    assert second["thread"]["key"] == "not/yet/either"


def test_author_email_is_never_returned_publicly(client, site):
    post(client, author_email="secret.person@example.org")
    for response in (listing(client), client.get(f"{API}/feed.atom")):
        assert "secret.person" not in response.text


def test_thread_url_must_be_on_an_allowed_origin(client, site):
    response = post(client, thread_url="https://evil.example/page")
    assert response.status_code == 422
    assert "thread_url" in response.json["error"]["fields"]


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"author_name": ""}, "author_name"),
        ({"author_name": "   "}, "author_name"),
        ({"author_name": "\u200b\u200d"}, "author_name"),
        ({"author_name": "<b>Bob</b>"}, "author_name"),
        ({"author_name": "Bob\x07"}, "author_name"),
        ({"author_name": "Bob\rBcc: all@example.org"}, "author_name"),
        ({"author_name": "Bob\u2028Bcc: all@example.org"}, "author_name"),
        ({"author_name": "Bob\u202enimda"}, "author_name"),
        ({"author_name": "Bob\u2067x"}, "author_name"),
        ({"author_name": "x" * 246}, "author_name"),
        ({"author_email": ""}, "author_email"),
        ({"author_email": "not-an-email"}, "author_email"),
        ({"author_email": "a" * 95 + "@x.org"}, "author_email"),
        ({"author_url": "javascript:alert(1)"}, "author_url"),
        ({"author_url": "ftp://files.example"}, "author_url"),
        ({"author_url": "https://" + "a" * 200 + ".com"}, "author_url"),
        ({"body": ""}, "body"),
        ({"body": " \n\t "}, "body"),
        ({"parent_id": "1"}, "parent_id"),
        ({"thread": ""}, "thread"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_fields_get_422_with_a_message_for_the_field(client, site, overrides, field):
    response = post(client, **overrides)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert all(isinstance(m, str) and m for m in error["fields"][field])


def test_missing_required_fields_are_each_reported(client, site):
    response = client.post(f"{API}/comments", json={"thread": THREAD})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"author_name", "author_email", "body"}
    assert response.json["error"]["fields"]["author_name"] == ["Please enter your name."]


def test_name_is_trimmed_and_nfc_normalized_and_email_normalized(client, site):
    response = post(client, author_name="  Zoe\u0301  ", author_email="Zoe@EXAMPLE.org")
    assert response.status_code == 201
    comment = db.session.get(Comment, response.json["comment"]["id"])
    assert comment.author_name == "Zo\u00e9"
    assert comment.author_email == "zoe@example.org"  # lower-cased whole: every rule compares addresses


def test_names_keep_the_joiners_and_bidi_marks_their_scripts_are_written_with(client, site):
    # Persian with a zero-width non-joiner, Hindi with a joiner, a name ending in a right-to-left mark.
    for name in (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647",
        "\u0915\u094d\u200d\u0937",
        "\u05d3\u05df 2\u200f",
    ):
        response = post(client, author_name=name, body=f"Hello from {name}")
        assert response.status_code == 201, response.json
        assert response.json["comment"]["author"]["name"] == name


def test_bare_domain_website_gets_https(client, site):
    response = post(client, author_url="blog.example.com")
    assert response.json["comment"]["author"]["url"] == "https://blog.example.com"


def test_body_over_the_site_limit_is_rejected(client, app):
    make_site("news", max_body_length=20)
    response = post(client, body="x" * 21)
    assert response.status_code == 422
    assert "20" in response.json["error"]["fields"]["body"][0]


def test_malformed_json_is_400_invalid_json(client, site):
    response = client.post(f"{API}/comments", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_a_json_body_that_is_not_an_object_is_400(client, site):
    response = client.post(f"{API}/comments", json=[1, 2])
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_body_neither_json_nor_a_form_is_415(client, site):
    response = client.post(f"{API}/comments", data="body=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_form_post_from_no_page_of_the_site_is_refused_before_it_is_read(client, app):
    make_site("news", origins=["https://news.example"])
    response = client.post(f"{API}/comments", data={"body": "x"})
    assert response.status_code == 403
    assert "Post this form from a page of the site." in response.get_data(as_text=True)


def test_oversized_body_is_413_json(client, site):
    response = client.post(f"{API}/comments", json=comment_payload(body="x" * 70_000))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_markup_in_the_body_is_shown_as_text(client, site):
    response = post(client, body="<script>alert(1)</script> hi")
    assert "&lt;script&gt;" in response.json["comment"]["html"]
    assert "<script" not in response.json["comment"]["html"]


# --- replies -------------------------------------------------------------------------------------------


def test_replies_are_nested_under_their_parent(client, site):
    parent = post(client).json["comment"]
    reply = post(client, parent_id=parent["id"]).json["comment"]
    post(client, parent_id=reply["id"])
    [top] = listing(client).json["comments"]
    assert top["id"] == parent["id"]
    [child] = top["replies"]
    assert child["parent_id"] == parent["id"] and child["depth"] == 1
    assert child["replies"][0]["depth"] == 2


def test_reply_to_a_comment_of_another_thread_is_404(client, site):
    other = post(client, thread="other/article").json["comment"]
    response = post(client, parent_id=other["id"])
    assert response.status_code == 404
    assert response.json["error"]["code"] == "parent_not_found"


def test_reply_to_a_pending_comment_is_403(client, app):
    make_site("news", moderation="all")
    pending = post(client).json["comment"]
    response = post(client, parent_id=pending["id"])
    assert response.status_code == 403
    assert response.json["error"]["code"] == "reply_to_unapproved"


def test_replies_deeper_than_max_depth_attach_to_the_deepest_allowed_ancestor(client, app):
    make_site("news", max_depth=3)
    parent_id = None
    depths = []
    for _ in range(5):
        comment = post(client, parent_id=parent_id).json["comment"]
        depths.append(comment["depth"])
        parent_id = comment["id"]
    assert depths == [0, 1, 2, 2, 2]


# --- closing -------------------------------------------------------------------------------------------


def test_closed_thread_refuses_comments(client, site):
    post(client)
    db.session.execute(update(Thread).values(closed=True, version=Thread.version + 1))
    db.session.commit()
    response = post(client)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "thread_closed"
    assert listing(client).json["thread"]["closed"] is True


def test_thread_older_than_close_after_days_refuses_comments(client, app, clock):
    make_site("news", close_after_days=14)
    assert post(client).status_code == 201
    clock.advance(days=15)
    assert post(client).json["error"]["code"] == "thread_closed"


# --- edit and delete -----------------------------------------------------------------------------------


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_author_edits_within_the_window(client, site, clock):
    posted = post(client, body="Frist").json
    clock.advance(minutes=5)
    response = client.patch(
        f"{API}/comments/{posted['comment']['id']}",
        json={"body": "First **edit**"},
        headers=_auth(posted["edit_token"]),
    )
    assert response.status_code == 200
    assert response.json["comment"]["html"] == "<p>First <strong>edit</strong></p>"
    assert response.json["comment"]["edited_at"] is not None
    assert listing(client).json["comments"][0]["html"] == "<p>First <strong>edit</strong></p>"


def test_edit_after_the_window_is_403_edit_window_expired(client, site, clock):
    posted = post(client).json
    clock.advance(minutes=16)
    response = client.patch(
        f"{API}/comments/{posted['comment']['id']}",
        json={"body": "late"},
        headers=_auth(posted["edit_token"]),
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "edit_window_expired"


@pytest.mark.parametrize("header", [None, "Bearer forged", "Basic abc"])
def test_edit_without_a_valid_token_is_403_invalid_edit_token(client, site, header):
    posted = post(client).json
    headers = {"Authorization": header} if header else {}
    response = client.patch(f"{API}/comments/{posted['comment']['id']}", json={"body": "x"}, headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "invalid_edit_token"


def test_one_comments_token_does_not_edit_another(client, site):
    mine = post(client).json
    theirs = post(client).json
    response = client.patch(
        f"{API}/comments/{theirs['comment']['id']}", json={"body": "x"}, headers=_auth(mine["edit_token"])
    )
    assert response.json["error"]["code"] == "invalid_edit_token"


def test_a_token_of_a_deleted_comment_does_not_reach_the_next_comment_given_its_id(client, site):
    # SQLite used to hand a deleted highest id to the next row: the old token then edited a stranger's.
    mine = post(client).json
    assert (
        client.delete(
            f"{API}/comments/{mine['comment']['id']}", headers=_auth(mine["edit_token"])
        ).status_code
        == 204
    )
    theirs = post(client, body="A stranger's words").json
    assert theirs["comment"]["id"] > mine["comment"]["id"]

    # Even were an id reused (a restore, a hand-made row), the token's key belongs to the old comment.
    db.session.execute(
        update(Comment).where(Comment.id == theirs["comment"]["id"]).values(id=mine["comment"]["id"])
    )
    db.session.commit()
    for method in (client.patch, client.delete):
        response = method(
            f"{API}/comments/{mine['comment']['id']}", json={"body": "x"}, headers=_auth(mine["edit_token"])
        )
        assert response.status_code == 403
        assert response.json["error"]["code"] == "invalid_edit_token"
    assert db.session.get(Comment, mine["comment"]["id"]).body == "A stranger's words"


def test_no_table_hands_a_deleted_highest_id_to_the_next_row(app):
    # Every id that can appear in a token, a link, an audit entry or an export (AUTOINCREMENT on SQLite).
    for table in db.metadata.sorted_tables:
        if [column.name for column in table.primary_key.columns] == ["id"]:
            assert table.dialect_options["sqlite"]["autoincrement"], table.name
    if db.engine.dialect.name == "sqlite":
        schema = dict(
            db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
        )
        assert "AUTOINCREMENT" in schema["comments"] and "AUTOINCREMENT" in schema["audit_entries"]


def test_realigning_ids_after_a_restore_never_moves_back_to_a_deleted_id(client, site):
    first, second = post(client).json, post(client).json
    db.session.execute(delete(Comment).where(Comment.id == second["comment"]["id"]))
    realign_id_sequence(Comment.__table__)  # what a JSON restore does after writing explicit ids
    db.session.commit()
    assert post(client).json["comment"]["id"] > second["comment"]["id"] > first["comment"]["id"]


def test_an_imported_comment_takes_no_edit_token(client, site):
    posted = post(client).json
    db.session.execute(update(Comment).values(edit_key_digest=None))  # as an import or an erasure leaves it
    db.session.commit()
    response = client.patch(
        f"{API}/comments/{posted['comment']['id']}", json={"body": "x"}, headers=_auth(posted["edit_token"])
    )
    assert response.json["error"]["code"] == "invalid_edit_token"


def test_the_edit_window_is_the_one_the_poster_was_told(client, site, clock):
    # A token refused once the window closed must stay refused when staff widen the window later.
    closed = make_site("closed", edit_window_seconds=0)
    posted = post(client, site="closed").json
    assert posted["edit_expires_at"] == posted["comment"]["created_at"]
    path = f"/api/v1/sites/closed/comments/{posted['comment']['id']}"
    assert client.patch(path, json={"body": "x"}, headers=_auth(posted["edit_token"])).json["error"][
        "code"
    ] == ("edit_window_expired")
    closed.settings = closed.settings.replace(edit_window_seconds=3600)
    db.session.commit()
    response = client.patch(path, json={"body": "x"}, headers=_auth(posted["edit_token"]))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "edit_window_expired"

    # And a narrower window later does not cut short what the poster was promised.
    posted = post(client).json
    site.settings = site.settings.replace(edit_window_seconds=60)
    db.session.commit()
    clock.advance(minutes=10)
    response = client.patch(
        f"{API}/comments/{posted['comment']['id']}",
        json={"body": "fixed"},
        headers=_auth(posted["edit_token"]),
    )
    assert response.status_code == 200


def test_edit_that_adds_links_goes_back_to_moderation(client, site):
    posted = post(client).json
    response = client.patch(
        f"{API}/comments/{posted['comment']['id']}",
        json={"body": "see https://a.example.com and https://b.example.com"},
        headers=_auth(posted["edit_token"]),
    )
    assert response.json["status"] == "pending"
    assert listing(client).json["thread"]["comment_count"] == 0


def test_delete_without_replies_removes_the_comment(client, site):
    posted = post(client).json
    response = client.delete(f"{API}/comments/{posted['comment']['id']}", headers=_auth(posted["edit_token"]))
    assert response.status_code == 204
    page = listing(client).json
    assert page["comments"] == [] and page["thread"]["comment_count"] == 0


def test_delete_with_replies_leaves_a_placeholder_without_author_or_body(client, site):
    parent = post(client, author_name="Parent").json
    reply = post(client, parent_id=parent["comment"]["id"]).json
    client.delete(f"{API}/comments/{parent['comment']['id']}", headers=_auth(parent["edit_token"]))
    [placeholder] = listing(client).json["comments"]
    assert placeholder["status"] == "deleted"
    assert placeholder["author"] == {"name": "", "url": None, "avatar": None, "signed_in": False}
    assert placeholder["html"] == ""
    assert placeholder["replies"][0]["id"] == reply["comment"]["id"]
    stored = db.session.get(Comment, parent["comment"]["id"])
    assert stored.author_email == "" and stored.body == "" and stored.ip_hash is None
    assert listing(client).json["thread"]["comment_count"] == 1

    # When the last reply goes, the placeholder goes with it.
    client.delete(f"{API}/comments/{reply['comment']['id']}", headers=_auth(reply["edit_token"]))
    assert listing(client).json["comments"] == []
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


# --- likes ---------------------------------------------------------------------------------------------

READER = {"X-Engagement-Reader": "reader-0123456789abcdef"}


def test_like_is_counted_once_per_reader_and_can_be_taken_back(client, site):
    comment_id = post(client).json["comment"]["id"]
    url = f"{API}/comments/{comment_id}/likes"
    assert client.post(url, headers=READER).json == {"likes": 1, "liked": True}
    assert client.post(url, headers=READER).json == {"likes": 1, "liked": True}
    other = {"X-Engagement-Reader": "another-reader-000000"}
    assert client.post(url, headers=other).json == {"likes": 2, "liked": True}
    assert client.delete(url, headers=READER).json == {"likes": 1, "liked": False}
    assert client.delete(url, headers=READER).json == {"likes": 1, "liked": False}
    assert listing(client).json["comments"][0]["likes"] == 1


def test_like_needs_a_reader_id(client, site):
    comment_id = post(client).json["comment"]["id"]
    response = client.post(f"{API}/comments/{comment_id}/likes")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "missing_reader"
    bad = client.post(f"{API}/comments/{comment_id}/likes", headers={"X-Engagement-Reader": "<x>"})
    assert bad.json["error"]["code"] == "invalid_reader"


def test_pending_comments_cannot_be_liked(client, app):
    make_site("news", moderation="all")
    comment_id = post(client).json["comment"]["id"]
    response = client.post(f"{API}/comments/{comment_id}/likes", headers=READER)
    assert response.status_code == 404


# --- sorting and pagination ----------------------------------------------------------------------------


def test_sorts_and_cursor_pagination_cover_every_comment_once(client, site, clock):
    ids = []
    for _ in range(7):
        ids.append(post(client).json["comment"]["id"])
        clock.advance(seconds=1)
    client.post(f"{API}/comments/{ids[3]}/likes", headers=READER)

    seen, cursor = [], None
    while True:
        page = listing(client, limit=3, **({"cursor": cursor} if cursor else {})).json
        seen += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids

    newest = listing(client, sort="newest", limit=2).json
    assert [c["id"] for c in newest["comments"]] == [ids[6], ids[5]]
    second = listing(client, sort="newest", limit=2, cursor=newest["next_cursor"]).json
    assert [c["id"] for c in second["comments"]] == [ids[4], ids[3]]
    assert listing(client, sort="top").json["comments"][0]["id"] == ids[3]


@pytest.mark.parametrize("params", [{"cursor": "garbage!"}, {"limit": 0}, {"limit": 201}, {"sort": "random"}])
def test_bad_listing_parameters_are_422(client, site, params):
    response = listing(client, **params)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


# --- ETag ----------------------------------------------------------------------------------------------


def test_repeated_read_is_304_until_the_thread_changes(client, site):
    post(client)
    first = listing(client)
    etag = first.headers["ETag"]
    again = client.get(f"{API}/comments", query_string={"thread": THREAD}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    post(client)
    changed = client.get(f"{API}/comments", query_string={"thread": THREAD}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_like_changes_the_etag(client, site):
    comment_id = post(client).json["comment"]["id"]
    etag = listing(client).headers["ETag"]
    client.post(f"{API}/comments/{comment_id}/likes", headers=READER)
    assert listing(client).headers["ETag"] != etag


# --- counts, feed, avatars -----------------------------------------------------------------------------


def test_counts_for_many_threads_in_one_answer(client, site):
    post(client, thread="a")
    post(client, thread="a")
    post(client, thread="b")
    response = client.get(f"{API}/counts", query_string=[("thread", "a"), ("thread", "b"), ("thread", "c")])
    assert response.json == {"counts": {"a": 2, "b": 1, "c": 0}}


def test_counts_accept_at_most_100_threads(client, site):
    response = client.get(f"{API}/counts", query_string=[("thread", str(i)) for i in range(101)])
    assert response.status_code == 422


def test_counts_need_a_thread(client, site):
    assert client.get(f"{API}/counts").status_code == 422


def test_atom_feed_is_valid_xml_with_escaped_content(client, site):
    post(client, author_name='Ann & "Co" <3', body="1 < 2 & <script>x</script>")
    response = client.get(f"{API}/feed.atom", query_string={"thread": THREAD})
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = root.findall("a:entry", ns)
    assert entry.find("a:author/a:name", ns).text == 'Ann & "Co" <3'
    content = entry.find("a:content", ns)
    assert content.get("type") == "html"
    assert "&lt;script&gt;" in content.text
    assert (
        entry.find("a:link", ns)
        .get("href")
        .endswith(f"#comment-{json.loads(listing(client).data)['comments'][0]['id']}")
    )


def test_feed_lists_only_approved_comments(client, app):
    make_site("news", moderation="all")
    post(client, body="held back")
    root = ET.fromstring(client.get(f"{API}/feed.atom").data)
    assert root.findall("{http://www.w3.org/2005/Atom}entry") == []


@pytest.mark.parametrize("title", ["Breaking\x07news", "Two\nlines", "Tab\there", "x" * 301])
def test_a_thread_title_with_control_characters_or_too_long_is_refused(client, site, title):
    response = post(client, thread_title=title)
    assert response.status_code == 422
    assert "thread_title" in response.json["error"]["fields"]


def test_a_thread_title_is_trimmed_and_keeps_its_markup_as_text(client, site):
    post(client, thread_title="  Why 2 < 3 and <b> is not bold  ")
    assert listing(client).json["thread"]["title"] == "Why 2 < 3 and <b> is not bold"


def test_the_feed_stays_well_formed_whatever_a_stored_title_or_name_holds(client, site):
    # A control character in one thread's title (stored before titles were validated) broke the
    # site's whole feed: XML 1.0 cannot hold it, even escaped.
    post(client, author_name="Ann")
    db.session.execute(update(Thread).values(title="Bell\x07 and \x1b escape"))
    db.session.execute(update(Comment).values(author_name="Ann\x0b"))
    db.session.commit()
    for query in ({}, {"thread": THREAD}):
        feed = client.get(f"{API}/feed.atom", query_string=query)
        root = ET.fromstring(feed.data)  # raises on ill-formed XML
        assert "Bell\ufffd and \ufffd escape" in ET.tostring(root, encoding="unicode")


def test_avatar_is_a_deterministic_svg_with_a_long_cache(client, site):
    avatar = post(client).json["comment"]["author"]["avatar"]
    first, second = client.get(avatar), client.get(avatar)
    assert first.status_code == 200 and first.mimetype == "image/svg+xml"
    assert first.data == second.data
    assert "immutable" in first.headers["Cache-Control"]


def test_avatar_exposes_no_plain_hash_of_the_email(client, site):
    import hashlib

    email = "visible@example.org"
    avatar = post(client, author_email=email).json["comment"]["author"]["avatar"]
    for digest in (hashlib.md5(email.encode()).hexdigest(), hashlib.sha256(email.encode()).hexdigest()):  # noqa: S324
        assert digest[:32] not in avatar


def test_a_held_or_spam_answer_does_not_echo_the_avatar_of_a_guessed_email(client, site):
    # The avatar digest of a post with someone else's address equals the one on their public comments.
    victim = post(client, author_email="victim@example.org").json["comment"]["author"]["avatar"]
    spam = post(client, author_email="victim@example.org", hp="filled by a bot")
    assert spam.status_code == 202 and spam.json["comment"]["author"]["avatar"] is None
    site.settings = site.settings.replace(moderation="all")
    db.session.commit()
    held = post(client, author_email="victim@example.org", body="held for moderation")
    assert held.status_code == 202 and held.json["comment"]["author"]["avatar"] is None
    assert victim not in spam.text + held.text


def test_one_address_has_a_different_avatar_on_each_site(client, site):
    make_site("other")
    here = post(client, author_email="same@example.org").json["comment"]["author"]["avatar"]
    there = post(client, site="other", author_email="same@example.org").json["comment"]["author"]["avatar"]
    assert here.rsplit("/", 1)[1] != there.rsplit("/", 1)[1]


def test_bad_avatar_digest_is_404_json(client, site):
    response = client.get(f"{API}/avatars/not-hex.svg")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "avatar_not_found"


# --- CORS ----------------------------------------------------------------------------------------------


def test_cors_allows_the_sites_origins_only(client, site):
    ok = client.get(
        f"{API}/comments", query_string={"thread": THREAD}, headers={"Origin": "https://news.example"}
    )
    assert ok.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "Access-Control-Allow-Credentials" not in ok.headers
    foreign = client.get(
        f"{API}/comments", query_string={"thread": THREAD}, headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_preflight_allows_the_widgets_headers(client, site):
    response = client.options(
        f"{API}/comments",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "X-Engagement-Reader" in response.headers["Access-Control-Allow-Headers"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    # Nothing of an HTML page's: no media type, no page policy.
    assert "Content-Type" not in response.headers
    assert "Content-Security-Policy" not in response.headers


def test_browser_post_from_a_foreign_origin_is_403(client, site):
    response = client.post(
        f"{API}/comments", json=comment_payload(), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_nul_characters_are_refused_at_the_edge(client, site):
    response = post(client, author_name="Ann\x00")
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"author_name": ["Text cannot contain NUL characters."]}
    listing_response = client.get(f"{API}/comments", query_string={"thread": "a\x00b"})
    assert listing_response.status_code == 422


def test_a_site_slug_that_cannot_exist_is_404_without_a_query(client, site):
    response = client.get("/api/v1/sites/%00bad/comments", query_string={"thread": THREAD})
    assert response.status_code == 404
    # NUL in any path segment is refused by the URL converter, before the route knows it names a site.
    assert response.json["error"]["code"] == "not_found"
