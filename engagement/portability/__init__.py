"""Export of a site as JSON Lines (at once, or by the worker for any size), and the record format the JSON
importer reads back."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement.mailer.sender import before_delivery
from engagement.portability import jobs, routes


def init_app(app: Flask) -> None:
    """Register the export routes; the worker writes queued exports before each round of mail."""
    app.register_blueprint(routes.bp)
    before_delivery.connect(_write_exports, sender=app)


def _write_exports(_app: Any) -> None:
    jobs.run_due()
