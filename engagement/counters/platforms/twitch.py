"""Twitch: a channel's followers through Helix, with an app's client id and a user access token.

``GET https://api.twitch.tv/helix/channels/followers?broadcaster_id={id}`` with ``Client-Id`` and
``Authorization: Bearer {token}`` -> ``total`` (https://dev.twitch.tv/docs/api/reference/#get-channel-followers;
``total`` is answered to any token, the list itself needs ``moderator:read:followers``); errors are
``{"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}``.
"""

from __future__ import annotations

import httpx

from engagement.counters.platforms.base import (
    Fetched,
    Platform,
    Request,
    field,
    get_json,
    message_field,
    whole_number,
)
from engagement.models import CounterKind


class Twitch(Platform):
    name = "twitch"
    label = "Twitch"
    kinds = (CounterKind.FOLLOWERS,)
    credentials = ("client_id", "access_token")
    account_hint = "the broadcaster's numeric user id"
    default_base_url = "https://api.twitch.tv"

    def check_account(self, account: str) -> str:
        account = account.strip()
        if not (account.isascii() and account.isdigit()) or len(account) > 20:
            raise ValueError(f"Give the Twitch channel as {self.account_hint}.")
        return account

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        body = get_json(
            client,
            f"{request.base_url}/helix/channels/followers",
            params={"broadcaster_id": request.account, "first": "1"},
            headers={
                "Client-Id": request.credentials.get("client_id", ""),
                "Authorization": f"Bearer {request.credentials.get('access_token', '')}",
            },
            error_message=message_field,
        )
        return Fetched(whole_number(field(body, "total"), "total"))
