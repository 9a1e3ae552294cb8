"""Signed, timestamped tokens (itsdangerous) whose time comes from the app clock.

Tests move the clock instead of sleeping, so a token's age must be measured with the same clock that
signed it. Every use has its own ``salt``: a token made for one purpose never verifies for another.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from engagement import clock


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def serializer(salt: str) -> URLSafeTimedSerializer:
    """A URL-safe serializer keyed with the app secret, timestamped by the app clock."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner)
