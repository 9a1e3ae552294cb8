"""Sites as admins manage them: created and configured (moderators list and read the sites they reach).

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.

A site's Akismet key is write-only: verified with Akismet's ``verify-key`` before it is saved (an invalid
key is 422 ``akismet_key_invalid``, no answer 503 ``akismet_unavailable``: never a saved unverified key),
stored encrypted, and recorded in the audit log as ``set`` or ``removed``, never as itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from engagement import audit
from engagement.akismet import client as akismet
from engagement.config import public_base_url
from engagement.encryption import encrypt_secret
from engagement.errors import ServiceUnavailable, UnprocessableValue
from engagement.extensions import db
from engagement.models import (
    Site,
    SiteSettings,
    StaffToken,
)
from engagement.sites import service as sites
from engagement.staff import access

_UNCHANGED = object()


def list_sites(*, token: StaffToken) -> list[Site]:
    query = select(Site).order_by(Site.slug)
    site_ids = access.scoped_site_ids(token, None)
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    return list(db.session.scalars(query))


def create_site(
    *, token: StaffToken, slug: str, name: str, origins: list[str], settings: dict[str, Any]
) -> Site:
    access.require_admin(token)
    settings = dict(settings)
    key = settings.pop("akismet_key", None)
    encrypted = _verified_key(key, origins=origins) if key is not None else None
    return sites.create_site(
        slug=slug,
        name=name,
        origins=origins,
        settings=settings,
        actor=token.label,
        akismet_key_encrypted=encrypted,
    )


def update_site(
    *, token: StaffToken, slug: str, name: str | None, origins: list[str] | None, settings: dict[str, Any]
) -> Site:
    access.require_admin(token)
    settings = dict(settings)
    key = settings.pop("akismet_key", _UNCHANGED)
    site = sites.get_site(slug)
    encrypted: str | None = None
    if isinstance(key, str):
        blog_origins = origins if origins is not None else list(site.origins)
        db.session.rollback()  # no transaction (on SQLite, no write lock) while Akismet answers
        encrypted = _verified_key(key, origins=blog_origins)
        site = sites.get_site(slug)
    changes: dict[str, Any] = {}
    if name is not None and name != site.name:
        site.name = changes["name"] = name
    if origins is not None and origins != site.origins:
        site.origins = changes["origins"] = origins
    if settings:
        merged: SiteSettings = site.settings.replace(**settings)
        if merged != site.settings:
            site.settings = merged
            changes["settings"] = settings
    if encrypted is not None:
        site.akismet_key_encrypted = encrypted
        changes["akismet_key"] = "set"
    elif key is None and site.akismet_key_encrypted is not None:
        site.akismet_key_encrypted = None
        changes["akismet_key"] = "removed"
    if changes:
        audit.record(actor=token.label, action="site_updated", site_id=site.id, details=changes)
        db.session.commit()
    return site


def _verified_key(key: str, *, origins: Sequence[str]) -> str:
    """The key, encrypted for storage, once Akismet has called it valid for the site's URL."""
    blog = origins[0].rstrip("/") if origins else public_base_url()
    try:
        valid = akismet.verify_key(key=key, blog=blog)
    except akismet.AkismetUnavailable as error:
        raise ServiceUnavailable(
            "akismet_unavailable",
            "Akismet could not be reached to verify the key; nothing was saved. Try again.",
        ) from error
    if not valid:
        raise UnprocessableValue(
            "akismet_key_invalid",
            "Akismet does not accept this key.",
            fields={"akismet_key": [f"Akismet does not accept this key for {blog}."]},
        )
    return encrypt_secret(key)
