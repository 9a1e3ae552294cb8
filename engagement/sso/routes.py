"""Single sign-on endpoints: the widget's exchange (public, per site) and a site's keys (admins)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint

from engagement.api import arguments, doc, response, staff_doc
from engagement.clock import isoformat_z
from engagement.cors import current_site, enable_site_cors
from engagement.extensions import rate_limit
from engagement.sso import keys, schemas, service
from engagement.staff.auth import current_staff

public = Blueprint("sso", __name__, url_prefix="/api/v1/sites/<site>/sso")
enable_site_cors(public)
admin = Blueprint("sso_keys", __name__, url_prefix="/api/v1/moderation/sites/<site>/sso/keys")
TAGS = ["single sign-on"]


@public.post("/session")
@rate_limit("RATELIMIT_SSO_SESSION")
@doc(
    "Exchange the JWT the site signed for its signed-in reader for a reader session (send it as "
    "X-Engagement-Session); each token once",
    tags=TAGS,
    errors=(401, 403, 404),
)
@arguments(schemas.ExchangeSchema)
@response(200, schemas.SessionSchema)
def open_session(exchange: dict[str, Any], site: str) -> dict[str, Any]:
    session, expires, identity = service.open_session(current_site(), exchange["token"])
    user = {
        "id": identity.sub,
        "name": identity.name,
        "email": identity.email,
        "url": identity.url,
        "avatar": identity.avatar,
    }
    return {"session": session, "expires_at": isoformat_z(expires), "user": user}


@admin.before_request
def authenticate() -> None:
    current_staff()


@admin.get("")
@staff_doc(
    "A site's single sign-on keys, retired ones too; never a secret (admins)", tags=TAGS, errors=(404,)
)
@response(200, schemas.KeyListSchema)
def list_keys(site: str) -> dict[str, Any]:
    return {"items": keys.list_keys(token=current_staff(), slug=site)}


@admin.post("")
@staff_doc(
    "Add a key (HS256: a secret made here, answered once; RS256/EdDSA: the site's public key); the keys "
    "in use until now retire after grace_hours (admins)",
    tags=TAGS,
    errors=(404, 409),
)
@arguments(schemas.AddKeySchema)
@response(201, schemas.KeyWithSecretSchema)
def add_key(new: dict[str, Any], site: str) -> tuple[dict[str, Any], int]:
    key, secret = keys.add_key(
        token=current_staff(),
        slug=site,
        algorithm=new["algorithm"],
        public_key=new["public_key"],
        kid=new["kid"],
        grace=timedelta(hours=new["grace_hours"]),
    )
    return {"key": key, "secret": secret}, 201


@admin.delete("/<kid>")
@staff_doc("Revoke a key at once, with the reader sessions it opened (admins)", tags=TAGS, errors=(404,))
@response(204)
def delete_key(site: str, kid: str) -> None:
    keys.delete_key(token=current_staff(), slug=site, kid=kid)
