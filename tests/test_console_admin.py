"""The console's admin pages: staff members (add, revoke) and API tokens (issue with the secret shown once,
revoke); admins only, every message the service's or the API's, and revoking ends console sessions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engagement.extensions import db
from engagement.models import StaffMember, StaffRole, StaffToken
from engagement.staff import members
from engagement.staff.service import create_token
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of, sign_in_by_token
from tests.test_console_sites import audit_entries, html, staff  # noqa: F401 (fixture)

HOSTILE = "<script>window.pwned=1</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.usefixtures("staff")  # two sites; Ada, an admin; Grace, a moderator of "news"
SECRET = re.compile(r'id="token-secret"[^>]* value="(eng_[\w-]+)"')


@pytest.fixture
def admin(app):
    return signed_in(app, ADMIN)


@pytest.fixture
def moderator(app):
    return signed_in(app, MODERATOR)


def csrf(client) -> str:
    return csrf_of(client.get("/console"))


def new_member(client, **form):
    data = {"email": "lin@news.example", "display_name": "Lin", "role": "moderator", "sites": ["news"]}
    return client.post("/console/members", data={"csrf_token": csrf(client), **data, **form})


def new_token(client, **form):
    data = {"label": "cms-prod", "role": "moderator", "sites": ["news"], "member": ""}
    return client.post("/console/tokens", data={"csrf_token": csrf(client), **data, **form})


def secret_of(response) -> str:
    return SECRET.search(html(response, 201)).group(1)


def member(email: str) -> StaffMember:
    return db.session.scalar(select(StaffMember).where(StaffMember.email == email))


def summary(secret: str, app):
    headers = {"Authorization": f"Bearer {secret}"}
    return app.test_client().get("/api/v1/moderation/summary", headers=headers)


# --- admins only -------------------------------------------------------------------------------------


def test_the_header_links_to_members_and_tokens_for_admins_only(admin, moderator):
    page = html(admin.get("/console"))
    assert 'href="/console/members"' in page and 'href="/console/tokens"' in page
    page = html(moderator.get("/console"))
    assert 'href="/console/members"' not in page and 'href="/console/tokens"' not in page


def test_a_moderator_gets_the_403_page_on_every_admin_url_and_post(app, moderator):
    token = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ci")[0]
    ada = member(ADMIN)
    for path in ("/console/members", "/console/tokens", f"/console/members/{ada.id}/revoke"):
        assert "Only an admin" in html(moderator.get(path), 403)
    assert "Only an admin" in html(moderator.get(f"/console/tokens/{token.id}/revoke"), 403)
    token_csrf = csrf(moderator)
    posts = {
        "/console/members": {"email": "x@news.example", "display_name": "X", "role": "admin"},
        "/console/members/999/revoke": {},
        f"/console/members/{ada.id}/revoke": {},
        "/console/tokens": {"label": "mine", "role": "admin"},
        "/console/tokens/999/revoke": {},
        f"/console/tokens/{token.id}/revoke": {},
        "/console/members?bad": {"email": "not an address"},  # refused before validating anything
    }
    for path, form in posts.items():
        assert moderator.post(path, data={"csrf_token": token_csrf, **form}).status_code == 403, path
    assert member("x@news.example") is None and member(ADMIN).revoked_at is None
    assert db.session.get(StaffToken, token.id).revoked_at is None
    assert [t.label for t in db.session.scalars(select(StaffToken))] == ["ci"]


def test_every_post_needs_the_csrf_token(admin):
    ada, grace = member(ADMIN), member(MODERATOR)
    token = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ci")[0]
    for path in (
        "/console/members",
        f"/console/members/{grace.id}/revoke",
        "/console/tokens",
        f"/console/tokens/{token.id}/revoke",
    ):
        for sent in ({}, {"csrf_token": "0" * 64}):
            assert admin.post(path, data={"label": "x", **sent}).status_code == 403, path
    assert grace.revoked_at is None and ada.revoked_at is None
    assert db.session.get(StaffToken, token.id).revoked_at is None


@pytest.mark.parametrize(
    "path",
    [
        "/console/members/999/revoke",
        "/console/members/99999999999999999999/revoke",
        "/console/tokens/999/revoke",
        "/console/tokens/-1/revoke",
    ],
)
def test_unknown_members_and_tokens_are_404_pages(admin, path):
    assert admin.get(path).status_code == 404
    assert admin.post(path, data={"csrf_token": csrf(admin)}).status_code == 404


# --- members -----------------------------------------------------------------------------------------


def test_the_members_page_lists_each_member_with_role_sites_and_state(admin):
    members.revoke_member(email=MODERATOR)
    page = html(admin.get("/console/members"))
    assert 'Ada</strong> <span class="muted">(you)</span>' in page
    assert "ada@news.example" in page and "admin · every site" in page
    assert "grace@news.example" in page and "moderator · news" in page
    assert "<strong>revoked</strong>" in page
    # A revoked member has no Revoke link; a live one has.
    assert f"/console/members/{member(ADMIN).id}/revoke" in page
    assert f"/console/members/{member(MODERATOR).id}/revoke" not in page


def test_an_admin_adds_a_moderator_scoped_to_a_site_and_it_is_audited_as_them(admin):
    response = new_member(admin, email="Lin@News.example", display_name="  Lin Yu  ")
    assert response.status_code == 303
    lin = member("lin@news.example")
    assert response.headers["Location"] == f"/console/members?created={lin.id}"
    assert (lin.display_name, lin.role, [s.slug for s in lin.sites]) == ("Lin Yu", "moderator", ["news"])
    assert "lin@news.example added" in html(admin.get(response.headers["Location"]))
    [entry] = [e for e in audit_entries("member_created") if e.details["member_id"] == lin.id]
    assert entry.actor == ADMIN


def test_a_new_member_can_sign_in_as_what_they_were_given(app, admin):
    assert new_member(admin, email="lin@news.example", sites=["sport"]).status_code == 303
    lin = signed_in(app, "lin@news.example")
    assert lin.get("/console/sites/sport").status_code == 200
    assert lin.get("/console/sites/news").status_code == 403


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"email": "not an address"}, "email", "Please enter a valid email address."),
        ({"email": ""}, "email", "Please enter your email address."),
        ({"display_name": "   "}, "display_name", "Use 1-200 characters, on one line."),
        ({"display_name": "two\nlines"}, "display_name", "Use 1-200 characters, on one line."),
        ({"display_name": "two\u2028lines"}, "display_name", "Use 1-200 characters, on one line."),
        ({"display_name": "Ada \u202eevil"}, "display_name", "Use 1-200 characters, on one line."),
        ({"sites": []}, "sites", "A moderator needs at least one site."),
        ({"role": "owner"}, "role", "Must be one of: admin, moderator."),
        ({"sites": ["nowhere"]}, "sites", "There is no site &#39;nowhere&#39;."),
        ({"sites": ["Not A Slug"]}, "sites", "“Not A Slug”: Use 1-64 lowercase letters, digits and dashes."),
        ({"email": "ADA@news.example"}, "email", "There is already a member &#39;ada@news.example&#39;."),
    ],
)
def test_an_invalid_member_is_refused_next_to_the_field_with_what_was_typed_kept(admin, form, field, message):
    typed = {"email": "lin@news.example", "display_name": "Lin", "role": "moderator"} | form
    page = html(new_member(admin, **form), 422)
    assert f'<p class="error" id="{field}-error">{message}</p>' in page
    assert "The member was not added" in page
    for name in ("email", "display_name"):
        if "\n" not in typed[name]:
            assert (
                f'name="{name}" type="{"email" if name == "email" else "text"}" value="{typed[name]}"' in page
            )
    if typed["role"] in ("admin", "moderator"):
        assert f'name="role" value="{typed["role"]}" checked' in page
    assert member("lin@news.example") is None


def test_every_message_of_an_invalid_member_shows_at_once_with_the_sites_ticked(admin):
    page = html(new_member(admin, email="nope", display_name="", sites=["sport"]), 422)
    assert 'id="email-error"' in page and 'id="display_name-error"' in page
    assert 'value="sport" checked' in page and 'value="news" checked' not in page
    page = html(new_member(admin, email="nope", sites=[]), 422)
    assert 'id="email-error"' in page and 'id="sites-error"' in page


def test_the_service_and_cli_give_the_same_messages(runner):
    result = runner.invoke(
        args=["engagement", "create-member", "lin@news.example", "--name", " ", "--role", "moderator"]
    )
    assert result.exit_code != 0
    assert "Use 1-200 characters, on one line." in result.output
    assert "A moderator needs at least one site." in result.output


def test_revoking_a_member_asks_first(admin):
    grace = member(MODERATOR)
    page = html(admin.get(f"/console/members/{grace.id}/revoke"))
    assert "Revoke grace@news.example?" in page and "Every token they own is revoked too" in page
    assert f'action="/console/members/{grace.id}/revoke"' in page
    assert grace.revoked_at is None


def test_an_admin_revoking_themself_is_told_first_and_signed_out(admin):
    ada = member(ADMIN)
    page = html(admin.get(f"/console/members/{ada.id}/revoke"))
    assert "This is you: you will be signed out at once" in page and "Revoke yourself" in page
    response = admin.post(f"/console/members/{ada.id}/revoke", data={"csrf_token": csrf(admin)})
    assert response.status_code == 303
    assert admin.get("/console/members").status_code == 303  # back to signing in


def test_a_revoked_members_console_session_and_tokens_end_at_their_next_request(app, admin, moderator):
    grace = member(MODERATOR)
    secret = create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="grace-cli", member=grace)[1]
    assert moderator.get("/console/queue").status_code == 200
    response = admin.post(f"/console/members/{grace.id}/revoke", data={"csrf_token": csrf(admin)})
    assert response.headers["Location"] == f"/console/members?revoked={grace.id}"
    assert "grace@news.example revoked; their tokens too" in html(admin.get(response.headers["Location"]))
    assert moderator.get("/console/queue").status_code == 303
    assert moderator.get("/console/queue").headers["Location"].startswith("/console/sign-in")
    assert summary(secret, app).status_code == 401
    [entry] = audit_entries("member_revoked")
    assert (entry.actor, entry.details["member_id"]) == (ADMIN, grace.id)


# --- tokens ------------------------------------------------------------------------------------------


def test_the_tokens_page_lists_tokens_without_their_secrets(admin):
    token, secret = create_token(
        role=StaffRole.MODERATOR, site_slugs=["news"], label="grace-cli", member=member(MODERATOR)
    )
    page = html(admin.get("/console/tokens"))
    assert "grace-cli" in page and f"<code>{token.token_prefix}…</code>" in page
    assert "moderator · news" in page and "of Grace (grace@news.example)" in page and "never used" in page
    assert secret not in page


def test_an_issued_tokens_secret_is_shown_once_and_works_as_a_bearer_token(app, admin):
    response = new_token(admin, label="  cms-prod  ", role="admin", sites=[])
    secret = secret_of(response)
    page = html(response, 201)
    assert "it will not be shown again" in page and 'data-copy="token-secret"' in page
    assert "pages/copy.js" in page and response.headers["Cache-Control"] == "no-store"
    assert secret not in html(admin.get("/console/tokens"))
    token = db.session.scalar(select(StaffToken).where(StaffToken.label == "cms-prod"))
    assert token.role == "admin" and token.member is None
    assert summary(secret, app).status_code == 200
    [entry] = audit_entries("token_created")
    assert (entry.actor, entry.details["label"]) == (ADMIN, "cms-prod")
    assert "last used" in html(admin.get("/console/tokens"))


def test_a_moderators_token_cannot_be_an_admin_token(admin):
    # Else the API would act as admin while the console, signed in with it, acts as the moderator.
    page = html(new_token(admin, member=MODERATOR, role="admin"), 422)
    assert f"{MODERATOR} is a moderator: their tokens are moderator tokens." in page


def test_a_token_can_belong_to_a_member(app, admin):
    secret = secret_of(new_token(admin, label="grace-cli", member=MODERATOR))
    token = db.session.scalar(select(StaffToken).where(StaffToken.label == "grace-cli"))
    assert token.member.email == MODERATOR and [s.slug for s in token.sites] == ["news"]
    client = app.test_client()
    assert sign_in_by_token(client, secret).status_code == 303
    assert "grace@news.example" in html(client.get("/console"))


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"label": "  "}, "label", "Length must be between 1 and 200."),
        ({"label": "x" * 201}, "label", "Length must be between 1 and 200."),
        ({"sites": []}, "sites", "A moderator token needs at least one site."),
        ({"role": "owner"}, "role", "Must be one of: admin, moderator."),
        ({"sites": ["nowhere"]}, "sites", "There is no site &#39;nowhere&#39;."),
        (
            {"member": "nobody@news.example"},
            "member",
            "There is no live member &#39;nobody@news.example&#39;.",
        ),
    ],
)
def test_an_invalid_token_is_refused_with_the_apis_messages_and_what_was_typed_kept(
    app, admin, form, field, message
):
    page = html(new_token(admin, **form), 422)
    assert f'<p class="error" id="{field}-error">{message}</p>' in page
    assert "No token was issued" in page and "eng_" not in page.split("<main>")[1].split("New token")[0]
    label = form.get("label", "cms-prod")
    assert f'value="{label}"' in page
    assert db.session.scalar(select(StaffToken)) is None
    if field in ("label", "sites", "role") and "nowhere" not in str(form):
        # The same message as the API's for the same body (the form trims the label's edges first).
        body = {"role": "moderator", "sites": ["news"]} | form | {"label": label.strip()}
        secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="api")[1]
        api = app.test_client().post(
            "/api/v1/moderation/tokens", json=body, headers={"Authorization": f"Bearer {secret}"}
        )
        assert api.get_json()["error"]["fields"][field] == [message]


def test_revoking_a_token_asks_first_then_ends_its_console_sessions(app, admin):
    token, secret = create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="cms-bot")
    bot = app.test_client()
    assert sign_in_by_token(bot, secret).status_code == 303
    assert bot.get("/console/queue").status_code == 200
    page = html(admin.get(f"/console/tokens/{token.id}/revoke"))
    assert "Revoke the token cms-bot?" in page and "console sessions opened with it end" in page
    assert db.session.get(StaffToken, token.id).revoked_at is None
    response = admin.post(f"/console/tokens/{token.id}/revoke", data={"csrf_token": csrf(admin)})
    assert response.headers["Location"] == f"/console/tokens?revoked={token.id}"
    assert "Token cms-bot" in html(admin.get(response.headers["Location"]))
    assert bot.get("/console/queue").status_code == 303
    assert summary(secret, app).status_code == 401
    [entry] = audit_entries("token_revoked")
    assert (entry.actor, entry.details["token_id"]) == (ADMIN, token.id)


def test_revoking_the_token_you_signed_in_with_warns_you_and_signs_you_out(app):
    token, secret = create_token(
        role=StaffRole.ADMIN, site_slugs=[], label="ada-laptop", member=member(ADMIN)
    )
    client = app.test_client()
    sign_in_by_token(client, secret)
    assert "you signed in with it" in html(client.get("/console/tokens"))
    assert "You signed in with this token" in html(client.get(f"/console/tokens/{token.id}/revoke"))
    client.post(f"/console/tokens/{token.id}/revoke", data={"csrf_token": csrf(client)})
    assert client.get("/console/tokens").status_code == 303


# --- hostile values ----------------------------------------------------------------------------------


def test_hostile_names_labels_and_typed_values_render_inert(app, admin):
    members.create_member(email="eve@news.example", display_name=HOSTILE, role=StaffRole.ADMIN, site_slugs=[])
    create_token(role=StaffRole.ADMIN, site_slugs=[], label=HOSTILE_IMG, member=member("eve@news.example"))
    eve = member("eve@news.example")
    token = db.session.scalar(select(StaffToken).where(StaffToken.label == HOSTILE_IMG))
    pages = [
        admin.get("/console/members"),
        admin.get("/console/tokens"),
        admin.get(f"/console/members/{eve.id}/revoke"),
        admin.get(f"/console/tokens/{token.id}/revoke"),
        new_member(admin, email=HOSTILE, display_name=HOSTILE_IMG, role=HOSTILE, sites=[HOSTILE]),
        new_token(admin, label=HOSTILE, role=HOSTILE_IMG, sites=[HOSTILE_IMG], member=HOSTILE),
        new_token(admin, label=HOSTILE_IMG, role="admin", sites=[]),
        admin.get("/console/members?created=abc&revoked=99999999999999999999"),
        admin.get("/console/tokens?revoked=<script>"),
    ]
    for response in pages:
        assert response.status_code in (200, 201, 422)
        page = response.get_data(as_text=True)
        assert HOSTILE not in page and HOSTILE_IMG not in page
