"""Live updates as a reader sees them: a comment posted elsewhere shows as "1 new comment" within one
interval, behind a button that moves nothing; a hidden tab does not poll; polls cost a 304."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SITE, THREAD, LiveService

pytestmark = pytest.mark.browser

THREAD_MARKUP = f'<div id="engagement-comments" data-site="{SITE}" data-thread="{THREAD}"></div>'
COUNT_LINK = (
    f'<p><a href="/x#comments" data-engagement="count" data-site="{SITE}" data-thread="{THREAD}">?</a></p>'
)
SHADOW = "document.querySelector('#engagement-comments').shadowRoot"


def _polls(requests: list[str]) -> list[str]:
    return [url for url in requests if "/comments?" in url and "sort=newest" in url]


def test_a_comment_posted_elsewhere_shows_as_one_new_comment_and_moves_nothing(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site(live_interval_seconds=1)
    for n in range(3):
        service.post_comment(f"Comment {n}.")
    answers: list[int] = []
    page.on("response", lambda response: "sort=newest" in response.url and answers.append(response.status))
    open_article(COUNT_LINK + THREAD_MARKUP)
    first = page.get_by_text("Comment 0.")
    expect(first).to_be_visible()
    page.wait_for_timeout(1500)  # at least one poll with nothing new
    before = first.bounding_box()

    service.post_comment("Posted by somebody else.", name="Ana")

    fresh = page.get_by_role("button", name="1 new comment")
    expect(fresh).to_be_visible(timeout=5000)
    expect(page.get_by_role("status").filter(has_text="1 new comment")).to_have_count(1)
    expect(page.get_by_role("heading", name="4 Comments")).to_be_visible()
    expect(page.locator("a[data-engagement=count]")).to_have_text("4 Comments")
    assert page.get_by_text("Posted by somebody else.").count() == 0, (
        "nothing is inserted before the reader asks"
    )
    assert first.bounding_box() == before, "what the reader reads did not move"

    fresh.click()
    expect(page.get_by_text("Posted by somebody else.")).to_be_visible()
    expect(fresh).to_be_hidden()
    assert page.evaluate(f"{SHADOW}.activeElement.textContent").count("Posted by somebody else.") == 1
    assert answers, "polls were made"


def test_polling_pauses_while_the_tab_is_hidden_and_resumes_when_it_is_back(
    service: LiveService, open_article: Callable[..., Page], page: Page, caplog: pytest.LogCaptureFixture
) -> None:
    service.create_site(live_interval_seconds=1)
    service.post_comment("Hello.")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_article(THREAD_MARKUP)
    expect(page.get_by_text("Hello.")).to_be_visible()

    page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    hidden_from = len(_polls(requests))
    page.wait_for_timeout(2500)
    assert len(_polls(requests)) == hidden_from, "no poll while hidden"

    page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.wait_for_timeout(800)
    assert len(_polls(requests)) > hidden_from, "a poll as soon as the tab is back"

    # What the service answered: a poll that finds nothing new costs a 304.
    def answered() -> list[int]:
        return [
            record.fields["status"]
            for record in caplog.records
            if record.name == "engagement.request"
            and record.fields.get("path") == f"/api/v1/sites/{SITE}/comments"
        ]

    for _ in range(30):
        if 304 in answered():
            break
        page.wait_for_timeout(100)
    assert 304 in answered(), answered()


def test_an_interval_of_zero_turns_live_updates_off(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site(live_interval_seconds=0)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_article(THREAD_MARKUP)
    expect(page.get_by_role("heading", name="0 Comments")).to_be_visible()
    page.wait_for_timeout(1500)
    assert _polls(requests) == []


def test_the_readers_own_comment_is_not_announced_as_new(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site(live_interval_seconds=1)
    open_article(THREAD_MARKUP)
    page.locator("[name=body]").fill("My own words.")
    page.locator("[name=author_name]").fill("Ana")
    page.locator("[name=author_email]").fill("ana@example.org")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.get_by_text("My own words.")).to_be_visible()
    page.wait_for_timeout(2500)
    expect(page.get_by_role("button", name="1 new comment")).to_have_count(0)
    expect(page.get_by_role("heading", name="1 Comment")).to_be_visible()


def test_polling_backs_off_while_the_service_fails_and_resumes_after(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site(live_interval_seconds=1)
    service.post_comment("Hello.")
    open_article(THREAD_MARKUP)
    expect(page.get_by_text("Hello.")).to_be_visible()
    polls: list[float] = []

    def refuse(route) -> None:
        polls.append(time.monotonic())
        route.abort()

    page.route("**/comments?*sort=newest*", refuse)
    page.wait_for_timeout(6500)
    # Without backing off: six polls. With it (1 s doubling: 2, 4, 8...): three at most, each gap longer.
    assert 1 <= len(polls) <= 3, polls
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert all(gap >= 1.8 for gap in gaps), gaps  # never the plain 1 s interval again
    assert all(later > earlier * 1.5 for earlier, later in itertools.pairwise(gaps)), gaps

    page.unroute("**/comments?*sort=newest*")
    service.post_comment("Back again.", name="Ana")
    expect(page.get_by_role("button", name="1 new comment")).to_be_visible(timeout=12000)
