"""The admin pages: staff members (add one, revoke one) and API tokens (issue one, its secret shown once;
revoke one).

Admins only: every route asks ``engagement.staff.access.require_admin`` before reading or validating
anything, so a moderator gets the 403 page and learns nothing from the messages. A new member is
validated by ``staff.members.NewMemberSchema`` (through ``create_member``: the CLI's messages), a new token
by the API's ``CreateTokenSchema`` (the API's messages); a taken address, an unknown site or member is a
message next to its field too. Revoking asks first, on a page of its own (no script needed): revoking a
member revokes their tokens, and a revoked member's or token's console sessions end at their next request.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError

from engagement.console import auth
from engagement.console.blueprint import bp, page
from engagement.console.service import Principal
from engagement.console.sites import field_messages
from engagement.errors import Conflict, NotFound, ValidationFailed
from engagement.models import StaffMember, StaffRole, StaffToken
from engagement.moderation import sites, tokens
from engagement.moderation.schemas import CreateTokenSchema
from engagement.staff import access, members

ROLES = {
    StaffRole.MODERATOR.value: "Moderator: the sites ticked below",
    StaffRole.ADMIN.value: "Admin: every site, members and tokens",
}
MEMBER_FIELDS = ("email", "display_name", "role")
MEMBER_NOTICES = {
    "created": "added; they sign in with a link mailed to their address.",
    "revoked": "revoked; their tokens too, and their console sessions have ended.",
}
TOKEN_FIELDS = ("label", "role", "member")


# --- members -----------------------------------------------------------------------------------------


@bp.get("/members")
def members_page() -> Response:
    _admin()
    listed = members.list_members()
    # The notice names a listed member by id: never text from the URL.
    notice = None
    for event, text in MEMBER_NOTICES.items():
        named = next((m for m in listed if m.id == request.args.get(event, type=int)), None)
        notice = f"{named.email} {text}" if named is not None else notice
    return _members_page(listed, typed={"role": StaffRole.MODERATOR.value}, errors={}, notice=notice)


@bp.post("/members")
def create_member() -> Response:
    principal = _admin()
    typed: dict[str, Any] = {name: request.form.get(name, "") for name in MEMBER_FIELDS}
    typed["sites"] = request.form.getlist("sites")
    try:
        member = members.create_member(
            email=typed["email"],
            display_name=typed["display_name"],
            role=typed["role"],
            site_slugs=typed["sites"],
            actor=principal.label,
        )
    except ValidationFailed as invalid:
        errors = field_messages(invalid.fields or {}, typed)
    except Conflict as taken:
        errors = {"email": [taken.message]}
    except NotFound as unknown:
        errors = {"sites": [unknown.message]}
    else:
        return redirect(url_for("console.members_page", created=member.id), 303)
    return _members_page(members.list_members(), typed=typed, errors=errors, status=422)


@bp.get("/members/<int:member_id>/revoke")
def confirm_member_revocation(member_id: int) -> Response:
    _admin()
    member = _member(member_id)
    yourself = auth.current_session().member_id == member.id
    return page(
        "console/confirm.html",
        heading=f"Revoke {member.email}?",
        explanation=(
            "This is you: you will be signed out at once and cannot sign in again. "
            if yourself
            else f"{member.display_name} will be signed out at their next request and cannot sign in again. "
        )
        + "Every token they own is revoked too. This cannot be undone.",
        action=url_for("console.revoke_member", member_id=member.id),
        button=f"Revoke {'yourself' if yourself else member.email}",
        back=url_for("console.members_page"),
        revoked=member.revoked_at is not None,
    )


@bp.post("/members/<int:member_id>/revoke")
def revoke_member(member_id: int) -> Response:
    principal = _admin()
    member = _member(member_id)
    members.revoke_member(email=member.email, actor=principal.label)
    return redirect(url_for("console.members_page", revoked=member.id), 303)


# --- tokens ------------------------------------------------------------------------------------------


@bp.get("/tokens")
def tokens_page() -> Response:
    listed = tokens.list_tokens(token=_admin())
    revoked = next((t for t in listed if t.id == request.args.get("revoked", type=int)), None)
    notice = f"Token {revoked.label} ({revoked.token_prefix}…) revoked." if revoked is not None else None
    return _tokens_page(listed, typed={"role": StaffRole.MODERATOR.value}, errors={}, notice=notice)


@bp.post("/tokens")
def create_token() -> Response:
    principal = _admin()
    typed: dict[str, Any] = {name: request.form.get(name, "") for name in TOKEN_FIELDS}
    typed["sites"] = request.form.getlist("sites")
    # The API's body: a one-line label's edges are invisible in a text box, so they are trimmed.
    body = {"label": typed["label"].strip(), "role": typed["role"], "sites": typed["sites"]}
    try:
        new = CreateTokenSchema().load(body)
        created, secret = tokens.create_token(
            token=principal,
            role=new["role"],
            site_slugs=new["sites"],
            label=new["label"],
            member_email=typed["member"] or None,
        )
    except ValidationError as invalid:
        errors = field_messages(invalid.messages, body)
    except ValidationFailed as invalid:
        errors = field_messages(invalid.fields or {}, body)
    except NotFound as unknown:
        errors = {"sites": [unknown.message]}
    else:
        # The secret is in this answer only (never in a URL, never stored; the blueprint sends no-store).
        return page("console/token_created.html", status=201, token=created, secret=secret)
    return _tokens_page(tokens.list_tokens(token=principal), typed=typed, errors=errors, status=422)


@bp.get("/tokens/<int:token_id>/revoke")
def confirm_token_revocation(token_id: int) -> Response:
    token = _token(token_id, principal=_admin())
    yours = auth.current_session().token_id == token.id
    return page(
        "console/confirm.html",
        heading=f"Revoke the token {token.label}?",
        explanation=(
            "You signed in with this token: you will be signed out at once. "
            if yours
            else "Whoever uses it is refused from their next request; console sessions opened with it end. "
        )
        + "This cannot be undone.",
        action=url_for("console.revoke_token", token_id=token.id),
        button=f"Revoke {token.label}",
        back=url_for("console.tokens_page"),
        revoked=token.revoked_at is not None,
    )


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    principal = _admin()
    token = _token(token_id, principal=principal)
    tokens.revoke_token(token=principal, token_id=token.id)
    return redirect(url_for("console.tokens_page", revoked=token.id), 303)


# --- helpers -----------------------------------------------------------------------------------------


def _admin() -> Principal:
    """The signed-in principal, if an admin (else 403, before anything is read or validated)."""
    principal = auth.current_principal()
    access.require_admin(principal)
    return principal


def _member(member_id: int) -> StaffMember:
    member = next((m for m in members.list_members() if m.id == member_id), None)
    if member is None:
        raise NotFound("member_not_found", "There is no such member.")
    return member


def _token(token_id: int, *, principal: Principal) -> StaffToken:
    token = next((t for t in tokens.list_tokens(token=principal) if t.id == token_id), None)
    if token is None:
        raise NotFound("token_not_found", "There is no such token.")
    return token


def _members_page(
    listed: list[StaffMember],
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]],
    notice: str | None = None,
    status: int = 200,
) -> Response:
    you = auth.current_session().member_id
    context = {"members": listed, "typed": typed, "errors": errors, "notice": notice, "you": you}
    return _form_page("console/members.html", status=status, **context)


def _tokens_page(
    listed: list[StaffToken],
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]],
    notice: str | None = None,
    status: int = 200,
) -> Response:
    live = [m for m in members.list_members() if m.revoked_at is None]
    yours = auth.current_session().token_id
    context = {"tokens": listed, "members": live, "typed": typed, "errors": errors, "notice": notice}
    return _form_page("console/tokens.html", status=status, yours=yours, **context)


def _form_page(template: str, *, status: int, **context: Any) -> Response:
    """A page with a New member or New token form: the roles and sites to choose from."""
    choices = sites.list_sites(token=auth.current_principal())
    return page(template, status=status, sites=choices, roles=ROLES, **context)
