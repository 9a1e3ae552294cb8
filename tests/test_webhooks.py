"""Webhooks as a receiver sees them: a local HTTP server verifies every signature with the
``standardwebhooks`` package, answers as the test says (2xx, 500, 429 with Retry-After, 410, too slow),
and the worker's schedule, rotation, replay and refusals are checked against what arrived."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from engagement.config import utc_now
from engagement.extensions import db
from engagement.models import DeliveryStatus, OutboxMessage, StaffRole, WebhookDelivery, WebhookEndpoint
from engagement.staff.members import create_member
from engagement.staff.service import create_token
from engagement.webhooks import delivery, service
from tests.factories import make_site, post
from tests.sql import count_queries

API = "/api/v1/moderation/sites/news/webhooks"


@dataclass
class Receiver:
    """What the endpoint answers next (status, headers, seconds to wait) and every request it got."""

    url: str = ""
    answers: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request["body"]) for request in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append({"headers": dict(self.headers), "body": body.decode()})
            status, headers, delay = state.answers.pop(0) if state.answers else (200, {}, 0.0)
            time.sleep(delay)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b'{"ok": true}')
            except OSError:
                pass  # the worker gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(make_app: Any) -> Iterator[Any]:
    app = make_app(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT=1.0)
    with app.app_context():
        yield app


@pytest.fixture
def site(app: Any) -> Any:
    return make_site("news", moderation="none")


@pytest.fixture
def admin(site: Any) -> dict[str, str]:
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    return {"Authorization": f"Bearer {secret}"}


def _register(client: Any, admin: dict[str, str], url: str, **fields: Any) -> dict[str, Any]:
    answer = client.post(API, json={"url": url, **fields}, headers=admin)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _verify(secret: str, request: dict[str, Any]) -> Any:
    """The standardwebhooks package's own verification of the request as it arrived."""
    return Webhook(secret).verify(request["body"], request["headers"])


def _signed_by(secret: str, request: dict[str, Any]) -> bool:
    """Whether one of the request's signatures is ``secret``'s (with a frozen clock, which the package's
    own timestamp tolerance would reject)."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], moment, request["body"])
    return expected in headers["webhook-signature"].split(" ")


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


# -- registering -----------------------------------------------------------------------------------------


def test_an_endpoints_secret_is_answered_once_and_never_again(client, admin, receiver):
    created = _register(client, admin, receiver.url, description="CRM")
    assert created["secret"].startswith("whsec_")
    assert 24 <= len(Webhook(created["secret"])._whsecret) <= 64

    listed = client.get(API, headers=admin).get_json()["items"]
    assert [e["url"] for e in listed] == [receiver.url]
    assert created["secret"] not in json.dumps(listed)
    stored = db.session.scalars(select(WebhookEndpoint)).one()
    assert created["secret"] not in stored.secret_encrypted


def test_only_admins_manage_webhooks(client, site, receiver):
    _, moderator = create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="mod")
    answer = client.post(API, json={"url": receiver.url}, headers={"Authorization": f"Bearer {moderator}"})
    assert answer.status_code == 403
    assert client.get(API).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://hooks.example/x"}, "webhook_url_scheme"),
        ({"url": "https://user:pw@hooks.example/x"}, "webhook_url_invalid"),
        ({"url": "https://hooks.example:99999/x"}, "webhook_url_invalid"),
        ({"url": "https://hooks.example/x", "events": ["comment.nope"]}, "validation_failed"),
        ({"url": "https://hooks.example/x", "unknown": 1}, "validation_failed"),
    ],
)
def test_bad_endpoints_are_refused_with_a_code(client, admin, body, code):
    answer = client.post(API, json=body, headers=admin)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example/x", "webhook_url_scheme"),
        ("https://127.0.0.1/x", "webhook_url_not_public"),
        ("https://localhost/x", "webhook_url_not_public"),  # a name resolving to loopback
        ("https://169.254.169.254/latest/meta-data/", "webhook_url_not_public"),
        ("https://[::ffff:10.0.0.1]/x", "webhook_url_not_public"),
    ],
)
def test_without_private_addresses_allowed_internal_endpoints_are_refused(client, admin, app, url, code):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    answer = client.post(API, json={"url": url}, headers=admin)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == code


# -- delivering -------------------------------------------------------------------------------------------


def test_a_new_comment_is_delivered_signed_with_a_thin_payload(make_app, receiver):
    app = make_app(WEBHOOKS_ALLOW_PRIVATE=True, CLOCK=utc_now)
    with app.app_context():
        make_site("news", moderation="none")
        client = app.test_client()
        _, token = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
        created = _register(client, {"Authorization": f"Bearer {token}"}, receiver.url)
        comment = post(client, author_email="private@example.org").get_json()["comment"]

        report = delivery.deliver_due()

    assert report.delivered == 1
    (request,) = receiver.received
    event = _verify(created["secret"], request)
    assert event["type"] == "comment.created"
    assert event["data"] == {
        "site": "news",
        "comment_id": comment["id"],
        "thread": "2025/05/xi-putin-moscow",
        "parent_id": None,
        "status": "approved",
    }
    assert "private@example.org" not in request["body"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"].startswith("msg_") and headers["content-type"] == "application/json"


def test_failures_are_retried_on_the_specifications_schedule(client, admin, receiver, clock):
    created = _register(client, admin, receiver.url)
    post(client)
    receiver.answers += [(500, {}, 0.0), (502, {}, 0.0)]

    assert delivery.deliver_due().retrying == 1
    (queued,) = _deliveries()
    assert queued.next_attempt_at == clock() + delivery.RETRY_DELAYS[0]
    assert delivery.deliver_due().attempted == 0, "not due before its delay"
    clock.advance(seconds=5)
    assert delivery.deliver_due().retrying == 1
    assert _deliveries()[0].next_attempt_at == clock() + delivery.RETRY_DELAYS[1]
    clock.advance(minutes=5)
    assert delivery.deliver_due().delivered == 1

    (done,) = _deliveries()
    assert done.status == DeliveryStatus.DELIVERED and done.attempts == 3
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1, "one message id on every retry"
    assert all(_signed_by(created["secret"], r) for r in receiver.received)
    attempts = client.get(f"{API}/{created['endpoint']['id']}/attempts", headers=admin).get_json()["items"]
    assert [a["status_code"] for a in attempts] == [200, 502, 500]


def test_a_delivery_is_failed_after_the_last_attempt(client, admin, receiver, clock):
    _register(client, admin, receiver.url)
    post(client)
    receiver.answers += [(500, {}, 0.0)] * 10
    for delay in (None, *delivery.RETRY_DELAYS):
        if delay:
            clock.advance(seconds=delay.total_seconds())
        delivery.deliver_due()
    (failed,) = _deliveries()
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 10
    assert len(receiver.received) == 10


def test_a_slow_endpoint_is_a_failed_attempt_not_a_stuck_worker(client, admin, receiver, clock):
    _register(client, admin, receiver.url)
    post(client)
    receiver.answers.append((200, {}, 2.0))  # WEBHOOK_TIMEOUT is 1 s here

    assert delivery.deliver_due().retrying == 1
    (retrying,) = _deliveries()
    assert "Timeout" in retrying.last_error


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(client, admin, receiver, clock, status):
    _register(client, admin, receiver.url)
    post(client)
    receiver.answers.append((status, {"Retry-After": "120"}, 0.0))
    delivery.deliver_due()
    (waiting,) = _deliveries()
    assert waiting.next_attempt_at == clock() + delivery.timedelta(seconds=120)


def test_gone_disables_the_endpoint(client, admin, receiver):
    created = _register(client, admin, receiver.url)
    post(client)
    post(client)
    receiver.answers.append((410, {}, 0.0))

    delivery.deliver_due()

    endpoint = client.get(API, headers=admin).get_json()["items"][0]
    assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
    assert {d.status for d in _deliveries()} == {DeliveryStatus.FAILED}
    assert len(receiver.received) == 1, "nothing more is posted to it"
    post(client)
    assert len(_deliveries()) == 2, "a disabled endpoint gets no new deliveries"
    enabled = client.patch(f"{API}/{created['endpoint']['id']}", json={"enabled": True}, headers=admin)
    assert enabled.get_json()["disabled_reason"] is None


def test_an_endpoint_failing_for_five_days_is_disabled_and_admins_are_mailed(client, admin, receiver, clock):
    create_member(email="chief@news.example", display_name="Chief", role=StaffRole.ADMIN, site_slugs=[])
    db.session.commit()
    _register(client, admin, receiver.url)
    receiver.answers += [(500, {}, 0.0)] * 50
    for _ in range(6):
        post(client)
        delivery.deliver_due()
        clock.advance(days=1)
    post(client)
    delivery.deliver_due()

    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.enabled is False and "five days" in endpoint.disabled_reason
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "webhook_disabled")
    ).all()
    assert [m.to_address for m in mails] == ["chief@news.example"]


def test_redirects_are_not_followed(client, admin, receiver):
    _register(client, admin, receiver.url)
    post(client)
    receiver.answers.append((302, {"Location": "http://169.254.169.254/latest/meta-data/"}, 0.0))
    assert delivery.deliver_due().retrying == 1
    assert _deliveries()[0].last_status_code == 302
    assert len(receiver.received) == 1


def test_delivery_time_checks_refuse_an_address_that_became_private(client, admin, receiver, app):
    _register(client, admin, receiver.url)
    post(client)
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    assert delivery.deliver_due().retrying == 1
    assert _deliveries()[0].last_error.startswith("refused: ")
    assert receiver.received == []


def test_an_endpoint_gets_only_the_events_it_asked_for(client, admin, receiver):
    _register(client, admin, receiver.url, events=["comment.approved", "comment.rejected"])
    posted = post(client).get_json()["comment"]
    client.patch(f"/api/v1/moderation/comments/{posted['id']}", json={"status": "spam"}, headers=admin)
    delivery.deliver_due()
    assert [body["type"] for body in receiver.bodies()] == ["comment.rejected"]
    assert receiver.bodies()[0]["data"]["previous_status"] == "approved"


def test_counter_and_thread_events(client, admin, receiver):
    _register(client, admin, receiver.url, events=["counter.changed", "thread.closed"])
    client.post("/api/v1/sites/news/engagement/followers", headers={"X-Engagement-Reader": "a" * 32})
    post(client)
    client.patch(
        "/api/v1/moderation/sites/news/threads",
        query_string={"key": "2025/05/xi-putin-moscow"},
        json={"closed": True},
        headers=admin,
    )
    delivery.deliver_due()
    assert [body["type"] for body in receiver.bodies()] == ["counter.changed", "thread.closed"]
    assert receiver.bodies()[0]["data"] == {"site": "news", "target": "site", "kind": "followers", "count": 1}
    assert receiver.bodies()[1]["data"] == {"site": "news", "thread": "2025/05/xi-putin-moscow"}


def test_rotation_signs_with_both_secrets_during_the_overlap(client, admin, receiver, clock):
    created = _register(client, admin, receiver.url)
    endpoint_id = created["endpoint"]["id"]
    rotated = client.post(f"{API}/{endpoint_id}/rotate", json={"overlap_hours": 2}, headers=admin).get_json()
    assert rotated["secret"] != created["secret"]

    post(client)
    delivery.deliver_due()
    during = receiver.received[-1]
    assert _signed_by(created["secret"], during) and _signed_by(rotated["secret"], during)

    clock.advance(hours=3)
    post(client)
    delivery.deliver_due()
    after = receiver.received[-1]
    assert _signed_by(rotated["secret"], after) and not _signed_by(created["secret"], after)


def test_replay_one_delivery_or_everything_since_a_time(client, admin, receiver, clock):
    created = _register(client, admin, receiver.url)
    endpoint_id = created["endpoint"]["id"]
    post(client)
    clock.advance(hours=1)
    since = clock().isoformat()
    post(client)
    delivery.deliver_due()
    first, second = _deliveries()

    one = client.post(f"{API}/{endpoint_id}/replay", json={"delivery_id": first.id}, headers=admin)
    assert one.get_json() == {"replayed": 1}
    delivery.deliver_due()
    assert receiver.received[-1]["headers"]["webhook-id"] == first.message_id

    recent = client.post(f"{API}/{endpoint_id}/replay", json={"since": since}, headers=admin)
    assert recent.get_json() == {"replayed": 1}
    missing = client.post(f"{API}/{endpoint_id}/replay", json={"delivery_id": 999_999}, headers=admin)
    assert missing.status_code == 404
    listed = client.get(f"{API}/{endpoint_id}/deliveries?status=queued", headers=admin).get_json()["items"]
    assert [d["id"] for d in listed] == [second.id]


def test_an_endpoint_of_another_site_is_not_found(client, admin, receiver):
    make_site("other")
    created = _register(client, admin, receiver.url)
    answer = client.patch(
        f"/api/v1/moderation/sites/other/webhooks/{created['endpoint']['id']}",
        json={"enabled": False},
        headers=admin,
    )
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "webhook_not_found"


def test_two_workers_deliver_each_event_exactly_once(make_app, receiver):
    app = make_app(WEBHOOKS_ALLOW_PRIVATE=True)
    with app.app_context():
        make_site("news", moderation="none")
        client = app.test_client()
        _, token = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
        _register(client, {"Authorization": f"Bearer {token}"}, receiver.url)
        for n in range(30):
            post(client, ip=f"198.51.100.{n}")

    def work() -> None:
        with app.app_context():
            delivery.deliver_due()
            db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert len(ids) == 30 and len(set(ids)) == 30


def test_the_cli_delivers_and_flushes_what_waits_for_a_retry(client, admin, receiver, runner, clock):
    _register(client, admin, receiver.url)
    post(client)
    receiver.answers += [(500, {}, 0.0), (500, {}, 0.0), (500, {}, 0.0)]

    assert "retrying later 1" in runner.invoke(args=["engagement", "send-webhooks"]).output
    clock.advance(seconds=5)
    assert "retrying later 1" in runner.invoke(args=["engagement", "send-webhooks"]).output  # now 5 min away
    assert "delivered 0, retrying later 0" in runner.invoke(args=["engagement", "send-webhooks"]).output
    # A flush tries each waiting delivery once (a failing one does not loop), then the next flush again.
    assert "retrying later 1" in runner.invoke(args=["engagement", "send-webhooks", "--flush"]).output
    assert "delivered 1" in runner.invoke(args=["engagement", "send-webhooks", "--flush"]).output


def test_a_secret_stored_under_another_secret_key_is_never_used_to_post_unsigned(
    client, admin, receiver, app
):
    _register(client, admin, receiver.url)
    post(client)
    app.config["SECRET_KEY"] = "another-secret-key-after-a-rotation-0123456789"

    assert delivery.deliver_due().retrying == 1
    assert receiver.received == []
    assert "rotate it" in _deliveries()[0].last_error


def test_worker_flush_makes_what_waits_for_a_retry_due_then_watches(
    client, admin, receiver, runner, clock, monkeypatch
):
    from engagement.mailer import outbox, sender

    _register(client, admin, receiver.url)
    post(client)
    receiver.answers += [(500, {}, 0.0)] * 3
    for delay in (0, 5):
        clock.advance(seconds=delay)
        delivery.deliver_due()  # now waiting 5 minutes
    message = outbox.enqueue_email(to="a@example.org", subject="s", template="console_sign_in", context={})
    db.session.commit()
    outbox.record_failure(message.id, "4xx", permanent=False)  # waiting 5 minutes
    db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(next_attempt_at=clock() + delivery.timedelta(hours=2))
    )
    db.session.commit()
    watched = []
    monkeypatch.setattr(sender, "watch_until_terminated", lambda idle_seconds: watched.append(idle_seconds))

    result = runner.invoke(args=["engagement", "worker", "--flush"])

    assert "flushed 1 messages and 1 webhook deliveries" in result.output
    assert watched == [5.0]
    assert _deliveries()[0].next_attempt_at == clock()
    assert db.session.get(OutboxMessage, message.id).next_attempt_at == clock()


def test_a_post_reads_the_sites_endpoints_once_per_change_not_once_per_post(client, admin, receiver):
    """Every post asks which endpoints want it, in the middle of its write: the answer is read on a
    connection of its own, so the process keeps it, and an endpoint registered or disabled afterwards is
    seen by the very next post."""
    post(client, body="Warms the cache.")
    with count_queries() as statements:
        post(client, body="Finds no endpoint, without asking.")
    assert not [s for s in statements if "webhook_endpoints" in s]
    assert _deliveries() == []

    endpoint = _register(client, admin, receiver.url, events=["comment.created"])
    post(client, body="Delivered to the new endpoint.")
    assert [d.event_type for d in _deliveries()] == ["comment.created"]

    disabled = client.patch(f"{API}/{endpoint['endpoint']['id']}", json={"enabled": False}, headers=admin)
    assert disabled.status_code == 200, disabled.get_json()
    post(client, body="Nobody wants this one.")
    assert len(_deliveries()) == 1


def test_what_a_rolled_back_write_saw_of_its_own_change_is_not_kept(app, client, admin, receiver):
    """A write transaction sees its own uncommitted changes: routes it loads after changing an endpoint
    must not outlive it. Disabled, looked up, rolled back: the next post is still delivered."""
    _register(client, admin, receiver.url, events=["comment.created"])
    site_id = db.session.scalar(select(WebhookEndpoint.site_id))
    db.session.remove()

    endpoint = db.session.scalar(select(WebhookEndpoint))
    endpoint.enabled = False
    db.session.flush()
    assert service._routes(site_id) == ()  # its own change, seen inside the transaction
    db.session.rollback()
    db.session.remove()

    post(client, body="Still delivered.")
    assert [d.event_type for d in _deliveries()] == ["comment.created"]
