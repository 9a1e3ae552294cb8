"""A follow or a like answers with counters.presenters.engagement, not through EngagementSchema: the two
must write the same answer, for every shape a counter can take."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engagement.counters import presenters
from engagement.counters.schemas import EngagementSchema
from engagement.counters.service import (
    CounterState,
    Engagement,
    SourceState,
    get_engagement,
    push_external_count,
)
from engagement.extensions import db
from engagement.hashing import reader_hash
from engagement.models import CounterKind
from tests.factories import make_site

_AT = datetime(2026, 12, 5, 21, 40, 7, 123456, tzinfo=UTC)
_EMPTY = CounterState(native=0, external=0, sources=[], updated_at=None, stale=False)
_WITH_SOURCES = CounterState(
    native=3,
    external=1_234_567,
    sources=[
        SourceState("facebook", 1_234_000, _AT, stale=True),
        SourceState("x", 567, _AT.replace(microsecond=0), stale=False),
    ],
    updated_at=_AT,
    stale=False,
)
_NATIVE_ONLY = CounterState(native=41, external=0, sources=[], updated_at=_AT, stale=False)


@pytest.mark.parametrize(
    "reader", [None, {"fans": False, "followers": True}, {"fans": True, "followers": False}]
)
@pytest.mark.parametrize(
    "counters",
    [
        {"fans": _EMPTY, "followers": _EMPTY, "subscribers": _EMPTY},
        {"fans": _WITH_SOURCES, "followers": _NATIVE_ONLY, "subscribers": _EMPTY},
        {"fans": _NATIVE_ONLY, "followers": _WITH_SOURCES, "subscribers": _WITH_SOURCES},
    ],
)
def test_the_presented_answer_is_what_the_schema_dumps(counters, reader):
    state = Engagement(target="politics/a-long-article-key", counters=counters, reader=reader)

    presented = presenters.engagement(state)

    assert presented == EngagementSchema().dump(state)
    assert ("reader" in presented) is (reader is not None)


def test_a_follow_with_pushed_sources_answers_what_the_schema_dumps_of_the_stored_state(app, client):
    site = make_site("news", origins=["https://news.example"])
    push_external_count(site=site, kind=CounterKind.FOLLOWERS, target="site", source="x", count=70)
    push_external_count(site=site, kind=CounterKind.FOLLOWERS, target="site", source="bluesky", count=5)
    reader = "reader-0123456789abcdef"

    answer = client.post(
        "/api/v1/sites/news/engagement/followers?target=site", headers={"X-Engagement-Reader": reader}
    )

    assert answer.status_code == 200
    db.session.rollback()  # this test's own transaction began before the request's commit
    stored = get_engagement(site=site, target="site", reader=reader_hash(reader))
    assert answer.get_json() == EngagementSchema().dump(stored)
    assert [s["source"] for s in answer.get_json()["counters"]["followers"]["sources"]] == ["bluesky", "x"]
    assert answer.get_json()["counters"]["followers"]["count"] == 76
