"""The thread in the article's own HTML, as a reader gets it: included by nginx SSI (Debian's nginx with
the documented recipe), read and posted to without JavaScript, and the other two recipes (a Jinja
include, the WordPress snippet under PHP) rendering the same fragment."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from engagement.sites.service import create_site
from tests.browser.conftest import OPEN_SITE, SITE, THREAD, LiveService
from tests.browser.nginx import nginx_with_ssi
from tests.services import unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Summit in Moscow"
HOST_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: Georgia, serif; max-width: 46rem; margin: 1rem auto">
<h1>{title}</h1>
<p>Article text.</p>
<!--# include virtual="/engagement/api/v1/sites/{site}/comments.html?{query}" -->
{script}
</body>
</html>"""


@pytest.fixture
def article(service: LiveService, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An article page behind nginx with the SSI recipe, on a site whose only origin is nginx's."""
    with nginx_with_ssi(tmp_path, service.url) as origin:
        with service.app.app_context():
            create_site(slug=SITE, name="News", origins=[origin], settings=OPEN_SITE)
        url = f"{origin}/article.html"
        # late.html loads the widget when the test says: the page is first painted from the server's HTML.
        late = (
            "<script>window.startWidget = () => document.body.append(Object.assign("
            f"document.createElement('script'), {{src: '{service.url}/widget.js'}}));</script>"
        )
        for name, script in (
            ("article.html", ""),
            ("widget.html", f'<script src="{service.url}/widget.js"></script>'),
            ("late.html", late),
        ):
            (tmp_path / "www" / name).write_text(
                HOST_PAGE.format(
                    title=TITLE,
                    site=SITE,
                    query=urlencode({"thread": THREAD, "url": url, "title": TITLE}),
                    script=script,
                ),
                encoding="utf-8",
            )
        yield {
            "origin": origin,
            "url": url,
            "widget_url": f"{origin}/widget.html",
            "late_url": f"{origin}/late.html",
        }


def _post(service: LiveService, origin: str, body: str, **fields: Any) -> dict[str, Any]:
    payload = {"thread": THREAD, "thread_url": f"{origin}/article.html", "thread_title": TITLE}
    payload |= {"author_name": "Marta", "author_email": "marta@example.org", "body": body} | fields
    answer = service.app.test_client().post(
        f"/api/v1/sites/{SITE}/comments", json=payload, headers={"Origin": origin}
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["comment"]


def test_ssi_puts_the_thread_in_the_articles_html(
    service: LiveService, article: dict[str, str], browser
) -> None:
    first = _post(service, article["origin"], "Server-rendered, *indexable* words.")
    _post(service, article["origin"], "A reply under it.", parent_id=first["id"])

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    source = page.goto(article["url"]).text()

    # In the HTML nginx sent: what a crawler reads without running anything.
    assert "Server-rendered, <em>indexable</em> words." in source
    assert 'data-engagement="comments"' in source and "<script" not in source
    assert page.get_by_role("heading", name="2 Comments").is_visible()
    assert page.locator(f"#comment-{first['id']}").get_by_text("A reply under it.").is_visible()
    context.close()


LAYOUT_SHIFTS = """
window.shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.shifts.push(entry.value);
}).observe({ type: "layout-shift", buffered: true });
"""
RECT = "(el) => { const r = el.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }"


def test_the_widget_adopts_the_server_rendered_thread_without_asking_for_it_or_moving_it(
    service: LiveService, article: dict[str, str], page
) -> None:
    first = _post(service, article["origin"], "The first comment.")
    _post(service, article["origin"], "Its reply.", parent_id=first["id"])
    _post(service, article["origin"], "The last comment.")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    page.add_init_script(LAYOUT_SHIFTS)
    page.goto(article["late_url"])
    host = page.locator("[data-engagement=comments]")
    last = page.locator("li.c", has_text="The last comment.")
    before = {"section": host.evaluate(RECT), "last": last.evaluate(RECT)}
    page.locator("[name=body]").fill("Typed before the script came.")

    page.evaluate("startWidget()")
    shadow = "document.querySelector('[data-engagement=comments]').shadowRoot"
    page.wait_for_function(f"() => {shadow}?.querySelector('li')")

    assert host.evaluate("(el) => el.children.length") == 0, "the server's copy left the light DOM"
    after = {"section": host.evaluate(RECT), "last": last.evaluate(RECT)}
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=1), f"the {name} moved"
    assert page.evaluate("window.shifts.reduce((sum, value) => sum + value, 0)") < 0.01
    thread_reads = [r for r in requests if r.startswith("GET ") and "/comments?" in r]
    assert thread_reads == [], "the first page was asked for again"
    assert page.locator("[name=body]").input_value() == "Typed before the script came."
    assert page.get_by_role("heading", name="3 Comments").is_visible()

    # Wired up: a like reaches the server.
    like = page.locator("li.c", has_text="The first comment.").get_by_role("button", name="Like").first
    with page.expect_response(lambda response: "/likes" in response.url):
        like.click()
    page.wait_for_function(f"() => {shadow}.querySelector('.like[aria-pressed=true]')")
    listed = service.app.test_client().get(f"/api/v1/sites/{SITE}/comments?thread={THREAD}").get_json()
    assert listed["comments"][0]["likes"] == 1


def test_posting_without_javascript_lands_the_comment_and_returns_to_its_anchor(
    service: LiveService, article: dict[str, str], browser
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(article["url"])

    page.locator("[name=body]").fill("Posted with JavaScript off.")
    page.locator("[name=author_name]").fill("Ana")
    page.locator("[name=author_email]").fill("ana@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Post Comment").click()

    listed = service.app.test_client().get(f"/api/v1/sites/{SITE}/comments?thread={THREAD}").get_json()
    (comment,) = listed["comments"]
    assert comment["html"] == "<p>Posted with JavaScript off.</p>"
    assert page.url == f"{article['url']}#comment-{comment['id']}"
    assert page.locator(f"#comment-{comment['id']}").get_by_text("Posted with JavaScript off.").is_visible()
    assert page.get_by_role("heading", name="1 Comment").is_visible()
    context.close()


def test_a_held_comment_posted_without_javascript_shows_the_pending_notice(
    service: LiveService, article: dict[str, str], browser
) -> None:
    with service.app.app_context():
        from engagement.extensions import db
        from engagement.models import Site

        site = db.session.query(Site).filter_by(slug=SITE).one()
        site.settings = site.settings.replace(moderation="all")
        db.session.commit()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(article["url"])
    assert not page.get_by_text("Your comment is awaiting moderation.").is_visible()

    page.locator("[name=body]").fill("Waits for a moderator.")
    page.locator("[name=author_name]").fill("Ana")
    page.locator("[name=author_email]").fill("ana@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Post Comment").click()

    assert page.url == f"{article['url']}#comment-pending"
    assert page.get_by_text("Your comment is awaiting moderation.").is_visible()
    context.close()


def test_a_refused_form_comes_back_with_its_fields_and_errors(
    service: LiveService, article: dict[str, str], browser
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(article["url"])
    page.locator("[name=body]").fill("Keep what I wrote.")
    page.locator("[name=author_name]").fill("Ana")
    # The browser's own check would stop "ana@" before it is sent; the server's must hold too.
    page.locator("form").evaluate("form => form.noValidate = true")
    page.locator("[name=author_email]").fill("ana@")
    with page.expect_navigation():
        page.get_by_role("button", name="Post Comment").click()

    assert page.get_by_role("alert").inner_text() == "Please correct the marked fields."
    assert page.locator("[name=body]").input_value() == "Keep what I wrote."
    assert page.get_by_text("Please enter a valid email address.").is_visible()
    page.get_by_role("link", name="Back to the article").click()
    assert page.url == article["url"]
    context.close()


def test_the_counters_block_shows_its_counts_before_the_widget_and_keeps_them(
    service: LiveService, article: dict[str, str], browser, tmp_path: Path
) -> None:
    for reader in ("a", "b"):
        service.app.test_client().post(
            f"/api/v1/sites/{SITE}/engagement/followers", headers={"X-Engagement-Reader": reader * 32}
        )
    include = f'<!--# include virtual="/engagement/api/v1/sites/{SITE}/engagement.html?target=site" -->'
    (tmp_path / "www" / "counters.html").write_text(
        f'<!doctype html><html lang="en"><body>{include}<script src="{service.url}/widget.js"></script>',
        encoding="utf-8",
    )
    context = browser.new_context(java_script_enabled=False)
    static = context.new_page()
    static.goto(f"{article['origin']}/counters.html")
    assert static.locator(".sc li").nth(1).inner_text().startswith("2")
    context.close()

    page = browser.new_page()
    page.goto(f"{article['origin']}/counters.html")
    follow = page.get_by_role("button", name="Follow")
    follow.wait_for()
    light_children = "document.querySelector('[data-engagement=counters]').children.length"
    assert page.evaluate(light_children) == 0, "the server's copy is taken over"
    shadow = "document.querySelector('[data-engagement=counters]').shadowRoot"
    page.wait_for_function(f"() => {shadow}.querySelectorAll('button[aria-pressed]')[1]?.disabled === false")
    assert page.locator(".sc li").nth(1).inner_text().startswith("2")
    page.close()


def test_the_jinja_recipe_includes_the_fragment_and_falls_back_when_the_service_is_down(
    service: LiveService, article: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location(
        "jinja_include", ROOT / "docs" / "recipes" / "jinja_include.py"
    )
    jinja_include = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(jinja_include)

    _post(service, article["origin"], "Seen through Jinja.")
    monkeypatch.setattr(jinja_include, "COMMENTS_SERVICE", service.url)
    html = jinja_include.comments_html(THREAD, article["url"], TITLE, "fr")
    assert 'data-engagement="comments"' in html and "Seen through Jinja." in html and 'lang="fr"' in html

    monkeypatch.setattr(jinja_include, "COMMENTS_SERVICE", "http://127.0.0.1:9")  # nothing listens there
    assert str(jinja_include.comments_html(THREAD, article["url"], TITLE, timeout=0.5)) == (
        f'<div id="engagement-comments" data-site="{SITE}"></div>'
    )


def test_the_wordpress_recipe_runs_under_php(service: LiveService, article: dict[str, str]) -> None:
    php = shutil.which("php")
    if php is None:
        unavailable("PHP (apt-get install -y php-cli php-curl)")
    # The recipe's thread key is the permalink's path, as the widget's default (location.pathname).
    _post(service, article["origin"], "Seen through WordPress.", thread=f"/{THREAD}")
    environment = os.environ | {
        "COMMENTS_ORIGIN": service.url,
        "ARTICLE_URL": f"{article['origin']}/{THREAD}",
        "ARTICLE_TITLE": TITLE,
        "ARTICLE_LOCALE": "de_DE",
    }
    run = subprocess.run(
        [
            php,
            str(ROOT / "tests" / "fakes" / "wordpress.php"),
            str(ROOT / "docs" / "recipes" / "wordpress-comments.php"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert 'data-engagement="comments"' in run.stdout and 'lang="de"' in run.stdout
    assert "Seen through WordPress." in run.stdout and "1 Kommentar" in run.stdout
    assert f'<script src="{service.url}/widget.js" async></script>' in run.stdout


def test_an_adopted_thread_gets_live_updates_from_the_fragments_etag(
    service: LiveService, article: dict[str, str], page
) -> None:
    with service.app.app_context():
        from engagement.extensions import db
        from engagement.models import Site

        site = db.session.query(Site).filter_by(slug=SITE).one()
        site.settings = site.settings.replace(live_interval_seconds=1)
        db.session.commit()
    _post(service, article["origin"], "Already there.")
    page.goto(article["widget_url"])
    shadow = "document.querySelector('[data-engagement=comments]').shadowRoot"
    page.wait_for_function(f"() => {shadow}?.querySelector('li')")
    page.wait_for_timeout(1500)
    assert page.get_by_role("button", name="1 new comment").count() == 0, "nothing new yet"

    _post(service, article["origin"], "Arrived while reading.")
    page.get_by_role("button", name="1 new comment").wait_for(timeout=5000)
    page.get_by_role("button", name="1 new comment").click()
    page.get_by_text("Arrived while reading.").wait_for()
