"""The queue's bulk bar (one decision on the checked cards, and its Undo) and the tabs' counts endpoint."""

from __future__ import annotations

import pytest

from engagement.extensions import db
from engagement.models import Comment
from tests.factories import post
from tests.test_console_queue import comment_id, count_of, decide, queue, signed_in, staff  # noqa: F401
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of

pytestmark = pytest.mark.usefixtures("staff")


def bulk(client, ids, action, *, json=True, csrf=None, **extra):
    csrf = csrf if csrf is not None else csrf_of(client.get("/console"))
    headers = {"Accept": "application/json"} if json else {}
    data = {"csrf_token": csrf, "ids": [str(i) for i in ids], "action": action, **extra}
    return client.post("/console/comments/bulk", data=data, headers=headers)


def statuses(ids):
    db.session.expire_all()
    return [db.session.get(Comment, i).status for i in ids]


def test_bulk_spam_and_its_undo_back_to_pending(app, client):
    ids = [comment_id(post(client, "news", body=f"Number {n}.")) for n in range(3)]
    admin = signed_in(app, ADMIN)
    answer = bulk(admin, ids, "spam").get_json()
    assert answer == {"updated": ids, "failed": {}, "status": "spam", "message": "3 comments: spam."}
    assert statuses(ids) == ["spam"] * 3
    undo = bulk(admin, ids, "pending").get_json()
    assert undo["updated"] == ids and statuses(ids) == ["pending"] * 3
    bulk(admin, ids[:2], "approve")
    assert statuses(ids) == ["approved", "approved", "pending"]
    assert bulk(admin, ids[:2], "pending").get_json()["message"] == "2 comments: pending."
    assert count_of(queue(admin), "pending") == 3


def test_bulk_without_script_goes_back_to_the_same_view_with_a_notice(app, client):
    ids = [comment_id(post(client, "news", body=f"Number {n}.")) for n in range(2)]
    admin = signed_in(app, ADMIN)
    response = bulk(admin, ids, "trash", json=False, tab="pending", site="news")
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/queue?tab=pending&site=news&done=2&action=trash"
    assert "2 comments: trash." in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Call me" not in queue(admin, done="1", action="Call me")


def test_the_queue_has_a_labelled_checkbox_per_card_in_the_bulk_form(app, client):
    cid = comment_id(post(client, "news", author_name="Kim"))
    page = queue(signed_in(app, ADMIN))
    assert f'name="ids" value="{cid}" form="bulk" id="select-{cid}"' in page
    assert f'<label for="select-{cid}"' in page and '<form id="bulk"' in page


def test_a_moderators_bulk_skips_another_sites_comment_as_if_it_did_not_exist(app, client):
    news = comment_id(post(client, "news"))
    sport = comment_id(post(client, "sport"))
    answer = bulk(signed_in(app, MODERATOR), [news, sport, 999999], "spam").get_json()
    assert answer["updated"] == [news]
    assert answer["failed"] == {str(sport): "comment_not_found", "999999": "comment_not_found"}
    assert statuses([news, sport]) == ["spam", "pending"]
    undo = bulk(signed_in(app, MODERATOR), [sport], "pending").get_json()
    assert undo["failed"] == {str(sport): "comment_not_found"}


def test_bulk_needs_the_csrf_token(app, client):
    cid = comment_id(post(client, "news"))
    admin = signed_in(app, ADMIN)
    assert bulk(admin, [cid], "spam", csrf="").status_code == 403
    assert bulk(admin, [cid], "spam", csrf="0" * 64, json=False).status_code == 403
    assert statuses([cid]) == ["pending"]


@pytest.mark.parametrize(
    ("ids", "action", "field"),
    [([], "spam", "ids"), (["x"], "spam", "ids"), ([2**70], "spam", "ids"), ([1], "delete", "action")],
)
def test_bad_bulk_fields_are_refused(app, client, ids, action, field):
    admin = signed_in(app, ADMIN)
    response = bulk(admin, ids, action)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    page = bulk(admin, ids, action, json=False)
    assert page.status_code == 422 and "Nothing was changed" in page.get_data(as_text=True)


def test_the_counts_answer_304_until_they_change(app, client):
    cid = comment_id(post(client, "news"))
    comment_id(post(client, "sport"))
    admin = signed_in(app, ADMIN)
    response = admin.get("/console/counts")
    counts = {"all": 2, "approved": 0, "pending": 2, "spam": 0, "trash": 0, "reported": 0}
    assert response.get_json() == counts
    etag = response.headers["ETag"]
    assert admin.get("/console/counts", headers={"If-None-Match": etag}).status_code == 304
    assert admin.get("/console/counts?site=news").get_json()["pending"] == 1
    decide(admin, cid, "approved")
    changed = admin.get("/console/counts", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["approved"] == 1


def test_counts_of_another_site_or_an_unknown_one_are_refused(app, client):
    moderator = signed_in(app, MODERATOR)
    json = {"Accept": "application/json"}
    assert moderator.get("/console/counts?site=sport", headers=json).status_code == 403
    assert moderator.get("/console/counts?site=nowhere", headers=json).status_code == 404
    assert moderator.get("/console/counts?site=%00%3Cscript%3E").status_code == 404
    assert moderator.get("/console/counts").get_json()["all"] == 0
