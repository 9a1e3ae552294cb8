"""The console's admin pages in real Chromium: an admin adds a moderator scoped to one site (after fixing a
field error), issues a token and copies its secret, shown once, then revokes it after confirming; axe-core
on the members and tokens pages in light and dark, and both fit a phone's width."""

from __future__ import annotations

import re

import pytest

from engagement.models import StaffRole
from engagement.staff.members import live_member
from tests.browser.conftest import SITE, LiveService
from tests.browser.console_pages import assert_accessible, copied_secret, screenshot, sign_in
from tests.browser.playwright_api import Page, expect
from tests.browser.test_console_frame import PHONE, fits_the_width

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_moderator_scoped_to_one_site(service: LiveService, page: Page) -> None:
    service.create_site()
    service.create_site("sport")
    page.set_viewport_size(PHONE)
    sign_in(service, page, to="/console")
    page.get_by_role("link", name="Members", exact=True).click()
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page)

    email = page.get_by_label("Email", exact=True)
    email.fill("lin@news")
    page.get_by_label("Display name").fill("Lin Yu")
    page.get_by_label("Moderator: the sites ticked below").check()
    page.get_by_label("News (news)").check()
    page.get_by_role("button", name="Add member").click()

    # The field error is next to the field, everything typed is kept, and the page is still accessible.
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Please enter a valid email address.")
    expect(email).to_have_value("lin@news")
    expect(page.get_by_label("Display name")).to_have_value("Lin Yu")
    expect(page.get_by_label("News (news)")).to_be_checked()
    expect(page.get_by_label("Sport (sport)")).not_to_be_checked()
    assert fits_the_width(page)
    assert_accessible(page)
    screenshot(page, "members-error")

    email.fill("lin@news.example")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_have_text(
        "lin@news.example added; they sign in with a link mailed to their address."
    )
    expect(page.get_by_role("list", name="Members")).to_contain_text("moderator · news")
    with service.app.app_context():
        lin = live_member("lin@news.example")
        assert lin is not None and [s.slug for s in lin.sites] == [SITE] and lin.role == "moderator"


def test_an_admin_issues_a_token_sees_its_secret_once_and_revokes_it(
    service: LiveService, page: Page
) -> None:
    service.create_site()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    page.set_viewport_size(PHONE)
    sign_in(service, page, role=StaffRole.ADMIN, to="/console/tokens")
    assert fits_the_width(page)
    assert_accessible(page)

    page.get_by_label("Label").fill("cms-prod")
    page.get_by_label("News (news)").check()
    page.get_by_role("button", name="Issue token").click()

    expect(page.get_by_role("heading", name="Token cms-prod issued")).to_be_visible()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    secret = copied_secret(page, "Token", "token-copied")
    assert re.fullmatch(r"eng_[\w-]{40,}", secret)
    assert fits_the_width(page)
    assert_accessible(page)
    screenshot(page, "token-created")

    page.get_by_role("link", name="Back to the tokens").click()
    expect(page.get_by_role("list", name="Tokens")).to_contain_text("cms-prod")
    assert secret not in page.content()
    # The secret works as a bearer token until revoked.
    summary = page.request.get(
        f"{service.url}/api/v1/moderation/summary", headers={"Authorization": f"Bearer {secret}"}
    )
    assert summary.status == 200

    page.get_by_role("link", name=re.compile("^Revoke cms-prod")).click()
    expect(page.get_by_role("heading", name="Revoke the token cms-prod?")).to_be_visible()
    assert_accessible(page, themes=("light",))
    page.get_by_role("button", name="Revoke cms-prod").click()
    expect(page.get_by_role("status")).to_contain_text("Token cms-prod")
    expect(page.get_by_role("list", name="Tokens")).to_contain_text("revoked")
    summary = page.request.get(
        f"{service.url}/api/v1/moderation/summary", headers={"Authorization": f"Bearer {secret}"}
    )
    assert summary.status == 401
