"""The platforms counters can follow by themselves, each one module (``base.Platform``), by name."""

from __future__ import annotations

from engagement.counters.platforms.base import Fetched, Platform, PlatformError, Request
from engagement.counters.platforms.bluesky import Bluesky
from engagement.counters.platforms.feedly import Feedly
from engagement.counters.platforms.graph import Facebook, Instagram
from engagement.counters.platforms.mastodon import Mastodon
from engagement.counters.platforms.telegram import Telegram
from engagement.counters.platforms.twitch import Twitch
from engagement.counters.platforms.youtube import YouTube

PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in (
        Mastodon(),
        Bluesky(),
        YouTube(),
        Facebook(),
        Instagram(),
        Telegram(),
        Twitch(),
        Feedly(),
    )
}

__all__ = ["PLATFORMS", "Fetched", "Platform", "PlatformError", "Request"]
