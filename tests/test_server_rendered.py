"""Comments in the article's own HTML: the thread, count link and counters as fragments (no script), and
the fragment's form posted without JavaScript."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import update

from engagement.comments.avatars import inline_identicon
from engagement.extensions import db
from engagement.models import Thread
from tests.factories import comment_payload, make_site, post

ORIGIN = "https://news.example"
THREAD = "2025/05/xi-putin-moscow"
ARTICLE = f"{ORIGIN}/{THREAD}"
FRAGMENT = f"/api/v1/sites/news/comments.html?thread={THREAD}"


@pytest.fixture
def site(app: Any) -> Any:
    return make_site("news", origins=[ORIGIN])


def update_site_settings(site: Any, changes: dict[str, Any]) -> None:
    site.settings = site.settings.replace(**changes)
    db.session.commit()


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _form_post(
    client: Any,
    data: dict[str, Any],
    *,
    origin: str | None = ORIGIN,
    headers: dict[str, str] | None = None,
    ip: str = "203.0.113.9",
) -> Any:
    headers = ({"Origin": origin} if origin else {}) | (headers or {})
    return client.post(
        "/api/v1/sites/news/comments", data=data, headers=headers, environ_base={"REMOTE_ADDR": ip}
    )


def _form(**overrides: Any) -> dict[str, Any]:
    return {"hp": "", "lang": "en", **comment_payload(**overrides)}


# -- the thread fragment ------------------------------------------------------------------------------


def test_thread_fragment_holds_the_first_page_in_the_widgets_markup_without_script(client, site):
    first = post(client, body="First, with a [link](https://example.org/x).").get_json()["comment"]
    post(client, parent_id=first["id"], body="A reply.")

    answer = client.get(FRAGMENT + f"&url={ARTICLE}")

    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    page = Elements(html)
    assert not [a for t, a in page.tags if t == "script"]
    assert not re.search(r"\son\w+=", html), "no inline event handler"
    (container,) = page.find("div", **{"data-engagement": "comments"})
    assert container["data-site"] == "news" and container["data-thread"] == THREAD
    assert container["lang"] == "en" and container["dir"] == "ltr"
    (section,) = page.find("section", **{"class": "w"})
    assert section["data-count"] == "2"
    assert section["data-etag"] == client.get(f"/api/v1/sites/news/comments?thread={THREAD}").headers[
        "ETag"
    ].strip('"')
    assert json.loads(section["data-settings"])["live_interval_seconds"] == 30
    (top,) = page.find("li", **{"data-id": str(first["id"])})
    assert top["id"] == f"comment-{first['id']}" and top["data-reply-count"] == "1"
    assert any("2 Comments" in text for text in page.text)
    assert "A reply." in html
    # Each name is isolated (dir=auto), as the widget draws it: it cannot reorder the date after it.
    assert [who["dir"] for who in page.find("span", **{"class": "who"})] == ["auto", "auto"]
    # Links in bodies keep the sanitizer's rel; nothing a reader wrote is left unescaped.
    (link,) = page.find("a", href="https://example.org/x")
    assert link["rel"] == "nofollow ugc noopener"
    (form,) = page.find("form")
    assert form["method"] == "post" and form["action"] == "http://localhost/api/v1/sites/news/comments"
    assert form["accept-charset"] == "utf-8", "a page in another charset still posts UTF-8"
    hidden = {a["name"]: a["value"] for a in page.find("input", type="hidden")}
    assert hidden == {
        "thread": THREAD,
        "thread_url": ARTICLE,
        "thread_title": comment_payload()["thread_title"],
        "lang": "en",
    }
    assert page.find("input", name="hp")


def test_thread_fragment_draws_its_avatars_inline_and_asks_for_none(client, site):
    """Each comment's identicon is in the HTML (the picture the avatar endpoint serves): an article with a
    long thread costs no request per avatar, with or without JavaScript; a deleted comment has none."""
    kept = post(client, body="Stays.", author_email="stays@example.org").get_json()
    gone = post(client, body="Goes.", author_email="goes@example.org").get_json()
    post(client, parent_id=gone["comment"]["id"], body="Keeps its parent's place.")
    assert client.delete(
        f"/api/v1/sites/news/comments/{gone['comment']['id']}",
        headers={"Authorization": f"Bearer {gone['edit_token']}"},
    ).status_code in (200, 204)

    html = client.get(FRAGMENT).get_data(as_text=True)

    assert "/avatars/" not in html.replace('data-avatar="/api/v1/sites/news/avatars/', "")
    assert "<img" not in html
    (row,) = re.findall(
        rf'id="comment-{kept["comment"]["id"]}".*?<div class="row">(<svg.*?</svg>)', html, re.S
    )
    assert row == str(inline_identicon(kept["comment"]["author"]["avatar"]))
    deleted = re.search(rf'id="comment-{gone["comment"]["id"]}".*?<div class="row">(<[^>]*>)', html, re.S)
    assert deleted is not None and deleted.group(1) == '<span class="av">'
    assert html.count('<svg class="av"') == 2


def test_thread_fragment_is_revalidated_with_its_etag_and_changes_with_the_thread(client, site):
    post(client)
    first = client.get(FRAGMENT)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"

    again = client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data

    post(client)
    changed = client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    other_language = client.get(FRAGMENT + "&lang=fr", headers={"If-None-Match": changed.headers["ETag"]})
    assert other_language.status_code == 200


def test_thread_fragment_speaks_the_requested_language_with_its_plurals_and_direction(client, site):
    for _ in range(3):
        post(client)
    russian = Elements(client.get(FRAGMENT + "&lang=ru-RU").get_data(as_text=True))
    (container,) = russian.find("div", **{"data-engagement": "comments"})
    assert container["lang"] == "ru"
    assert any("3 комментария" in text for text in russian.text)


def test_thread_fragment_falls_back_to_the_sites_language(client, site):
    update_site_settings(site, {"language": "de"})
    page = Elements(client.get(FRAGMENT).get_data(as_text=True))
    assert page.find("div", lang="de")


def test_thread_fragment_options_nosnippet_and_json_ld(client, site):
    post(
        client, body="Plain <b>words</b> & </script><script>alert(1)</script>", author_url="https://r.example"
    )
    plain = client.get(FRAGMENT).get_data(as_text=True)
    assert "data-nosnippet" not in plain and "application/ld+json" not in plain

    update_site_settings(site, {"html_nosnippet": True, "html_json_ld": True})
    html = client.get(FRAGMENT + f"&url={ARTICLE}").get_data(as_text=True)
    page = Elements(html)
    assert "data-nosnippet" in page.find("div", **{"data-engagement": "comments"})[0]
    scripts = [a for t, a in page.tags if t == "script"]
    assert scripts == [{"type": "application/ld+json"}]
    (ld,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "<" not in ld
    document = json.loads(ld)
    assert document["@context"] == "https://schema.org" and document["commentCount"] == 1
    (item,) = document["comment"]
    assert item["@type"] == "Comment" and item["url"].startswith(ARTICLE + "#comment-")
    assert "</script>" in item["text"] and item["author"]["url"] == "https://r.example"


def test_thread_fragment_of_a_thread_without_comments_still_has_its_form(client, site):
    page = Elements(client.get(FRAGMENT).get_data(as_text=True))
    assert page.find("section", **{"data-count": "0"})
    assert page.find("form")


def test_closed_thread_fragment_has_no_form(client, site):
    post(client)
    db.session.execute(update(Thread).values(closed=True, version=Thread.version + 1))
    db.session.commit()
    page = Elements(client.get(FRAGMENT).get_data(as_text=True))
    assert page.find("section", **{"data-closed": "true"})
    assert not page.find("form")
    assert any("Comments are closed." in text for text in page.text)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?thread=",
        "?thread=%00",
        f"?thread={THREAD}&lang=%3Cscript%3E",
        f"?thread={THREAD}&url=javascript:alert(1)",
        f"?thread={THREAD}&limit=0",
        f"?thread={THREAD}&title=a%0Ab",
    ],
)
def test_bad_fragment_queries_are_json_errors(client, site, query):
    answer = client.get(f"/api/v1/sites/news/comments.html{query}")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "validation_failed"


def test_fragment_of_an_unknown_site_is_404(client, site):
    answer = client.get(f"/api/v1/sites/nope/comments.html?thread={THREAD}")
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "site_not_found"


def test_count_link_fragment(client, site):
    post(client)
    answer = client.get(f"/api/v1/sites/news/count.html?thread={THREAD}&url={ARTICLE}&lang=fr")
    page = Elements(answer.get_data(as_text=True))
    (link,) = page.find("a", **{"data-engagement": "count"})
    assert link["href"] == ARTICLE + "#comments" and link["data-thread"] == THREAD
    assert "".join(page.text).strip() == "1 commentaire"
    assert (
        client.get(answer.request.url, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    )


# -- posting without JavaScript ----------------------------------------------------------------------


def test_form_post_lands_the_comment_and_returns_to_its_anchor(client, site):
    answer = _form_post(client, _form(thread_url=ARTICLE, body="Posted without JavaScript."))

    assert answer.status_code == 303
    listed = client.get(f"/api/v1/sites/news/comments?thread={THREAD}").get_json()["comments"]
    (comment,) = listed
    assert comment["html"] == "<p>Posted without JavaScript.</p>"
    assert answer.headers["Location"] == f"{ARTICLE}#comment-{comment['id']}"


def test_held_form_post_returns_to_the_pending_notice(client, site):
    update_site_settings(site, {"moderation": "all"})
    answer = _form_post(client, _form(thread_url=ARTICLE))
    assert answer.status_code == 303 and answer.headers["Location"] == f"{ARTICLE}#comment-pending"
    fragment = Elements(client.get(FRAGMENT).get_data(as_text=True))
    assert fragment.find("p", id="comment-pending")


def test_form_post_with_field_errors_gets_its_form_back_refilled(client, site):
    answer = _form_post(
        client, _form(thread_url=ARTICLE, author_email="not-an-address", body="Keep <me>", lang="fr")
    )

    assert answer.status_code == 422
    assert answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    page = Elements(html)
    assert page.find("html", lang="fr")
    assert any("Veuillez corriger" in text for text in page.text)
    (email,) = page.find("input", name="author_email")
    assert email["value"] == "not-an-address" and email["aria-invalid"] == "true"
    assert "Keep &lt;me&gt;" in html
    (back,) = page.find("a", href=ARTICLE)
    assert back is not None
    assert client.get(f"/api/v1/sites/news/comments?thread={THREAD}").get_json()["comments"] == []


def test_form_post_honeypot_and_flood_apply_unchanged(client, site):
    update_site_settings(site, {"flood_seconds": 60})
    trapped = _form_post(client, {**_form(thread_url=ARTICLE), "hp": "I am a bot"}, ip="198.51.100.1")
    assert trapped.status_code in (303, 200)
    assert client.get(f"/api/v1/sites/news/comments?thread={THREAD}").get_json()["comments"] == []

    assert _form_post(client, _form(thread_url=ARTICLE)).status_code == 303
    flooded = _form_post(client, _form(thread_url=ARTICLE, author_email="same@example.org"))
    again = _form_post(client, _form(thread_url=ARTICLE, author_email="same@example.org"))
    assert 429 in (flooded.status_code, again.status_code)
    refused = flooded if flooded.status_code == 429 else again
    assert refused.mimetype == "text/html" and "Retry-After" in refused.headers


@pytest.mark.parametrize("origin", [None, "null", "https://evil.example"])
def test_form_post_must_come_from_the_sites_own_pages(client, site, origin):
    answer = _form_post(client, _form(thread_url=ARTICLE), origin=origin)
    assert answer.status_code == 403
    assert client.get(f"/api/v1/sites/news/comments?thread={THREAD}").get_json()["comments"] == []


def test_form_post_referer_stands_in_for_a_missing_origin(client, site):
    answer = _form_post(client, _form(thread_url=ARTICLE), origin=None, headers={"Referer": ARTICLE})
    assert answer.status_code == 303


def test_form_post_never_redirects_off_the_posting_origin(client, site):
    make_site("open")  # no origins configured: any page may post (development)
    answer = client.post(
        "/api/v1/sites/open/comments",
        data=_form(thread_url="https://evil.example/phish"),
        headers={"Origin": ORIGIN},
    )
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert "evil.example" not in answer.get_data(as_text=True)


def test_json_posts_and_errors_are_unchanged(client, site):
    answer = post(client, author_email="nope")
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "validation_failed"
    bad_type = client.post("/api/v1/sites/news/comments", data="x", content_type="text/plain")
    assert bad_type.status_code == 415 and bad_type.get_json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "overrides",
    [
        {"parent_id": "12abc"},
        {"parent_id": "99999999999999999999999"},
        {"notify_replies": "maybe"},
        {"lang": "<script>"},
        {"thread": ""},
        {"body": "\x00"},
        {"unexpected": "field"},
    ],
)
def test_hostile_form_posts_are_refused_as_pages_never_500(client, site, overrides):
    answer = _form_post(client, {**_form(thread_url=ARTICLE), **overrides})
    assert 400 <= answer.status_code < 500
    assert answer.mimetype == "text/html"


def test_a_form_post_too_large_to_read_is_refused_as_a_page_in_the_default_language(app, client, site):
    # Its answer used to read the form again for the language, raising the 413 inside its own handler: a 500.
    body = {**_form(thread_url=ARTICLE, lang="fr"), "body": "x" * app.config["MAX_CONTENT_LENGTH"]}
    answer = _form_post(client, body)

    assert answer.status_code == 413 and answer.mimetype == "text/html"
    page = Elements(answer.get_data(as_text=True))
    assert page.find("html", lang="en")  # the form, and its lang, were never read
    assert client.get(f"/api/v1/sites/news/comments?thread={THREAD}").get_json()["comments"] == []


def test_counters_fragment_shows_every_kind_in_the_requested_language(client, site):
    client.post("/api/v1/sites/news/engagement/followers", headers={"X-Engagement-Reader": "a" * 32})
    answer = client.get("/api/v1/sites/news/engagement.html?target=site&lang=de")

    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "public, no-cache"
    page = Elements(answer.get_data(as_text=True))
    (container,) = page.find("div", **{"data-engagement": "counters"})
    assert container["data-target"] == "site" and container["lang"] == "de"
    (section,) = page.find("section")
    assert json.loads(section["data-counts"]) == {"fans": 0, "followers": 1, "subscribers": 0}
    assert "Bleiben Sie in Verbindung" in "".join(page.text) or page.find("h2")
    assert not [a for t, a in page.tags if t == "script"]
    again = client.get(answer.request.url, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    client.post("/api/v1/sites/news/engagement/fans", headers={"X-Engagement-Reader": "b" * 32})
    assert (
        client.get(answer.request.url, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 200
    )


def test_counters_fragment_refuses_a_bad_target(client, site):
    answer = client.get("/api/v1/sites/news/engagement.html?target=%3Cx%3E")
    assert 400 <= answer.status_code < 500 and answer.get_json()["error"]["code"]


def test_a_fragment_is_rendered_once_per_version_of_what_it_shows(client, site, monkeypatch):
    from engagement.comments import fragments

    renders = []
    real = fragments.render_fragment
    monkeypatch.setattr(fragments, "render_fragment", lambda *a, **k: renders.append(1) or real(*a, **k))
    post(client)
    first = client.get(FRAGMENT).get_data()
    assert client.get(FRAGMENT).get_data() == first
    assert len(renders) == 1

    post(client)
    assert client.get(FRAGMENT).get_data() != first
    client.get(FRAGMENT + "&lang=de")
    assert len(renders) == 3


def test_a_site_that_wants_readers_signed_in_shows_guests_its_sign_in_page_not_a_form(client, site):
    update_site_settings(site, {"sso_required": True, "sso_login_url": f"{ORIGIN}/sign-in"})
    page = Elements(client.get(FRAGMENT).get_data(as_text=True))
    assert not page.find("form")
    assert page.find("a", href=f"{ORIGIN}/sign-in")
    assert any("Sign in to comment." in text for text in page.text)
    # A form posted anyway (an old page) is refused as a page, with the reason, never stored.
    answer = _form_post(client, _form(thread_url=ARTICLE))
    assert answer.status_code == 401 and answer.mimetype == "text/html"
    assert "Sign in to comment." in answer.get_data(as_text=True)
    assert client.get(f"/api/v1/sites/news/comments?thread={THREAD}").get_json()["comments"] == []


def test_a_signed_in_readers_comment_carries_the_mark_in_the_fragment(client, site, app):
    from engagement.models import StaffRole
    from engagement.staff.service import create_token
    from tests.factories import sign_sso

    admin = {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='a')[1]}"}
    secret = client.post("/api/v1/moderation/sites/news/sso/keys", json={}, headers=admin).json["secret"]
    session = client.post(
        "/api/v1/sites/news/sso/session", json={"token": sign_sso(secret, aud="news", name="Ada")}
    ).json["session"]
    client.post(
        "/api/v1/sites/news/comments",
        json={"thread": THREAD, "body": "Signed."},
        headers={"X-Engagement-Session": session},
    )
    post(client, body="Guest.")
    page = Elements(client.get(FRAGMENT).get_data(as_text=True))
    assert len(page.find("li", **{"data-signed-in": "true"})) == 1
    assert len(page.find("span", **{"class": "si"})) == 1
