"""Who may do what: the one place staff scope and roles are checked, for every staff route and use case.

An admin token reaches every site; a moderator token only the sites in its scope. A use case that takes
a token asks here (403 ``forbidden``), and a listing filters by ``scoped_site_ids``, so no route can
forget a check or make its own.
"""

from __future__ import annotations

from sqlalchemy import select

from engagement.errors import Forbidden
from engagement.extensions import db
from engagement.models import Site, StaffToken
from engagement.sites.service import get_site


def require_admin(token: StaffToken) -> None:
    """403 ``forbidden`` unless the token is an admin's."""
    if not token.is_admin:
        raise Forbidden("forbidden", "Only an admin token may do this.")


def site_in_scope(token: StaffToken, slug: str) -> Site:
    """The site, if the token may act on it (404 unknown, 403 outside a moderator's scope)."""
    site = get_site(slug)
    require_site(token, site)
    return site


def require_site(token: StaffToken, site: Site) -> None:
    """403 ``forbidden`` unless the token may act on ``site``."""
    if not token.may_access(site):
        raise Forbidden("forbidden", f"This token may not act on site {site.slug!r}.")


def scoped_site_ids(token: StaffToken, slug: str | None) -> list[int] | None:
    """Site ids a listing may show: one site, the moderator's sites, or None (admin: all)."""
    if slug is not None:
        return [site_in_scope(token, slug).id]
    return None if token.is_admin else [s.id for s in token.sites]


def site_slugs() -> dict[int, str]:
    """Site id to slug, for listings that name sites (a small table, read once per request)."""
    return dict(db.session.execute(select(Site.id, Site.slug)).all())
