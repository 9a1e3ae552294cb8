"""Bluesky: an account's followers from the public AppView, no credentials.

``GET https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile?actor={handle or DID}`` -> ``followersCount``
(https://docs.bsky.app/docs/api/app-bsky-actor-get-profile); errors are XRPC's
``{"error": "InvalidRequest", "message": "Profile not found"}`` with a 400.
"""

from __future__ import annotations

import re

import httpx

from engagement.counters.platforms.base import (
    Fetched,
    Platform,
    Request,
    field,
    get_json,
    whole_number,
    xrpc_message,
)
from engagement.models import CounterKind

_HANDLE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$")
_DID = re.compile(r"^did:(?:plc:[a-z2-7]{24}|web:[A-Za-z0-9.-]{1,253})$")


class Bluesky(Platform):
    name = "bluesky"
    label = "Bluesky"
    kinds = (CounterKind.FOLLOWERS,)
    account_hint = "a handle (newsroom.bsky.social) or a DID (did:plc:...)"
    default_base_url = "https://public.api.bsky.app"

    def check_account(self, account: str) -> str:
        account = account.strip().removeprefix("@")
        if _DID.match(account):
            return account
        if len(account) <= 253 and _HANDLE.match(account):
            return account.lower()
        raise ValueError(f"Give the Bluesky account as {self.account_hint}.")

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        body = get_json(
            client,
            f"{request.base_url}/xrpc/app.bsky.actor.getProfile",
            params={"actor": request.account},
            error_message=xrpc_message,
        )
        return Fetched(whole_number(field(body, "followersCount"), "followersCount"))
