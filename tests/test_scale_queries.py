"""A newsroom's real size (issue 20): every staff listing and public page is one index range, search is
full-text (FTS5 / tsvector), emails are compared as they are indexed, and bulk changes cost a number of
statements that does not grow with the number of comments. The times themselves are `make bench`'s
(bench/scale.py), never a test's."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event, select, text

from engagement import search
from engagement.extensions import db
from engagement.models import Comment, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.sql import count_queries

THREAD = "2025/05/xi-putin-moscow"
QUEUE = "/api/v1/moderation/comments"


@pytest.fixture
def staff(app) -> dict[str, str]:
    make_site()
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    return {"Authorization": f"Bearer {secret}"}


def queue(client, staff, **query: Any) -> Any:
    response = client.get(QUEUE, query_string={"status": "all", **query}, headers=staff)
    assert response.status_code == 200, response.json
    return response.json


def bodies(answer: dict[str, Any]) -> list[str]:
    return [item["body"] for item in answer["items"]]


# --- search ----------------------------------------------------------------------------------------------


def test_search_finds_whole_words_and_their_beginnings_in_body_name_and_email(client, staff):
    post(client, body="The council voted on the budget.", author_name="Ana Lima")
    post(client, body="Nothing about it here.", author_email="councillor@example.org")
    post(client, body="A tram and a ferry.")
    assert bodies(queue(client, staff, q="council")) == [
        "Nothing about it here.",
        "The council voted on the budget.",
    ]
    assert bodies(queue(client, staff, q="BUDG")) == ["The council voted on the budget."]
    assert bodies(queue(client, staff, q="lima")) == ["The council voted on the budget."]
    # Every word must occur.
    assert bodies(queue(client, staff, q="tram ferry")) == ["A tram and a ferry."]
    assert bodies(queue(client, staff, q="tram council")) == []


def test_search_finds_words_of_scripts_with_combining_marks_on_both_databases(client, staff):
    # Hindi, Urdu, Arabic and Thai are among the widget's languages. PostgreSQL's locale counts Devanagari's
    # vowel signs as letters, Python and FTS5 do not: a search cut by Python found nothing there.
    post(client, body="हिन्दी समाचार पढ़ें", author_name="Ana Lima")
    post(client, body="مَرحَبا بِكُم", author_name="Ana Lima")
    post(client, body="ที่นี่ ประเทศไทย", author_name="Ana Lima")
    for word, body in (
        ("समाचार", "हिन्दी समाचार पढ़ें"),
        ("हिन्दी", "हिन्दी समाचार पढ़ें"),
        ("समा", "हिन्दी समाचार पढ़ें"),
        ("مَرحَبا", "مَرحَبا بِكُم"),
        ("ที่นี่", "ที่นี่ ประเทศไทย"),
    ):
        assert bodies(queue(client, staff, q=word)) == [body], word
    assert bodies(queue(client, staff, q="समाचार ประเทศไทย")) == []  # every word must occur


def test_search_follows_edits_and_deletions(client, staff):
    comment_id = post(client, body="Potholes on the high street.").json["comment"]["id"]
    client.patch(f"{QUEUE}/{comment_id}", json={"body": "Streetlights are out."}, headers=staff)
    assert bodies(queue(client, staff, q="potholes")) == []
    assert bodies(queue(client, staff, q="streetlights")) == ["Streetlights are out."]
    assert client.delete(f"{QUEUE}/{comment_id}", headers=staff).status_code in (200, 204)
    assert bodies(queue(client, staff, q="streetlights")) == []


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        "'",
        "*",
        "council*",
        '"council',
        "a:b",
        "x & y | !z",
        "NEAR(a b)",
        "OR",
        "-",
        "^",
        "(",
        "()",
        "col:council",
        "'; DROP TABLE comments; --",
        "\\",
        "\u0000",
        "%",
        "_",
        "🙂",
        "x" * 300,
        "a " * 40,
    ],
)
def test_no_search_text_is_a_syntax_error_in_either_database(client, staff, hostile):
    post(client, body="The council voted.")
    response = client.get(QUEUE, query_string={"status": "all", "q": hostile}, headers=staff)
    assert response.status_code in (200, 422), response.json
    if response.status_code == 200 and not search.terms(hostile):
        assert response.json["items"] == []


def test_search_pages_are_right_in_each_of_its_three_ways(client, staff, monkeypatch):
    # A tiny window and cap, so twelve comments take every branch: the page among the listing's next
    # rows (dense), every match fetched (sparse), and the plain condition (more matches than the cap).
    monkeypatch.setattr(search, "WINDOW", 4)
    for n in range(12):
        word = "common" if n % 2 else "plain"
        post(client, body=f"{word} {'rare' if n in (1, 2) else ''} number {n}")
    expected = [f"common number {n}" for n in (11, 9, 7, 5, 3)] + ["common rare number 1"]
    got: list[str] = []
    cursor = None
    while True:
        answer = queue(client, staff, q="common", limit=2, **({"cursor": cursor} if cursor else {}))
        got += [" ".join(b.split()) for b in bodies(answer)]
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert got == expected
    assert [" ".join(b.split()) for b in bodies(queue(client, staff, q="rare"))] == [
        "plain rare number 2",
        "common rare number 1",
    ]
    monkeypatch.setattr(search, "MAX_MATCHES", 1)
    assert [" ".join(b.split()) for b in bodies(queue(client, staff, q="rare"))] == [
        "plain rare number 2",
        "common rare number 1",
    ]


def test_the_search_triggers_are_in_place(app):
    # A migration that rebuilds comments (SQLite's batch mode) drops its triggers: it must run the DDL of
    # engagement.search again, or search quietly stops finding new comments.
    if db.engine.dialect.name == "sqlite":
        names = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {"comments_fts_insert", "comments_fts_delete", "comments_fts_update"} <= names
    else:
        names = set(db.session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
        assert {"comment_search_insert", "comment_search_update"} <= names


# --- emails ----------------------------------------------------------------------------------------------


def test_emails_are_stored_lower_cased_and_found_whatever_the_case(client, staff):
    post(client, author_email="Ana.Lima@Example.ORG", body="Mine.")
    assert db.session.scalar(select(Comment.author_email)) == "ana.lima@example.org"
    assert bodies(queue(client, staff, email="ANA.LIMA@example.org")) == ["Mine."]
    person = client.get(
        "/api/v1/moderation/people", query_string={"email": "Ana.Lima@EXAMPLE.org"}, headers=staff
    )
    assert [c["body"] for c in person.json["comments"]] == ["Mine."]


# --- plans: one index range per listing ------------------------------------------------------------------


def _comment_plans(statements: list[tuple[str, Any]]) -> list[str]:
    raw = db.session.connection().connection.dbapi_connection
    plans = []
    for statement, parameters in statements:
        if "FROM comments" not in statement or not statement.lstrip().startswith(("SELECT", "WITH")):
            continue
        plans.append(" | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)))
    return plans


def _record(call) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return statements


def test_every_listing_reads_comments_through_an_index_in_its_own_order(client, staff):
    # SQLite's planner has no statistics: what it picks here it picks at a million comments (the
    # PostgreSQL plans are shown by `make bench`'s scale table).
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner; PostgreSQL plans from table statistics")
    for n in range(6):
        post(client, body=f"The council met {n} times.", author_email=f"r{n}@example.org")
    first = queue(client, staff, limit=2)
    public = f"/api/v1/sites/news/comments?thread={quote(THREAD)}"
    top_cursor = client.get(f"{public}&sort=top&limit=2").json["next_cursor"]
    listings = {
        "all, one site": f"{QUEUE}?status=all&site=news",
        "all, every site": f"{QUEUE}?status=all",
        "pending, every site": f"{QUEUE}?status=pending",
        "spam, one site": f"{QUEUE}?status=spam&site=news",
        "thread=": f"{QUEUE}?status=all&thread={quote(THREAD)}",
        "email=": f"{QUEUE}?status=all&email=r3@example.org",
        "deep cursor": f"{QUEUE}?status=all&site=news&limit=2&cursor={first['next_cursor']}",
        "reported": f"{QUEUE}?status=reported",
        "search": f"{QUEUE}?status=all&q=council",
        "privacy lookup": "/api/v1/moderation/people?email=r3@example.org",
        "public oldest": f"{public}&sort=oldest",
        "public newest": f"{public}&sort=newest",
        "public top, deep": f"{public}&sort=top&limit=2&cursor={top_cursor}",
        "thread feed": f"/api/v1/sites/news/feed.atom?thread={quote(THREAD)}",
    }
    for name, url in listings.items():
        plans = _comment_plans(_record(lambda url=url: client.get(url, headers=staff)))
        assert plans, name
        for plan in plans:
            scans = plan.replace("SCAN comments USING", "").replace("SCAN comments_fts VIRTUAL TABLE", "")
            assert "SCAN comments" not in scans, (name, plan)
            # Sorting only a bounded set: one author's comments (the email's index), the ids a search
            # chose (by primary key, at most a page or search.MAX_MATCHES), the replies of a page's
            # top-level comments (ranked per root, from ix_comments_replies).
            bounded = any(
                reason in plan
                for reason in (
                    "(author_email=?)",
                    "USING INTEGER PRIMARY KEY",
                    "ix_comments_replies (root_id=?)",
                )
            )
            assert "TEMP B-TREE FOR ORDER BY" not in plan or bounded, (name, plan)


# --- statements that do not grow with the comments ---------------------------------------------------------


def _bulk_approve_statements(client, staff, n: int) -> int:
    # Ten threads each time, as many comments in each: one count change per thread, all alike.
    ids = [
        post(client, body=f"Held {n} {i}", thread=f"t{n}-{i % 10}").json["comment"]["id"] for i in range(n)
    ]
    db.session.execute(text("UPDATE comments SET status = 'pending'"))
    db.session.commit()
    with count_queries() as statements:
        response = client.post(f"{QUEUE}/bulk", json={"ids": ids, "action": "approve"}, headers=staff)
    assert response.status_code == 200 and len(response.json["updated"]) == n
    return len(statements)


def test_a_bulk_approve_costs_the_same_statements_for_ten_or_forty_comments(client, staff):
    _bulk_approve_statements(client, staff, 10)  # the token's first use is recorded once
    assert _bulk_approve_statements(client, staff, 10) == _bulk_approve_statements(client, staff, 40)


def test_anonymizing_an_author_costs_the_same_statements_for_five_or_twenty_comments(client, staff):
    counts = []
    # The token's first use of the request is recorded once: not a cost of the erasure.
    client.post(
        "/api/v1/moderation/people/erase",
        json={"email": "no@example.org", "mode": "anonymize"},
        headers=staff,
    )
    for n, email in ((5, "few@example.org"), (20, "many@example.org")):
        for i in range(n):
            post(client, body=f"By {email} {i}", author_email=email, thread=f"erase-{i % 3}")
        with count_queries() as statements:
            response = client.post(
                "/api/v1/moderation/people/erase", json={"email": email, "mode": "anonymize"}, headers=staff
            )
        assert response.status_code == 200 and response.json["comments"] == n
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_a_page_of_the_reported_queue_reads_its_reports_in_one_query(client, staff):
    queue(client, staff)  # the token's first use is recorded once
    counts = []
    for n in (3, 12):
        for i in range(n):
            cid = post(client, body=f"Reported {n} {i}").json["comment"]["id"]
            client.post(
                f"/api/v1/sites/news/comments/{cid}/reports",
                json={"reason": "abuse"},
                headers={"X-Engagement-Reader": f"reader-{n:04d}{i:08d}"},
                environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"},
            )
        with count_queries() as statements:
            answer = queue(client, staff, status="reported")
        assert len(answer["items"]) == {3: 3, 12: 15}[n]
        assert all(item["reports"]["open"] == 1 for item in answer["items"])
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_deleting_an_author_keeps_placeholders_for_others_replies_in_fixed_statements(client, staff):
    client.post(
        "/api/v1/moderation/people/erase", json={"email": "no@example.org", "mode": "delete"}, headers=staff
    )
    counts = []
    for n, email in ((5, "few@example.org"), (20, "many@example.org")):
        thread = f"delete-{n}"
        ids = [
            post(client, body=f"{email} {i}", author_email=email, thread=thread).json["comment"]["id"]
            for i in range(n)
        ]
        own_reply = post(client, body="my own reply", author_email=email, thread=thread, parent_id=ids[0])
        answer = post(client, body="an answer", thread=thread, parent_id=own_reply.json["comment"]["id"])
        post(client, body="another answer", thread=thread, parent_id=ids[1])
        with count_queries() as statements:
            response = client.post(
                "/api/v1/moderation/people/erase", json={"email": email, "mode": "delete"}, headers=staff
            )
        assert response.status_code == 200 and response.json["comments"] == n + 1
        counts.append(len(statements))
        left = {c.id: c.status for c in db.session.scalars(select(Comment).where(Comment.id.in_(ids)))}
        # ids[0] keeps the placeholder of its reply (which has an answer); ids[1] its own answer.
        assert left == {ids[0]: "deleted", ids[1]: "deleted"}
        assert db.session.get(Comment, answer.json["comment"]["id"]) is not None
        page = client.get(f"/api/v1/sites/news/comments?thread={thread}").json
        assert page["thread"]["comment_count"] == 2
    assert counts[0] == counts[1]


def test_counts_of_a_hundred_long_keys_are_asked_in_a_post_with_the_answer_of_get(client, staff):
    keys = [THREAD] + [f"news/2026/12/{n:03d}-a-realistic-article-slug-here" for n in range(99)]
    post(client, body="Counted.")
    query = "&".join(f"thread={quote(key, safe='/')}" for key in keys)
    assert len(f"GET /api/v1/sites/news/counts?{query} HTTP/1.1") > 4094  # gunicorn's request line limit
    posted = client.post("/api/v1/sites/news/counts", json={"thread": keys})
    assert posted.status_code == 200 and posted.json == client.get(f"/api/v1/sites/news/counts?{query}").json
    assert posted.json["counts"][THREAD] == 1 and posted.headers["Cache-Control"] == "private, no-cache"
    again = client.post(
        "/api/v1/sites/news/counts", json={"thread": keys}, headers={"If-None-Match": posted.headers["ETag"]}
    )
    assert again.status_code == 304
    too_many = client.post("/api/v1/sites/news/counts", json={"thread": [*keys, "one-more"]})
    assert too_many.status_code == 422 and "thread" in too_many.json["error"]["fields"]


def test_an_email_or_a_part_of_it_finds_the_same_comments_on_both_databases(client, staff):
    post(client, body="By address.", author_email="ana.lima@example.org")
    post(client, body="Snake_case and dotted.words in the body.")
    for query in ("ana.lima@example.org", "lima", "ANA"):
        assert bodies(queue(client, staff, q=query)) == ["By address."], query
    assert bodies(queue(client, staff, q="snake_case")) == ["Snake_case and dotted.words in the body."]
    assert bodies(queue(client, staff, q="words")) == ["Snake_case and dotted.words in the body."]
