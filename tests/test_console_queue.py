"""The console's queue page: tabs and counts, filters, cards, decisions and their permission checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from devtools.console_assets import BUDGET_BYTES, assets_size
from engagement.console.queue import reason_chips, relative_time
from engagement.extensions import db
from engagement.models import Comment, StaffRole
from engagement.staff import members
from tests.factories import make_site, post
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of, sign_in_by_link

CANARY = "<script>alert('canary')</script>"


@pytest.fixture
def staff(app):
    """Two sites that hold first comments, an admin and a moderator of "news" only."""
    make_site("news", moderation="first_time")
    make_site("sport", moderation="first_time")
    members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
    members.create_member(
        email=MODERATOR, display_name="Grace", role=StaffRole.MODERATOR, site_slugs=["news"]
    )


def comment_id(response) -> int:
    assert response.status_code == 202, response.get_json()  # held: first comments wait
    return response.get_json()["comment"]["id"]


def signed_in(app, email):
    client = app.test_client()
    sign_in_by_link(client, email)
    return client


def queue(client, **args):
    response = client.get("/console/queue", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def card_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="card-(\d+)"', html)]


def count_of(html: str, tab: str) -> int:
    return int(re.search(rf'data-count="{tab}">(\d+)<', html).group(1))


def decide(client, cid, status, *, csrf=None, seen=None, **extra):
    csrf = csrf if csrf is not None else csrf_of(client.get("/console"))
    data = {"csrf_token": csrf, "status": status, **({"seen": seen} if seen else {}), **extra}
    return client.post(f"/console/comments/{cid}/decision", data=data)


def test_home_links_to_the_queue(app, staff):
    client = signed_in(app, ADMIN)
    assert 'href="/console/queue"' in client.get("/console").get_data(as_text=True)


def test_tabs_show_their_counts_and_the_pending_tab_its_cards(app, client, staff):
    first = comment_id(post(client, "news"))
    second = comment_id(post(client, "sport"))
    page = queue(signed_in(app, ADMIN))
    assert set(card_ids(page)) == {first, second}
    assert (count_of(page, "pending"), count_of(page, "approved"), count_of(page, "all")) == (2, 0, 2)
    assert "First comment" in page


def test_one_site_and_the_filters_narrow_the_queue(app, client, staff):
    news = comment_id(post(client, "news", author_email="kim@example.org", body="About the harbour."))
    comment_id(post(client, "news", body="Something else."))
    sport = comment_id(post(client, "sport"))
    admin = signed_in(app, ADMIN)
    assert sport in card_ids(queue(admin, site="sport"))
    assert count_of(queue(admin, site="sport"), "pending") == 1
    assert card_ids(queue(admin, email="KIM@example.org")) == [news]
    assert card_ids(queue(admin, q="harbour")) == [news]
    assert card_ids(queue(admin, thread="2025/05/xi-putin-moscow", site="news"))[-1] == news


def test_a_nul_in_the_search_separates_words_as_any_other_non_letter_on_both_databases(app, client, staff):
    # The API refuses NUL (422); the console's filters reach the search as typed, and PostgreSQL cannot
    # hold a NUL in a query parameter: it once answered 503 here.
    harbour = comment_id(post(client, "news", body="About the harbour."))
    admin = signed_in(app, ADMIN)
    assert card_ids(queue(admin, q="harbour\x00")) == [harbour]
    assert card_ids(queue(admin, q="\x00")) == []


def test_approving_moves_a_card_to_the_approved_tab_and_back_to_the_same_filters(app, client, staff):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    response = decide(admin, cid, "approved", seen="pending", tab="pending", site="news")
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/queue?tab=pending&site=news"
    assert card_ids(queue(admin)) == []
    approved = queue(admin, tab="approved")
    assert card_ids(approved) == [cid]
    assert f"Last decision: approved by {ADMIN}" in approved


def test_a_decision_as_json_says_what_changed(app, client, staff):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    csrf = csrf_of(admin.get("/console/queue"))
    response = admin.post(
        f"/console/comments/{cid}/decision",
        data={"status": "trash", "seen": "pending"},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert response.get_json() == {
        "id": cid,
        "status": "trash",
        "previous": "pending",
        "stale": False,
        "message": f"Comment {cid}: trash.",
        "undoable": True,
    }
    undo = admin.post(
        f"/console/comments/{cid}/decision",
        data={"status": "pending", "seen": "trash"},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert undo.get_json()["status"] == "pending"
    assert db.session.get(Comment, cid).status == "pending"


def test_restore_returns_a_trashed_comment_to_where_it_was(app, client, staff):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    decide(admin, cid, "trash", seen="pending")
    assert 'value="restore"' in queue(admin, tab="trash")
    decide(admin, cid, "restore", seen="trash")
    assert db.session.get(Comment, cid).status == "pending"


def test_a_stale_card_shows_a_notice_and_changes_nothing(app, client, staff):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    decide(admin, cid, "spam", seen="pending")
    response = decide(admin, cid, "approved", seen="pending", tab="pending")
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Comment {cid} had changed since the page was shown (someone decided first)" in page
    assert db.session.get(Comment, cid).status == "spam"


def test_a_decision_already_made_is_stale_too(app, client, staff):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    csrf = csrf_of(admin.get("/console"))
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    decide(admin, cid, "approved", seen="pending")
    answer = admin.post(f"/console/comments/{cid}/decision", data={"status": "approved"}, headers=headers)
    assert answer.get_json()["stale"] is True
    assert answer.get_json()["message"].endswith("It is approved.")


def test_the_notice_takes_no_words_from_the_url(app, staff):
    admin = signed_in(app, ADMIN)
    assert "Call this number" not in queue(admin, notice="Call this number", stale="Call this number")


def test_a_moderator_sees_only_their_sites(app, client, staff):
    news = comment_id(post(client, "news"))
    comment_id(post(client, "sport"))
    moderator = signed_in(app, MODERATOR)
    page = queue(moderator)
    assert card_ids(page) == [news]
    assert 'value="sport"' not in page and 'value="news"' in page
    assert count_of(page, "pending") == 1
    assert "You have no site called that" in queue(moderator, site="sport")


def test_a_moderator_gets_403_on_another_sites_comment(app, client, staff):
    sport = comment_id(post(client, "sport"))
    response = decide(signed_in(app, MODERATOR), sport, "approved", seen="pending")
    assert response.status_code == 403
    assert db.session.get(Comment, sport).status == "pending"


def test_a_decision_needs_the_csrf_token(app, client, staff):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    assert decide(admin, cid, "approved", csrf="").status_code == 403
    assert decide(admin, cid, "approved", csrf="0" * 64).status_code == 403
    assert db.session.get(Comment, cid).status == "pending"


def test_an_unknown_decision_is_refused(app, client, staff):
    cid = comment_id(post(client, "news"))
    assert decide(signed_in(app, ADMIN), cid, "delete").status_code == 422


@pytest.mark.parametrize(
    "args",
    [
        {"tab": "nonsense"},
        {"site": "Not A Slug!"},
        {"q": "x" * 500},
        {"email": "x" * 500},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 300},
        {"thread": "\x00"},
    ],
)
def test_bad_filters_show_a_message_not_an_error(app, staff, args):
    page = queue(signed_in(app, ADMIN), **args)
    assert 'class="error"' in page


def test_hostile_names_bodies_titles_user_agents_and_reasons_render_inert(app, client, staff):
    # The API refuses tags in a name; an import or an older row may still hold one.
    admin = signed_in(app, ADMIN)
    reply_to = comment_id(post(client, "news", body=CANARY + " parent"))
    decide(admin, reply_to, "approved")
    cid = comment_id(
        post(
            client,
            "news",
            body=CANARY + " and **more**",
            thread_title=CANARY,
            parent_id=reply_to,
            headers={"User-Agent": CANARY},
        )
    )
    comment = db.session.get(Comment, cid)
    comment.author_name = CANARY
    comment.author_email = CANARY
    comment.spam_reasons = [CANARY]
    comment.moderated_by = CANARY
    comment.thread.title = CANARY
    db.session.commit()
    assert CANARY not in comment.html  # the stored body was sanitized when it was written
    page = queue(admin, tab="all")
    assert set(card_ids(page)) == {cid, reply_to}
    assert "<script>alert" not in page
    # name, email, reason, decider, thread title twice, user agent, the parent's excerpt
    assert page.count("&lt;script&gt;alert") >= 8


def test_reason_chips_name_the_rules_and_show_unknown_ones_as_they_are():
    assert reason_chips(["first_time", "max_links", "moderation_word:casino", "ban:3:email", "honeypot"]) == [
        "First comment",
        "Links",
        "Word match",
        "Banned email",
        "Honeypot",
    ]
    assert reason_chips(["ban:4:ip", "ban:5:domain", "held_by_staff", "<b>new</b>"]) == [
        "Banned IP",
        "Banned domain",
        "Held by staff",
        "<b>new</b>",
    ]


def test_relative_time_is_short_text(clock):
    now = clock()
    assert relative_time(now, now) == "just now"
    assert relative_time(now - timedelta(minutes=1), now) == "1 minute ago"
    assert relative_time(now - timedelta(hours=3), now) == "3 hours ago"
    assert relative_time(now - timedelta(days=2), now) == "2 days ago"


def test_the_queue_pages_by_fifty_with_a_cursor(app, client, staff):
    ids = [comment_id(post(client, "news", body=f"Number {n}.")) for n in range(51)]
    admin = signed_in(app, ADMIN)
    first = queue(admin)
    assert len(card_ids(first)) == 50
    next_page = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    rest = admin.get(next_page).get_data(as_text=True)
    assert set(card_ids(first)) | set(card_ids(rest)) == set(ids)
    assert 'rel="next"' not in rest


def test_the_console_scripts_and_styles_stay_within_their_budget() -> None:
    # Issue 15: the console's own JS and CSS at most 30 KB gzipped together (make bench reports it too).
    # Every static file a console template loads is counted, so a new page's script cannot slip past.
    assets = assets_size()
    assert {"pages/console.css", "pages/queue.js"} <= set(assets["files"])
    assert assets["gzip_bytes"] <= BUDGET_BYTES
