"""YouTube: a channel's subscribers through the YouTube Data API v3, with an API key.

``GET https://www.googleapis.com/youtube/v3/channels?part=statistics&forHandle=@x`` (or ``id=UC...``) with
``key`` -> ``items[0].statistics.subscriberCount`` (https://developers.google.com/youtube/v3/docs/channels/list):
a string, rounded by YouTube to three significant figures (so the value is marked approximate); with
``hiddenSubscriberCount: true`` there is no number to take. Errors are Google's
``{"error": {"code", "message", "errors": [{"reason", "domain", ...}]}}``
(https://developers.google.com/youtube/v3/docs/errors): ``keyInvalid`` (400) means the key needs attention;
``quotaExceeded`` and ``dailyLimitExceeded`` (403) are not a credential problem: the quota comes back at
midnight Pacific time, so the feed waits an hour at a time. Messages may carry HTML: it is stripped. The key
travels in the query; no message built here carries the URL.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from engagement.counters.platforms.base import (
    Fetched,
    Platform,
    PlatformError,
    Request,
    get_json,
    whole_number,
)
from engagement.models import CounterKind

_HANDLE = re.compile(r"^@[A-Za-z0-9._-]{3,30}$")
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_TAG = re.compile(r"<[^>]*>")
_KEY_REASONS = {"keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked"}
_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded"}
QUOTA_WAIT = 3600.0


def _google_error(body: Any) -> tuple[str | None, set[str]]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, set()
    items = error.get("errors")
    reasons = {
        item["reason"]
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("reason"), str)
    }
    message = error.get("message")
    return (_TAG.sub("", message) if isinstance(message, str) else None), reasons


class YouTube(Platform):
    name = "youtube"
    label = "YouTube"
    kinds = (CounterKind.SUBSCRIBERS,)
    credentials = ("api_key",)
    account_hint = "the channel's @handle, or its id (UC...)"
    default_base_url = "https://www.googleapis.com"

    def check_account(self, account: str) -> str:
        account = account.strip()
        if _CHANNEL_ID.match(account) or _HANDLE.match(account):
            return account
        if _HANDLE.match("@" + account):
            return "@" + account
        raise ValueError(f"Give the YouTube channel as {self.account_hint}.")

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        which = (
            {"id": request.account} if request.account.startswith("UC") else {"forHandle": request.account}
        )
        reasons: set[str] = set()

        def message(body: Any) -> str | None:
            text, found = _google_error(body)
            reasons.update(found)
            return text

        try:
            body = get_json(
                client,
                f"{request.base_url}/youtube/v3/channels",
                params={"part": "statistics", **which, "key": request.credentials.get("api_key", "")},
                error_message=message,
            )
        except PlatformError as error:
            if reasons & _QUOTA_REASONS:
                error.credentials_rejected = False
                error.retry_after = error.retry_after or QUOTA_WAIT
            elif reasons & _KEY_REASONS:
                error.credentials_rejected = True
            raise
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise PlatformError("YouTube knows no such channel.")
        statistics = items[0].get("statistics") if isinstance(items[0], dict) else None
        if not isinstance(statistics, dict):
            raise PlatformError("The platform's answer has no items.0.statistics.")
        if statistics.get("hiddenSubscriberCount") is True:
            return Fetched(None)
        return Fetched(whole_number(statistics.get("subscriberCount"), "subscriberCount"), approximate=True)
