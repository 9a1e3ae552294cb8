"""The staff console: moderators and admins in the browser. Signing in (mailed one-time links, pasted
tokens), server-side sessions and the pages; permissions are ``engagement.staff.access``'s."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement.console import (  # noqa: F401 (routes and the page families register on blueprint.bp)
    admin,
    authors,
    blueprint,
    counters,
    exports,
    feeds,
    records,
    routes,
    service,
    sites,
    sso,
    webhooks,
)
from engagement.mailer.sender import before_delivery


def init_app(app: Flask) -> None:
    """Register the console; the mail process answers sign-in requests before each delivery."""
    app.register_blueprint(blueprint.bp)
    before_delivery.connect(_answer_sign_in_requests, sender=app)


def _answer_sign_in_requests(_app: Any) -> None:
    service.answer_sign_in_requests()
