"""engagement: comments, moderation and engagement counters for news sites."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config -> extensions -> blueprints -> errors -> cli, nothing else."""
    from engagement import caching, cli, errors, health, observability, openapi, rate_limits
    from engagement.comments import akismet as comments_akismet
    from engagement.comments import routes as comments
    from engagement.config import load_config
    from engagement.console import init_app as init_console
    from engagement.counters import init_app as init_counters
    from engagement.database import RowIdConverter, TextSegmentConverter, configure_engine
    from engagement.extensions import db, migrate
    from engagement.http import NoCookieSessions, Service
    from engagement.mail import init_app as init_mail
    from engagement.moderation import init_app as init_moderation
    from engagement.portability import init_app as init_portability
    from engagement.privacy import init_app as init_privacy
    from engagement.reports import init_app as init_reports
    from engagement.sso import init_app as init_sso
    from engagement.web import page_headers
    from engagement.web import routes as web
    from engagement.webhooks import init_app as init_webhooks

    app = Service(__name__, instance_relative_config=True)
    app.config.update(load_config(Path(app.instance_path), config))
    app.session_interface = NoCookieSessions()

    observability.configure_logging(app)
    if app.config["TRUSTED_PROXIES"] > 0:
        # The client's address and scheme only: nothing is built from the Host, so a forwarded host
        # (which a client can send through a proxy that does not overwrite it) is never taken.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    db.init_app(app)
    configure_engine(app)
    caching.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    rate_limits.init_app(app)

    observability.init_request_tracking(app)
    app.url_map.converters["int"] = RowIdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextSegmentConverter
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(comments.bp)
    comments_akismet.init_app(app)
    init_counters(app)
    init_moderation(app)
    init_mail(app)
    init_privacy(app)
    init_reports(app)
    init_webhooks(app)
    init_sso(app)
    init_portability(app)
    init_console(app)
    app.register_blueprint(web.bp)
    page_headers.init_app(app)
    errors.register_error_handlers(app)
    cli.register(app)
    return app
