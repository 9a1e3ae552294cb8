"""Counter feeds in the console: health and Sync now on the counters page for any staff of the site; the
Feeds page (admins) adds, turns off, re-credentials and removes feeds with the API's rules and messages;
a credential typed in is never shown again anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engagement.counters.platforms import PLATFORMS
from engagement.models import StaffRole
from engagement.staff import members
from tests.factories import make_site
from tests.fakes.platforms import YOUTUBE_KEY, Answer, FakePlatforms, mastodon, youtube
from tests.fakes.platforms import platforms as platforms  # the fixture
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of
from tests.test_console_sites import html

PAGE = "/console/sites/news/counter-feeds"


@pytest.fixture
def app(make_app: Any, platforms: FakePlatforms) -> Iterator[Any]:
    app = make_app(PLATFORM_URLS=dict.fromkeys(PLATFORMS, platforms.url), PLATFORMS_ALLOW_PRIVATE=True)
    with app.app_context():
        make_site("news")
        make_site("sport")
        members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
        members.create_member(
            email=MODERATOR, display_name="Grace", role=StaffRole.MODERATOR, site_slugs=["news"]
        )
        yield app


def add(client: Any, **form: str) -> Any:
    data = {
        "platform": "mastodon",
        "kind": "followers",
        "target": "site",
        "account": "newsroom@mastodon.social",
    }
    return client.post(PAGE, data={"csrf_token": csrf_of(client.get(PAGE)), **data, **form})


def test_an_admin_adds_a_feed_syncs_it_now_and_the_counter_shows_it(app, platforms):
    mastodon(platforms, {"newsroom": 1234})
    admin = signed_in(app, ADMIN)
    added = add(admin)
    assert added.status_code == 303
    page = html(admin.get(added.headers["Location"]))
    assert "Feed added" in page and "waiting for its first sync" in page
    synced = admin.post(
        "/console/sites/news/counter-feeds/1/sync",
        data={"csrf_token": csrf_of(admin.get(PAGE)), "back": "counters"},
    )
    assert synced.status_code == 303
    counters = html(admin.get(synced.headers["Location"]))
    assert "Sync now: Mastodon newsroom@mastodon.social: 1,234" in counters
    assert "working" in counters and "1,234" in counters


def test_a_credential_typed_in_is_never_shown_again(app, platforms):
    youtube(platforms, {"@newsroom": {"subscriberCount": "2150"}})
    admin = signed_in(app, ADMIN)
    added = add(
        admin, platform="youtube", kind="subscribers", account="@newsroom", credential_api_key=YOUTUBE_KEY
    )
    assert added.status_code == 303 and YOUTUBE_KEY not in added.headers["Location"]
    admin.post("/console/sites/news/counter-feeds/1/sync", data={"csrf_token": csrf_of(admin.get(PAGE))})
    for url in (PAGE, "/console/sites/news/counters", "/console/audit?site=news"):
        page = admin.get(url).get_data(as_text=True)
        assert YOUTUBE_KEY not in page, url
    assert "Credentials: set" in html(admin.get(PAGE))
    assert "(rounded by the platform)" in html(admin.get("/console/sites/news/counters"))


def test_bad_forms_come_back_with_messages_by_the_field(app):
    admin = signed_in(app, ADMIN)
    cases = [
        ({"account": "not-an-account"}, "user@instance"),
        ({"kind": "fans"}, "can feed followers only"),
        ({"platform": "youtube", "kind": "subscribers", "account": "@newsroom"}, "needs these credentials"),
        ({"interval_minutes": "5"}, "greater than or equal to 15"),
        ({"platform": "myspace"}, "One of:"),
    ]
    for form, message in cases:
        answer = add(admin, **form)
        assert answer.status_code == 422, form
        assert message in answer.get_data(as_text=True), form
        assert "No feed was added" in answer.get_data(as_text=True)


def test_turn_off_replace_credentials_and_remove(app, platforms):
    platforms.queue.append(
        Answer(403, {"error": {"code": 403, "message": "bad", "errors": [{"reason": "forbidden"}]}})
    )
    youtube(platforms, {"@newsroom": {"subscriberCount": "10"}})
    admin = signed_in(app, ADMIN)
    add(
        admin,
        platform="youtube",
        kind="subscribers",
        account="@newsroom",
        credential_api_key="AIza-old-key-000000000000",
    )
    admin.post("/console/sites/news/counter-feeds/1/sync", data={"csrf_token": csrf_of(admin.get(PAGE))})
    assert "needs new credentials" in html(admin.get(PAGE))
    token = csrf_of(admin.get(PAGE))
    changed = admin.post(
        f"{PAGE}/1", data={"csrf_token": token, "action": "credentials", "credential_api_key": YOUTUBE_KEY}
    )
    assert changed.status_code == 303
    assert "needs new credentials" not in html(admin.get(PAGE))  # tried again at the next round
    admin.post(f"{PAGE}/1", data={"csrf_token": token, "action": "disable"})
    assert "turned off" in html(admin.get(PAGE))
    assert "Stop following YouTube @newsroom?" in html(admin.get(f"{PAGE}/1/delete"))
    removed = admin.post(f"{PAGE}/1/delete", data={"csrf_token": token})
    assert removed.status_code == 303 and "Feed removed" in html(admin.get(removed.headers["Location"]))
    assert admin.post(f"{PAGE}/1", data={"csrf_token": token, "action": "enable"}).status_code == 404


def test_moderators_see_health_and_sync_but_cannot_manage(app, platforms):
    mastodon(platforms, {"newsroom": 5})
    add(signed_in(app, ADMIN))
    moderator = signed_in(app, MODERATOR)
    counters = html(moderator.get("/console/sites/news/counters"))
    assert "waiting for its first sync" in counters
    assert 'href="/console/sites/news/counter-feeds"' not in counters  # a page they would be refused
    token = csrf_of(moderator.get("/console/sites/news/counters"))
    assert (
        moderator.post("/console/sites/news/counter-feeds/1/sync", data={"csrf_token": token}).status_code
        == 303
    )
    assert moderator.get(PAGE).status_code == 403
    assert moderator.post(PAGE, data={"csrf_token": token, "platform": "mastodon"}).status_code == 403
    assert moderator.post(f"{PAGE}/1/delete", data={"csrf_token": token}).status_code == 403
    assert moderator.get(f"{PAGE}/1/delete").status_code == 403
    for action in ("disable", "credentials"):
        assert moderator.post(f"{PAGE}/1", data={"csrf_token": token, "action": action}).status_code == 403
    other = signed_in(app, ADMIN)
    assert other.post("/console/sites/news/counter-feeds/1/sync", data={}).status_code in (400, 403)


def test_a_credential_typed_into_a_refused_form_is_not_sent_back(app):
    admin = signed_in(app, ADMIN)
    answer = add(
        admin,
        platform="youtube",
        kind="subscribers",
        account="@newsroom",
        interval_minutes="5",
        credential_api_key=YOUTUBE_KEY,
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "greater than or equal to 15" in page and YOUTUBE_KEY not in page


def test_sync_now_tells_its_outcome_from_the_feed_not_from_the_url(app, platforms):
    platforms.queue.append(Answer(503, {"error": "Mastodon is down for maintenance"}))
    mastodon(platforms, {"newsroom": 5})
    admin = signed_in(app, ADMIN)
    add(admin)
    synced = admin.post(
        "/console/sites/news/counter-feeds/1/sync", data={"csrf_token": csrf_of(admin.get(PAGE))}
    )
    location = synced.headers["Location"]
    assert "maintenance" not in location and location.endswith("?synced=1#feeds")
    page = html(admin.get(location))
    assert "Sync now: Mastodon newsroom@mastodon.social: failed: Mastodon is down for maintenance" in page
    assert "failing" in page and "(HTTP 503)" in page
    forged = html(admin.get("/console/sites/news/counters?outcome=Sign+in+again+at+evil.example&synced=9"))
    assert "evil.example" not in forged and "Sync now:" not in forged


def test_sync_now_goes_back_to_the_counters_page_as_it_was(app, platforms):
    mastodon(platforms, {"newsroom": 5})
    admin = signed_in(app, ADMIN)
    add(admin, target="author:jane-doe")
    counters = admin.get("/console/sites/news/counters?target=author:jane-doe&days=90")
    page = html(counters)
    assert 'name="target" value="author:jane-doe"' in page and 'name="days" value="90"' in page
    synced = admin.post(
        "/console/sites/news/counter-feeds/1/sync",
        data={"csrf_token": csrf_of(counters), "back": "counters", "target": "author:jane-doe", "days": "90"},
    )
    assert synced.headers["Location"].startswith(
        "/console/sites/news/counters?target=author:jane-doe&days=90"
    )
    assert "Sync now: Mastodon newsroom@mastodon.social: 5" in html(admin.get(synced.headers["Location"]))


def test_every_feed_form_needs_its_csrf_token(app, platforms):
    mastodon(platforms, {"newsroom": 5})
    admin = signed_in(app, ADMIN)
    add(admin)
    forms = [
        (PAGE, {"platform": "mastodon", "kind": "followers", "account": "other@mastodon.social"}),
        (f"{PAGE}/1", {"action": "disable"}),
        (f"{PAGE}/1/sync", {}),
        (f"{PAGE}/1/delete", {}),
    ]
    for url, form in forms:
        assert admin.post(url, data=form).status_code == 403, url
        assert admin.post(url, data={**form, "csrf_token": "forged"}).status_code == 403, url
    page = html(admin.get(PAGE))
    assert "other@mastodon.social" not in page and "turned off" not in page and "none yet" in page
