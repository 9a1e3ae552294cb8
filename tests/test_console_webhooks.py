"""The console's webhooks pages: a site's endpoints for its admins (the API's rule: moderators refused), a new
one with its secret shown once, Enable / Disable, edit, a new secret with its overlap, Delete after asking,
the attempts and deliveries with Replay; every form's bad input is a message next to its field, the
service's refusal of a private address included."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from engagement.extensions import db
from engagement.models import (
    DeliveryStatus,
    StaffRole,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from engagement.staff import members
from engagement.staff.service import create_token
from engagement.webhooks import service
from engagement.webhooks.service import signing_secrets
from tests import test_console_sites as site_pages
from tests.factories import post
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of
from tests.test_console_sites import audit_entries, html

HOSTILE = "<script>window.pwned=1</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOOKS = "/console/sites/news/webhooks"
URL = "https://hooks.example/engagement"
SECRET = re.compile(r'id="webhook-secret"[^>]* value="(whsec_[\w+/=]+)"')

# The site pages' fixtures: their admin and moderator sign in to this module's app.
staff, admin, moderator = site_pages.staff, site_pages.admin, site_pages.moderator
pytestmark = pytest.mark.usefixtures("staff")  # two sites; Ada, an admin; Grace, a moderator of "news"


@pytest.fixture
def app(make_app):
    # No name is looked up for an address unless a test turns private addresses off again.
    app = make_app(WEBHOOKS_ALLOW_PRIVATE=True)
    with app.app_context():
        yield app


@pytest.fixture
def endpoint(app) -> WebhookEndpoint:
    """An endpoint of "news", registered through the API's use case."""
    return service.create_endpoint(
        token=_admin_token(), slug="news", url=URL, events=[], description="CRM", enabled=True
    )[0]


def _admin_token():
    return create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")[0]


def csrf(client) -> str:
    return csrf_of(client.get("/console"))


def send(client, path, **form):
    return client.post(path, data={"csrf_token": csrf(client), **form})


def new_endpoint(client, **form):
    return send(client, HOOKS, **{"url": URL, "description": "CRM", "events": [], **form})


def secret_of(response, status=201) -> str:
    return SECRET.search(html(response, status)).group(1)


def endpoints() -> list[WebhookEndpoint]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def field_error(page: str, name: str) -> str:
    """The message next to field ``name`` (the field marked invalid and described by it)."""
    assert re.search(rf'name="{name}"[^>]*aria-invalid="true" aria-describedby="{name}-error"', page), name
    return re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', page).group(1)


def queued_delivery(endpoint: WebhookEndpoint, **values) -> WebhookDelivery:
    """A comment posted on "news": the event's delivery to ``endpoint``, then ``values`` set on it."""
    post(current_app.test_client())
    delivery = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id)
    ).all()[-1]
    for name, value in values.items():
        setattr(delivery, name, value)
    db.session.commit()
    return delivery


# --- admins of the site only ---------------------------------------------------------------------------


def test_the_site_pages_link_to_webhooks_for_admins_only(admin, moderator):
    for path in ("/console/sites/news", "/console/sites"):
        assert f'href="{HOOKS}"' in html(admin.get(path))
        assert "webhooks" not in html(moderator.get(path))
    assert 'aria-current="page">Webhooks</a>' in html(admin.get(HOOKS))


def test_moderators_get_the_403_page_on_every_webhook_url_and_post(app, endpoint):
    members.create_member(
        email="lin@news.example", display_name="Lin", role="moderator", site_slugs=["sport"]
    )
    for refused in (signed_in(app, MODERATOR), signed_in(app, "lin@news.example")):
        base = f"{HOOKS}/{endpoint.id}"
        for path in (
            HOOKS,
            base,
            f"{base}/delete",
            "/console/sites/sport/webhooks",
            "/console/sites/nope/webhooks",
        ):
            assert "Only an admin" in html(refused.get(path), 403), path
        token = csrf(refused)
        posts = {
            HOOKS: {"url": "not a url"},  # refused before anything is validated
            base: {"url": "https://evil.example/", "description": "", "events": []},
            f"{base}/enabled": {"enabled": "false"},
            f"{base}/rotate": {"overlap_hours": "0"},
            f"{base}/replay": {"since": "2020-01-01T00:00"},
            f"{base}/delete": {},
            f"{HOOKS}/999/delete": {},
        }
        for path, form in posts.items():
            assert refused.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    [stored] = endpoints()
    assert (stored.url, stored.enabled, stored.previous_secret_encrypted) == (URL, True, None)
    assert audit_entries("webhook_updated") == [] and audit_entries("webhook_replayed") == []


def test_every_post_needs_the_csrf_token(admin, endpoint):
    base = f"{HOOKS}/{endpoint.id}"
    for path in (HOOKS, base, f"{base}/enabled", f"{base}/rotate", f"{base}/replay", f"{base}/delete"):
        for sent in ({}, {"csrf_token": "0" * 64}):
            form = {"url": "https://other.example/", "enabled": "false", "since": "2020-01-01T00:00", **sent}
            assert admin.post(path, data=form).status_code == 403, path
    [stored] = endpoints()
    assert (stored.url, stored.enabled, stored.previous_secret_encrypted) == (URL, True, None)


@pytest.mark.parametrize(
    "path",
    [
        "/console/sites/nope/webhooks",
        f"{HOOKS}/999",
        f"{HOOKS}/99999999999999999999",
        f"{HOOKS}/999/delete",
    ],
)
def test_unknown_sites_and_endpoints_are_404_pages(admin, path):
    assert admin.get(path).status_code == 404


def test_another_sites_endpoint_is_a_404_under_this_site(admin, endpoint):
    for path in (
        f"/console/sites/sport/webhooks/{endpoint.id}",
        f"/console/sites/sport/webhooks/{endpoint.id}/delete",
    ):
        assert admin.get(path).status_code == 404
    assert send(admin, f"/console/sites/sport/webhooks/{endpoint.id}/delete").status_code == 404
    assert len(endpoints()) == 1


# --- the list and a new endpoint ------------------------------------------------------------------------


def test_an_added_endpoints_secret_is_shown_once_and_signs_its_deliveries(app, admin):
    response = new_endpoint(admin, events=["comment.created", "comment.approved"])
    secret = secret_of(response)
    page = html(response, 201)
    assert "it will not be shown again" in page and 'data-copy="webhook-secret"' in page
    assert "pages/copy.js" in page and response.headers["Cache-Control"] == "no-store"
    [stored] = endpoints()
    assert (stored.url, stored.description, stored.events) == (
        URL,
        "CRM",
        ["comment.approved", "comment.created"],
    )
    assert signing_secrets(stored, stored.created_at) == [secret]
    listed = html(admin.get(HOOKS))
    assert secret not in listed and secret not in html(admin.get(f"{HOOKS}/{stored.id}"))
    assert URL in listed and "comment.approved, comment.created" in listed
    [entry] = audit_entries("webhook_created")
    assert entry.actor == ADMIN


def test_the_list_shows_state_why_disabled_failing_since_and_what_waits(admin, endpoint, clock):
    queued_delivery(endpoint)
    queued_delivery(endpoint)
    page = html(admin.get(HOOKS))
    assert "Enabled" in page and "2 waiting" in page and "every event" in page

    endpoint.enabled = False
    endpoint.disabled_reason = "Every delivery failed for five days."
    endpoint.failing_since = clock() - timedelta(days=5)
    db.session.commit()
    page = html(admin.get(HOOKS))
    assert "Disabled</span> <span>Every delivery failed for five days.</span>" in page
    assert "failing since <time" in page and "2026-05-02 12:00 UTC" in page


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"url": "ftp://hooks.example/x"}, "url", "Use an https:// address."),
        ({"url": "https://user:pw@hooks.example/x"}, "url", "Give an address such as"),
        ({"url": "https://hooks.example:99999/x"}, "url", "The address&#39;s port is not valid."),
        ({"url": ""}, "url", "Length must be between"),
        ({"url": "https://hooks.example/" + "x" * 2000}, "url", "Length must be between"),
        ({"description": "x" * 501}, "description", "Longer than maximum length 500."),
        ({"events": ["comment.created", "comment.nope"]}, "events", "“comment.nope”: Must be one of"),
    ],
)
def test_an_invalid_endpoint_is_refused_next_to_its_field_with_what_was_typed_kept(
    admin, form, field, message
):
    response = new_endpoint(admin, **form)
    page = html(response, 422)
    assert "No endpoint was added" in page
    if field == "events":
        assert 'id="events-error">' + message in page and 'value="comment.created" checked' in page
    else:
        assert field_error(page, field).startswith(message)
    typed = form.get(field) if field != "events" else None
    if typed and len(typed) < 600:
        assert f'value="{typed}"' in page
    assert endpoints() == []


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/hooks", "https://169.254.169.254/latest/meta-data/", "https://[::1]:8443/x"]
)
def test_a_private_address_is_a_field_error_while_private_addresses_are_not_allowed(
    app, admin, endpoint, url
):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    page = html(new_endpoint(admin, url=url), 422)
    assert field_error(page, "url") == "The address is not on the public internet."
    page = html(send(admin, f"{HOOKS}/{endpoint.id}", url=url, description="CRM"), 422)
    assert field_error(page, "url") == "The address is not on the public internet."
    assert f'value="{url}"' in page
    assert [e.url for e in endpoints()] == [URL]


def test_too_many_endpoints_is_said_above_the_form(admin, endpoint, monkeypatch):
    monkeypatch.setattr(service, "MAX_ENDPOINTS_PER_SITE", 1)
    page = html(new_endpoint(admin), 422)
    assert "A site has at most 1 webhook endpoints." in page
    assert len(endpoints()) == 1


# --- one endpoint ---------------------------------------------------------------------------------------


def test_disabling_and_enabling_an_endpoint_clears_why_the_service_disabled_it(admin, endpoint):
    response = send(admin, f"{HOOKS}/{endpoint.id}/enabled", enabled="false")
    assert response.status_code == 303 and response.location.endswith(
        f"changed={endpoint.id}#endpoint-{endpoint.id}"
    )
    page = html(admin.get(response.location))
    assert f"{URL}: now disabled." in page and "by an admin" in page and ">Enable<" in page
    [stored] = endpoints()
    stored.disabled_reason = "The endpoint answered 410 Gone."
    db.session.commit()
    send(admin, f"{HOOKS}/{endpoint.id}/enabled", enabled="true")
    [stored] = endpoints()
    assert stored.enabled and stored.disabled_reason is None
    assert len(audit_entries("webhook_updated")) == 2


def test_a_tampered_enable_button_is_the_422_page(admin, endpoint):
    for value in ({}, {"enabled": "perhaps"}):
        assert send(admin, f"{HOOKS}/{endpoint.id}/enabled", **value).status_code == 422
    assert endpoints()[0].enabled


def test_editing_an_endpoint_sends_only_what_changed(admin, endpoint):
    response = send(
        admin,
        f"{HOOKS}/{endpoint.id}",
        url=f"  {URL}  ",
        description="CRM bridge",
        events=["thread.closed", "comment.created"],
    )
    assert response.status_code == 303
    assert "Endpoint saved." in html(admin.get(response.location))
    [stored] = endpoints()
    assert (stored.description, stored.events) == ("CRM bridge", ["comment.created", "thread.closed"])
    [entry] = audit_entries("webhook_updated")
    assert entry.details["changed"] == ["description", "events"]


def test_an_invalid_edit_changes_nothing_and_keeps_what_was_typed(admin, endpoint):
    page = html(send(admin, f"{HOOKS}/{endpoint.id}", url="ftp://x", description="x" * 501), 422)
    assert "Nothing was changed" in page
    assert field_error(page, "url").startswith("Length must be between")
    assert field_error(page, "description") == "Longer than maximum length 500."
    assert 'value="ftp://x"' in page
    assert endpoints()[0].description == "CRM" and audit_entries("webhook_updated") == []


def test_a_new_secret_is_shown_once_and_the_old_one_signs_beside_it_for_the_overlap(admin, endpoint, clock):
    old = signing_secrets(endpoint, clock())
    response = send(admin, f"{HOOKS}/{endpoint.id}/rotate", overlap_hours="48")
    secret = secret_of(response, 200)
    page = html(response)
    assert "it will not be shown again" in page and response.headers["Cache-Control"] == "no-store"
    assert "keeps signing beside this one until <time" in page and "2026-05-09 12:00 UTC" in page
    [stored] = endpoints()
    assert signing_secrets(stored, clock()) == [secret, *old]
    assert secret not in html(admin.get(f"{HOOKS}/{endpoint.id}"))
    assert signing_secrets(stored, clock() + timedelta(hours=49)) == [secret]

    response = send(admin, f"{HOOKS}/{endpoint.id}/rotate", overlap_hours="0")
    assert "The previous secret no longer signs" in html(response)
    assert signing_secrets(endpoints()[0], clock()) == [secret_of(response, 200)]


@pytest.mark.parametrize(
    ("overlap", "message"),
    [
        ("169", "Must be greater than or equal to 0 and less than or equal to 168."),
        ("a day", "Not a valid integer."),
    ],
)
def test_an_invalid_overlap_is_a_field_error_and_rotates_nothing(admin, endpoint, overlap, message):
    before = endpoint.secret_encrypted
    page = html(send(admin, f"{HOOKS}/{endpoint.id}/rotate", overlap_hours=overlap), 422)
    assert field_error(page, "overlap_hours") == message and f'value="{overlap}"' in page
    assert endpoints()[0].secret_encrypted == before


def test_the_endpoint_page_shows_the_attempts_escaped_and_cut_and_the_deliveries(admin, endpoint, clock):
    delivery = queued_delivery(endpoint, status=DeliveryStatus.DELIVERED, attempts=1, last_status_code=200)
    db.session.add(
        WebhookAttempt(
            endpoint_id=endpoint.id,
            delivery_id=delivery.id,
            attempted_at=clock(),
            status_code=500,
            error=None,
            response_excerpt=HOSTILE + "y" * 900,
            duration_ms=37,
        )
    )
    db.session.commit()
    page = html(admin.get(f"{HOOKS}/{endpoint.id}"))
    assert HOSTILE not in page and "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert "y" * 160 in page and "y" * 200 not in page and "…</code>" in page
    assert ">500</span>" in page and "37 ms" in page
    assert "comment.created" in page and delivery.message_id in page and "Delivered" in page


def test_replaying_one_delivery_queues_it_again(admin, endpoint):
    delivery = queued_delivery(endpoint, status=DeliveryStatus.FAILED, attempts=10)
    response = send(admin, f"{HOOKS}/{endpoint.id}/replay", delivery_id=str(delivery.id))
    assert response.status_code == 303 and response.location.endswith("replayed=1#deliveries")
    assert "1 delivery queued again." in html(admin.get(response.location))
    db.session.expire_all()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 0)
    # Another endpoint's delivery is not this one's.
    other = service.create_endpoint(
        token=_admin_token(), slug="news", url=URL + "/2", events=[], description="", enabled=True
    )[0]
    assert send(admin, f"{HOOKS}/{other.id}/replay", delivery_id=str(delivery.id)).status_code == 404


def test_replaying_everything_since_a_time_queues_those_only(admin, endpoint, clock):
    early = queued_delivery(endpoint, status=DeliveryStatus.DELIVERED)
    clock.advance(hours=2)
    late = queued_delivery(endpoint, status=DeliveryStatus.DELIVERED)
    response = send(admin, f"{HOOKS}/{endpoint.id}/replay", since="2026-05-07T13:00")
    assert response.location.endswith("replayed=1#deliveries")
    db.session.expire_all()
    assert (early.status, late.status) == (DeliveryStatus.DELIVERED, DeliveryStatus.QUEUED)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"since": ""}, "since", "Give the date and time (UTC) to replay from."),
        ({"since": "yesterday"}, "since", "Not a valid datetime."),
        ({"delivery_id": "abc"}, "delivery_id", "Not a valid integer."),
        ({"delivery_id": "99999999999999999999"}, "delivery_id", "Must be greater than or equal to 1"),
    ],
)
def test_an_invalid_replay_is_refused_with_its_message(admin, endpoint, form, field, message):
    delivery = queued_delivery(endpoint, status=DeliveryStatus.DELIVERED)
    page = html(send(admin, f"{HOOKS}/{endpoint.id}/replay", **form), 422)
    assert "Nothing was changed" in page
    if field == "since":
        assert field_error(page, "since") == message
    else:
        assert f'id="delivery_id-error">This delivery cannot be replayed: {message}' in page
    db.session.expire_all()
    assert delivery.status == DeliveryStatus.DELIVERED and audit_entries("webhook_replayed") == []


def test_deleting_an_endpoint_asks_first(admin, endpoint):
    page = html(admin.get(f"{HOOKS}/{endpoint.id}/delete"))
    assert f"Delete the webhook endpoint {URL}?" in page and "cannot be undone" in page
    assert len(endpoints()) == 1
    response = send(admin, f"{HOOKS}/{endpoint.id}/delete")
    assert response.status_code == 303
    assert "The endpoint was deleted" in html(admin.get(response.location))
    assert endpoints() == [] and len(audit_entries("webhook_deleted")) == 1


def test_hostile_values_render_inert(app, admin, endpoint):
    queued_delivery(endpoint, last_error=HOSTILE)
    endpoint.description = HOSTILE
    endpoint.url = f"https://hooks.example/{HOSTILE_IMG}"
    endpoint.enabled = False
    endpoint.disabled_reason = HOSTILE_IMG
    db.session.commit()
    pages = [
        admin.get(HOOKS),
        admin.get(f"{HOOKS}/{endpoint.id}"),
        admin.get(f"{HOOKS}/{endpoint.id}/delete"),
        new_endpoint(admin, url=HOSTILE, description=HOSTILE_IMG, events=[HOSTILE]),
        send(admin, f"{HOOKS}/{endpoint.id}", url=HOSTILE_IMG, description=HOSTILE, events=[HOSTILE_IMG]),
        send(admin, f"{HOOKS}/{endpoint.id}/replay", since=HOSTILE),
        send(admin, f"{HOOKS}/{endpoint.id}/rotate", overlap_hours=HOSTILE),
        admin.get(f"{HOOKS}?changed=<script>&deleted="),
        admin.get(f"{HOOKS}/{endpoint.id}?replayed=<script>"),
    ]
    for response in pages:
        assert response.status_code in (200, 422)
        page = response.get_data(as_text=True)
        assert HOSTILE not in page and HOSTILE_IMG not in page
