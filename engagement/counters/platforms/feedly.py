"""Feedly: how many Feedly readers follow a feed, no credentials.

``GET https://cloud.feedly.com/v3/feeds/feed%2F{feed url, percent-encoded}`` -> ``subscribers``
(https://developers.feedly.com/reference/get-feed-metadata); an unknown feed is a 404 with
``{"errorCode": 404, "errorId": "...", "errorMessage": "..."}``.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import httpx

from engagement.counters.platforms.base import Fetched, Platform, Request, field, get_json, whole_number
from engagement.models import CounterKind


class Feedly(Platform):
    name = "feedly"
    label = "Feedly"
    kinds = (CounterKind.SUBSCRIBERS,)
    account_hint = "the feed's address (https://daily.example/feed.xml)"
    default_base_url = "https://cloud.feedly.com"

    def check_account(self, account: str) -> str:
        account = account.strip()
        parts = urlsplit(account)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or len(account) > 300
            or " " in account
        ):
            raise ValueError(f"Give the feed as {self.account_hint}.")
        return account

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        feed_id = quote(f"feed/{request.account}", safe="")
        body = get_json(
            client,
            f"{request.base_url}/v3/feeds/{feed_id}",
            error_message=lambda error: error.get("errorMessage") if isinstance(error, dict) else None,
        )
        return Fetched(whole_number(field(body, "subscribers"), "subscribers"))
