"""Each platform adapter over the wire, against a fake speaking the platform's documented API: the number
it reads, the platform's errors as it words them, and what it sends (credentials where the platform wants
them, nowhere else)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from engagement.counters.platforms import PLATFORMS, PlatformError, Request
from engagement.counters.platforms.base import Fetched
from engagement.outbound import checked_client
from tests.fakes.platforms import Answer, FakePlatforms, mastodon
from tests.fakes.platforms import platforms as platforms


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with checked_client(timeout=1.0, allow_private=True) as client:
        yield client


def fetch(
    client: httpx.Client, fake: FakePlatforms, platform: str, account: str, **credentials: str
) -> Fetched:
    adapter = PLATFORMS[platform]
    stored = adapter.check_account(account)
    request = Request(
        account=stored,
        kind=adapter.kinds[0],
        credentials=credentials,
        base_url=adapter.base_url(stored, fake.url),
    )
    return adapter.fetch(client, request)


def test_mastodon_reads_followers_count(client, platforms):
    mastodon(platforms, {"newsroom": 12_345})
    assert fetch(client, platforms, "mastodon", "@newsroom@mastodon.social") == Fetched(12_345)
    assert platforms.requests[0].path == "/api/v1/accounts/lookup"
    assert platforms.requests[0].query == {"acct": "newsroom"}


def test_mastodon_unknown_account_is_its_404(client, platforms):
    mastodon(platforms, {})
    with pytest.raises(PlatformError) as refused:
        fetch(client, platforms, "mastodon", "nobody@mastodon.social")
    assert (refused.value.status, refused.value.message) == (404, "Record not found")
    assert not refused.value.credentials_rejected


@pytest.mark.parametrize("account", ["newsroom", "@x@", "a b@c.d", "x@localhost", ""])
def test_mastodon_accounts_are_user_at_instance(account):
    with pytest.raises(ValueError, match="user@instance"):
        PLATFORMS["mastodon"].check_account(account)


def test_mastodon_instance_comes_from_the_account_unless_configured():
    adapter = PLATFORMS["mastodon"]
    assert adapter.base_url("newsroom@mastodon.social", None) == "https://mastodon.social"
    assert adapter.base_url("newsroom@mastodon.social", "http://127.0.0.1:9") == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(429, {"error": "Too many requests"}, {"Retry-After": "120"}), (429, 120.0, False)),
        (Answer(503, b"<html>down</html>", {"Retry-After": "30"}), (503, 30.0, False)),
        (Answer(401, {"error": "The access token is invalid"}), (401, None, True)),
        (Answer(200, b"{not json"), (200, None, False)),
        (Answer(200, {"followers_count": "many"}), (None, None, False)),
        (Answer(200, {"followers_count": -3}), (None, None, False)),
    ],
)
def test_platform_failures_are_platform_errors(client, platforms, answer, expected):
    platforms.queue.append(answer)
    with pytest.raises(PlatformError) as refused:
        fetch(client, platforms, "mastodon", "newsroom@mastodon.social")
    assert (refused.value.status, refused.value.retry_after, refused.value.credentials_rejected) == expected


def test_a_platform_too_slow_is_a_timeout(client, platforms):
    platforms.queue.append(Answer(200, {"followers_count": 1}, delay=1.5))
    with pytest.raises(PlatformError, match="in time"):
        fetch(client, platforms, "mastodon", "newsroom@mastodon.social")


def test_a_private_address_is_refused_outside_tests(platforms):
    mastodon(platforms, {"newsroom": 1})
    with checked_client(timeout=1.0, allow_private=False) as client, pytest.raises(PlatformError):
        fetch(client, platforms, "mastodon", "newsroom@mastodon.social")
    assert platforms.requests == []
