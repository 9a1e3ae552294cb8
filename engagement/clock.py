"""The current time, injectable so tests freeze or move it instead of sleeping."""

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    """Timezone-aware UTC now, from the app's ``CLOCK`` setting."""
    return current_app.config["CLOCK"]()


def isoformat_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the second: how every time goes on the wire."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
