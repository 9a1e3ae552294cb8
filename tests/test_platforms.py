"""Each platform adapter over the wire, against a fake speaking the platform's documented API: the number
it reads, the platform's errors as it words them, and what it sends (credentials where the platform wants
them, nowhere else)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from engagement.counters.platforms import PLATFORMS, PlatformError, Request
from engagement.counters.platforms.base import LONGEST_WAIT, Fetched
from engagement.models import CounterKind
from engagement.outbound import checked_client
from tests.fakes.platforms import (
    BOT_TOKEN,
    PAGE_TOKEN,
    TWITCH_CLIENT,
    TWITCH_TOKEN,
    YOUTUBE_KEY,
    Answer,
    FakePlatforms,
    bluesky,
    feedly,
    graph,
    graph_error,
    mastodon,
    telegram,
    twitch,
    youtube,
    youtube_quota_exceeded,
)
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


# --- the other platforms: each one's number, its own errors, its credentials where it wants them --------


def refusal(
    client: httpx.Client, fake: FakePlatforms, platform: str, account: str, **credentials: str
) -> PlatformError:
    with pytest.raises(PlatformError) as refused:
        fetch(client, fake, platform, account, **credentials)
    for secret in credentials.values():
        assert (
            secret not in refused.value.message
            and secret not in str(refused.value)
            and secret not in repr(refused.value)
        )
    return refused.value


def test_bluesky_reads_followers_count_and_says_what_is_wrong(client, platforms):
    bluesky(platforms, {"newsroom.bsky.social": 4_210})
    assert fetch(client, platforms, "bluesky", "@Newsroom.bsky.social") == Fetched(4_210)
    assert platforms.requests[0].query == {"actor": "newsroom.bsky.social"}
    error = refusal(client, platforms, "bluesky", "nobody.bsky.social")
    assert (error.status, error.message) == (400, "Profile not found")


def test_youtube_reads_rounded_subscribers_by_handle_or_id(client, platforms):
    by_id = "UC" + "a" * 22
    youtube(
        platforms,
        {
            "@newsroom": {"subscriberCount": "1230000", "hiddenSubscriberCount": False},
            by_id: {"subscriberCount": "77"},
        },
    )
    assert fetch(client, platforms, "youtube", "newsroom", api_key=YOUTUBE_KEY) == Fetched(
        1_230_000, approximate=True
    )
    seen = platforms.requests[0]
    assert seen.query == {"part": "statistics", "forHandle": "@newsroom", "key": YOUTUBE_KEY}
    assert fetch(client, platforms, "youtube", by_id, api_key=YOUTUBE_KEY).count == 77
    assert platforms.requests[1].query["id"] == by_id


def test_youtube_hidden_counts_update_nothing_and_unknown_channels_fail(client, platforms):
    youtube(platforms, {"@shy": {"hiddenSubscriberCount": True}})
    assert fetch(client, platforms, "youtube", "@shy", api_key=YOUTUBE_KEY) == Fetched(None)
    assert "no such channel" in refusal(client, platforms, "youtube", "@gone", api_key=YOUTUBE_KEY).message


def test_youtube_quota_waits_and_a_bad_key_needs_attention(client, platforms):
    youtube(platforms, {})
    platforms.queue.append(youtube_quota_exceeded())
    quota = refusal(client, platforms, "youtube", "@newsroom", api_key=YOUTUBE_KEY)
    assert (quota.status, quota.credentials_rejected, quota.retry_after) == (403, False, 3600.0)
    assert quota.message == "The request cannot be completed because you have exceeded your quota."
    bad = refusal(client, platforms, "youtube", "@newsroom", api_key="AIza-wrong-key-000000000")
    assert (bad.status, bad.credentials_rejected, bad.message) == (
        400,
        True,
        "API key not valid. Please pass a valid API key.",
    )


def test_facebook_reads_fans_or_followers_of_a_page(client, platforms):
    graph(platforms, {"1234567890": {"fan_count": 12_840, "followers_count": 13_002}})
    adapter = PLATFORMS["facebook"]
    for kind, expected in ((CounterKind.FANS, 12_840), (CounterKind.FOLLOWERS, 13_002)):
        request = Request(
            "1234567890", kind, {"page_token": PAGE_TOKEN}, adapter.base_url("1234567890", platforms.url)
        )
        assert adapter.fetch(client, request) == Fetched(expected)
    assert platforms.requests[0].path == "/v21.0/1234567890"
    assert platforms.requests[0].query == {"fields": "followers_count,fan_count", "access_token": PAGE_TOKEN}


def test_graph_errors_expired_tokens_and_rate_limits(client, platforms):
    graph(platforms, {"1234567890": {"followers_count": 5}})
    expired = refusal(client, platforms, "instagram", "1234567890", page_token="EAAB-expired-token-000")
    assert (expired.status, expired.credentials_rejected) == (400, True)
    assert expired.message == "Error validating access token: Session has expired"
    platforms.queue.append(graph_error(400, 4, "Application request limit reached"))
    limited = refusal(client, platforms, "instagram", "1234567890", page_token=PAGE_TOKEN)
    assert (limited.credentials_rejected, limited.retry_after) == (False, 3600.0)
    missing = refusal(client, platforms, "facebook", "999", page_token=PAGE_TOKEN)
    assert "does not exist" in missing.message and not missing.credentials_rejected
    assert fetch(client, platforms, "instagram", "1234567890", page_token=PAGE_TOKEN) == Fetched(5)


def test_telegram_counts_channel_members_and_waits_as_told(client, platforms):
    telegram(platforms, {"@newsroom": 2_150})
    assert fetch(client, platforms, "telegram", "@newsroom", bot_token=BOT_TOKEN) == Fetched(2_150)
    assert platforms.requests[0].path == f"/bot{BOT_TOKEN}/getChatMemberCount"
    gone = refusal(client, platforms, "telegram", "@nothere", bot_token=BOT_TOKEN)
    assert (gone.status, gone.message) == (400, "Bad Request: chat not found")
    wrong = refusal(
        client, platforms, "telegram", "@newsroom", bot_token="987654321:AAWrongToken_0123456789abcdef"
    )
    assert (wrong.status, wrong.credentials_rejected, wrong.message) == (401, True, "Unauthorized")
    platforms.queue.append(
        Answer(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 42",
                "parameters": {"retry_after": 42},
            },
        )
    )
    assert refusal(client, platforms, "telegram", "@newsroom", bot_token=BOT_TOKEN).retry_after == 42.0
    malformed = refusal(client, platforms, "telegram", "@newsroom", bot_token="not a token/../../x")
    assert malformed.credentials_rejected and len(platforms.requests) == 4  # never sent


def test_twitch_counts_followers_with_client_id_and_token(client, platforms):
    twitch(platforms, {"141981764": 98_765})
    credentials = {"client_id": TWITCH_CLIENT, "access_token": TWITCH_TOKEN}
    assert fetch(client, platforms, "twitch", "141981764", **credentials) == Fetched(98_765)
    assert platforms.requests[0].headers["client-id"] == TWITCH_CLIENT
    assert platforms.requests[0].headers["authorization"] == f"Bearer {TWITCH_TOKEN}"
    assert TWITCH_TOKEN not in str(platforms.requests[0].query)
    bad = refusal(
        client, platforms, "twitch", "141981764", client_id=TWITCH_CLIENT, access_token="expired-token-00000"
    )
    assert (bad.status, bad.credentials_rejected, bad.message) == (401, True, "Invalid OAuth token")


def test_feedly_counts_a_feeds_subscribers(client, platforms):
    feedly(platforms, {"https://daily.example/feed.xml": 3_400})
    assert fetch(client, platforms, "feedly", "https://daily.example/feed.xml") == Fetched(3_400)
    assert platforms.requests[0].path == "/v3/feeds/feed%2Fhttps%3A%2F%2Fdaily.example%2Ffeed.xml"
    missing = refusal(client, platforms, "feedly", "https://daily.example/other.xml")
    assert (missing.status, missing.message) == (404, "feed not found")


@pytest.mark.parametrize(
    ("platform", "account"),
    [
        ("bluesky", "not a handle"),
        ("bluesky", "did:plc:short"),
        ("youtube", "https://youtube.com/@x"),
        ("youtube", "@a"),
        ("facebook", "daily.example"),
        ("instagram", "@newsroom"),
        ("telegram", "newsroom"),
        ("telegram", "@ab"),
        ("twitch", "newsroom"),
        ("feedly", "ftp://daily.example/feed"),
        ("feedly", "daily.example/feed"),
    ],
)
def test_accounts_have_each_platforms_shape(platform, account):
    with pytest.raises(ValueError, match="Give the"):
        PLATFORMS[platform].check_account(account)


def test_every_platform_is_described_for_staff():
    for name, adapter in PLATFORMS.items():
        assert adapter.name == name and adapter.label and adapter.kinds and adapter.account_hint
        assert adapter.default_base_url.startswith("https://")


# --- What a platform may send that it does not document: always a PlatformError, never a crash that stops
# the worker's round (every feed after it) or answers Sync now with a 500.

_CREDENTIALS = {
    "telegram": {"bot_token": BOT_TOKEN},
    "twitch": {"client_id": TWITCH_CLIENT, "access_token": TWITCH_TOKEN},
    "youtube": {"api_key": YOUTUBE_KEY},
}
_ACCOUNTS = {
    "mastodon": "newsroom@mastodon.social",
    "bluesky": "newsroom.bsky.social",
    "youtube": "@newsroom",
    "telegram": "@newsroom",
    "twitch": "141981764",
    "feedly": "https://daily.example/feed.xml",
}


@pytest.mark.parametrize(
    ("platform", "answer", "expected"),
    [
        ("mastodon", Answer(404, {"error": 5}), (404, "HTTP 404")),
        ("bluesky", Answer(400, {"error": {"name": "InvalidRequest"}}), (400, "HTTP 400")),
        (
            "bluesky",
            Answer(200, {"followersCount": "\u00b2"}),
            (None, "The platform's followersCount is not a number."),
        ),
        ("feedly", Answer(404, {"errorCode": 404, "errorMessage": ["feed not found"]}), (404, "HTTP 404")),
        ("telegram", Answer(400, {"ok": False, "description": 400}), (400, "HTTP 400")),
        (
            "telegram",
            Answer(200, {"ok": False, "description": {"text": "no"}}),
            (None, "Telegram did not answer ok."),
        ),
        ("telegram", Answer(429, {"ok": False, "parameters": 30}), (429, "HTTP 429")),
        ("twitch", Answer(401, {"status": 401, "message": 401}), (401, "HTTP 401")),
        ("youtube", Answer(403, {"error": {"errors": 5, "message": "Forbidden"}}), (403, "Forbidden")),
        ("youtube", Answer(400, {"error": {"errors": [{"reason": ["keyInvalid"]}]}}), (400, "HTTP 400")),
        ("youtube", Answer(200, {"items": {"0": {}}}), (None, "YouTube knows no such channel.")),
    ],
)
def test_an_undocumented_answer_is_a_platform_error(client, platforms, platform, answer, expected):
    platforms.queue.append(answer)
    failure = refusal(client, platforms, platform, _ACCOUNTS[platform], **_CREDENTIALS.get(platform, {}))
    assert (failure.status, failure.message) == expected


@pytest.mark.parametrize(("header", "wait"), [("\u00b2", None), ("9" * 400, LONGEST_WAIT)])
def test_a_retry_after_no_one_could_wait_is_a_week_at_most(client, platforms, header, wait):
    platforms.queue.append(Answer(429, {"error": "Slow down"}, {"Retry-After": header}))
    assert refusal(client, platforms, "mastodon", "newsroom@mastodon.social").retry_after == wait


def test_telegram_waits_a_week_at_most_whatever_its_body_says(client, platforms):
    platforms.queue.append(Answer(429, {"ok": False, "parameters": {"retry_after": 10**400}}))
    assert (
        refusal(client, platforms, "telegram", "@newsroom", bot_token=BOT_TOKEN).retry_after == LONGEST_WAIT
    )


def test_a_credential_no_header_can_carry_is_rejected_unsent_and_unquoted(client, platforms):
    failure = refusal(
        client, platforms, "twitch", "141981764", client_id=TWITCH_CLIENT, access_token="t\u00f6ken-secret"
    )
    assert failure.credentials_rejected and platforms.requests == []
    assert "secret" not in str(failure) and "secret" not in repr(failure)


def test_a_telegram_token_with_a_line_break_never_reaches_the_url(client, platforms):
    failure = refusal(client, platforms, "telegram", "@newsroom", bot_token=BOT_TOKEN + "\n")
    assert failure.credentials_rejected and platforms.requests == []
    assert BOT_TOKEN not in str(failure) and BOT_TOKEN not in repr(failure)


@pytest.mark.parametrize(
    ("platform", "account"),
    [("twitch", "\u0661\u0662\u0663"), ("twitch", "\u00b2"), ("telegram", "-\u0661\u0660\u0660")],
)
def test_ids_are_ascii_digits_only(platform, account):
    with pytest.raises(ValueError, match="Give the"):
        PLATFORMS[platform].check_account(account)
