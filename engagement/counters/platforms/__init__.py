"""The platforms counters can follow by themselves, each one module (``base.Platform``), by name."""

from __future__ import annotations

from engagement.counters.platforms.base import Fetched, Platform, PlatformError, Request
from engagement.counters.platforms.mastodon import Mastodon

PLATFORMS: dict[str, Platform] = {platform.name: platform for platform in (Mastodon(),)}

__all__ = ["PLATFORMS", "Fetched", "Platform", "PlatformError", "Request"]
