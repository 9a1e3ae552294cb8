"""Facebook and Instagram: Meta's Graph API, with a Page access token.

- Facebook Page: ``GET https://graph.facebook.com/v{N}/{page-id}?fields=followers_count,fan_count``
  (https://developers.facebook.com/docs/graph-api/reference/page/): ``fan_count`` feeds fans (Likes),
  ``followers_count`` followers.
- Instagram business account: ``GET https://graph.facebook.com/v{N}/{ig-user-id}?fields=followers_count``
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/), with the
  token of the Page it is connected to.

Errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``
(https://developers.facebook.com/docs/graph-api/guides/error-handling/): code 190 (an expired or invalid
token), 102, 10 and 200-299 (permissions) mean the token needs attention whatever the HTTP status (Graph
answers most with 400); 4, 17, 32 and 613 are rate limits: retried after an hour. The token travels as
``access_token`` in the query; no message built here carries the URL.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx

from engagement.counters.platforms.base import (
    Fetched,
    Platform,
    PlatformError,
    Request,
    field,
    get_json,
    whole_number,
)
from engagement.models import CounterKind

GRAPH_VERSION = "v21.0"
_TOKEN_CODES = {190, 102, 10}
_RATE_CODES = {4, 17, 32, 613}
RATE_LIMIT_WAIT = 3600.0


def _graph_error(body: Any) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _classified(error: PlatformError, body_code: int | None) -> PlatformError:
    if body_code in _TOKEN_CODES or (body_code is not None and 200 <= body_code <= 299):
        error.credentials_rejected = True
    elif body_code in _RATE_CODES:
        error.retry_after = error.retry_after or RATE_LIMIT_WAIT
    return error


class _GraphPlatform(Platform):
    credentials = ("page_token",)
    default_base_url = "https://graph.facebook.com"
    fields: ClassVar[str]

    def check_account(self, account: str) -> str:
        """Graph objects are named by their numeric id."""
        account = account.strip()
        if not re.fullmatch(r"\d{1,20}", account):
            raise ValueError(f"Give the {self.label} account as {self.account_hint}.")
        return account

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        codes: list[int | None] = []

        def message(body: Any) -> str | None:
            graph = _graph_error(body)
            code = graph.get("code")
            codes.append(code if isinstance(code, int) and not isinstance(code, bool) else None)
            return graph.get("message") if isinstance(graph.get("message"), str) else None

        try:
            body = get_json(
                client,
                f"{request.base_url}/{GRAPH_VERSION}/{request.account}",
                params={"fields": self.fields, "access_token": request.credentials.get("page_token", "")},
                error_message=message,
            )
        except PlatformError as error:
            raise _classified(error, codes[-1] if codes else None) from None
        return Fetched(
            whole_number(field(body, self.count_field(request.kind)), self.count_field(request.kind))
        )

    def count_field(self, kind: CounterKind) -> str:
        raise NotImplementedError


class Facebook(_GraphPlatform):
    name = "facebook"
    label = "Facebook"
    kinds = (CounterKind.FANS, CounterKind.FOLLOWERS)
    account_hint = "the Page's numeric id"
    fields = "followers_count,fan_count"

    def count_field(self, kind: CounterKind) -> str:
        return "fan_count" if kind == CounterKind.FANS else "followers_count"


class Instagram(_GraphPlatform):
    name = "instagram"
    label = "Instagram"
    kinds = (CounterKind.FOLLOWERS,)
    account_hint = "the Instagram business account's numeric id"
    fields = "followers_count"

    def count_field(self, kind: CounterKind) -> str:
        return "followers_count"
