"""The widget script and the demo pages."""

from __future__ import annotations

import gzip

import pytest

from engagement.demo import seed_demo
from engagement.web.widget_bundle import WIDGET_BUILD_DIRECTORY


def test_widget_js_is_cached_briefly_and_revalidated_by_etag(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_widget_js_is_served_gzipped_when_accepted(client):
    plain = client.get("/widget.js").data
    compressed = client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.data) == plain
    assert "Accept-Encoding" in compressed.headers["Vary"]


def test_versioned_widget_url_is_immutable_and_unknown_versions_404(client):
    page = client.get("/").text
    [url] = [part.split('"')[0] for part in page.split('src="')[1:] if part.startswith("/widget.")]
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/widget.0000000000000000.js").status_code == 404


def test_demo_page_is_the_seed_article_with_widget_containers_and_no_ads(app, client):
    seed_demo()
    page = client.get("/").text
    assert "Xi Jinping to Join Putin in Moscow" in page
    assert "Advertisement" not in page
    assert 'id="engagement-comments"' in page
    assert 'data-engagement="counters"' in page
    assert page.count('data-engagement="count"') == 4


def test_embed_page_documents_the_snippet(client):
    page = client.get("/embed").text
    assert "/widget.js" in page and "Copy snippet" in page


def test_seed_demo_creates_a_conversation_and_counters(app, client):
    assert seed_demo() is True
    assert seed_demo() is False
    thread = client.get(
        "/api/v1/sites/demo/comments", query_string={"thread": "2025/05/xi-putin-moscow"}
    ).json
    assert thread["thread"]["comment_count"] == 5
    assert any(c["replies"] for c in thread["comments"])
    counters = client.get("/api/v1/sites/demo/engagement").json["counters"]
    assert counters["fans"]["count"] > 0 and counters["subscribers"]["count"] > 0


# Every page the service serves, and an HTML error page: one hook sets their headers.
HTML_PAGES = ["/", "/embed", "/mail/confirm/not-a-token", "/privacy/erase/not-a-token", "/no-such-page"]
LINK_PAGES = ("/mail/", "/privacy/")


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_has_a_strict_content_security_policy(client, path):
    response = client.get(path)

    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().partition(" ")[::2] for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    expected_referrer = "no-referrer" if path.startswith(LINK_PAGES) else "strict-origin-when-cross-origin"
    assert response.headers["Referrer-Policy"] == expected_referrer


@pytest.mark.parametrize("path", ["/", "/embed"])
def test_pages_have_no_inline_script_or_style(client, path):
    # The policy would block them; their code and styles live in static/pages/.
    page = client.get(path).text

    assert "<style" not in page and "style=" not in page
    assert all(tag.startswith(" src=") for tag in page.split("<script")[1:])


def test_an_erase_link_page_shows_its_button_in_the_danger_tone(client):
    page = client.get("/privacy/erase/not-a-token").text

    assert '<body class="danger">' in page


def test_json_answers_carry_no_page_policy(client):
    response = client.get("/api/v1/openapi.json")

    assert "Content-Security-Policy" not in response.headers


def test_a_304_is_of_its_representation_a_json_one_without_the_page_policy_an_html_one_with_it(app, client):
    # The live poll and the Stay Connected block are revalidated on every page view: their 304 must not
    # carry an HTML page's headers (400 bytes each, as a 304 once did), nor any Content-Type of its own.
    seed_demo()
    for path, html in (
        ("/api/v1/sites/demo/engagement?target=site", False),
        ("/api/v1/sites/demo/engagement.html?target=site", True),
    ):
        etag = client.get(path).headers["ETag"]
        revalidated = client.get(path, headers={"If-None-Match": etag})

        assert revalidated.status_code == 304 and revalidated.headers["ETag"] == etag
        assert "Content-Type" not in revalidated.headers and revalidated.data == b""
        assert ("Content-Security-Policy" in revalidated.headers) is html
        assert ("X-Content-Type-Options" in revalidated.headers) is html


def test_widget_language_files_are_served_immutable_and_anything_else_is_a_json_404(client):
    name = next((WIDGET_BUILD_DIRECTORY / "lang").iterdir()).name
    answer = client.get(f"/widget/lang/{name}")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert isinstance(answer.get_json(), list)
    for bad in (
        "xx.000000000000.json",
        "..%2F..%2Fwidget.js",
        "de.json",
        name.replace(".json", ".js"),
        "%00",
    ):
        refused = client.get(f"/widget/lang/{bad}")
        assert refused.status_code == 404, bad
        assert refused.get_json()["error"]["code"] == "not_found"


def test_every_automatic_options_answer_is_an_empty_204_without_a_page_policy(app, client):
    seed_demo()
    for path in (
        "/api/v1/sites/demo/comments",
        "/badges/demo/fans.svg",
        "/",
    ):
        answer = client.options(path, headers={"Origin": "https://elsewhere.example"})
        assert answer.status_code == 204 and answer.data == b"", path
        assert "GET" in answer.headers["Allow"], path
        assert "Content-Type" not in answer.headers, path
        assert "script-src" not in answer.headers.get("Content-Security-Policy", ""), path  # a page's
