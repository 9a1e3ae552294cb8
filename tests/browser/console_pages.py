"""What every console browser test shares: signing in as a member of a given role and sites, axe-core on
a page in both colour schemes, and screenshots kept as test artifacts (tests/browser/artifacts/)."""

from __future__ import annotations

import itertools
from typing import Any

from engagement.models import StaffRole
from engagement.staff.members import create_member
from engagement.staff.service import create_token
from tests.browser.conftest import ARTIFACTS, LiveService
from tests.browser.playwright_api import Page, expect
from tests.browser.test_widget import AXE_SCRIPT

_members = itertools.count(1)


def sign_in(
    service: LiveService,
    page: Page,
    *,
    role: StaffRole = StaffRole.ADMIN,
    sites: list[str] | None = None,
    to: str = "/console/queue",
) -> str:
    """Sign ``page`` in as a new member with ``role`` on ``sites`` (by pasting a token of theirs) and land
    on ``to``; returns the member's email."""
    email = f"member{next(_members)}@news.example"
    with service.app.app_context():
        member = create_member(email=email, display_name="Ada", role=role, site_slugs=sites or [])
        secret = create_token(role=role, site_slugs=sites or [], label="laptop", member=member)[1]
    page.goto(f"{service.url}/console/sign-in?next={to}")
    page.get_by_label("Staff token").fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{service.url}{to}")
    return email


def assert_accessible(page: Page, *, themes: tuple[str, ...] = ("light", "dark")) -> None:
    """axe-core finds no serious or critical violation on the page as it stands, in each colour scheme."""
    for theme in themes:
        page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
        if not page.evaluate("() => typeof axe !== 'undefined'"):
            # Through DevTools, not a <script> tag: the console's Content-Security-Policy (rightly) refuses
            # inline scripts, and the test must not loosen it.
            page.evaluate(AXE_SCRIPT.read_text())
        results: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{theme}: {violation['id']}: {[node['target'] for node in violation['nodes']]}"
            for violation in results["violations"]
            if violation["impact"] in {"serious", "critical"}
        ]
        assert serious == [], f"{page.url}: {serious}"
        # axe really inspected the page (rules passed, colour contrast among them), not an empty document.
        assert "color-contrast" in {rule["id"] for rule in results["passes"]}
    page.emulate_media(color_scheme="light")


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Keep a picture of the page as a test artifact: tests/browser/artifacts/console-{name}.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=full_page)


def copied_secret(page: Page, label: str, status: str) -> str:
    """The secret a page shows once in the readonly field ``label``, copied with its Copy button (which
    says so in the live region ``status``): what the clipboard then holds."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("readonly", "")
    secret = field.input_value()
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator(f"#{status}")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    return secret
