"""Real Chromium against the real app: the service on one origin, the article pages on another.

The app runs on a threaded werkzeug server (http://127.0.0.1:<port>) with its own database per test; the
article pages come from a second small server (http://localhost:<port>), so every API call the widget
makes is cross-origin and CORS is exercised for real. Chromium or Playwright missing: skip, or fail in CI.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from engagement.config import utc_now
from engagement.models import StaffRole
from engagement.moderation.comments import update_comment
from engagement.sites.service import create_site
from engagement.staff.service import create_token
from tests.services import chromium_path, unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SITE = "news"
THREAD = "2025/05/summit"
ARTIFACTS = Path(__file__).with_name("artifacts")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The settings every test site starts from: nothing held for moderation, no flood pause between posts.
OPEN_SITE = {"moderation": "none", "flood_seconds": 0}
ARTICLE_PAGE = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>Summit in Moscow</title>{head}</head>
<body style="font-family: Georgia, serif; max-width: 46rem; margin: 1rem auto">
<h1>Summit in Moscow</h1>
<p>Article text.</p>
{body}
<script src="{service}/widget.js" async></script>
</body>
</html>"""


@dataclass
class HostPages:
    """Article pages, written by each test, served from an origin other than the service's."""

    origin: str = ""
    pages: dict[str, str] = field(default_factory=dict)


def _host_handler(host: HostPages) -> type[BaseHTTPRequestHandler]:
    class ArticleHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            html = host.pages.get(self.path.split("?")[0])
            self.send_response(404 if html is None else 200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((html or "no such page").encode())

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is for failures."""

    return ArticleHandler


@contextmanager
def serving(server: Any) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def host_pages() -> Iterator[HostPages]:
    host = HostPages()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _host_handler(host))
    host.origin = f"http://localhost:{server.server_port}"
    with serving(server):
        yield host


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python")
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser: Browser, **options: Any) -> tuple[Page, list[str]]:
    """A page in a fresh context (own localStorage: a new reader) and the script errors it raises."""
    context = browser.new_context(viewport={"width": 900, "height": 1200}, locale="en-US", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page, errors = new_page(browser)
    yield page
    page.context.close()
    assert errors == [], "the page raised script errors"


@dataclass
class LiveService:
    """The real app on a real port, plus the test's way in for arranging data (the same JSON API)."""

    app: Flask
    url: str
    host_origin: str

    def create_site(self, slug: str = SITE, **settings: Any) -> str:
        with self.app.app_context():
            create_site(
                slug=slug, name=slug.title(), origins=[self.host_origin], settings=OPEN_SITE | settings
            )
        return slug

    def post_comment(
        self, body: str, *, name: str = "Marta", site: str = SITE, **fields: Any
    ) -> dict[str, Any]:
        """Post through the public API as a page on the site's origin would; returns the JSON answer."""
        payload = {
            "thread": THREAD,
            "thread_url": f"{self.host_origin}/article.html",
            "thread_title": "Summit in Moscow",
            "author_name": name,
            "author_email": "reader@example.org",
            "body": body,
        }
        response = self.app.test_client().post(
            f"/api/v1/sites/{site}/comments", json=payload | fields, headers={"Origin": self.host_origin}
        )
        return {"status_code": response.status_code, **response.get_json()}

    def delete_comment(self, posted: dict[str, Any], *, site: str = SITE) -> None:
        """Delete a comment the way its author can, with the edit token from posting it."""
        response = self.app.test_client().delete(
            f"/api/v1/sites/{site}/comments/{posted['comment']['id']}",
            headers={"Origin": self.host_origin, "Authorization": f"Bearer {posted['edit_token']}"},
        )
        assert response.status_code == 204

    def approve(self, comment_id: int) -> None:
        with self.app.app_context():
            moderator, _ = create_token(role=StaffRole.ADMIN, site_slugs=[], label="moderator")
            update_comment(token=moderator, comment_id=comment_id, status="approved")


@pytest.fixture
def service(make_app: Callable[..., Flask], host_pages: HostPages) -> Iterator[LiveService]:
    # A real clock: edit windows are compared with the browser's own time.
    app = make_app(CLOCK=utc_now)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveService(app=app, url=f"http://127.0.0.1:{server.port}", host_origin=host_pages.origin)
    # Where the service is served is its public URL: forms and links it renders point there.
    app.config["PUBLIC_URL"] = live.url
    with serving(server):
        yield live


_page_numbers = itertools.count()


@pytest.fixture
def open_article(page: Page, host_pages: HostPages, service: LiveService) -> Callable[..., Page]:
    """Serve an article page with the given widget markup from the host origin and open it."""

    def open_(body: str, *, lang: str = "en", head: str = "", on: Page | None = None) -> Page:
        path = f"/article-{next(_page_numbers)}.html"
        host_pages.pages[path] = ARTICLE_PAGE.format(lang=lang, head=head, body=body, service=service.url)
        target = on or page
        target.goto(host_pages.origin + path)
        return target

    return open_
