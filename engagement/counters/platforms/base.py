"""What every platform adapter is: one small class reading one number through the platform's official
API, and the HTTP helpers they share. Adding a platform is one module here (and its fake in tests/fakes).

An adapter never sees the database or the clock: it gets the account, the kind, the credentials and the
base URL (``ENGAGEMENT_PLATFORM_URLS`` names each platform's; only tests point them elsewhere), makes its
request with the client it is given (10 s timeouts, no redirects, public addresses only) and answers a
``Fetched`` or raises ``PlatformError``: the platform's own message and status, never a credential.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from engagement.models import CounterKind

MESSAGE_LENGTH = 300
LONGEST_WAIT = 7 * 24 * 3600.0  # a platform asking for longer (or for 10**400 s) gets a week


@dataclass(frozen=True)
class Fetched:
    """A platform's number. ``count`` None: the platform withholds it now (YouTube's hidden count), so
    nothing is updated and nothing failed. ``approximate``: the platform rounds it (YouTube)."""

    count: int | None
    approximate: bool = False


class PlatformError(Exception):
    """No number this time: the HTTP status (None: no answer), the platform's message, how long it asked
    us to wait (429/503 ``Retry-After``), and whether it refused the credentials (401/403: retrying is
    pointless until staff change them)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        credentials_rejected: bool = False,
    ) -> None:
        super().__init__(message[:MESSAGE_LENGTH])
        self.message = message[:MESSAGE_LENGTH]
        self.status = status
        self.retry_after = retry_after
        self.credentials_rejected = credentials_rejected


@dataclass(frozen=True)
class Request:
    """What one fetch is about."""

    account: str
    kind: CounterKind
    credentials: Mapping[str, str]
    base_url: str


class Platform:
    """One platform. Subclasses set the class attributes and implement ``fetch`` (and, when an account
    has a shape to check, ``check_account``)."""

    name: ClassVar[str]  # as staff name it in the API: "mastodon"
    label: ClassVar[str]  # as people name it: "Mastodon"
    kinds: ClassVar[tuple[CounterKind, ...]]  # the counters it can feed
    credentials: ClassVar[tuple[str, ...]] = ()  # the secrets it needs, by name ("api_key")
    account_hint: ClassVar[str]  # what the account is: "user@instance"
    default_base_url: ClassVar[str]  # the platform's API, used unless ENGAGEMENT_PLATFORM_URLS says otherwise

    def check_account(self, account: str) -> str:
        """The account as stored, or ValueError with what is wrong with it (a field message)."""
        account = account.strip()
        if not account or len(account) > 200 or any(c.isspace() or not c.isprintable() for c in account):
            raise ValueError(f"Give the {self.label} account as {self.account_hint}.")
        return account

    def base_url(self, request_account: str, configured: str | None) -> str:
        """Where the API is for this account: the configured URL, else the platform's own."""
        return (configured or self.default_base_url).rstrip("/")

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        raise NotImplementedError


def get_json(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    error_message: Callable[[Any], str | None] = lambda body: None,
    retry_in: Callable[[Any], float | None] = lambda body: None,
) -> Any:
    """GET ``url`` and its JSON body; any failure as a ``PlatformError`` carrying the platform's message
    (``error_message`` reads it out of an error body) and never the request's URL or headers, where
    credentials travel. ``retry_in`` reads a wait out of a 429/503 body that has no ``Retry-After``."""
    try:
        response = client.get(url, params=params, headers=headers)
    except UnicodeEncodeError:  # a header (a credential) httpx cannot send; the error holds the value
        raise PlatformError(
            "A credential has characters an HTTP header cannot carry.", credentials_rejected=True
        ) from None
    except httpx.TimeoutException:
        raise PlatformError("The platform did not answer in time.") from None
    except httpx.HTTPError as error:
        raise PlatformError(f"The platform could not be reached ({type(error).__name__}).") from None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if response.is_success:
        if body is None:
            raise PlatformError(
                "The platform answered something that is not JSON.", status=response.status_code
            )
        return body
    message = wording(error_message(body)) if body is not None else None
    message = message or f"HTTP {response.status_code}"
    raise PlatformError(
        message,
        status=response.status_code,
        retry_after=_wait(response, body, retry_in) if response.status_code in (429, 503) else None,
        credentials_rejected=response.status_code in (401, 403),
    )


def _wait(response: httpx.Response, body: Any, retry_in: Callable[[Any], float | None]) -> float | None:
    wait = retry_after(response)
    if wait is None and body is not None:
        wait = retry_in(body)
    return None if wait is None else min(wait, LONGEST_WAIT)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # not str.isdigit alone: '\u00b2' is a digit to Python
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def whole_number(value: Any, what: str) -> int:
    """A count as platforms send it (a JSON number, or a string of digits: YouTube), else PlatformError."""
    if isinstance(value, bool):
        raise PlatformError(f"The platform's {what} is not a number.")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    raise PlatformError(f"The platform's {what} is not a number.")


def field(body: Any, *path: str | int) -> Any:
    """``body[path[0]][path[1]]...``, or PlatformError naming what was missing."""
    found = body
    for step in path:
        try:
            found = found[step]
        except (KeyError, IndexError, TypeError):
            raise PlatformError(f"The platform's answer has no {'.'.join(map(str, path))}.") from None
    return found


def message_field(body: Any) -> str | None:
    """The ``message`` of an error body, as XRPC (Bluesky) and Helix (Twitch) word their errors."""
    return body.get("message") if isinstance(body, dict) and isinstance(body.get("message"), str) else None


def xrpc_message(body: Any) -> str | None:
    """An XRPC error: ``{"error": "InvalidRequest", "message": "Profile not found"}``."""
    return message_field(body) or (body.get("error") if isinstance(body, dict) else None)


def wording(value: Any) -> str | None:
    """A platform's wording, or None when what it sent is not text (an error body's ``message`` as a number
    or an object): such a body reads as its status, never as a crash outside ``PlatformError``."""
    return value.strip() or None if isinstance(value, str) else None
