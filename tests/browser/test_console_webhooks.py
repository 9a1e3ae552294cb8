"""The console's webhooks pages in real Chromium: an admin reaches them from the site's navigation, fixes a
refused address, adds an endpoint on a local receiver and copies its secret, shown once; a comment is
posted and delivered (the worker's function), the endpoint's page shows the 2xx attempt, and Replay
posts the same message again. axe-core on each page, and they fit a phone's width."""

from __future__ import annotations

import re

import pytest
from standardwebhooks import Webhook

from engagement.webhooks import delivery
from tests import test_webhooks
from tests.browser.conftest import LiveService
from tests.browser.console_pages import assert_accessible, copied_secret, screenshot, sign_in
from tests.browser.playwright_api import Page, expect
from tests.browser.test_console_frame import PHONE, fits_the_width
from tests.test_webhooks import Receiver

pytestmark = pytest.mark.browser
receiver = test_webhooks.receiver  # a local endpoint, verifying nothing: the test does


def deliver(service: LiveService) -> delivery.DeliveryReport:
    """What ``flask engagement worker --flush`` does for webhooks."""
    with service.app.app_context():
        return delivery.deliver_due(flush=True)


def test_an_admin_adds_an_endpoint_sees_the_delivery_and_replays_it(
    service: LiveService, page: Page, receiver: Receiver
) -> None:
    service.create_site()
    # The receiver is on 127.0.0.1: an intranet's setting, as tests/test_webhooks.py uses it.
    service.app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    page.set_viewport_size(PHONE)
    sign_in(service, page, to="/console/sites/news")
    page.get_by_role("navigation", name="Pages of News").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="News: webhooks")).to_be_visible()
    expect(page.get_by_role("list", name="Endpoints")).to_contain_text("No endpoints yet.")
    assert fits_the_width(page)
    assert_accessible(page)

    address = page.get_by_label("Address (URL)")
    address.fill("ftp://hooks.example/engagement")
    page.get_by_label("Description").fill("CRM")
    page.get_by_label("comment.created").check()
    page.get_by_role("button", name="Add endpoint").click()
    # The service's refusal is next to the field, and what was typed is kept.
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_accessible_description("Use an https:// address.")
    expect(address).to_have_value("ftp://hooks.example/engagement")
    expect(page.get_by_label("comment.created")).to_be_checked()
    assert fits_the_width(page)
    assert_accessible(page)

    address.fill(receiver.url)
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("heading", name=f"Endpoint added: {receiver.url}")).to_be_visible()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    secret = copied_secret(page, "Signing secret", "secret-copied")
    assert re.fullmatch(r"whsec_[\w+/=]{40,}", secret)
    assert fits_the_width(page)
    assert_accessible(page)
    screenshot(page, "webhook-created")

    assert service.post_comment("A comment for the CRM")["status_code"] == 201
    assert deliver(service).delivered == 1
    (first,) = receiver.received
    assert Webhook(secret).verify(first["body"], first["headers"])["type"] == "comment.created"

    page.get_by_role("link", name="Go to the endpoint").click()
    expect(page.get_by_role("heading", name=f"News: webhook {receiver.url}")).to_be_visible()
    assert secret not in page.content()
    attempts = page.get_by_role("list", name="Attempts")
    expect(attempts.get_by_role("listitem")).to_have_count(1)
    expect(attempts).to_contain_text("200")
    expect(attempts).to_contain_text('{"ok": true}')
    deliveries = page.get_by_role("list", name="Deliveries")
    expect(deliveries).to_contain_text("comment.created")
    expect(deliveries).to_contain_text("Delivered")
    assert fits_the_width(page)
    assert_accessible(page)
    screenshot(page, "webhook")

    deliveries.get_by_role("button", name=re.compile("^Replay delivery")).click()
    expect(page.get_by_role("status")).to_have_text("1 delivery queued again.")
    expect(deliveries).to_contain_text("Queued")
    assert deliver(service).delivered == 1
    second = receiver.received[1]
    assert Webhook(secret).verify(second["body"], second["headers"]) == Webhook(secret).verify(
        first["body"], first["headers"]
    )
    ids = [{k.lower(): v for k, v in r["headers"].items()}["webhook-id"] for r in receiver.received]
    assert ids[0] == ids[1]  # the same message: a receiver drops a copy it already has

    page.reload()
    expect(page.get_by_role("list", name="Attempts").get_by_role("listitem")).to_have_count(2)
    # Every delivery created since a time: the one there is.
    page.get_by_label("Replay everything since (UTC)").fill("2000-01-01T00:00")
    page.get_by_role("button", name="Replay everything since").click()
    expect(page.get_by_role("status")).to_have_text("1 delivery queued again.")
    assert deliver(service).delivered == 1 and len(receiver.received) == 3
