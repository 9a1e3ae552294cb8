"""The console's sign-in keys page (single sign-on): admins list, add (the HS256 secret shown once, or a
public key) and revoke a site's keys with the API's rules and messages; moderators get nothing."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.factories import sign_sso
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of
from tests.test_console_sites import html, staff  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("staff")  # two sites; Ada, an admin; Grace, a moderator of "news"
SECRET = re.compile(r'id="sso-secret"[^>]* value="([\w-]+)"')
PAGE = "/console/sites/news/sign-in"


def add_key(client, **form):
    data = {"algorithm": "HS256", "public_key": "", "kid": "", "grace_hours": "24"}
    return client.post(PAGE, data={"csrf_token": csrf_of(client.get(PAGE)), **data, **form})


def test_an_admin_adds_a_key_sees_the_secret_once_and_it_signs_readers_in(app):
    admin = signed_in(app, ADMIN)
    made = add_key(admin, kid="web-1")
    secret = SECRET.search(html(made, 201)).group(1)
    assert made.headers["Cache-Control"].startswith("no-store")
    listed = html(admin.get(PAGE))
    assert "web-1" in listed and "in use" in listed and secret not in listed
    token = sign_sso(secret, aud="news", kid="web-1", name="Ada")
    assert app.test_client().post("/api/v1/sites/news/sso/session", json={"token": token}).status_code == 200


def test_a_public_key_and_rotation_show_on_the_page(app):
    admin = signed_in(app, ADMIN)
    add_key(admin, kid="old")
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    added = add_key(admin, algorithm="EdDSA", public_key=pem, kid="ed-1", grace_hours="2")
    assert added.status_code == 303 and "done=added" in added.headers["Location"]
    page = html(admin.get(added.headers["Location"]))
    assert "Key ed-1 added." in page and "retires" in page and "(grace period)" in page


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"algorithm": "RS256"}, "public_key", "key needs the site"),
        ({"algorithm": "EdDSA", "public_key": "not a key"}, "public_key", "never the private key"),
        ({"kid": "has spaces"}, "kid", "A kid is 1-64 letters"),
        ({"grace_hours": "9999"}, "grace_hours", "less than or equal to 720"),
        ({"algorithm": "none"}, "algorithm", "Must be one of"),
    ],
)
def test_bad_forms_come_back_with_the_message_by_the_field(app, form, field, message):
    admin = signed_in(app, ADMIN)
    page = html(add_key(admin, **form), 422)
    assert message in page and f'id="{field}-error"' in page
    assert "No key was added" in page


def test_a_taken_kid_is_a_field_message(app):
    admin = signed_in(app, ADMIN)
    add_key(admin, kid="web-1")
    assert "already has a key named" in html(add_key(admin, kid="web-1"), 422)


def test_revoking_asks_first_then_ends_the_keys_sessions(app):
    admin = signed_in(app, ADMIN)
    secret = SECRET.search(html(add_key(admin, kid="web-1"), 201)).group(1)
    reader = app.test_client()
    session = reader.post(
        "/api/v1/sites/news/sso/session", json={"token": sign_sso(secret, aud="news", name="Ada")}
    ).json["session"]
    confirm = html(admin.get(f"{PAGE}/web-1/delete"))
    assert "Revoke web-1" in confirm
    done = admin.post(f"{PAGE}/web-1/delete", data={"csrf_token": csrf_of(admin.get(PAGE))})
    assert done.status_code == 303
    assert "Key web-1 revoked" in html(admin.get(done.headers["Location"]))
    refused = reader.post(
        "/api/v1/sites/news/comments",
        json={"thread": "t", "body": "x"},
        headers={"X-Engagement-Session": session},
    )
    assert refused.status_code == 401
    assert admin.get(f"{PAGE}/web-1/delete").status_code == 404


def test_moderators_get_nothing_and_posts_need_the_csrf_token(app):
    moderator = signed_in(app, MODERATOR)
    assert moderator.get(PAGE).status_code == 403
    assert moderator.post(PAGE, data={"algorithm": "HS256"}).status_code in (400, 403)
    admin = signed_in(app, ADMIN)
    assert admin.post(PAGE, data={"algorithm": "HS256"}).status_code in (400, 403)
    assert "No keys yet" in html(admin.get(PAGE))
    assert admin.get("/console/sites/nope/sign-in").status_code == 404


def test_the_site_pages_link_the_sign_in_keys(app):
    admin = signed_in(app, ADMIN)
    assert f'href="{PAGE}"' in html(admin.get("/console/sites/news"))
