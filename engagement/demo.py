"""The demo site that ``make run`` serves: the seed article and a few comments."""

from __future__ import annotations

from sqlalchemy import select

from engagement.extensions import db
from engagement.models import Site
from engagement.sites.service import create_site

DEMO_SLUG = "demo"
DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def seed_demo() -> bool:
    """Create the demo site once; returns False when it already exists."""
    if db.session.scalar(select(Site.id).where(Site.slug == DEMO_SLUG)) is not None:
        return False
    create_site(slug=DEMO_SLUG, name="Demo Newsroom", origins=DEMO_ORIGINS, settings={"moderation": "none"})
    return True
