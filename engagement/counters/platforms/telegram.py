"""Telegram: a channel's members through the Bot API, with a bot added to the channel.

``GET https://api.telegram.org/bot{token}/getChatMemberCount?chat_id=@channel`` ->
``{"ok": true, "result": N}`` (https://core.telegram.org/bots/api#getchatmembercount); errors are
``{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}``, a 429's wait is
``parameters.retry_after``. The token is in the path, so no message built here ever carries the URL.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from engagement.counters.platforms.base import (
    LONGEST_WAIT,
    Fetched,
    Platform,
    PlatformError,
    Request,
    get_json,
    whole_number,
    wording,
)
from engagement.models import CounterKind

_CHAT = re.compile(r"@[A-Za-z][A-Za-z0-9_]{4,31}|-?[0-9]{1,20}")
_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")


def _description(body: Any) -> str | None:
    return wording(body.get("description")) if isinstance(body, dict) else None


def _retry_in(body: Any) -> float | None:
    """A 429's ``{"parameters": {"retry_after": 30}}``."""
    parameters = body.get("parameters") if isinstance(body, dict) else None
    wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return (
        float(min(wait, LONGEST_WAIT))
        if isinstance(wait, int) and not isinstance(wait, bool) and wait >= 0
        else None
    )


class Telegram(Platform):
    name = "telegram"
    label = "Telegram"
    kinds = (CounterKind.SUBSCRIBERS,)
    credentials = ("bot_token",)
    account_hint = "the channel's @username, or its numeric chat id"
    default_base_url = "https://api.telegram.org"

    def check_account(self, account: str) -> str:
        account = account.strip()
        if not _CHAT.fullmatch(account):
            raise ValueError(f"Give the Telegram channel as {self.account_hint}.")
        return account

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        token = request.credentials.get("bot_token", "")
        if not _TOKEN.fullmatch(token):  # never put a malformed value into a URL path
            raise PlatformError("The bot token is not a Telegram bot token.", credentials_rejected=True)
        body = get_json(
            client,
            f"{request.base_url}/bot{token}/getChatMemberCount",
            params={"chat_id": request.account},
            error_message=_description,
            retry_in=_retry_in,
        )
        if not isinstance(body, dict) or body.get("ok") is not True:
            raise PlatformError(_description(body) or "Telegram did not answer ok.")
        return Fetched(whole_number(body.get("result"), "result"))
