"""The staff console's foundation: members, signing in (mailed link, pasted token), sessions, CSRF and the
headers of its pages."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from engagement.console import service as console
from engagement.errors import Conflict, Forbidden, ValidationFailed
from engagement.extensions import db
from engagement.mailer.sender import deliver_due_messages
from engagement.models import ConsoleSession, OutboxMessage, SignInRequest, StaffRole
from engagement.sites.service import get_site
from engagement.staff import members
from engagement.staff.access import require_site
from engagement.staff.service import create_token, revoke_token
from tests.factories import make_site
from tests.smtp import (
    link_path,
    smtp_fixture,  # noqa: F401 (the "smtp" fixture)
)
from tests.sql import count_queries

ADMIN = "ada@news.example"
MODERATOR = "grace@news.example"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def staff(app):
    """Two sites, an admin member and a moderator member of one site."""
    make_site("news")
    make_site("sport")
    admin = members.create_member(
        email="Ada@News.example", display_name="Ada", role=StaffRole.ADMIN, site_slugs=[]
    )
    moderator = members.create_member(
        email=MODERATOR, display_name="Grace", role=StaffRole.MODERATOR, site_slugs=["news"]
    )
    return {"admin": admin, "moderator": moderator}


def csrf_of(response) -> str:
    return CSRF.search(response.get_data(as_text=True)).group(1)


def sign_in_form(client, next_path=None):
    response = client.get("/console/sign-in" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 200
    return csrf_of(response)


def sign_in_by_token(client, secret, **form):
    csrf = sign_in_form(client)
    return client.post("/console/sign-in", data={"csrf_token": csrf, "token": secret, **form})


def sign_in_by_link(client, email):
    path = link_path_of(console.issue_sign_in_link(email=email))
    return follow(client, path)


def link_path_of(url: str) -> str:
    return url.removeprefix("http://localhost")


def follow(client, path):
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_of(page)})


def session_cookie(response) -> SimpleCookie:
    cookie = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("engagement_console="):
            cookie.load(header)
    return cookie


def home(client):
    return client.get("/console")


# --- members and tokens ----------------------------------------------------------------------------------


def test_a_member_address_is_lower_cased_and_unique(app, staff):
    assert staff["admin"].email == ADMIN
    with pytest.raises(Conflict) as refused:
        members.create_member(
            email="ADA@news.example", display_name="Ada 2", role=StaffRole.ADMIN, site_slugs=[]
        )
    assert refused.value.code == "member_exists"


def test_a_member_has_the_same_scope_checks_as_a_token(app, staff):
    require_site(staff["moderator"], get_site("news"))
    with pytest.raises(Forbidden):
        require_site(staff["moderator"], get_site("sport"))
    require_site(staff["admin"], get_site("sport"))


def test_create_member_and_sign_in_link_from_the_cli(app, runner):
    make_site("news")
    created = runner.invoke(
        args=[
            "engagement",
            "create-member",
            "Lin@News.example",
            "--name",
            "Lin",
            "--role",
            "moderator",
            "--site",
            "news",
        ]
    )
    assert created.exit_code == 0, created.output
    assert members.live_member("lin@news.example").sites[0].slug == "news"
    printed = runner.invoke(args=["engagement", "sign-in-link", "lin@news.example"])
    assert printed.exit_code == 0, printed.output
    assert re.fullmatch(r"http://localhost/console/link/[\w-]+\n", printed.output)
    unknown = runner.invoke(args=["engagement", "sign-in-link", "nobody@news.example"])
    assert unknown.exit_code != 0


def test_a_token_can_belong_to_a_member_from_the_cli(app, runner, staff):
    created = runner.invoke(
        args=["engagement", "create-token", "--role", "admin", "--label", "ada-laptop", "--member", ADMIN]
    )
    assert created.exit_code == 0, created.output
    client = app.test_client()
    assert sign_in_by_token(client, created.stdout.strip()).status_code == 303
    assert "Ada" in home(client).get_data(as_text=True)


# --- signing in by mail ----------------------------------------------------------------------------------


@pytest.mark.smtp
def test_sign_in_by_a_link_mailed_through_a_real_smtp_server(make_app, smtp):
    app = make_app(**smtp.settings)
    with app.app_context():
        make_site("news")
        members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
        client = app.test_client()
        csrf = sign_in_form(client)
        asked = client.post("/console/sign-in", data={"csrf_token": csrf, "email": "ADA@news.example"})
        assert asked.status_code == 200
        assert "a sign-in link is on its way" in asked.get_data(as_text=True)

        report = deliver_due_messages()  # what `flask engagement send-mail` runs
        assert report.sent == 1
        path = link_path(smtp.one_to(ADMIN), "/console/link/")

        # Opening the link (a mail scanner does) changes nothing: only the button's POST signs in.
        assert client.get(path).status_code == 200
        assert home(client).status_code == 303
        signed_in = follow(client, path)
        assert signed_in.status_code == 303 and signed_in.location == "/console"
        page = home(client)
        assert page.status_code == 200
        assert ADMIN in page.get_data(as_text=True)


def test_the_same_answer_and_statements_for_a_member_and_a_stranger(app, client, staff):
    csrf = sign_in_form(client)
    answers, work = {}, {}
    for email in (ADMIN, "stranger@news.example"):
        with count_queries() as statements:
            answers[email] = client.post("/console/sign-in", data={"csrf_token": csrf, "email": email})
        work[email] = [re.sub(r"\s+", " ", statement) for statement in statements]
    member, stranger = answers.values()
    assert (member.status_code, member.get_data()) == (stranger.status_code, stranger.get_data())
    assert work[ADMIN] == work["stranger@news.example"]
    assert not any("staff_members" in statement for statement in work[ADMIN])

    deliver_due_messages()
    assert db.session.scalars(select(OutboxMessage.to_address)).all() == [ADMIN]
    assert db.session.scalars(select(SignInRequest)).all() == []  # the stranger's address is not kept


def test_requests_per_address_are_limited_and_answered_alike(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_MAIL_ADDRESS="2 per hour",
        RATELIMIT_CONSOLE_SIGN_IN="100 per minute",
    )
    with app.app_context():
        members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
        client = app.test_client()
        csrf = sign_in_form(client)
        answers = {
            client.post("/console/sign-in", data={"csrf_token": csrf, "email": ADMIN}).get_data()
            for _ in range(4)
        }
        assert len(answers) == 1
        assert len(db.session.scalars(select(SignInRequest)).all()) == 2


def test_sign_in_attempts_are_limited_per_ip(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONSOLE_SIGN_IN="3 per minute")
    with app.app_context():
        client = app.test_client()
        csrf = sign_in_form(client)
        statuses = [
            client.post("/console/sign-in", data={"csrf_token": csrf, "token": "eng_guess"}).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        assert "Too many sign-in attempts" in client.post(
            "/console/sign-in", data={"csrf_token": csrf, "email": ADMIN}
        ).get_data(as_text=True)


def test_a_used_link_is_refused(app, client, staff):
    path = link_path_of(console.issue_sign_in_link(email=ADMIN))
    assert follow(client, path).status_code == 303
    other = app.test_client()
    again = follow(other, path)
    assert again.status_code == 410
    assert "This link has expired" in again.get_data(as_text=True)
    assert home(other).status_code == 303


def test_an_expired_link_is_refused(app, client, clock, staff):
    path = link_path_of(console.issue_sign_in_link(email=ADMIN))
    clock.advance(minutes=15)
    assert follow(client, path).status_code == 410
    assert home(client).status_code == 303


def test_a_link_made_up_or_of_a_revoked_member_is_refused(app, client, staff):
    assert follow(client, "/console/link/not-a-link").status_code == 400
    path = link_path_of(console.issue_sign_in_link(email=ADMIN))
    members.revoke_member(email=ADMIN)
    assert follow(client, path).status_code == 410


def test_link_pages_keep_the_link_out_of_referers_caches_and_logs(app, client, staff):
    from engagement.observability import redact_path

    path = link_path_of(console.issue_sign_in_link(email=ADMIN))
    page = client.get(path)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert redact_path(path) == "/console/link/[redacted]"


# --- signing in by token ---------------------------------------------------------------------------------


def test_sign_in_with_a_members_token_acts_as_the_member(app, client, staff):
    secret = create_token(
        role=StaffRole.MODERATOR, site_slugs=["news"], label="grace-cli", member=staff["moderator"]
    )[1]
    response = sign_in_by_token(client, secret)
    assert response.status_code == 303
    page = home(client).get_data(as_text=True)
    assert "Grace" in page and "moderator" in page and "Sport" not in page


@pytest.mark.parametrize(
    ("role", "sites", "field"),
    [
        (StaffRole.ADMIN, [], "role"),
        (StaffRole.MODERATOR, ["sport"], "sites"),
        (StaffRole.MODERATOR, [], "sites"),
    ],
)
def test_a_members_token_grants_no_more_than_the_member_has(app, staff, role, sites, field):
    # Else the API would act on the token's role while the console acts as the member.
    with pytest.raises(ValidationFailed) as refused:
        create_token(role=role, site_slugs=sites, label="grace-cli", member=staff["moderator"])
    assert field in refused.value.fields


def test_sign_in_with_a_standalone_token_carries_its_role_and_sites(app, client, staff):
    secret = create_token(role=StaffRole.MODERATOR, site_slugs=["sport"], label="cms-bot")[1]
    assert sign_in_by_token(client, secret).status_code == 303
    page = home(client).get_data(as_text=True)
    assert "cms-bot" in page and "moderator" in page and "Sport" in page


def test_a_wrong_or_revoked_token_is_refused_next_to_the_field(app, client, staff):
    refused = sign_in_by_token(client, "eng_not-a-token")
    assert refused.status_code == 401
    assert 'id="token-error"' in refused.get_data(as_text=True)
    token, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="old")
    revoke_token(token_id=token.id)
    assert sign_in_by_token(client, secret).status_code == 401
    assert home(client).status_code == 303


def test_the_current_principal_is_what_the_moderation_services_take(app, client, staff):
    from engagement.console.auth import current_principal

    sign_in_by_link(client, MODERATOR)
    cookie = client.get_cookie("engagement_console", path="/console")
    with app.test_request_context("/console", headers={"Cookie": f"engagement_console={cookie.value}"}):
        principal = current_principal()
        assert principal.label == MODERATOR and not principal.is_admin
        assert [s.slug for s in principal.sites] == ["news"]


# --- the session cookie ----------------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_strict_and_for_the_console_only(app, client, staff):
    cookie = session_cookie(sign_in_by_link(client, ADMIN))["engagement_console"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/console"
    assert not cookie["secure"]  # the public URL is http in this test
    assert cookie.value not in {row.secret_hash for row in db.session.scalars(select(ConsoleSession))}


def test_the_session_cookie_is_secure_behind_an_https_public_url_whatever_the_host(make_app):
    app = make_app(PUBLIC_URL="https://comments.news.example")
    with app.app_context():
        members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
        client = app.test_client()
        path = console.issue_sign_in_link(email=ADMIN).removeprefix("https://comments.news.example")
        page = client.get(path, base_url="http://internal:8000")
        response = client.post(path, data={"csrf_token": csrf_of(page)}, base_url="http://internal:8000")
        assert session_cookie(response)["engagement_console"]["secure"] is True


# --- sessions --------------------------------------------------------------------------------------------


def test_sign_out_ends_the_session(app, client, staff):
    sign_in_by_link(client, ADMIN)
    csrf = csrf_of(home(client))
    signed_out = client.post("/console/sign-out", data={"csrf_token": csrf})
    assert signed_out.status_code == 303
    assert session_cookie(signed_out)["engagement_console"]["expires"]
    assert db.session.scalars(select(ConsoleSession.revoked_at)).one() is not None


def test_a_member_lists_and_revokes_their_other_sessions(app, staff):
    laptop, phone = app.test_client(), app.test_client()
    sign_in_by_link(laptop, ADMIN)
    sign_in_by_link(phone, ADMIN)
    sign_in_by_link(app.test_client(), MODERATOR)  # somebody else's: never listed
    page = home(laptop)
    ids = re.findall(r"/console/sessions/(\d+)/revoke", page.get_data(as_text=True))
    assert len(ids) == 2
    phone_id = max(ids, key=int)
    assert client_post(laptop, f"/console/sessions/{phone_id}/revoke", csrf_of(page)).status_code == 303
    assert home(phone).status_code == 303
    assert home(laptop).status_code == 200


def test_a_session_of_someone_else_cannot_be_revoked(app, staff):
    admin, moderator = app.test_client(), app.test_client()
    sign_in_by_link(admin, ADMIN)
    sign_in_by_link(moderator, MODERATOR)
    moderator_id = db.session.scalars(
        select(ConsoleSession.id).where(ConsoleSession.member_id == staff["moderator"].id)
    ).one()
    assert (
        client_post(admin, f"/console/sessions/{moderator_id}/revoke", csrf_of(home(admin))).status_code
        == 404
    )
    assert home(moderator).status_code == 200


def client_post(client, path, csrf):
    return client.post(path, data={"csrf_token": csrf})


def test_revoking_a_member_ends_their_sessions_at_the_next_request(app, client, staff):
    sign_in_by_link(client, ADMIN)
    assert home(client).status_code == 200
    members.revoke_member(email=ADMIN)
    assert home(client).status_code == 303


def test_revoking_a_member_revokes_their_api_tokens_too(app, client, staff):
    secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada-cli", member=staff["admin"])[1]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/moderation/comments", headers=bearer).status_code == 200
    members.revoke_member(email=ADMIN)
    assert client.get("/api/v1/moderation/comments", headers=bearer).status_code == 401


def test_a_session_keeps_a_hash_of_the_ip_and_never_the_ip(app, staff):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    sign_in_by_link(client, ADMIN)
    stored = db.session.scalars(select(ConsoleSession.ip_hash)).one()
    assert stored and "198.51.100.23" not in stored


def test_revoking_a_token_ends_the_sessions_it_opened(app, staff):
    token, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada-cli", member=staff["admin"])
    by_token, by_link = app.test_client(), app.test_client()
    sign_in_by_token(by_token, secret)
    sign_in_by_link(by_link, ADMIN)
    revoke_token(token_id=token.id)
    assert home(by_token).status_code == 303
    assert home(by_link).status_code == 200  # the member was not revoked, only one of their tokens


def test_a_session_ends_after_twelve_idle_hours(app, client, clock, staff):
    sign_in_by_link(client, ADMIN)
    clock.advance(hours=11, minutes=59)
    assert home(client).status_code == 200  # and this request counts as activity
    clock.advance(hours=11, minutes=59)
    assert home(client).status_code == 200
    clock.advance(hours=12)
    assert home(client).status_code == 303


# --- redirects -------------------------------------------------------------------------------------------


def test_a_signed_out_visit_goes_to_sign_in_and_back(app, client, staff):
    token_secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada", member=staff["admin"])[1]
    asked = client.get("/console?tab=pending")
    assert asked.status_code == 303
    assert asked.location == "/console/sign-in?next=/console?tab%3Dpending"
    csrf = sign_in_form(client, "/console%3Ftab%3Dpending")
    back = client.post(
        "/console/sign-in", data={"csrf_token": csrf, "token": token_secret, "next": "/console?tab=pending"}
    )
    assert back.location == "/console?tab=pending"


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "///evil.example",
        "/console@evil.example",
        "https:/console",
        "/api/v1/moderation/comments",
        "\x00/console",
        " //evil.example",
        "/console/\r\nLocation: https://evil.example",
    ],
)
def test_no_open_redirect_after_signing_in(app, client, staff, next_path):
    secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada", member=staff["admin"])[1]
    response = sign_in_by_token(client, secret, next=next_path)
    assert response.status_code == 303
    assert response.location == "/console"


# --- CSRF ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "", "0" * 64, "not-hex"])
def test_a_state_changing_request_without_the_sessions_csrf_token_is_refused(app, client, staff, sent):
    sign_in_by_link(client, ADMIN)
    data = {} if sent is None else {"csrf_token": sent}
    refused = client.post("/console/sign-out", data=data)
    assert refused.status_code == 403
    assert "This form cannot be sent" in refused.get_data(as_text=True)
    as_json = client.post("/console/sign-out", data=data, headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json["error"]["code"] == "csrf_failed"
    assert home(client).status_code == 200  # still signed in


def test_the_csrf_token_may_come_as_a_header(app, client, staff):
    sign_in_by_link(client, ADMIN)
    csrf = csrf_of(home(client))
    assert client.post("/console/sign-out", headers={"X-CSRF-Token": csrf}).status_code == 303


def test_another_sessions_csrf_token_is_refused(app, staff):
    mine, theirs = app.test_client(), app.test_client()
    sign_in_by_link(mine, ADMIN)
    sign_in_by_link(theirs, ADMIN)
    assert client_post(mine, "/console/sign-out", csrf_of(home(theirs))).status_code == 403


def test_the_sign_in_forms_need_their_csrf_token_too(app, client, staff):
    secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ada")[1]
    sign_in_form(client)
    assert client.post("/console/sign-in", data={"token": secret}).status_code == 403
    path = link_path_of(console.issue_sign_in_link(email=ADMIN))
    assert client.post(path).status_code == 403
    assert home(client).status_code == 303


# --- pages -----------------------------------------------------------------------------------------------


def test_console_pages_carry_the_security_headers(app, client, staff):
    signed_out = client.get("/console/sign-in")
    sign_in_by_link(client, ADMIN)
    refused = client.post("/console/sign-out")
    for response in (signed_out, home(client), refused):
        assert response.mimetype == "text/html"
        policy = dict(
            part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
    page = home(client).get_data(as_text=True)
    assert "<script" not in page and "style=" not in page


def test_hostile_names_and_user_agents_render_escaped(app, staff):
    members.create_member(
        email="eve@news.example",
        display_name="<script>alert(1)</script><img src=x onerror=alert(2)>",
        role=StaffRole.ADMIN,
        site_slugs=[],
    )
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = '"><script>alert(3)</script>'
    sign_in_by_link(client, "eve@news.example")
    page = home(client).get_data(as_text=True)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"email": ""},
        {"token": ""},
        {"email": "not an address"},
        {"email": "a" * 100_000 + "@news.example"},
        {"token": "x" * 100_000},
        {"email": "ada\x00@news.example"},
        {"token": "eng_\x00"},
        {"next": "\x00" * 10},
        {"email": ADMIN, "token": "eng_x", "extra": "y"},
        {"email": ["a@b.example", "c@d.example"]},
    ],
)
def test_no_500_on_bad_sign_in_input(app, client, staff, form):
    csrf = sign_in_form(client)
    response = client.post("/console/sign-in", data={"csrf_token": csrf, **form})
    assert response.status_code in {200, 401, 413, 422}, response.status_code
    assert response.mimetype == "text/html"


def test_missing_or_invalid_fields_are_shown_next_to_them(app, client, staff):
    csrf = sign_in_form(client)
    page = client.post("/console/sign-in", data={"csrf_token": csrf, "email": "not an address"})
    assert page.status_code == 422
    assert 'id="email-error"' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/console/link/" + "x" * 5000,
        "/console/link/%00",
        "/console/sessions/99999999999999999999/revoke",
        "/console/sessions/abc/revoke",
        "/console/nowhere",
    ],
)
def test_no_500_on_bad_paths(app, client, staff, path):
    sign_in_by_link(client, ADMIN)
    csrf = csrf_of(home(client))
    for response in (client.get(path), client.post(path, data={"csrf_token": csrf})):
        assert response.status_code < 500, (path, response.status_code)


def test_the_demo_admin_is_seeded_once_and_signs_in_with_one_click(app, runner):
    for _ in range(2):
        assert runner.invoke(args=["engagement", "seed-demo"]).exit_code == 0
    printed = runner.invoke(args=["engagement", "sign-in-link", "admin@demo.example"])
    assert printed.exit_code == 0, printed.output
    client = app.test_client()
    assert follow(client, link_path_of(printed.output.strip())).status_code == 303
    page = home(client).get_data(as_text=True)
    assert "Demo Admin" in page and "every site" in page
