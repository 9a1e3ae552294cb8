"""Sites as admins manage them: created and configured (moderators list and read the sites they reach).

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engagement import audit
from engagement.extensions import db
from engagement.models import (
    Site,
    SiteSettings,
    StaffToken,
)
from engagement.sites import service as sites
from engagement.staff import access


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
    return sites.create_site(slug=slug, name=name, origins=origins, settings=settings, actor=token.label)


def update_site(
    *, token: StaffToken, slug: str, name: str | None, origins: list[str] | None, settings: dict[str, Any]
) -> Site:
    access.require_admin(token)
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
    if changes:
        audit.record(actor=token.label, action="site_updated", site_id=site.id, details=changes)
        db.session.commit()
    return site
