"""The queue card's own actions beside the decisions: Pin / Unpin and Edit body."""

from __future__ import annotations

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry, Comment
from tests.factories import post
from tests.test_console_queue import CANARY, comment_id, queue, signed_in, staff  # noqa: F401 (fixture)
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of

# Two sites holding first comments, an admin, and a moderator of "news" only.
pytestmark = pytest.mark.usefixtures("staff")


def as_json(client) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_of(client.get("/console")), "Accept": "application/json"}


def edit(client, cid, *, csrf=None, json=False, **data):
    csrf = csrf if csrf is not None else csrf_of(client.get("/console"))
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/console/comments/{cid}/edit", data={"csrf_token": csrf, **data}, headers=headers)


def pin(client, cid, pinned, *, csrf=None, json=False):
    csrf = csrf if csrf is not None else csrf_of(client.get("/console"))
    headers = {"Accept": "application/json"} if json else {}
    data = {"csrf_token": csrf, "pinned": pinned}
    return client.post(f"/console/comments/{cid}/pin", data=data, headers=headers)


def test_editing_re_renders_the_body_and_audits_the_reason(app, client):
    cid = comment_id(post(client, "news", body="Teh harbour."))
    admin = signed_in(app, ADMIN)
    response = edit(admin, cid, json=True, body="The **harbour**.", reason="typo")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["id"] == cid and "<strong>harbour</strong>" in answer["html"]
    comment = db.session.get(Comment, cid)
    assert comment.body == "The **harbour**." and comment.edited_at is not None
    audit = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "edited")).one()
    assert audit.reason == "typo"
    assert "<strong>harbour</strong>" in queue(admin)


def test_editing_without_the_script_is_a_page_and_a_redirect_to_the_queue(app, client):
    cid = comment_id(post(client, "news", body="Teh harbour."))
    admin = signed_in(app, ADMIN)
    page = admin.get(f"/console/comments/{cid}/edit").get_data(as_text=True)
    assert "Teh harbour." in page and 'name="csrf_token"' in page
    response = edit(admin, cid, body="The harbour.", tab="pending")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/console/queue?tab=pending#card-{cid}")
    assert db.session.get(Comment, cid).body == "The harbour."


def test_a_blank_body_shows_the_apis_message_next_to_the_field_and_keeps_what_was_typed(app, client):
    cid = comment_id(post(client, "news", body="Teh harbour."))
    admin = signed_in(app, ADMIN)
    response = edit(admin, cid, body="   ", reason="kept " + CANARY)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="body-error">Please enter your comment.<' in page
    assert 'value="kept &lt;script&gt;' in page and "<script>alert" not in page
    response = edit(admin, cid, json=True, body="", reason="x" * 1001)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["body"] == ["Please enter your comment."] and "reason" in fields
    assert db.session.get(Comment, cid).body == "Teh harbour."


def test_a_hostile_edit_renders_inert(app, client):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    answer = edit(admin, cid, json=True, body=CANARY + " hi").get_json()
    assert "<script" not in answer["html"]
    page = queue(admin)
    assert "<script>alert" not in page and 'data-body="&lt;script&gt;' in page


def test_pin_and_unpin(app, client):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    answer = pin(admin, cid, "true", json=True).get_json()
    assert answer == {"id": cid, "pinned": True, "message": f"Comment {cid}: pinned."}
    assert db.session.get(Comment, cid).pinned is True
    assert ">Unpin<" in queue(admin)
    assert pin(admin, cid, "false").status_code == 303
    assert db.session.get(Comment, cid).pinned is False
    actions = db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["pinned", "unpinned"]


def test_a_bad_pin_value_is_a_field_error(app, client):
    cid = comment_id(post(client, "news"))
    response = pin(signed_in(app, ADMIN), cid, "maybe", json=True)
    assert response.status_code == 422 and "pinned" in response.get_json()["error"]["fields"]


def test_a_moderator_gets_403_on_another_sites_pin_and_edit(app, client):
    sport = comment_id(post(client, "sport", body="Original."))
    moderator = signed_in(app, MODERATOR)
    assert moderator.get(f"/console/comments/{sport}/edit").status_code == 403
    assert edit(moderator, sport, body="Changed.").status_code == 403
    assert edit(moderator, sport, body="").status_code == 403
    assert pin(moderator, sport, "true").status_code == 403
    comment = db.session.get(Comment, sport)
    assert (comment.body, comment.pinned) == ("Original.", False)


def test_pin_and_edit_need_the_csrf_token(app, client):
    cid = comment_id(post(client, "news", body="Original."))
    admin = signed_in(app, ADMIN)
    assert edit(admin, cid, csrf="", body="Changed.").status_code == 403
    assert pin(admin, cid, "true", csrf="0" * 64).status_code == 403
    comment = db.session.get(Comment, cid)
    assert (comment.body, comment.pinned) == ("Original.", False)
