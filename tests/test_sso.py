"""Single sign-on as a site and an attacker use it: keys made and rotated by admins, tokens the site's
backend signs (PyJWT, as the README's example does), the exchange for a reader session, and what a
signed-in reader's comments, likes, edits and bans are. Every forgery the issue lists is refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select

from engagement.extensions import db
from engagement.models import Comment, StaffRole, UsedSsoToken
from engagement.staff.service import create_token
from tests.factories import make_site, post, sign_sso

SITE = "news"
KEYS = f"/api/v1/moderation/sites/{SITE}/sso/keys"
EXCHANGE = f"/api/v1/sites/{SITE}/sso/session"
COMMENTS = f"/api/v1/sites/{SITE}/comments"


@pytest.fixture
def admin(app) -> dict[str, str]:
    make_site(SITE, origins=["https://news.example"])
    make_site("sport")
    return {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='ada')[1]}"}


@pytest.fixture
def secret(client, admin) -> str:
    """A site with an HS256 key named ``k1``; its secret, shown this once."""
    made = client.post(KEYS, json={"kid": "k1"}, headers=admin)
    assert made.status_code == 201
    assert made.json["key"]["algorithm"] == "HS256" and made.json["key"]["public_key"] is None
    return made.json["secret"]


def exchange(client, token: str, site: str = SITE) -> Any:
    return client.post(f"/api/v1/sites/{site}/sso/session", json={"token": token})


def signed_in(client, token: str) -> dict[str, str]:
    answer = exchange(client, token)
    assert answer.status_code == 200, answer.json
    return {"X-Engagement-Session": answer.json["session"]}


def refused(answer: Any, code: str) -> None:
    assert answer.status_code == 401, answer.json
    assert answer.json["error"]["code"] == code


def unsigned_token(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{part(claims)}."


# --- keys -------------------------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_never_listed(client, admin, secret):
    listed = client.get(KEYS, headers=admin).json["items"]
    assert [key["kid"] for key in listed] == ["k1"]
    assert secret not in json.dumps(listed)
    assert len(secret) >= 40


def test_moderators_cannot_see_or_add_keys(client, admin):
    moderator = create_token(role=StaffRole.MODERATOR, site_slugs=[SITE], label="mo")[1]
    headers = {"Authorization": f"Bearer {moderator}"}
    assert client.get(KEYS, headers=headers).status_code == 403
    assert client.post(KEYS, json={}, headers=headers).status_code == 403


def test_a_public_key_must_be_a_public_key_of_its_algorithm(client, admin):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    ed_public = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    small = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (refused)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    for body in (
        {"algorithm": "RS256"},
        {"algorithm": "RS256", "public_key": private_pem},
        {"algorithm": "RS256", "public_key": ed_public},
        {"algorithm": "RS256", "public_key": small},
        {
            "algorithm": "EdDSA",
            "public_key": "-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----",
        },
        {"algorithm": "HS256", "public_key": ed_public},
    ):
        answer = client.post(KEYS, json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.json)
    assert client.post(KEYS, json={"algorithm": "none"}, headers=admin).status_code == 422
    assert client.get(KEYS, headers=admin).json["items"] == []


def test_a_kid_is_unique_on_its_site(client, admin, secret):
    again = client.post(KEYS, json={"kid": "k1"}, headers=admin)
    assert again.status_code == 409 and again.json["error"]["code"] == "sso_kid_taken"


# --- the exchange -----------------------------------------------------------------------------------------


def test_a_signed_in_reader_comments_without_name_or_email(client, secret):
    token = sign_sso(secret, aud=SITE, kid="k1", sub="u-42", name="Ada Lovelace", email="Ada@Example.org")
    answer = exchange(client, token)
    assert answer.status_code == 200
    assert answer.json["user"] == {
        "id": "u-42",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "url": None,
        "avatar": None,
    }
    session = {"X-Engagement-Session": answer.json["session"]}
    posted = client.post(COMMENTS, json={"thread": "t", "body": "Signed in."}, headers=session)
    assert posted.status_code == 201, posted.json
    assert posted.json["comment"]["author"]["name"] == "Ada Lovelace"
    assert posted.json["comment"]["author"]["signed_in"] is True
    stored = db.session.get(Comment, posted.json["comment"]["id"])
    assert (stored.author_sso_id, stored.author_email) == ("u-42", "ada@example.org")
    listed = client.get(COMMENTS, query_string={"thread": "t"}).json["comments"][0]
    assert listed["author"]["signed_in"] is True and "u-42" not in json.dumps(listed)


def test_the_session_names_the_reader_whatever_the_form_says(client, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="u-1", name="Real Name"))
    body = {"thread": "t", "body": "Hi.", "author_name": "Somebody Else", "author_email": "x@example.org"}
    posted = client.post(COMMENTS, json=body, headers=session).json["comment"]
    assert posted["author"]["name"] == "Real Name"
    assert db.session.get(Comment, posted["id"]).author_email == ""


def test_a_token_without_a_name_lets_the_reader_give_one(client, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="u-2"))
    missing = client.post(COMMENTS, json={"thread": "t", "body": "Hi."}, headers=session)
    assert missing.status_code == 422 and "author_name" in missing.json["error"]["fields"]
    posted = client.post(
        COMMENTS, json={"thread": "t", "body": "Hi.", "author_name": "Nick"}, headers=session
    )
    assert posted.status_code == 201 and posted.json["comment"]["author"]["name"] == "Nick"


def test_guests_still_name_themselves(client, secret):
    answer = client.post(COMMENTS, json={"thread": "t", "body": "Hi."})
    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == {"author_name", "author_email"}


def test_coral_shaped_claims_are_accepted(client, secret):
    issued = sign_sso(
        secret, aud=SITE, sub=None, user={"id": 7, "email": "c@example.org", "username": "Coral Reader"}
    )
    answer = exchange(client, issued)
    assert answer.status_code == 200
    assert answer.json["user"]["id"] == "7" and answer.json["user"]["name"] == "Coral Reader"


def test_an_avatar_shows_only_from_the_sites_own_origin(client, secret):
    own = exchange(client, sign_sso(secret, aud=SITE, avatar="https://news.example/u/1.png"))
    elsewhere = exchange(client, sign_sso(secret, aud=SITE, avatar="https://tracker.example/1.png"))
    assert own.json["user"]["avatar"] == "https://news.example/u/1.png"
    assert elsewhere.json["user"]["avatar"] is None


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "sport"}, "sso_wrong_audience"),
        ({"aud": None}, "sso_missing_claim"),
        ({"sub": None}, "sso_missing_claim"),
        ({"sub": "x" * 300}, "sso_missing_claim"),
        ({"jti": None}, "sso_missing_claim"),
        ({"iat": None}, "sso_missing_claim"),
        ({"exp": "tomorrow"}, "sso_missing_claim"),
        ({"email": "not an address"}, "sso_invalid_claims"),
        ({"name": "<b>Ada</b>"}, "sso_invalid_claims"),
        ({"url": "javascript:alert(1)"}, "sso_invalid_claims"),
    ],
)
def test_bad_claims_are_refused(client, secret, claims, code):
    refused(exchange(client, sign_sso(secret, **{"aud": SITE, **claims})), code)


def test_a_forged_signature_is_refused(client, secret):
    refused(
        exchange(client, sign_sso("not-the-secret-but-as-long-as-one-is", aud=SITE, kid="k1")),
        "sso_bad_signature",
    )
    token = sign_sso(secret, aud=SITE, kid="k1")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused(exchange(client, f"{header}.{tampered}.{signature}"), "sso_bad_signature")


def test_alg_none_is_refused(client, secret):
    token = unsigned_token(aud=SITE, sub="admin", iat=1, exp=2, jti="x")
    refused(exchange(client, token), "sso_wrong_algorithm")


def test_an_hs256_token_made_with_the_public_key_as_its_secret_is_refused(client, admin):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    made = client.post(
        KEYS, json={"algorithm": "RS256", "kid": "rsa", "public_key": public_pem.decode()}, headers=admin
    )
    assert made.status_code == 201 and made.json["secret"] is None
    # The classic confusion: sign HS256 with the public key's PEM as the HMAC secret.
    import hashlib
    import hmac

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    from engagement import clock

    now = int(clock.now().timestamp())
    head = b64(json.dumps({"alg": "HS256", "kid": "rsa"}).encode())
    body = b64(json.dumps({"aud": SITE, "sub": "x", "iat": now, "exp": now + 60, "jti": "c"}).encode())
    signature = b64(hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    refused(exchange(client, f"{head}.{body}.{signature}"), "sso_wrong_algorithm")
    # The real RS256 token of the site's private key works.
    good = sign_sso(private, aud=SITE, kid="rsa", algorithm="RS256")
    assert exchange(client, good).status_code == 200


def test_an_ed25519_key_verifies_eddsa_tokens(client, admin):
    private = ed25519.Ed25519PrivateKey.generate()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert (
        client.post(
            KEYS, json={"algorithm": "EdDSA", "kid": "ed", "public_key": public_pem}, headers=admin
        ).status_code
        == 201
    )
    assert exchange(client, sign_sso(private, aud=SITE, kid="ed", algorithm="EdDSA")).status_code == 200


def test_times_are_checked_with_sixty_seconds_of_skew(client, secret, clock):
    from engagement import clock as app_clock

    now = int(app_clock.now().timestamp())
    refused(exchange(client, sign_sso(secret, aud=SITE, iat=now - 400, exp=now - 61)), "sso_token_expired")
    assert exchange(client, sign_sso(secret, aud=SITE, iat=now - 300, exp=now - 30)).status_code == 200
    refused(
        exchange(client, sign_sso(secret, aud=SITE, iat=now + 120, exp=now + 300)), "sso_token_not_yet_valid"
    )
    assert exchange(client, sign_sso(secret, aud=SITE, iat=now + 30, exp=now + 300)).status_code == 200
    refused(exchange(client, sign_sso(secret, aud=SITE, iat=now, exp=now + 601)), "sso_token_too_long")


def test_a_token_is_exchanged_once(client, secret):
    token = sign_sso(secret, aud=SITE)
    assert exchange(client, token).status_code == 200
    refused(exchange(client, token), "sso_token_replayed")


def test_spent_token_ids_are_forgotten_once_the_tokens_expired(client, secret, clock):
    exchange(client, sign_sso(secret, aud=SITE))
    assert db.session.scalar(select(UsedSsoToken.jti_digest)) is not None
    clock.advance(minutes=10)
    exchange(client, sign_sso(secret, aud=SITE))
    assert len(db.session.scalars(select(UsedSsoToken.jti_digest)).all()) == 1


def test_an_unknown_kid_is_refused(client, secret):
    refused(exchange(client, sign_sso(secret, aud=SITE, kid="k9")), "sso_unknown_key")


def test_a_site_without_keys_signs_nobody_in(client, admin):
    answer = exchange(client, sign_sso("whatever-secret-the-attacker-picks-32", aud=SITE))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "sso_not_configured"


def test_another_sites_token_and_session_do_not_work_here(client, admin, secret):
    other = client.post("/api/v1/moderation/sites/sport/sso/keys", json={"kid": "k1"}, headers=admin).json
    refused(exchange(client, sign_sso(other["secret"], aud=SITE, kid="k1")), "sso_bad_signature")
    sport = exchange(client, sign_sso(other["secret"], aud="sport", kid="k1"), site="sport").json["session"]
    answer = client.post(COMMENTS, json={"thread": "t", "body": "x"}, headers={"X-Engagement-Session": sport})
    refused(answer, "sso_session_invalid")


def test_garbage_is_refused_cleanly(client, secret):
    for token in ("", "a.b", "a.b.c", "x" * 9000, "eyJ.eyJ.sig", unsigned_token()):
        answer = exchange(client, token)
        assert answer.status_code in (401, 422), (token[:20], answer.json)
    answer = client.post(
        COMMENTS, json={"thread": "t", "body": "x"}, headers={"X-Engagement-Session": "junk"}
    )
    refused(answer, "sso_session_invalid")


# --- rotation -------------------------------------------------------------------------------------------


def test_a_rotated_secret_works_for_its_grace_period_then_stops(client, admin, secret, clock):
    new = client.post(KEYS, json={"kid": "k2", "grace_hours": 2}, headers=admin).json["secret"]
    session = signed_in(client, sign_sso(secret, aud=SITE, kid="k1"))  # inside the grace period
    assert exchange(client, sign_sso(new, aud=SITE, kid="k2")).status_code == 200
    refused(exchange(client, sign_sso(new, aud=SITE)), "sso_unknown_key")  # two keys in use: name one
    clock.advance(hours=2, seconds=1)
    refused(exchange(client, sign_sso(secret, aud=SITE, kid="k1")), "sso_unknown_key")
    assert exchange(client, sign_sso(new, aud=SITE, kid="k2")).status_code == 200
    assert exchange(client, sign_sso(new, aud=SITE)).status_code == 200  # one key in use again
    answer = client.post(COMMENTS, json={"thread": "t", "body": "x"}, headers=session)
    refused(answer, "sso_session_expired")  # its key retired


def test_deleting_a_key_ends_its_sessions_at_once(client, admin, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, name="Ada"))
    assert client.delete(f"{KEYS}/k1", headers=admin).status_code == 204
    refused(client.post(COMMENTS, json={"thread": "t", "body": "x"}, headers=session), "sso_session_expired")


def test_a_session_expires(client, secret, clock):
    session = signed_in(client, sign_sso(secret, aud=SITE, name="Ada"))
    clock.advance(hours=2, seconds=1)
    refused(client.post(COMMENTS, json={"thread": "t", "body": "x"}, headers=session), "sso_session_expired")


# --- what a signed-in reader's comments are ------------------------------------------------------------


def test_sso_required_turns_guests_away(client, admin, secret):
    client.patch(f"/api/v1/moderation/sites/{SITE}", json={"sso_required": True}, headers=admin)
    refused(post(client, site=SITE, thread="t"), "sso_required")
    session = signed_in(client, sign_sso(secret, aud=SITE, name="Ada"))
    assert client.post(COMMENTS, json={"thread": "t", "body": "x"}, headers=session).status_code == 201
    settings = client.get(COMMENTS, query_string={"thread": "t"}).json["settings"]
    assert settings["sso_required"] is True


def test_first_time_moderation_by_user_id_and_the_sites_trust(client, admin, secret):
    client.patch(f"/api/v1/moderation/sites/{SITE}", json={"moderation": "first_time"}, headers=admin)
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="u-5", name="Ada"))
    first = client.post(COMMENTS, json={"thread": "t", "body": "First."}, headers=session)
    assert first.status_code == 202
    client.patch(
        f"/api/v1/moderation/comments/{first.json['comment']['id']}",
        json={"status": "approved"},
        headers=admin,
    )
    # Known by their user id now, even with a different name and no email.
    later = signed_in(client, sign_sso(secret, aud=SITE, sub="u-5", name="Ada L."))
    assert client.post(COMMENTS, json={"thread": "t", "body": "Second."}, headers=later).status_code == 201
    stranger = signed_in(client, sign_sso(secret, aud=SITE, sub="u-6", name="New"))
    assert client.post(COMMENTS, json={"thread": "t", "body": "Hello."}, headers=stranger).status_code == 202
    client.patch(f"/api/v1/moderation/sites/{SITE}", json={"sso_skip_first_time": True}, headers=admin)
    another = signed_in(client, sign_sso(secret, aud=SITE, sub="u-7", name="Newer"))
    assert client.post(COMMENTS, json={"thread": "t", "body": "Hi."}, headers=another).status_code == 201


def test_a_ban_by_user_id(client, admin, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="troll-1", name="Troll"))
    first = client.post(COMMENTS, json={"thread": "t", "body": "Bait."}, headers=session).json["comment"]
    banned = client.post(
        f"/api/v1/moderation/comments/{first['id']}/ban-author",
        json={"kinds": ["sso"], "trash_existing": True},
        headers=admin,
    )
    assert banned.status_code == 201, banned.json
    assert db.session.get(Comment, first["id"]).status == "trash"
    # A new email, a new name, a new session: the same user id is still banned (silently: spam).
    again = signed_in(
        client, sign_sso(secret, aud=SITE, sub="troll-1", name="Not A Troll", email="n@example.org")
    )
    answer = client.post(COMMENTS, json={"thread": "t", "body": "Innocent."}, headers=again)
    assert answer.status_code == 202
    assert db.session.get(Comment, answer.json["comment"]["id"]).status == "spam"
    # Another reader of the site is not.
    other = signed_in(client, sign_sso(secret, aud=SITE, sub="troll-10", name="Other"))
    assert client.post(COMMENTS, json={"thread": "t", "body": "Fine."}, headers=other).status_code == 201
    # A ban by user id can also be made directly, exactly as the site's ids are (case kept).
    made = client.post(
        "/api/v1/moderation/bans", json={"site": SITE, "kind": "sso", "value": "Case-Kept"}, headers=admin
    )
    assert made.status_code == 201 and made.json["value"] == "Case-Kept"


def test_flood_and_duplicates_know_readers_without_email_apart(client, admin, secret):
    client.patch(f"/api/v1/moderation/sites/{SITE}", json={"flood_seconds": 60}, headers=admin)
    one = signed_in(client, sign_sso(secret, aud=SITE, sub="a", name="A"))
    two = signed_in(client, sign_sso(secret, aud=SITE, sub="b", name="B"))
    body = {"thread": "t", "body": "+1"}
    assert (
        client.post(
            COMMENTS, json=body, headers=one, environ_base={"REMOTE_ADDR": "198.51.100.1"}
        ).status_code
        == 201
    )
    assert (
        client.post(
            COMMENTS, json=body, headers=two, environ_base={"REMOTE_ADDR": "198.51.100.2"}
        ).status_code
        == 201
    )
    again = client.post(
        COMMENTS,
        json={"thread": "t", "body": "more"},
        headers=one,
        environ_base={"REMOTE_ADDR": "198.51.100.3"},
    )
    assert again.status_code == 429


def test_a_signed_in_reader_edits_and_likes_as_their_account(client, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="u-8", name="Ada"))
    posted = client.post(COMMENTS, json={"thread": "t", "body": "Teh."}, headers=session).json["comment"]
    # From another device: a new session of the same account edits without the edit token.
    other_device = signed_in(client, sign_sso(secret, aud=SITE, sub="u-8", name="Ada"))
    edited = client.patch(f"{COMMENTS}/{posted['id']}", json={"body": "The."}, headers=other_device)
    assert edited.status_code == 200
    stranger = signed_in(client, sign_sso(secret, aud=SITE, sub="u-9", name="Eve"))
    assert (
        client.patch(f"{COMMENTS}/{posted['id']}", json={"body": "Pwned."}, headers=stranger).status_code
        == 403
    )
    liked = client.post(f"{COMMENTS}/{posted['id']}/likes", headers=session)
    assert liked.json == {"likes": 1, "liked": True}
    assert client.post(f"{COMMENTS}/{posted['id']}/likes", headers=other_device).json["likes"] == 1
    assert client.delete(f"{COMMENTS}/{posted['id']}", headers=other_device).status_code == 204


# --- privacy by user id --------------------------------------------------------------------------------


def test_staff_find_and_erase_a_signed_in_reader_by_user_id(client, admin, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="u-11", name="Ada"))  # no email given
    for body in ("One.", "Two."):
        client.post(COMMENTS, json={"thread": "t", "body": body}, headers=session)
    post(client, site=SITE, thread="t", body="A guest's.")
    found = client.get(
        "/api/v1/moderation/people", query_string={"sso_id": "u-11", "site": SITE}, headers=admin
    )
    assert found.status_code == 200
    assert found.json["sso_id"] == "u-11" and len(found.json["comments"]) == 2
    assert (
        client.get("/api/v1/moderation/people", query_string={"sso_id": "u-11"}, headers=admin).status_code
        == 422
    )
    both = {"sso_id": "u-11", "site": SITE, "email": "ada@example.org"}  # either: the guest comment too
    post(client, site=SITE, thread="t", author_email="ada@example.org", body="As a guest.")
    found_both = client.get("/api/v1/moderation/people", query_string=both, headers=admin)
    assert len(found_both.json["comments"]) == 3

    erased = client.post(
        "/api/v1/moderation/people/erase",
        json={"sso_id": "u-11", "site": SITE, "mode": "anonymize"},
        headers=admin,
    )
    assert erased.status_code == 200 and erased.json["comments"] == 2  # by user id only
    names = [c["author"]["name"] for c in client.get(COMMENTS, query_string={"thread": "t"}).json["comments"]]
    assert names.count("Anonymous") == 2
    assert (
        db.session.scalars(select(Comment.author_sso_id).where(Comment.author_sso_id.is_not(None))).all()
        == []
    )


def test_a_moderator_of_another_site_cannot_look_up_a_user_id_here(client, admin, secret):
    moderator = create_token(role=StaffRole.MODERATOR, site_slugs=["sport"], label="sp")[1]
    answer = client.get(
        "/api/v1/moderation/people",
        query_string={"sso_id": "u-1", "site": SITE},
        headers={"Authorization": f"Bearer {moderator}"},
    )
    assert answer.status_code == 403


def test_a_signed_in_reader_downloads_and_erases_their_own_data(client, secret):
    session = signed_in(client, sign_sso(secret, aud=SITE, sub="u-12", name="Ada", email="ada@example.org"))
    client.post(COMMENTS, json={"thread": "t", "body": "Mine."}, headers=session)
    post(client, site=SITE, thread="t", author_email="ada@example.org", body="Mine, as a guest.")
    post(client, site=SITE, thread="t", body="Someone else's.")
    assert client.get(f"/api/v1/sites/{SITE}/privacy/me").status_code == 401
    mine = client.get(f"/api/v1/sites/{SITE}/privacy/me", headers=session)
    assert mine.status_code == 200 and mine.json["site"] == SITE
    assert sorted(c["body"] for c in mine.json["comments"]) == ["Mine, as a guest.", "Mine."]

    erased = client.post(f"/api/v1/sites/{SITE}/privacy/me/erase", headers=session)
    assert erased.status_code == 200 and erased.json["comments"] == 2
    listed = client.get(COMMENTS, query_string={"thread": "t"}).json["comments"]
    assert sorted(c["author"]["name"] for c in listed)[0] == "Anonymous"
    assert [c["author"]["name"] for c in listed].count("Anonymous") == 2
