"""The current time, injectable so tests freeze or move it instead of sleeping."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    """Timezone-aware UTC now, from the app's ``CLOCK`` setting."""
    return current_app.config["CLOCK"]()


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """Let ``now()`` answer ``moment`` inside the block (seeding history that happened on earlier days: the
    demo, the bench); the app's clock is put back after, whatever happens."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    real = app.config["CLOCK"]
    app.config["CLOCK"] = lambda: moment
    try:
        yield
    finally:
        app.config["CLOCK"] = real


def isoformat_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the second: how every time goes on the wire."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
