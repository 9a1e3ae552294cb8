"""Akismet's documented REST API (https://akismet.com/developers/), over one pooled httpx client per
process.

Not the ``akismet`` package from PyPI: its endpoint is a private module constant (``_API_URL``), so
``ENGAGEMENT_AKISMET_URL`` (tests, a proxy) would mean patching a private name, and its client binds one
key per instance while we hold one key per site. The protocol is four form-encoded POSTs, each with a
one-word answer; httpx gives us pooling and timeouts.

The key travels in the form body (``api_key``), never in a URL, so httpx's request log lines and every
error message here are free of it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

import httpx
from flask import current_app

from engagement.config import public_base_url
from engagement.encryption import decrypt_secret
from engagement.models import AkismetReportKind, AkismetVerdict, SiteRef

API_VERSION = "1.1"
USER_AGENT = "engagement | Akismet REST client"
CHARSET = "UTF-8"

_lock = threading.Lock()
_pooled: tuple[int, httpx.Client] | None = None


class AkismetUnavailable(Exception):
    """Akismet gave no usable answer: a timeout, a refused connection, an HTTP error, ``invalid`` (a bad
    key) or a debug-help header. ``str()`` says which, without the key."""


def key_for(site: SiteRef) -> str | None:
    """The key comments of this site are checked with: its own, else ``ENGAGEMENT_AKISMET_KEY``, else None."""
    return decrypt_secret(site.akismet_key_encrypted) or current_app.config["AKISMET_KEY"] or None


def blog_for(site: SiteRef) -> str:
    """The site's URL as Akismet's ``blog``: its first allowed origin, else the service's public URL."""
    return site.origins[0] if site.origins else public_base_url()


def verify_key(*, key: str, blog: str) -> bool:
    """``verify-key``: True for ``valid``, False for ``invalid`` (which comes with a debug-help header);
    AkismetUnavailable otherwise."""
    answer = _post("verify-key", {"api_key": key, "blog": blog})
    body = answer.text.strip()
    if body == "valid":
        return True
    if body == "invalid":
        return False
    raise AkismetUnavailable(f"unexpected verify-key answer {body[:40]!r}")


def check_comment(*, key: str, blog: str, fields: Mapping[str, str]) -> AkismetVerdict:
    """``comment-check``: ham, spam, or discard (spam with ``X-akismet-pro-tip: discard``)."""
    answer = _post("comment-check", {**fields, "api_key": key, "blog": blog, "blog_charset": CHARSET})
    _refuse_debug_help("comment-check", answer)
    body = answer.text.strip()
    if body == "true":
        if answer.headers.get("X-akismet-pro-tip", "").strip().lower() == "discard":
            return AkismetVerdict.DISCARD
        return AkismetVerdict.SPAM
    if body == "false":
        return AkismetVerdict.HAM
    raise AkismetUnavailable(f"unexpected comment-check answer {body[:40]!r}")


def submit(*, kind: AkismetReportKind, key: str, blog: str, fields: Mapping[str, str]) -> None:
    """``submit-spam`` or ``submit-ham`` with the fields comment-check was sent; AkismetUnavailable when
    not accepted."""
    answer = _post(f"submit-{kind}", {**fields, "api_key": key, "blog": blog, "blog_charset": CHARSET})
    _refuse_debug_help(f"submit-{kind}", answer)
    if not answer.text.strip().startswith("Thanks"):
        raise AkismetUnavailable(f"unexpected submit-{kind} answer {answer.text.strip()[:40]!r}")


def _post(endpoint: str, form: Mapping[str, str]) -> httpx.Response:
    config = current_app.config
    url = f"{config['AKISMET_URL'].rstrip('/')}/{API_VERSION}/{endpoint}"
    try:
        answer = _client().post(url, data=dict(form), timeout=config["AKISMET_TIMEOUT"])
    except httpx.TimeoutException as error:
        raise AkismetUnavailable(f"{endpoint}: timed out") from error
    except httpx.HTTPError as error:
        raise AkismetUnavailable(f"{endpoint}: {type(error).__name__}") from error
    if answer.status_code != 200:
        raise AkismetUnavailable(f"{endpoint}: HTTP {answer.status_code}")
    return answer


def _refuse_debug_help(endpoint: str, answer: httpx.Response) -> None:
    # Akismet explains a request it could not judge (a missing field, a bad key): never a verdict.
    if debug_help := answer.headers.get("X-akismet-debug-help"):
        raise AkismetUnavailable(f"{endpoint}: {debug_help[:200]}")


def _client() -> httpx.Client:
    """This process's pooled client (made again in a forked worker: a pool must not cross a fork)."""
    global _pooled
    with _lock:
        if _pooled is None or _pooled[0] != os.getpid():
            client = httpx.Client(
                headers={"User-Agent": USER_AGENT},
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                follow_redirects=False,
            )
            _pooled = (os.getpid(), client)
        return _pooled[1]
