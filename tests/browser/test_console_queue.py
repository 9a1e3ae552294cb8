"""The queue's tools in real Chromium: a decision by key with Undo, bulk spam by x, the author panel and
banning from it, the counts' 304, and the page's accessibility with the panel open."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engagement.extensions import db
from engagement.models import Ban, Comment
from tests.browser.conftest import LiveService
from tests.browser.console_pages import assert_accessible, screenshot, sign_in
from tests.browser.playwright_api import Page, expect

pytestmark = pytest.mark.browser


def open_queue(service: LiveService, page: Page, to: str = "/console/queue") -> None:
    """Sign in and land on the queue with its script running (keys pressed before it are lost)."""
    sign_in(service, page, to=to)
    page.wait_for_load_state("domcontentloaded")  # after every deferred script has run


def held_comments(service: LiveService, count: int) -> None:
    service.create_site(moderation="all")
    for n in range(1, count + 1):
        service.post_comment(f"Held comment {n}.", name=f"Reader {n}", author_email=f"r{n}@example.org")


def statuses(service: LiveService) -> list[str]:
    with service.app.app_context():
        return list(db.session.scalars(select(Comment.status).order_by(Comment.id)))


def test_approve_by_key_moves_focus_drops_the_count_and_undo_restores(
    service: LiveService, page: Page
) -> None:
    held_comments(service, 3)
    open_queue(service, page)
    cards = page.locator(".cards > .card")
    pending = page.locator('[data-count="pending"]')
    expect(pending).to_have_text("3")
    first_id, second_id = cards.first.get_attribute("data-id"), cards.nth(1).get_attribute("data-id")

    page.keyboard.press("j")
    page.keyboard.press("f")
    expect(page.locator(f"#card-{first_id}")).to_have_count(0)
    expect(page.locator(f"#card-{second_id}")).to_be_focused()
    expect(pending).to_have_text("2")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(f"#card-{first_id}")).to_be_focused()
    expect(pending).to_have_text("3")
    assert statuses(service) == ["pending"] * 3


def test_bulk_spam_of_three_cards_with_x_and_undo(service: LiveService, page: Page) -> None:
    held_comments(service, 4)
    open_queue(service, page)
    cards = page.locator(".cards > .card")
    bar = page.locator("#bulk")
    expect(bar).to_be_hidden()
    for _ in range(3):
        page.keyboard.press("j")
        page.keyboard.press("x")
    expect(bar).to_contain_text("3 selected")
    bar.get_by_role("button", name="Spam").click()
    expect(cards).to_have_count(1)
    expect(page.locator('[data-count="pending"]')).to_have_text("1")
    expect(page.locator('[data-count="spam"]')).to_have_text("3")
    expect(page.locator("#queue-live")).to_contain_text("3 comments: spam.")
    assert sorted(statuses(service)) == ["pending", "spam", "spam", "spam"]
    expect(bar).to_be_hidden()

    page.get_by_role("button", name="Undo").click()
    expect(cards).to_have_count(4)
    expect(page.locator('[data-count="pending"]')).to_have_text("4")
    assert statuses(service) == ["pending"] * 4

    # Shift-click: a range of boxes.
    cards.first.locator(".select").click()
    cards.nth(2).locator(".select").click(modifiers=["Shift"])
    expect(bar).to_contain_text("3 selected")
    bar.get_by_role("button", name="Clear").click()
    expect(bar).to_be_hidden()


def test_ban_the_author_from_the_panel(service: LiveService, page: Page) -> None:
    held_comments(service, 2)
    open_queue(service, page)
    page.keyboard.press("j")
    panel = page.locator("#author-aside")
    expect(panel.get_by_role("heading", name="Reader 2")).to_be_visible()
    expect(panel).to_contain_text("1: 1 pending")
    expect(panel.locator(".bans")).to_contain_text("None.")
    assert_accessible(page)
    screenshot(page, "author-panel")

    panel.get_by_role("link", name="Ban author").click()
    dialog = page.get_by_role("dialog", name="Ban the author")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Email", exact=True)).to_be_checked()
    dialog.get_by_label("Email", exact=True).uncheck()
    dialog.get_by_role("button", name="Ban", exact=True).click()
    expect(dialog.locator(".error")).to_have_text("Choose at least one: email, IP or email domain.")
    assert_accessible(page)
    screenshot(page, "ban-dialog", full_page=False)
    dialog.get_by_label("Email", exact=True).check()
    dialog.get_by_label("7 days").check()
    dialog.get_by_label("Reason (kept with the ban)").fill("trolling")
    dialog.get_by_role("button", name="Ban", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#queue-live")).to_contain_text("Banned the author")
    expect(panel.get_by_role("button", name="Unban")).to_have_count(1)
    with service.app.app_context():
        ban = db.session.scalars(select(Ban)).one()
        assert (ban.kind, ban.value, ban.note) == ("email", "r2@example.org", "trolling")
        assert ban.expires_at is not None

    panel.get_by_role("button", name="Unban").click()
    expect(panel.locator(".bans")).to_contain_text("None.")
    with service.app.app_context():
        assert db.session.scalars(select(Ban)).all() == []


def test_keys_one_at_a_time_search_and_tabs(service: LiveService, page: Page) -> None:
    held_comments(service, 3)
    open_queue(service, page)
    cards = page.locator(".cards > .card")
    page.keyboard.press("z")
    expect(cards.first).to_be_visible()
    expect(cards.nth(1)).to_be_hidden()
    page.keyboard.press("j")
    expect(cards.nth(1)).to_be_visible()
    expect(cards.first).to_be_hidden()
    screenshot(page, "queue-one-at-a-time", full_page=False)
    page.keyboard.press("z")
    expect(cards.first).to_be_visible()

    page.keyboard.press("/")
    search = page.get_by_label("Search")
    expect(search).to_be_focused()
    page.keyboard.type("x5")  # typing: no key fires
    expect(search).to_have_value("x5")
    expect(page).to_have_url(f"{service.url}/console/queue")
    page.keyboard.press("Escape")
    page.locator("h1").click()
    page.keyboard.press("5")
    expect(page).to_have_url(f"{service.url}/console/queue?tab=all")
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keys")).to_contain_text("One comment at a time")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keys")).to_be_hidden()
    page.keyboard.press("b")
    expect(page.get_by_role("dialog", name="Ban the author")).to_contain_text("by Reader 3")


def test_the_panel_loads_once_after_a_burst_of_j(service: LiveService, page: Page) -> None:
    held_comments(service, 6)
    open_queue(service, page)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/author") else None)
    for _ in range(5):
        page.keyboard.press("j")
    last = page.locator(".cards > .card").nth(4)
    expect(last.locator(".author-panel")).to_contain_text("Reader 2")
    page.wait_for_timeout(500)  # any late request would have gone by now
    assert len(asked) == 1 and asked[0].endswith(f"/comments/{last.get_attribute('data-id')}/author")


def test_the_counts_refresh_every_20_seconds_while_visible(service: LiveService, page: Page) -> None:
    held_comments(service, 1)
    page.clock.install()
    open_queue(service, page)
    pending = page.locator('[data-count="pending"]')
    expect(pending).to_have_text("1")
    service.post_comment("Another.", name="Reader 9", author_email="r9@example.org")
    page.clock.run_for(21000)
    expect(pending).to_have_text("2")


def test_a_decision_in_the_all_tab_changes_the_card_in_place(service: LiveService, page: Page) -> None:
    held_comments(service, 2)
    open_queue(service, page, to="/console/queue?tab=all")
    card = page.locator(".cards > .card").first
    card.get_by_role("button", name="Trash").click()
    expect(card.locator(".status")).to_have_text("trash")
    expect(card.get_by_role("button", name="Trash")).to_be_hidden()
    expect(card.get_by_role("button", name="Restore")).to_be_visible()
    expect(page.locator(".cards > .card")).to_have_count(2)
    expect(page.locator('[data-count="trash"]')).to_have_text("1")
    page.get_by_role("button", name="Undo").click()
    expect(card.locator(".status")).to_have_text("pending")
    expect(page.locator('[data-count="trash"]')).to_have_text("0")


def test_the_counts_endpoint_answers_304_and_the_page_is_accessible(service: LiveService, page: Page) -> None:
    held_comments(service, 2)
    page.set_viewport_size({"width": 1280, "height": 900})
    open_queue(service, page)
    first = page.request.get(f"{service.url}/console/counts")
    assert first.status == 200 and first.json()["pending"] == 2
    again = page.request.get(
        f"{service.url}/console/counts", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status == 304
    page.keyboard.press("j")
    expect(page.locator(".queue-layout > #author-aside .author-panel")).to_be_visible()  # beside the list
    assert_accessible(page)
    screenshot(page, "queue")
    page.set_viewport_size({"width": 360, "height": 800})
    page.keyboard.press("j")
    expect(page.locator(".cards > .card").nth(1).locator(".author-panel")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "queue-phone")
