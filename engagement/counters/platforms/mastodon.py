"""Mastodon: an account's followers, from its instance's public API, no credentials.

``GET https://{instance}/api/v1/accounts/lookup?acct={user}`` -> ``followers_count``
(https://docs.joinmastodon.org/methods/accounts/#lookup); an unknown account is a 404 with
``{"error": "Record not found"}``.
"""

from __future__ import annotations

import re

import httpx

from engagement.counters.platforms.base import Fetched, Platform, Request, field, get_json, whole_number
from engagement.models import CounterKind

_ACCOUNT = re.compile(r"^@?(?P<user>[A-Za-z0-9_]{1,30})@(?P<instance>[A-Za-z0-9.-]{1,200}\.[A-Za-z]{2,63})$")


class Mastodon(Platform):
    name = "mastodon"
    label = "Mastodon"
    kinds = (CounterKind.FOLLOWERS,)
    account_hint = "user@instance (newsroom@mastodon.social)"
    default_base_url = "https://{instance}"

    def check_account(self, account: str) -> str:
        found = _ACCOUNT.match(account.strip())
        if found is None:
            raise ValueError(f"Give the Mastodon account as {self.account_hint}.")
        return f"{found['user']}@{found['instance'].lower()}"

    def base_url(self, request_account: str, configured: str | None) -> str:
        instance = request_account.rpartition("@")[2]
        return (configured or self.default_base_url.format(instance=instance)).rstrip("/")

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        user = request.account.partition("@")[0]
        body = get_json(
            client,
            f"{request.base_url}/api/v1/accounts/lookup",
            params={"acct": user},
            error_message=lambda error: error.get("error") if isinstance(error, dict) else None,
        )
        return Fetched(whole_number(field(body, "followers_count"), "followers_count"))
