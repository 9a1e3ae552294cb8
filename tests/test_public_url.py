"""Every absolute link the service writes (mail, feeds, the embed page) starts with ENGAGEMENT_PUBLIC_URL,
whatever Host or X-Forwarded-Host a request carries: a mailed link holds a token, and its host decides
who receives it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engagement import create_app
from engagement.config import load_config
from engagement.extensions import db
from engagement.models import OutboxMessage
from tests.factories import make_site, post

PUBLIC = "https://comments.daily.example"
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


@pytest.fixture(
    params=[(PUBLIC + "/", 0), (PUBLIC, 1), (None, 0), (None, 1)],
    ids=["direct", "behind-a-proxy", "unset-direct", "unset-behind-a-proxy"],
)
def public(make_app, monkeypatch, request):
    """The origin links must start with: the setting, or unset (development) the bind address."""
    setting, proxies = request.param
    monkeypatch.delenv("ENGAGEMENT_BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    app = make_app(PUBLIC_URL=setting, TRUSTED_PROXIES=proxies)
    with app.app_context():
        make_site("news", notify_emails=["desk@daily.example"], moderation="all")
        yield setting.rstrip("/") if setting else "http://127.0.0.1:8000"


@pytest.fixture
def client(public):
    from flask import current_app

    return current_app.test_client()


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def test_mailed_links_ignore_a_forged_host(client, public):
    client.post(
        "/api/v1/sites/news/subscribers", json={"email": "ada@example.org", "target": "site"}, headers=FORGED
    )
    post(client, headers=FORGED)  # held (moderation "all"): the desk gets Approve / Spam / Trash links
    bodies = db.session.scalars(select(OutboxMessage.text_body)).all()
    links = [link for body in bodies for link in _links(body) if "/mail/" in link]
    assert len(links) >= 4
    assert all(link.startswith(public + "/mail/") for link in links), links


def test_feed_and_embed_page_ignore_a_forged_host(client, public):
    post(client)
    feed = client.get("/api/v1/sites/news/feed.atom", headers=FORGED).text
    assert f'href="{public}/api/v1/sites/news/feed.atom"' in feed
    assert "evil.example" not in feed
    embed = client.get("/embed", headers=FORGED).text
    assert f"{public}/widget.js" in embed and "evil.example" not in embed


def test_production_refuses_to_start_without_a_public_url(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGAGEMENT_ENV", "production")
    monkeypatch.delenv("ENGAGEMENT_PUBLIC_URL", raising=False)
    with pytest.raises(RuntimeError, match="ENGAGEMENT_PUBLIC_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "s"})


@pytest.mark.parametrize(
    "value",
    ["comments.example", "ftp://comments.example", "https://x.example/?next=1", "https://u:p@x.example"],
)
def test_a_public_url_that_is_not_an_origin_stops_the_app(monkeypatch, tmp_path, value):
    monkeypatch.setenv("ENGAGEMENT_PUBLIC_URL", value)
    with pytest.raises(RuntimeError, match="ENGAGEMENT_PUBLIC_URL"):
        load_config(tmp_path, {"SECRET_KEY": "s"})


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        (None, "http://127.0.0.1:8000"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000"),
        ("192.0.2.5:8080", "http://192.0.2.5:8080"),
        ("unix:/run/engagement.sock", "http://localhost"),
    ],
)
def test_development_links_point_at_the_bind_address(monkeypatch, tmp_path, bind, expected):
    monkeypatch.delenv("ENGAGEMENT_PUBLIC_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    if bind is None:
        monkeypatch.delenv("ENGAGEMENT_BIND", raising=False)
    else:
        monkeypatch.setenv("ENGAGEMENT_BIND", bind)
    assert load_config(tmp_path, {"SECRET_KEY": "s"})["PUBLIC_URL"] == expected


def test_allowed_hosts_refuse_any_other_host_in_the_json_error_shape(make_app):
    app = make_app(TRUSTED_HOSTS=["comments.daily.example"])
    with app.app_context():
        make_site("news")
        client = app.test_client()
        refused = client.get("/api/v1/sites/news/counts?thread=a", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert refused.json["error"]["code"] == "bad_request"
        allowed = client.get("/api/v1/sites/news/counts?thread=a", headers={"Host": "comments.daily.example"})
        assert allowed.status_code == 200
