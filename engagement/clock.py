"""The current time, injectable so tests freeze or move it instead of sleeping."""

from datetime import datetime

from flask import current_app


def now() -> datetime:
    """Timezone-aware UTC now, from the app's ``CLOCK`` setting."""
    return current_app.config["CLOCK"]()
