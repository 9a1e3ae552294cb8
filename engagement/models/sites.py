"""Sites (one per newsroom property) and their moderation settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import JSON, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.models.base import Base

if TYPE_CHECKING:
    from engagement.models.comments import Thread

ModerationMode = Literal["none", "all", "first_time"]
AkismetFailure = Literal["hold", "allow"]


@dataclass(frozen=True)
class SiteSettings:
    """A site's rules, with WordPress core's defaults. Stored as JSON; validated by ``sites.schemas``."""

    moderation: ModerationMode = "first_time"
    max_links: int = 2
    max_depth: int = 5
    edit_window_seconds: int = 15 * 60
    close_after_days: int = 0  # 0: threads never close by age
    max_body_length: int = 10_000
    flood_seconds: int = 15
    moderation_words: tuple[str, ...] = ()
    disallowed_words: tuple[str, ...] = ()
    notify_emails: tuple[str, ...] = ()
    stale_after_hours: int = 48
    max_drop_share: float = 0.5
    report_threshold: int = 3  # distinct readers' reports that hold an approved comment; 0: never
    # When Akismet cannot answer (timeout, error, invalid key): hold the comment, or keep the local verdict.
    akismet_failure: AkismetFailure = "hold"
    akismet_blog_lang: str = ""  # Akismet's blog_lang: the site's languages ("en", "fr, de"); "" unsent
    # The widget revalidates a visible thread's first page this often (a 304 when nothing changed); 0: never.
    live_interval_seconds: int = 30
    language: str = "en"  # server-rendered comments and mail when the reader's language is not known
    html_nosnippet: bool = False  # server-rendered comments carry data-nosnippet (out of search snippets)
    html_json_ld: bool = False  # server-rendered comments carry schema.org Comment JSON-LD
    sso_required: bool = False  # only readers signed in through the site's single sign-on may comment
    sso_skip_first_time: bool = False  # signed-in readers are not held as first-time commenters
    sso_login_url: str | None = None  # where the widget and the server-rendered form send guests to sign in
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> SiteSettings:
        raw = dict(raw or {})
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        for name in known:
            if name in raw:
                value = raw.pop(name)
                values[name] = tuple(value) if isinstance(value, list) else value
        return cls(**values, extra=raw)

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def replace(self, **changes: Any) -> SiteSettings:
        changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
        return dataclasses.replace(self, **changes)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    settings_json: Mapped[dict[str, Any]] = mapped_column("settings", JSON, default=dict)
    # Write-only: Fernet-encrypted (engagement.encryption), never in the settings, an answer or an export.
    akismet_key_encrypted: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    threads: Mapped[list[Thread]] = relationship(back_populates="site", passive_deletes=True)

    @property
    def settings(self) -> SiteSettings:
        return SiteSettings.from_json(self.settings_json)

    @settings.setter
    def settings(self, value: SiteSettings) -> None:
        self.settings_json = value.to_json()

    def allows_origin(self, origin: str | None) -> bool:
        """A site without configured origins accepts any (development); otherwise an exact match."""
        return _allows_origin(self.origins, origin)

    def snapshot(self) -> SiteSnapshot:
        return SiteSnapshot(
            id=self.id,
            slug=self.slug,
            name=self.name,
            origins=tuple(self.origins or ()),
            settings=self.settings,
            created_at=self.created_at,
            akismet_key_encrypted=self.akismet_key_encrypted,
        )


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """A site as the public API reads it: immutable, so one copy can serve many requests (see caching)."""

    id: int
    slug: str
    name: str
    origins: tuple[str, ...]
    settings: SiteSettings
    created_at: datetime
    akismet_key_encrypted: str | None = None

    def allows_origin(self, origin: str | None) -> bool:
        return _allows_origin(self.origins, origin)


class SiteRef(Protocol):
    """What use cases read of a site: a ``Site`` row (staff) or a ``SiteSnapshot`` (public requests)."""

    @property
    def id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def origins(self) -> Sequence[str]: ...
    @property
    def settings(self) -> SiteSettings: ...
    @property
    def akismet_key_encrypted(self) -> str | None: ...

    def allows_origin(self, origin: str | None) -> bool: ...


def _allows_origin(origins: Sequence[str], origin: str | None) -> bool:
    if not origins:
        return True
    return origin is not None and origin.rstrip("/") in {o.rstrip("/") for o in origins}
