"""Import use case: one file, one site, one transaction.

The whole import is one transaction, written in batches as the file streams by: a file that turns out
hostile or broken halfway (an entity declaration, a bad line) rolls everything back, so nothing is ever
half-imported; a dry run does all the work and rolls back as well. The file is read by a second process
(``read_ahead``) while this one writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from engagement import audit
from engagement.errors import ValidationFailed
from engagement.extensions import db
from engagement.importers.disqus import DisqusFile
from engagement.importers.isso import IssoDatabase
from engagement.importers.jsonl import JsonLinesFile
from engagement.importers.pipeline import THREAD_KEYS, ImportPipeline, ImportSummary, Source, SourceFile
from engagement.importers.read_ahead import read_ahead
from engagement.importers.wordpress import WordPressFile
from engagement.models import Site, SiteSettings
from engagement.sites.service import get_site

FORMATS: dict[str, type[SourceFile]] = {
    "wordpress": WordPressFile,
    "disqus": DisqusFile,
    "isso": IssoDatabase,
    "json": JsonLinesFile,
}


def open_source(
    *, format_name: str, path: Path, thread_key: str = "path", accept_unchecked: bool = False
) -> Source:
    """The reader of one file; ``thread_key`` (path, permalink, post-id) matters to WordPress and Disqus;
    ``accept_unchecked`` lets our JSON export of version 1 (no end record) be restored."""
    if format_name not in FORMATS:
        raise ValidationFailed({"format": [f"Use one of {', '.join(FORMATS)}."]})
    if thread_key not in THREAD_KEYS:
        raise ValidationFailed({"thread_key": [f"Use one of {', '.join(THREAD_KEYS)}."]})
    source = FORMATS[format_name](path, thread_key=thread_key)
    if accept_unchecked:
        if not isinstance(source, JsonLinesFile):
            raise ValidationFailed({"accept_unchecked": ["Only our JSON export has an end record to check."]})
        source.accept_unchecked = True
    return source


def import_comments(
    *,
    site_slug: str,
    source: Source,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    actor: str = "cli",
) -> ImportSummary:
    """Import ``source`` into the site; committed at the end, rolled back on any error or a dry run.

    The site must exist, except for a JSON restore, which creates it from the file's first line.
    """
    summary = ImportSummary(format=source.name, site=site_slug, dry_run=dry_run)
    try:
        site = _target_site(site_slug, source=source, actor=actor)
        pipeline = ImportPipeline(
            site=site,
            summary=summary,
            settle_per_thread=source.settle_per_thread,
            limit_depth=source.limit_depth,
            actor=actor,
        )
        pipeline.feed(read_ahead(source, progress or (lambda _n: None)))
        audit.record(actor=actor, action="imported", site_id=site.id, details=summary.as_dict())
        if dry_run:
            db.session.rollback()
            return summary
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return summary


def _target_site(slug: str, *, source: Source, actor: str) -> Site:
    if not source.restores_site:
        return get_site(slug)
    site = db.session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        # Name and settings come from the file's first line (see jsonl.SiteRestore).
        site = Site(slug=slug, name=slug, origins=[])
        site.settings = SiteSettings()
        db.session.add(site)
        db.session.flush()
        audit.record(
            actor=actor, action="site_created", site_id=site.id, details={"slug": slug, "by": "import"}
        )
    return site
