"""A site's single sign-on keys in the console (admins of the site): the keys, old and new; a new one (an
HS256 secret made here and shown once, or the site's public key) through the API's schema and service, so
the same rules and messages; revoking one asks first, on a page of its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError

from engagement import clock
from engagement.console import auth
from engagement.console.blueprint import bp, page
from engagement.console.sites import admin_site, field_messages
from engagement.errors import Conflict, NotFound, UnprocessableValue
from engagement.models import Site, SsoAlgorithm
from engagement.sso import keys
from engagement.sso.schemas import AddKeySchema

ALGORITHMS = {
    SsoAlgorithm.HS256.value: "HS256: a secret made here, shown once",
    SsoAlgorithm.RS256.value: "RS256: your RSA public key",
    SsoAlgorithm.EDDSA.value: "EdDSA: your Ed25519 public key",
}
FIELDS = ("algorithm", "public_key", "kid", "grace_hours")
NOTICES = {"added": "Key {kid} added.", "deleted": "Key {kid} revoked: its sessions have ended."}


@bp.get("/sites/<slug>/sign-in")
def sso_page(slug: str) -> Response:
    site = admin_site(slug)
    notice = NOTICES.get(request.args.get("done", ""), "").format(kid=request.args.get("kid", ""))
    typed = {"algorithm": SsoAlgorithm.HS256.value, "grace_hours": "24"}
    return _page(site, typed=typed, errors={}, notice=notice or None)


@bp.post("/sites/<slug>/sign-in")
def add_sso_key(slug: str) -> Response:
    site = admin_site(slug)
    typed = {name: request.form.get(name, "") for name in FIELDS}
    body: dict[str, Any] = {
        "algorithm": typed["algorithm"],
        "public_key": typed["public_key"].strip() or None,
        "kid": typed["kid"].strip() or None,
        "grace_hours": typed["grace_hours"].strip() or "24",
    }
    try:
        new = AddKeySchema().load(body)
        key, secret = keys.add_key(
            token=auth.current_principal(),
            slug=site.slug,
            algorithm=new["algorithm"],
            public_key=new["public_key"],
            kid=new["kid"],
            grace=timedelta(hours=new["grace_hours"]),
        )
    except ValidationError as invalid:
        errors = field_messages(invalid.messages, body)
    except UnprocessableValue as refused:
        errors = {name: list(texts) for name, texts in (refused.fields or {"kid": [refused.message]}).items()}
    except Conflict as taken:
        errors = {"kid": [taken.message]}
    else:
        if secret is None:
            return redirect(url_for("console.sso_page", slug=site.slug, done="added", kid=key.kid), 303)
        # The secret is in this answer only (never in a URL; the blueprint sends no-store).
        return page("console/sso_key_created.html", status=201, site=site, key=key, secret=secret)
    return _page(site, typed=typed, errors=errors, status=422)


@bp.get("/sites/<slug>/sign-in/<kid>/delete")
def confirm_sso_key_deletion(slug: str, kid: str) -> Response:
    site = admin_site(slug)
    key = _key(site, kid)
    return page(
        "console/confirm.html",
        heading=f"Revoke the sign-in key {key.kid}?",
        explanation="Tokens signed with it stop working at once, and so do the reader sessions they opened: "
        "signed-in readers must sign in again with a current key. This cannot be undone.",
        action=url_for("console.delete_sso_key", slug=site.slug, kid=key.kid),
        button=f"Revoke {key.kid}",
        back=url_for("console.sso_page", slug=site.slug),
        revoked=False,
    )


@bp.post("/sites/<slug>/sign-in/<kid>/delete")
def delete_sso_key(slug: str, kid: str) -> Response:
    site = admin_site(slug)
    keys.delete_key(token=auth.current_principal(), slug=site.slug, kid=_key(site, kid).kid)
    return redirect(url_for("console.sso_page", slug=site.slug, done="deleted", kid=kid), 303)


def _key(site: Site, kid: str) -> Any:
    found = next(
        (k for k in keys.list_keys(token=auth.current_principal(), slug=site.slug) if k.kid == kid), None
    )
    if found is None:
        raise NotFound("sso_key_not_found", "This site has no key of that name.")
    return found


def _page(
    site: Site,
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]],
    notice: str | None = None,
    status: int = 200,
) -> Response:
    listed = keys.list_keys(token=auth.current_principal(), slug=site.slug)
    now = clock.now()
    return page(
        "console/sso.html",
        status=status,
        site=site,
        keys=listed,
        now=now,
        algorithms=ALGORITHMS,
        typed=typed,
        errors=errors,
        notice=notice,
    )
