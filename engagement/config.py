"""Settings: defaults, then ``ENGAGEMENT_*`` environment variables, then the mapping given to ``create_app``.

Every setting the service reads is declared once in ``SETTINGS``; the configuration table of
docs/operations.md is checked against it by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

ENV_PREFIX = "ENGAGEMENT_"


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


def _parse_public_url(raw: str) -> str:
    """An http(s) origin, optionally with a path prefix; no query, fragment or credentials."""
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ValueError(f"expected an http(s) origin such as https://comments.example.org, got {raw!r}")
    return url


def _parse_platform_urls(raw: str) -> dict[str, str]:
    """``platform=url`` pairs, comma-separated: where each platform's API is when it is not its own."""
    urls = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        name, _, url = pair.partition("=")
        if not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"expected platform=http(s)://..., got {pair!r}")
        urls[name.strip()] = url.strip().rstrip("/")
    return urls


def _parse_host_list(raw: str) -> list[str] | None:
    # None, not an empty list: Flask refuses every host when TRUSTED_HOSTS is an empty list.
    return [host.strip().lower() for host in raw.split(",") if host.strip()] or None


def _development_public_url() -> str:
    """Where ``make run`` serves (gunicorn.conf.py's bind): links in development mail point there."""
    bind = os.environ.get("ENGAGEMENT_BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}"
    host, _, port = bind.rpartition(":")
    if bind.startswith("unix:") or not port.isdigit():
        return "http://localhost"
    if host in {"", "0.0.0.0", "[::]", "::"}:  # noqa: S104 (a wildcard bind is reached on loopback)
        host = "127.0.0.1"
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class Setting:
    """One ``ENGAGEMENT_<name>`` variable and the Flask config key it fills."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    config_key: str | None = None

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name

    @property
    def key(self) -> str:
        return self.config_key or self.name


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ENV",
        str,
        "development",
        "`development` or `production` (production refuses to start without a secret key).",
    ),
    Setting(
        "DATABASE_URL",
        str,
        None,
        "SQLAlchemy URL. Default: SQLite file `instance/engagement.db` (WAL, foreign keys on). "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
        config_key="SQLALCHEMY_DATABASE_URI",
    ),
    Setting(
        "SECRET_KEY",
        str,
        None,
        "Signs edit tokens and hashes IPs. Dev default: generated once into `instance/`.",
    ),
    Setting(
        "OLD_SECRET_KEYS",
        lambda raw: [key.strip() for key in raw.split(",") if key.strip()],
        [],
        "Earlier secret keys, comma-separated, newest first, while rotating ENGAGEMENT_SECRET_KEY: stored "
        "secrets still open with them until `flask engagement rotate-secrets` re-encrypts them.",
    ),
    Setting(
        "REDIS_URL",
        str,
        None,
        "Redis for rate limits and change stamps, shared by every host. Unset: files shared by this "
        "host's processes.",
    ),
    Setting(
        "CACHE_SECONDS",
        float,
        60.0,
        "Longest a process serves a cached site, thread state or badge count; changes made through the "
        "service are seen at once (change stamps), this bounds those made behind its back.",
    ),
    Setting(
        "EXPORT_DIR",
        str,
        None,
        "Where the worker writes sites' exports (they hold readers' emails: keep it private). Default: "
        "`instance/exports`. Every process that serves downloads must see the worker's files.",
    ),
    Setting(
        "EXPORT_RETENTION_HOURS",
        float,
        168.0,
        "How long a finished export's file is kept for download before the worker removes it.",
    ),
    Setting(
        "CHANGE_STAMPS_PATH",
        str,
        None,
        "Without Redis: the file of change stamps shared by this host's processes. Default: beside the "
        "SQLite database, else in `instance/`.",
    ),
    Setting(
        "RATELIMIT_STORAGE_PATH",
        str,
        None,
        "Without Redis: the SQLite file of rate-limit counters shared by this host's processes. Default: "
        "beside the SQLite database, else in `instance/`.",
    ),
    Setting("TRUSTED_PROXIES", int, 0, "Proxy hops trusted for `X-Forwarded-For` (0: header ignored)."),
    Setting(
        "MAX_REQUEST_BYTES",
        int,
        64 * 1024,
        "Largest accepted request body (413 above).",
        "MAX_CONTENT_LENGTH",
    ),
    Setting(
        "RATELIMIT_ENABLED",
        _parse_bool,
        True,
        "Switch every rate limit off (load tests behind a limiting proxy).",
    ),
    Setting("RATELIMIT_POST_COMMENT", str, "10 per minute;60 per hour", "Comment posts/edits per IP."),
    Setting("RATELIMIT_READ", str, "600 per minute", "Public reads per IP."),
    Setting("RATELIMIT_REACTION", str, "60 per minute", "Likes, follows and other reader actions per IP."),
    Setting("RATELIMIT_REPORTS", str, "10 per minute;50 per day", "Readers' reports of comments per IP."),
    Setting("LOG_LEVEL", str, "INFO", "Python logging level."),
    Setting(
        "METRICS_TOKEN",
        str,
        None,
        "Bearer token `/metrics` requires (`Authorization: Bearer <token>`; 401 without it). Unset: "
        "`/metrics` is open in development and not served (404) when `ENV=production`.",
    ),
    Setting(
        "PUBLIC_URL",
        _parse_public_url,
        None,
        "The service's public origin (`https://comments.daily.example`), the only source of every "
        "absolute link it writes (mail, feeds, the embed page). Required in production; in development "
        "the bind address. Never taken from a request's `Host` or `X-Forwarded-Host`.",
    ),
    Setting(
        "ALLOWED_HOSTS",
        _parse_host_list,
        None,
        "Comma-separated host names a request's `Host` may carry (Flask's `TRUSTED_HOSTS`; `.example.org` "
        "allows its subdomains); others get 400. Unset: any (no answer depends on the `Host` header).",
        config_key="TRUSTED_HOSTS",
    ),
    Setting(
        "SMTP_HOST", str, None, "SMTP server. Unset: mail is written to the log, still through the outbox."
    ),
    Setting(
        "SMTP_PORT", int, None, "SMTP port. Default: 465 with `SMTP_SSL`, 587 with `SMTP_STARTTLS`, else 25."
    ),
    Setting("SMTP_USERNAME", str, None, "SMTP login (with `SMTP_PASSWORD`); unset: no authentication."),
    Setting("SMTP_PASSWORD", str, None, "SMTP password."),
    Setting("SMTP_STARTTLS", _parse_bool, False, "Upgrade the SMTP connection with STARTTLS."),
    Setting("SMTP_SSL", _parse_bool, False, "Connect to the SMTP server over TLS from the start (port 465)."),
    Setting(
        "SMTP_FROM",
        str,
        "engagement@localhost",
        "Sender address, optionally with a name: `News <news@daily.example>`. Required in production "
        "when `SMTP_HOST` is set. Mail about a site shows the site's name.",
    ),
    Setting(
        "SMTP_TIMEOUT", int, 10, "Seconds before an unresponsive SMTP server counts as a failed attempt."
    ),
    Setting(
        "SMTP_MAX_ATTEMPTS", int, 8, "Delivery attempts (exponential backoff) before a message is failed."
    ),
    Setting(
        "AKISMET_KEY",
        str,
        None,
        "Akismet API key for every site without its own `akismet_key` setting. Unset: only sites with "
        "their own key are checked. Never logged, never answered.",
    ),
    Setting(
        "AKISMET_URL",
        _parse_public_url,
        "https://rest.akismet.com",
        "Akismet's REST endpoint (tests point it at a local fake).",
    ),
    Setting(
        "AKISMET_TIMEOUT",
        float,
        2.0,
        "Seconds before Akismet counts as unavailable: a post then follows its site's `akismet_failure`.",
    ),
    Setting(
        "AKISMET_MAX_ATTEMPTS",
        int,
        8,
        "Delivery attempts (exponential backoff) of a learning report (`submit-spam`/`submit-ham`) "
        "before it is given up.",
    ),
    Setting(
        "WEBHOOKS_ALLOW_PRIVATE",
        _parse_bool,
        False,
        "Let webhook endpoints be on loopback, private and link-local addresses (an intranet; tests). Off, "
        "every address an endpoint's host resolves to must be public, and plain http is refused.",
    ),
    Setting("WEBHOOK_TIMEOUT", float, 15.0, "Seconds a webhook endpoint has to answer one delivery."),
    Setting(
        "PLATFORM_URLS",
        _parse_platform_urls,
        {},
        "Where a platform's API is instead of its own, as platform=url pairs (tests point them at fakes).",
    ),
    Setting(
        "PLATFORMS_ALLOW_PRIVATE",
        _parse_bool,
        False,
        "Let counter feeds reach loopback and private addresses (tests' fake platforms). Off, every address "
        "a platform's host resolves to must be public.",
    ),
    Setting(
        "RATELIMIT_SUBSCRIBE",
        str,
        "5 per minute;20 per hour",
        "Subscription requests per IP.",
    ),
    Setting(
        "RATELIMIT_SSO_SESSION",
        str,
        "20 per minute;200 per hour",
        "Single sign-on exchanges (a site's token for a reader session) per IP.",
    ),
    Setting(
        "SSO_SESSION_SECONDS",
        int,
        7200,
        "How long a signed-in reader's session lasts; then the page signs them in again with a new token.",
    ),
    Setting(
        "RATELIMIT_CONSOLE_SIGN_IN",
        str,
        "10 per minute;50 per hour",
        "Console sign-in attempts per IP: addresses typed, tokens pasted and mailed links followed together.",
    ),
    Setting(
        "RATELIMIT_MAIL_ADDRESS",
        str,
        "3 per hour;10 per day",
        "Confirmation mails per address, whatever the IP (requests above it are answered alike, unmailed).",
    ),
)


def _instance_secret(instance_path: Path) -> str:
    """The development secret: generated once into ``instance/`` so restarts keep edit tokens valid."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def utc_now() -> datetime:
    return datetime.now(UTC)


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config: defaults, then the environment, then ``overrides`` (tests)."""
    config: dict[str, Any] = {setting.key: setting.default for setting in SETTINGS}
    for setting in SETTINGS:
        raw = os.environ.get(setting.env_var)
        if raw is not None and raw != "":
            try:
                config[setting.key] = setting.parse(raw)
            except ValueError as exc:
                raise RuntimeError(f"{setting.env_var}: {exc}") from exc
    config.update(
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        RATELIMIT_HEADERS_ENABLED=True,
        # When Redis is down, limits keep working per process instead of failing requests.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        CLOCK=utc_now,
        TESTING=False,
    )
    config.update(overrides or {})

    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance_path.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'engagement.db'}"
    if not config.get("SECRET_KEY"):
        if config["ENV"] == "production":
            raise RuntimeError("ENGAGEMENT_SECRET_KEY must be set when ENGAGEMENT_ENV=production")
        config["SECRET_KEY"] = _instance_secret(instance_path)
    if config.get("PUBLIC_URL"):
        config["PUBLIC_URL"] = _parse_public_url(config["PUBLIC_URL"])
    elif config["ENV"] == "production":
        # Links in mail carry tokens: built from a request's Host, an attacker chooses where they point.
        raise RuntimeError("ENGAGEMENT_PUBLIC_URL must be set when ENGAGEMENT_ENV=production")
    else:
        config["PUBLIC_URL"] = _development_public_url()
    # Mail from the development default (@localhost) would be refused by every receiving server.
    if config["ENV"] == "production" and config["SMTP_HOST"] and config["SMTP_FROM"].endswith("@localhost"):
        raise RuntimeError("ENGAGEMENT_SMTP_FROM must be set when ENGAGEMENT_SMTP_HOST is in production")
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        # Survive a database restart or a killed connection without restarting the app.
        "pool_pre_ping": True,
        **config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    return config


def public_base_url() -> str:
    """The service's public origin (``ENGAGEMENT_PUBLIC_URL``), without a trailing slash. Never from a
    request: a forged ``Host`` or ``X-Forwarded-Host`` must not choose where mailed links point."""
    return current_app.config["PUBLIC_URL"]
