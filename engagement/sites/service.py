"""Sites: creation, lookup and settings."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engagement import audit, caching
from engagement.errors import Conflict, NotFound, ValidationFailed
from engagement.extensions import db
from engagement.fields import SLUG_PATTERN
from engagement.models import Site, SiteSettings, SiteSnapshot

_SLUG = re.compile(SLUG_PATTERN)


def public_site(slug: str) -> SiteSnapshot:
    """The site with this slug as public requests read it, from this process's cache while unchanged
    (see ``engagement.caching``); 404 ``site_not_found``. An unknown slug is remembered as unknown too."""
    if not _SLUG.match(slug):
        raise NotFound("site_not_found", f"There is no site {slug!r}.")

    def load() -> SiteSnapshot | None:
        site = db.session.scalar(select(Site).where(Site.slug == slug))
        return site.snapshot() if site is not None else None

    snapshot = caching.cache("sites").get(caching.site_key(slug), load)
    if snapshot is None:
        raise NotFound("site_not_found", f"There is no site {slug!r}.")
    return snapshot


def get_site(slug: str) -> Site:
    """The site with this slug, or 404 ``site_not_found``."""
    # A slug that could never exist (a NUL, 500 characters) is answered without asking the database.
    site = db.session.scalar(select(Site).where(Site.slug == slug)) if _SLUG.match(slug) else None
    if site is None:
        raise NotFound("site_not_found", f"There is no site {slug!r}.")
    return site


def create_site(
    *,
    slug: str,
    name: str,
    origins: list[str],
    settings: dict[str, Any] | None = None,
    actor: str = "cli",
    akismet_key_encrypted: str | None = None,
) -> Site:
    """Create a site; its settings start from the defaults. Audited as ``actor`` (whether it has an
    Akismet key, never the key)."""
    if not _SLUG.match(slug):
        raise ValidationFailed({"slug": ["Use 1-64 lowercase letters, digits and dashes."]})
    if db.session.scalar(select(Site.id).where(Site.slug == slug)) is not None:
        raise Conflict("site_exists", f"A site {slug!r} already exists.")
    site = Site(
        slug=slug,
        name=name,
        origins=[o.rstrip("/") for o in origins],
        akismet_key_encrypted=akismet_key_encrypted,
    )
    site.settings = SiteSettings().replace(**(settings or {}))
    db.session.add(site)
    db.session.flush()
    details: dict[str, Any] = {"slug": slug, "origins": site.origins}
    if akismet_key_encrypted is not None:
        details["akismet_key"] = "set"
    audit.record(actor=actor, action="site_created", site_id=site.id, details=details)
    db.session.commit()
    return site
