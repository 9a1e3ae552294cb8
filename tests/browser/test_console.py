"""The staff console in real Chromium: signing in by pasting a token, and ending another session."""

from __future__ import annotations

import pytest

from engagement.console import service as console
from engagement.models import StaffRole
from engagement.staff.members import create_member
from engagement.staff.service import create_token
from tests.browser.conftest import LiveService
from tests.browser.playwright_api import Page, expect

pytestmark = pytest.mark.browser


def test_sign_in_with_a_token_and_end_another_session(service: LiveService, page: Page) -> None:
    with service.app.app_context():
        member = create_member(
            email="ada@news.example", display_name="Ada", role=StaffRole.ADMIN, site_slugs=[]
        )
        secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada-laptop", member=member)[1]
        # Ada is also signed in on her phone.
        console.sign_in_with_token(
            secret=secret, browser=console.Browser(ip="192.0.2.1", user_agent="Ada's phone")
        )

    page.goto(f"{service.url}/console")
    expect(page).to_have_url(f"{service.url}/console/sign-in?next=/console")
    page.get_by_label("Staff token").fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(f"{service.url}/console")
    expect(page.get_by_role("heading", name="Staff console")).to_be_visible()
    expect(page.get_by_text("ada@news.example")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    cookie = next(c for c in page.context.cookies() if c["name"] == "engagement_console")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/console")

    page.locator("tbody tr", has_text="Ada's phone").get_by_role("button", name="End").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("(this browser)")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{service.url}/console/sign-in")


def open_queue_as_admin(service: LiveService, page: Page) -> None:
    """Sign in with a fresh admin token and land on the queue."""
    with service.app.app_context():
        secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada-laptop")[1]
    page.goto(f"{service.url}/console/sign-in?next=/console/queue")
    page.get_by_label("Staff token").fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{service.url}/console/queue")
    page.wait_for_load_state("domcontentloaded")  # the deferred queue.js has added its keys


def test_approve_the_first_card_by_key_and_undo_it(service: LiveService, page: Page) -> None:
    service.create_site(moderation="all")
    for n in (1, 2, 3):
        service.post_comment(f"Held comment {n}.", name=f"Reader {n}", author_email=f"r{n}@example.org")
    open_queue_as_admin(service, page)
    cards = page.locator(".cards > .card")
    expect(cards).to_have_count(3)
    pending = page.locator('[data-count="pending"]')
    expect(pending).to_have_text("3")
    first_id = cards.first.get_attribute("data-id")
    second_id = cards.nth(1).get_attribute("data-id")

    page.keyboard.press("j")
    expect(cards.first).to_be_focused()
    page.keyboard.press("f")
    expect(page.locator(f"#card-{first_id}")).to_have_count(0)
    expect(cards).to_have_count(2)
    expect(page.locator(f"#card-{second_id}")).to_be_focused()
    expect(pending).to_have_text("2")
    expect(page.locator('[data-count="approved"]')).to_have_text("1")

    page.get_by_role("button", name="Undo").click()
    expect(cards).to_have_count(3)
    expect(page.locator(f"#card-{first_id}")).to_be_focused()
    expect(pending).to_have_text("3")
    page.reload()
    expect(page.locator(f"#card-{first_id}")).to_have_count(1)
    expect(pending).to_have_text("3")

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keys")).to_be_visible()


def test_edit_a_body_in_place_with_e_and_pin_it(service: LiveService, page: Page) -> None:
    service.create_site(moderation="all")
    service.post_comment("Teh harbour.", name="Reader", author_email="r@example.org")
    open_queue_as_admin(service, page)
    card = page.locator(".cards > .card").first

    page.keyboard.press("j")
    expect(card).to_be_focused()
    page.keyboard.press("e")
    body = card.get_by_label("Body (Markdown)")
    expect(body).to_be_focused()
    expect(body).to_have_value("Teh harbour.")
    body.fill("   ")
    card.get_by_role("button", name="Save").click()
    expect(card.locator(".inline-edit .error")).to_have_text("Please enter your comment.")
    expect(body).to_have_value("   ")
    body.fill("The **harbour**.")
    card.get_by_role("button", name="Save").click()
    expect(card.locator(".body strong")).to_have_text("harbour")
    expect(card.locator(".inline-edit")).to_have_count(0)

    card.get_by_role("button", name="Pin").click()
    expect(card.get_by_role("button", name="Unpin")).to_be_visible()
    expect(card.locator(".pinned")).to_be_visible()
    page.reload()
    expect(page.locator(".cards > .card").first.get_by_role("button", name="Unpin")).to_be_visible()
