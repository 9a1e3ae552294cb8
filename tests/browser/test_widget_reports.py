"""Readers report a comment in real Chromium: the form, the threshold of distinct readers that takes the
comment out of the thread and into the moderation queue, and a moderator's approval that ends it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from engagement.config import utc_now
from engagement.models import StaffRole
from engagement.staff.service import create_token
from tests.browser.conftest import SITE, THREAD, HostPages, LiveService, new_page, serving
from tests.browser.playwright_api import Browser, Page, expect
from tests.browser.test_widget import post_through_form

pytestmark = pytest.mark.browser

THREAD_MARKUP = f'<div id="engagement-comments" data-site="{SITE}" data-thread="{THREAD}"></div>'


@pytest.fixture
def service(make_app: Callable[..., Flask], host_pages: HostPages) -> Iterator[LiveService]:
    # One proxy hop trusted, so each browser context can come from an address of its own
    # (X-Forwarded-For): readers sharing an address count as one reporter.
    app = make_app(CLOCK=utc_now, TRUSTED_PROXIES=1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveService(app=app, url=f"http://127.0.0.1:{server.port}", host_origin=host_pages.origin)
    with serving(server):
        yield live


def open_thread(page: Page, host_pages: HostPages, service: LiveService, name: str) -> Page:
    path = f"/reports-{name}.html"
    host_pages.pages[path] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Summit</title></head><body>'
        f'{THREAD_MARKUP}<script src="{service.url}/widget.js" async></script></body></html>'
    )
    page.goto(host_pages.origin + path)
    return page


def report_as_new_reader(
    browser: Browser,
    host_pages: HostPages,
    service: LiveService,
    n: int,
    *,
    note: str = "",
    hides: bool = False,
) -> None:
    page, errors = new_page(browser)
    # Added below the page's scripts (no CORS preflight sees it), as a proxy in front of the service would.
    page.context.route(
        f"{service.url}/api/**",
        lambda route: route.continue_(
            headers={**route.request.headers, "x-forwarded-for": f"198.51.100.{n}"}
        ),
    )
    try:
        widget = open_thread(page, host_pages, service, f"reader-{n}").locator("#engagement-comments")
        row = widget.locator("li.c").filter(has_text="Buy cheap pills")
        row.get_by_role("button", name="Report").click()
        form = widget.locator("form.rep")
        expect(form.get_by_role("radio", name="Spam")).to_be_focused()
        expect(form).to_contain_text("I just disagree? Reply instead.")
        form.get_by_role("radio", name="Abuse or harassment").check()
        if note:
            form.get_by_role("textbox", name="Note (optional)").fill(note)
        form.get_by_role("button", name="Report").click()
        expect(widget.get_by_role("status")).to_have_text("Thanks. A moderator will take a look.")
        reported = row.get_by_text("Reported", exact=True)
        expect(reported).to_be_focused()
        expect(form).to_have_count(0)
        # Remembered: the same reader sees "Reported" after a reload (while the comment is shown).
        page.reload()
        expect(widget.locator("h2")).to_have_text("1 Comment" if hides else "2 Comments")
        if not hides:
            row = widget.locator("li.c").filter(has_text="Buy cheap pills")
            expect(row.get_by_text("Reported", exact=True)).to_be_visible()
            expect(row.get_by_role("button", name="Report")).to_have_count(0)
    finally:
        page.context.close()
    assert errors == []


def moderation(service: LiveService, path: str, method: str = "GET", **kwargs) -> dict:
    with service.app.app_context():
        _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    response = service.app.test_client().open(
        f"/api/v1/moderation{path}", method=method, headers={"Authorization": f"Bearer {secret}"}, **kwargs
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_three_readers_take_a_comment_out_until_a_moderator_approves_it(
    browser: Browser, page: Page, host_pages: HostPages, service: LiveService
) -> None:
    service.create_site()
    service.post_comment("A fair point about the summit.", name="Marta")
    target = service.post_comment("Buy cheap pills here", name="Spammer")["comment"]["id"]
    widget = open_thread(page, host_pages, service, "watcher").locator("#engagement-comments")
    expect(widget.locator("li.c")).to_have_count(2)

    report_as_new_reader(browser, host_pages, service, 1, note="Advertising, not a comment")
    report_as_new_reader(browser, host_pages, service, 2)
    page.reload()
    expect(widget.locator("li.c").filter(has_text="Buy cheap pills")).to_have_count(1)
    report_as_new_reader(browser, host_pages, service, 3, hides=True)

    page.reload()
    expect(widget.get_by_role("heading", name="1 Comment")).to_be_visible()
    expect(widget.locator("li.c").filter(has_text="Buy cheap pills")).to_have_count(0)
    queue = moderation(service, "/comments?status=pending")["items"]
    assert [c["id"] for c in queue] == [target]
    assert "reports" in queue[0]["spam_reasons"]
    assert queue[0]["reports"]["by_reason"] == {"abuse": 3}
    assert "Advertising, not a comment" in [r["note"] for r in queue[0]["reports"]["reports"]]

    moderation(service, f"/comments/{target}", method="PATCH", json={"status": "approved"})
    page.reload()
    expect(widget.locator("li.c").filter(has_text="Buy cheap pills")).to_have_count(1)
    report_as_new_reader(browser, host_pages, service, 4)
    page.reload()
    expect(widget.get_by_role("heading", name="2 Comments")).to_be_visible()
    expect(widget.locator("li.c").filter(has_text="Buy cheap pills")).to_have_count(1)
    assert moderation(service, f"/comments/{target}")["status"] == "approved"

    # The reader's own comment offers no Report, while every other approved one does.
    post_through_form(widget, "My own view of the summit.")
    own = widget.locator("li.c").filter(has_text="My own view of the summit.")
    expect(own.get_by_role("button", name="Edit")).to_be_visible()
    expect(own.get_by_role("button", name="Report")).to_have_count(0)
    expect(
        widget.locator("li.c").filter(has_text="A fair point").get_by_role("button", name="Report")
    ).to_be_visible()
