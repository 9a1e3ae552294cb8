"""Every moderation endpoint x every kind of caller gives the expected status.

The routes are enumerated from the app, so a new endpoint without an entry here fails the test.
"""

from __future__ import annotations

import pytest

from engagement.models import StaffRole
from engagement.staff.service import create_token, revoke_token
from tests.factories import make_site, post

# (method, path template, body, {caller: expected status}); callers not named expect DEFAULT[caller].
DEFAULT = {
    "none": 401,
    "malformed": 401,
    "unknown": 401,
    "revoked": 401,
    "other_moderator": 403,
    "moderator": 200,
    "admin": 200,
}
ADMIN_ONLY = {"moderator": 403, "other_moderator": 403}
FEED = {"target": "site", "kind": "followers", "platform": "mastodon", "account": "desk@mastodon.social"}


def _cases(ids: dict[str, int]) -> list[tuple[str, str, dict | None, dict[str, int]]]:
    c = ids["comment"]
    m = ids["message"]
    return [
        ("GET", "/api/v1/moderation/comments?site=news", None, {}),
        ("GET", f"/api/v1/moderation/comments/{c}", None, {}),
        ("PATCH", f"/api/v1/moderation/comments/{c}", {"pinned": True}, {}),
        ("DELETE", "/api/v1/moderation/comments/{fresh}", None, {**ADMIN_ONLY, "admin": 204}),
        # Bulk answers 200 to a moderator of another site, reporting the id as failed ("forbidden").
        ("POST", "/api/v1/moderation/comments/bulk", {"ids": [c], "action": "spam"}, {"other_moderator": 200}),  # noqa: E501
        ("POST", "/api/v1/moderation/comments/{fresh}/ban-author", {"kinds": ["email"]},
         {"moderator": 201, "admin": 201}),
        ("GET", f"/api/v1/moderation/comments/{c}/reports", None, {}),
        ("POST", f"/api/v1/moderation/comments/{c}/reports/dismiss", {}, {}),
        ("GET", "/api/v1/moderation/summary", None, {"other_moderator": 200}),
        ("GET", "/api/v1/moderation/bans?site=news", None, {}),
        ("POST", "/api/v1/moderation/bans", {"site": "news", "kind": "word", "value": "spam"},
         {"moderator": 201, "admin": 201}),
        ("DELETE", "/api/v1/moderation/bans/{ban}", None, {"moderator": 204, "admin": 204}),
        ("GET", "/api/v1/moderation/sites/news/threads", None, {}),
        ("PATCH", "/api/v1/moderation/sites/news/threads?key=t", {"title": "New"}, {}),
        ("GET", "/api/v1/moderation/sites", None, {"other_moderator": 200}),
        ("POST", "/api/v1/moderation/sites", {"slug": "{slug}", "name": "X"},
         {**ADMIN_ONLY, "admin": 201}),
        ("GET", "/api/v1/moderation/sites/news", None, {}),
        ("PATCH", "/api/v1/moderation/sites/news", {"max_links": 3}, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/tokens", None, ADMIN_ONLY),
        ("POST", "/api/v1/moderation/tokens", {"role": "admin", "label": "x"}, {**ADMIN_ONLY, "admin": 201}),
        ("DELETE", "/api/v1/moderation/tokens/{token}", None, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/audit?site=news", None, {}),
        ("PUT", "/api/v1/moderation/sites/news/engagement/fans", {"source": "facebook", "count": 10}, {}),
        ("GET", "/api/v1/moderation/sites/news/engagement/history?kind=fans", None, {}),
        ("GET", "/api/v1/moderation/outbox?site=news", None, {}),
        ("POST", f"/api/v1/moderation/outbox/{m}/retry", None, {}),
        ("GET", "/api/v1/moderation/sites/news/subscribers", None, {}),
        ("GET", "/api/v1/moderation/sites/news/subscribers.csv", None, {}),
        ("GET", "/api/v1/moderation/sites/news/export", None, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/people?email=nobody@example.org", None, {"other_moderator": 200}),
        ("POST", "/api/v1/moderation/people/erase", {"email": "nobody@example.org", "mode": "anonymize"},
         {"other_moderator": 200}),
        ("GET", "/api/v1/moderation/sites/news/webhooks", None, ADMIN_ONLY),
        ("POST", "/api/v1/moderation/sites/news/webhooks", {"url": "https://93.184.215.14/h"},
         {**ADMIN_ONLY, "admin": 201}),
        ("PATCH", "/api/v1/moderation/sites/news/webhooks/{hook}", {"enabled": True}, ADMIN_ONLY),
        ("DELETE", "/api/v1/moderation/sites/news/webhooks/{fresh_hook}", None, {**ADMIN_ONLY, "admin": 204}),
        ("POST", "/api/v1/moderation/sites/news/webhooks/{hook}/rotate", {}, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/sites/news/webhooks/{hook}/attempts", None, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/sites/news/webhooks/{hook}/deliveries", None, ADMIN_ONLY),
        ("POST", "/api/v1/moderation/sites/news/webhooks/{hook}/replay", {}, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/sites/news/sso/keys", None, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/sites/news/counter-feeds", None, {}),
        ("POST", "/api/v1/moderation/sites/news/counter-feeds", FEED, {**ADMIN_ONLY, "admin": 201}),
        ("GET", "/api/v1/moderation/sites/news/counter-feeds/{feed}", None, {}),
        ("PATCH", "/api/v1/moderation/sites/news/counter-feeds/{feed}", {"enabled": True}, ADMIN_ONLY),
        ("POST", "/api/v1/moderation/sites/news/counter-feeds/{feed}/sync", None, {}),
        ("DELETE", "/api/v1/moderation/sites/news/counter-feeds/{feed}", None, {**ADMIN_ONLY, "admin": 204}),
        ("POST", "/api/v1/moderation/sites/news/sso/keys", {"grace_hours": 0}, {**ADMIN_ONLY, "admin": 201}),
        ("DELETE", "/api/v1/moderation/sites/news/sso/keys/{kid}", None, {**ADMIN_ONLY, "admin": 204}),
        ("POST", "/api/v1/moderation/sites/news/exports", None, {**ADMIN_ONLY, "admin": 202}),
        ("GET", "/api/v1/moderation/sites/news/exports", None, ADMIN_ONLY),
        ("GET", "/api/v1/moderation/sites/news/exports/{job}", None, ADMIN_ONLY),
        # No worker ran: the admin is told to wait (409); everyone else is refused first.
        ("GET", "/api/v1/moderation/sites/news/exports/{job}/file", None, {**ADMIN_ONLY, "admin": 409}),
    ]  # fmt: skip


@pytest.fixture
def world(app, client):
    make_site("news")
    make_site("sport")
    comment = post(client, thread="t").json["comment"]["id"]
    tokens = {
        "admin": create_token(role=StaffRole.ADMIN, site_slugs=[], label="admin")[1],
        "moderator": create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="mod")[1],
        "other_moderator": create_token(role=StaffRole.MODERATOR, site_slugs=["sport"], label="other")[1],
    }
    revoked, revoked_secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="old")
    revoke_token(token_id=revoked.id)
    headers = {
        "none": {},
        "malformed": {"Authorization": "Token abc"},
        "unknown": {"Authorization": "Bearer eng_not_a_real_token"},
        "revoked": {"Authorization": f"Bearer {revoked_secret}"},
        **{name: {"Authorization": f"Bearer {secret}"} for name, secret in tokens.items()},
    }
    client.post("/api/v1/sites/news/subscribers", json={"email": "reader@example.org"})
    message = client.get("/api/v1/moderation/outbox", headers=headers["admin"]).json["items"][0]["id"]
    return {"comment": comment, "message": message, "headers": headers, "admin": headers["admin"]}


def _fill(template: str, client, world, n: int) -> str:
    """Fresh objects for destructive calls, so every caller acts on something that exists."""
    admin = world["admin"]
    if "{fresh}" in template:
        template = template.replace("{fresh}", str(post(client, thread="t").json["comment"]["id"]))
    if "{hook}" in template or "{fresh_hook}" in template:
        # One endpoint for every caller, a new one for each deletion (a site has at most 20).
        if "{fresh_hook}" in template or "hook" not in world:
            hook = client.post(
                "/api/v1/moderation/sites/news/webhooks",
                json={"url": "https://93.184.215.14/h"},
                headers=admin,
            ).json["endpoint"]["id"]
            if "{hook}" in template:
                world["hook"] = hook
        else:
            hook = world["hook"]
        template = template.replace("{hook}", str(hook)).replace("{fresh_hook}", str(hook))
    if "{feed}" in template:  # a feed for each caller: the deletion must find one
        feed = client.post("/api/v1/moderation/sites/news/counter-feeds", json=FEED, headers=admin)
        template = template.replace("{feed}", str(feed.json["id"]))
    if "{job}" in template:  # the site's one queued export (asking again answers the same one)
        job = client.post("/api/v1/moderation/sites/news/exports", headers=admin)
        template = template.replace("{job}", job.json["id"])
    if "{kid}" in template:
        key = client.post("/api/v1/moderation/sites/news/sso/keys", json={"grace_hours": 0}, headers=admin)
        template = template.replace("{kid}", key.json["key"]["kid"])
    if "{ban}" in template:
        ban = client.post(
            "/api/v1/moderation/bans", json={"site": "news", "kind": "word", "value": f"w{n}"}, headers=admin
        )
        template = template.replace("{ban}", str(ban.json["id"]))
    if "{token}" in template:
        token = client.post(
            "/api/v1/moderation/tokens", json={"role": "admin", "label": f"t{n}"}, headers=admin
        )
        template = template.replace("{token}", str(token.json["id"]))
    return template.replace("{slug}", f"site-{n}")


def test_permission_matrix_covers_every_moderation_route(app, client, world):
    cases = _cases(world)
    n = 0
    failures = []
    for method, template, body, overrides in cases:
        for caller, headers in world["headers"].items():
            n += 1
            expected = {**DEFAULT, **overrides}[caller]
            path = _fill(template, client, world, n)
            if isinstance(body, dict):
                payload = {
                    k: (v.replace("{slug}", f"site-{n}") if isinstance(v, str) else v)
                    for k, v in body.items()
                }
            else:
                payload = None
            response = client.open(path, method=method, json=payload, headers=headers)
            response.get_data()  # a streamed body (CSV, export) runs to its end, as a client reads it
            if response.status_code != expected:
                failures.append(
                    f"{caller:16} {method} {path}: {response.status_code} != {expected} {response.json}"
                )
            if response.status_code == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert failures == []

    # Every (endpoint, method) under /api/v1/moderation appears in the cases above.
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, template, _, _ in cases:
        path = template.split("?")[0]
        for placeholder in ("{fresh}", "{ban}", "{token}", "{hook}", "{fresh_hook}", "{feed}", "{job}"):
            path = path.replace(placeholder, "1")
        endpoint, _args = adapter.match(path, method=method)
        covered.add((endpoint, method))
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/moderation")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered == set()
