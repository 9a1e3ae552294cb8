"""Export a site as JSON Lines; `import json` of it into an empty database gives the same public answers."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.importers import pipeline
from engagement.models import Comment, OutboxMessage, Site, StaffRole
from engagement.sites.service import get_site
from engagement.staff.service import create_token
from tests.factories import make_site, post, sign_sso
from tests.import_files import WpComment, WpPost, sealed, wxr

READER_A = {"X-Engagement-Reader": "reader-aaaaaaaaaaaaaaaa"}
READER_B = {"X-Engagement-Reader": "reader-bbbbbbbbbbbbbbbb"}
THREADS = ("/2025/05/xi-putin-moscow", "/2025/05/unicode")


def staff_headers(role=StaffRole.ADMIN, sites=()):
    secret = create_token(role=role, site_slugs=list(sites), label=f"{role}-export")[1]
    return {"Authorization": f"Bearer {secret}"}


def build_newsroom(client, clock, admin) -> None:
    """A site with everything an export must carry, made through the public and staff APIs."""
    make_site("news", origins=["https://news.example"], max_depth=3, moderation_words=["casino"])
    ids = {}

    def comment(name, thread=THREADS[0], parent=None, **extra):
        clock.advance(minutes=7)
        response = post(client, thread=thread, parent_id=ids.get(parent), thread_url=None, **extra)
        assert response.status_code in (201, 202), response.json
        ids[name] = response.json["comment"]["id"]

    comment("top", author_name="Zoë 李雷", body="First! **bold** https://example.org")
    comment("reply", parent="top", body="A reply", notify_replies=True)
    comment("deep", parent="reply", body="A deeper reply")
    comment("deeper", parent="deep", body="Beyond max depth: attached to its ancestor")
    comment("doomed", body="This one is deleted but has a reply")
    comment("orphan", parent="doomed", body="Reply to a deleted comment")
    comment("held", body="Try the casino")  # held by a moderation word
    comment("spam", body="Spam soon")
    comment("other", thread=THREADS[1], body="Ünïcödé 😀", author_name="Ångström")
    comment("second", thread=THREADS[1], body="Second")
    # A reader the site signed in (single sign-on): the export keeps their user id, the restore too.
    secret = client.post("/api/v1/moderation/sites/news/sso/keys", json={}, headers=admin).json["secret"]
    token = sign_sso(secret, aud="news", sub="u-1", name="Signed Reader")
    session = client.post("/api/v1/sites/news/sso/session", json={"token": token}).json["session"]
    comment("signed", thread=THREADS[1], body="Signed in", headers={"X-Engagement-Session": session})
    for name, reader in (("top", READER_A), ("top", READER_B), ("other", READER_A)):
        assert (
            client.post(f"/api/v1/sites/news/comments/{ids[name]}/likes", headers=reader).status_code == 200
        )
    assert (
        client.patch(
            f"/api/v1/moderation/comments/{ids['spam']}", json={"status": "spam"}, headers=admin
        ).status_code
        < 300
    )
    assert (
        client.patch(
            f"/api/v1/moderation/comments/{ids['second']}", json={"pinned": True}, headers=admin
        ).status_code
        < 300
    )
    assert client.delete(f"/api/v1/moderation/comments/{ids['doomed']}", headers=admin).status_code == 204
    assert client.post("/api/v1/sites/news/engagement/followers", headers=READER_A).status_code < 300
    assert (
        client.post("/api/v1/sites/news/engagement/fans?target=author:zoe", headers=READER_B).status_code
        < 300
    )
    pushed = client.put(
        "/api/v1/moderation/sites/news/engagement/fans",
        json={"source": "facebook", "count": 1200},
        headers=admin,
    )
    assert pushed.status_code < 300
    assert (
        client.post(
            "/api/v1/moderation/bans", json={"site": "news", "kind": "word", "value": "viagra"}, headers=admin
        ).status_code
        < 300
    )
    assert client.post("/api/v1/sites/news/subscribers", json={"email": "sub@example.org"}).status_code == 202
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "sub@example.org"))
    confirm = re.search(r"/mail/confirm/[\w.-]+", message.text_body).group(0)
    assert client.post(confirm).status_code == 200


def public_answers(client) -> dict[str, object]:
    """Every public read a reader's browser makes, every page of every sort."""
    answers: dict[str, object] = {}
    for thread in THREADS:
        for sort in ("oldest", "newest", "top"):
            url = f"/api/v1/sites/news/comments?thread={thread}&sort={sort}&limit=2"
            while url:
                page = client.get(url).json
                answers[url] = page
                cursor = page["next_cursor"]
                url = (
                    f"/api/v1/sites/news/comments?thread={thread}&sort={sort}&limit=2&cursor={cursor}"
                    if cursor
                    else None
                )
    answers["counts"] = client.get(f"/api/v1/sites/news/counts?thread={THREADS[0]}&thread={THREADS[1]}").json
    for target in ("site", "author:zoe"):
        for reader in (READER_A, READER_B, {}):
            key = f"engagement {target} {reader}"
            answers[key] = client.get(f"/api/v1/sites/news/engagement?target={target}", headers=reader).json
    answers["feed"] = client.get("/api/v1/sites/news/feed.atom").text
    answers["badge"] = client.get("/badges/news/fans.json").json
    return answers


def lines_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def admin(app):
    return staff_headers()


def test_export_then_import_into_an_empty_database_gives_the_same_public_answers(
    app, client, clock, admin, make_app, tmp_path
):
    build_newsroom(client, clock, admin)
    before = public_answers(client)
    exported = client.get("/api/v1/moderation/sites/news/export", headers=admin)
    assert exported.status_code == 200 and exported.mimetype == "application/x-ndjson"
    path = tmp_path / "news.jsonl"
    path.write_bytes(exported.data)

    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()

    fresh = make_app()  # new process caches too
    result = fresh.test_cli_runner().invoke(
        args=["engagement", "import", "json", str(path), "--site", "news"]
    )
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert public_answers(fresh.test_client()) == before
        again = fresh.test_cli_runner().invoke(args=["engagement", "export", "--site", "news"])
    first, second = lines_of(exported.text), lines_of(again.output)
    for record in (first[0], second[0]):
        record.pop("exported_at")
    assert second == first  # the restore is exact, down to ids, hashes and microseconds


def test_export_lines_hold_everything_needed_to_restore(app, client, clock, admin):
    build_newsroom(client, clock, admin)
    records = lines_of(client.get("/api/v1/moderation/sites/news/export", headers=admin).text)

    kinds = [r["type"] for r in records]
    assert kinds[0] == "site" and records[0]["format"] == "engagement-export" and records[0]["version"] == 2
    assert kinds[-1] == "end" and records[-1]["lines"] == len(records) - 1
    assert records[0]["settings"]["max_depth"] == 3 and records[0]["origins"] == ["https://news.example"]
    assert set(kinds) == {
        "site",
        "thread",
        "comment",
        "counter",
        "counter_reader",
        "ban",
        "subscriber",
        "mail_contact",
        "end",
    }
    contact = next(r for r in records if r["type"] == "mail_contact")
    assert [t["key"] for t in contact["threads"]] == [THREADS[0]]
    comments = [r for r in records if r["type"] == "comment"]
    top = next(c for c in comments if c["author_name"] == "Zoë 李雷")
    signed = next(c for c in comments if c["author_name"] == "Signed Reader")
    assert signed["author_sso_id"] == "u-1" and top["author_sso_id"] is None
    assert top["author_email"].endswith("@example.org") and top["ip_hash"]
    assert top["likes"] == 2 and len(top["liked_by"]) == 2
    assert {c["status"] for c in comments} == {"approved", "pending", "spam", "deleted"}
    fans = next(
        r for r in records if r["type"] == "counter" and r["target"] == "site" and r["kind"] == "fans"
    )
    assert fans["sources"][0]["source"] == "facebook" and fans["history"]
    # Each thread is followed by its comments, parents before replies.
    positions = {r["id"]: n for n, r in enumerate(records) if r["type"] == "comment"}
    assert all(positions[c["parent_id"]] < positions[c["id"]] for c in comments if c["parent_id"])


def test_export_is_for_admins_only(app, client, clock, admin):
    make_site("news")
    moderator = staff_headers(StaffRole.MODERATOR, ["news"])
    refused = client.get("/api/v1/moderation/sites/news/export", headers=moderator)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/moderation/sites/news/export").status_code == 401
    assert client.get("/api/v1/moderation/sites/nope/export", headers=admin).status_code == 404


def test_cli_export_writes_the_file_and_refuses_an_unknown_site(app, runner, client, clock, admin, tmp_path):
    build_newsroom(client, clock, admin)
    target = tmp_path / "out.jsonl"
    result = runner.invoke(args=["engagement", "export", "--site", "news", "--output", str(target)])
    assert result.exit_code == 0, result.output
    api = lines_of(client.get("/api/v1/moderation/sites/news/export", headers=admin).text)
    cli = lines_of(target.read_text(encoding="utf-8"))
    assert [r["type"] for r in cli] == [r["type"] for r in api]

    missing = runner.invoke(args=["engagement", "export", "--site", "nope"])
    assert missing.exit_code != 0 and "site_not_found" in missing.output


def test_importing_an_export_twice_changes_nothing_the_second_time(
    app, client, clock, admin, tmp_path, runner
):
    build_newsroom(client, clock, admin)
    path = tmp_path / "news.jsonl"
    path.write_text(client.get("/api/v1/moderation/sites/news/export", headers=admin).text, encoding="utf-8")
    before = public_answers(client)

    result = runner.invoke(args=["engagement", "import", "json", str(path), "--site", "news"])

    assert result.exit_code == 0, result.output
    assert "0 new" in result.output
    assert public_answers(client) == before


def test_an_export_imported_as_another_site_keeps_its_comments_apart(
    app, client, clock, admin, tmp_path, runner
):
    build_newsroom(client, clock, admin)
    path = tmp_path / "news.jsonl"
    path.write_text(client.get("/api/v1/moderation/sites/news/export", headers=admin).text, encoding="utf-8")

    for _ in range(3):  # the copy's comments need new ids; later runs find them again
        result = runner.invoke(args=["engagement", "import", "json", str(path), "--site", "copy"])
        assert result.exit_code == 0, result.output
    original = client.get(f"/api/v1/sites/news/comments?thread={THREADS[0]}").json
    copy = client.get(f"/api/v1/sites/copy/comments?thread={THREADS[0]}").json
    assert copy["thread"] == original["thread"]
    assert [c["html"] for c in copy["comments"]] == [c["html"] for c in original["comments"]]
    assert {c["id"] for c in copy["comments"]}.isdisjoint({c["id"] for c in original["comments"]})
    assert "comments (0 new" in result.output
    per_site = dict(
        db.session.execute(select(Site.slug, func.count()).join(Comment).group_by(Site.slug)).all()
    )
    assert per_site["copy"] == per_site["news"]


def test_a_broken_or_foreign_line_is_refused_with_its_line_number(app, tmp_path, runner):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        sealed(
            [
                {"type": "site", "format": "engagement-export", "version": 2, "slug": "news", "name": "News",
                 "created_at": "2026-01-01T00:00:00Z"},
                {"type": "comment", "id": 1, "thread": "t", "status": "approved"},
            ]
        )
    )  # fmt: skip
    result = runner.invoke(args=["engagement", "import", "json", str(path), "--site", "news"])
    assert result.exit_code != 0 and "Line 2 (comment) is not valid" in result.output
    assert "created_at" in result.output
    assert runner.invoke(args=["engagement", "export", "--site", "news"]).exit_code != 0  # nothing was made


def exported_with_a_comment_repeated(client, admin, *, under: str, naming: str, **changes) -> list[dict]:
    """Two threads' export, and a copy of the first comment (other words, and ``changes``) listed under
    the thread ``under`` but naming the thread ``naming``."""
    make_site("news")
    original = post(client, thread=THREADS[0], body="The original", thread_url=None).json["comment"]
    reply = post(client, thread=THREADS[0], body="A reply", parent_id=original["id"], thread_url=None)
    assert reply.status_code == 201
    assert post(client, thread=THREADS[1], body="Elsewhere", thread_url=None).status_code == 201
    records = lines_of(client.get("/api/v1/moderation/sites/news/export", headers=admin).text)
    original = next(r for r in records if r["type"] == "comment" and r["body"] == "The original")
    copy = {**original, "thread": naming, "body": "An impostor", "html": "<p>An impostor</p>", **changes}
    last_of_thread = max(n for n, r in enumerate(records) if r.get("thread") == under)
    records.insert(last_of_thread + 1, copy)
    return records


@pytest.mark.parametrize(
    ("under", "naming", "changes", "reason"),
    [
        (THREADS[0], THREADS[0], {}, "duplicate_source_id"),
        (THREADS[0], THREADS[0], {"source": "disqus", "source_id": "77"}, "duplicate_source_id"),
        (THREADS[1], THREADS[1], {}, "duplicate_source_id"),
        (THREADS[1], THREADS[0], {}, "unknown_thread"),  # a thread's comments follow it, not another one
    ],
    ids=["same-thread", "same-id-other-source", "other-thread", "outside-its-thread"],
)
def test_a_comment_repeated_in_an_export_is_restored_once_and_the_repeat_reported(
    app, client, admin, tmp_path, runner, under, naming, changes, reason
):
    records = exported_with_a_comment_repeated(client, admin, under=under, naming=naming, **changes)
    path = tmp_path / "repeated.jsonl"
    path.write_text(sealed(records), encoding="utf-8")

    result = runner.invoke(args=["engagement", "import", "json", str(path), "--site", "copy"])

    assert result.exit_code == 0, result.output
    assert "3 comments (3 new, 0 updated)" in result.output
    assert f"skipped 1: {reason} 1" in result.output
    copied = client.get(f"/api/v1/sites/copy/comments?thread={THREADS[0]}").json
    assert [c["html"] for c in copied["comments"]] == ["<p>The original</p>"]
    assert [r["html"] for r in copied["comments"][0]["replies"]] == ["<p>A reply</p>"]


@pytest.mark.parametrize("batch_size", [500, 1], ids=["one-batch", "later-batch"])
def test_a_source_id_repeated_under_another_comment_id_is_restored_once(
    app, client, admin, tmp_path, runner, monkeypatch, batch_size
):
    make_site("news")
    wxr_path = tmp_path / "wordpress.xml"
    wxr_path.write_text(wxr([WpPost(1, "Post", "https://news.example/post/", [WpComment(5, "Five")])]))
    assert (
        runner.invoke(args=["engagement", "import", "wordpress", str(wxr_path), "--site", "news"]).exit_code
        == 0
    )
    records = lines_of(client.get("/api/v1/moderation/sites/news/export", headers=admin).text)
    five = next(r for r in records if r["type"] == "comment")
    records.append({**five, "id": five["id"] + 1000, "body": "An impostor", "html": "<p>An impostor</p>"})
    path = tmp_path / "repeated.jsonl"
    path.write_text(sealed(records), encoding="utf-8")
    monkeypatch.setattr(pipeline, "BATCH_SIZE", batch_size)

    result = runner.invoke(args=["engagement", "import", "json", str(path), "--site", "copy"])

    assert result.exit_code == 0, result.output
    assert "skipped 1: duplicate_source_id 1" in result.output
    copied = client.get("/api/v1/sites/copy/comments?thread=/post/").json
    assert [c["html"] for c in copied["comments"]] == ["<p>Five</p>"]


# --- an export that was cut is never restored in part -------------------------------------------------


def _restore(runner, path, *extra):
    return runner.invoke(args=["engagement", "import", "json", str(path), "--site", "copy", *extra])


def _nothing_restored(client) -> bool:
    return client.get("/api/v1/sites/copy/comments", query_string={"thread": THREADS[0]}).status_code == 404


@pytest.mark.parametrize("cut", ["before the end record", "mid-file", "mid-line", "end record only"])
def test_a_restore_of_a_cut_export_fails_loudly_and_restores_nothing(
    app, client, clock, admin, tmp_path, runner, cut
):
    build_newsroom(client, clock, admin)
    text = client.get("/api/v1/moderation/sites/news/export", headers=admin).text
    lines = text.splitlines(keepends=True)
    kept = {
        "before the end record": "".join(lines[:-1]),
        "mid-file": "".join(lines[: len(lines) // 2]),
        "mid-line": text[: len(text) - len(lines[-1]) - 17],
        "end record only": lines[0] + lines[-1],
    }[cut]
    path = tmp_path / "cut.jsonl"
    path.write_text(kept, encoding="utf-8")
    result = _restore(runner, path)
    assert result.exit_code != 0
    assert "Nothing was restored" in result.output and "export again" in result.output
    assert _nothing_restored(client)


def test_an_export_whose_lines_were_changed_is_refused(app, client, clock, admin, tmp_path, runner):
    build_newsroom(client, clock, admin)
    lines = client.get("/api/v1/moderation/sites/news/export", headers=admin).text.splitlines(keepends=True)
    comment = next(n for n, line in enumerate(lines) if line.startswith('{"type":"comment"'))
    lines[comment] = lines[comment].replace('"status":"approved"', '"status":"pending"', 1)
    path = tmp_path / "changed.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    assert _restore(runner, path).exit_code != 0 and _nothing_restored(client)


def test_an_export_that_fails_midway_never_writes_its_end_record(
    app, client, clock, admin, monkeypatch, tmp_path, runner
):
    build_newsroom(client, clock, admin)
    from engagement.portability import export

    def broken(site):
        raise RuntimeError("the database went away")
        yield  # pragma: no cover

    monkeypatch.setattr(export, "_mail", broken)
    written: list[str] = []
    lines = export.export_lines(site=get_site("news"))
    with pytest.raises(RuntimeError):
        written.extend(lines)
    assert written and not any(line.startswith('{"type":"end"') for line in written)
    path = tmp_path / "partial.jsonl"
    path.write_text("".join(written), encoding="utf-8")
    assert _restore(runner, path).exit_code != 0 and _nothing_restored(client)


def test_a_version_1_export_is_restored_only_when_told_it_is_whole(
    app, client, clock, admin, tmp_path, runner
):
    build_newsroom(client, clock, admin)
    records = lines_of(client.get("/api/v1/moderation/sites/news/export", headers=admin).text)[:-1]
    records[0]["version"] = 1
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    refused = _restore(runner, path)
    assert refused.exit_code != 0 and "--accept-unchecked" in refused.output and _nothing_restored(client)
    accepted = _restore(runner, path, "--accept-unchecked")
    assert accepted.exit_code == 0, accepted.output
    assert not _nothing_restored(client)


@pytest.mark.parametrize("forgery", ["counts made to match a cut", "no counts", "not a checksum", "bare"])
def test_a_forged_or_short_end_record_is_refused(app, client, clock, admin, tmp_path, runner, forgery):
    build_newsroom(client, clock, admin)
    lines = client.get("/api/v1/moderation/sites/news/export", headers=admin).text.splitlines(keepends=True)
    end = json.loads(lines[-1])
    kept = lines[: len(lines) // 2]
    if forgery == "counts made to match a cut":  # a cut file given an end record that fits its lines
        kinds = [json.loads(line)["type"] for line in kept]
        end |= {"lines": len(kept), "records": {kind: kinds.count(kind) for kind in set(kinds)}}
    elif forgery == "no counts":
        kept, end = lines[:-1], {"type": "end", "lines": end["lines"], "sha256": end["sha256"]}
    elif forgery == "not a checksum":
        kept, end = lines[:-1], end | {"sha256": "whole"}
    else:
        kept, end = lines[:-1], {"type": "end"}
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(kept) + json.dumps(end) + "\n", encoding="utf-8")
    result = _restore(runner, path)
    assert result.exit_code != 0 and "export_incomplete" in result.output, result.output
    assert _nothing_restored(client)
