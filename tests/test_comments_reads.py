"""Reads never render and cost a bounded number of queries whatever the thread's size."""

from __future__ import annotations

import gzip

import pytest

from engagement import rendering
from tests.factories import make_site, post
from tests.sql import count_queries

API = "/api/v1/sites/news"
THREAD = "2025/05/xi-putin-moscow"


@pytest.fixture
def site(app):
    return make_site("news")


def _fill(client, top_level: int, replies_each: int) -> None:
    for _ in range(top_level):
        parent = post(client).json["comment"]["id"]
        for _ in range(replies_each):
            parent = post(client, parent_id=parent).json["comment"]["id"]


def _forbid_rendering(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a read rendered or sanitized a comment")

    for name in ("render_comment", "sanitize_html", "clean_html"):
        monkeypatch.setattr(rendering, name, refuse)
    monkeypatch.setattr(rendering.nh3, "clean", refuse)
    monkeypatch.setattr(rendering._MARKDOWN, "render", refuse)


def test_listing_calls_no_markdown_or_sanitizer(client, site, monkeypatch):
    _fill(client, top_level=3, replies_each=2)
    _forbid_rendering(monkeypatch)
    response = client.get(f"{API}/comments", query_string={"thread": THREAD})
    assert response.status_code == 200
    assert len(response.json["comments"]) == 3


@pytest.mark.parametrize("size", [2, 30])
def test_listing_costs_the_same_number_of_queries_for_any_thread_size(client, site, size):
    _fill(client, top_level=size, replies_each=3)
    with count_queries() as statements:
        response = client.get(f"{API}/comments", query_string={"thread": THREAD, "limit": 10})
    assert response.status_code == 200
    # site, thread, one page of top-level comments, where their replies stand, the replies carried
    assert len(statements) <= 5, statements


def test_a_304_does_not_load_any_comment(client, site):
    _fill(client, top_level=5, replies_each=1)
    etag = client.get(f"{API}/comments", query_string={"thread": THREAD}).headers["ETag"]
    with count_queries() as statements:
        response = client.get(
            f"{API}/comments", query_string={"thread": THREAD}, headers={"If-None-Match": etag}
        )
    assert response.status_code == 304
    assert not any("FROM comments" in s for s in statements)


def test_counts_are_one_query(client, site):
    for key in ("a", "b", "c"):
        post(client, thread=key)
    with count_queries() as statements:
        client.get(f"{API}/counts", query_string=[("thread", k) for k in "abcdef"])
    assert len([s for s in statements if "FROM threads" in s]) == 1


def test_posting_answers_without_reloading_what_it_just_wrote(client, site):
    post(client)  # the thread exists; the next post is the common case
    with count_queries() as statements:
        assert post(client).status_code == 201
    reloads = [s for s in statements if s.lstrip().startswith("SELECT") and "WHERE comments.id =" in s]
    assert reloads == [], reloads


def test_a_long_page_goes_gzipped_to_a_client_that_accepts_it(client, site):
    """A browser asks for gzip on every view: a thread page goes at a fraction of its size, with an ETag
    of its own and Vary, and a client holding either representation gets its 304."""
    _fill(client, top_level=12, replies_each=2)
    query = {"thread": THREAD}
    plain = client.get(f"{API}/comments", query_string=query)
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    packed = client.get(f"{API}/comments", query_string=query, headers={"Accept-Encoding": "br, gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 3
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    assert "Accept-Encoding" in packed.headers["Vary"]
    for etag in (plain.headers["ETag"], packed.headers["ETag"]):
        for encoding in ("gzip", "identity"):
            again = client.get(
                f"{API}/comments",
                query_string=query,
                headers={"If-None-Match": etag, "Accept-Encoding": encoding},
            )
            assert again.status_code == 304
            assert not again.data
            assert "Content-Encoding" not in again.headers


@pytest.mark.parametrize("refusal", ["gzip;q=0", "identity", "br", "*;q=0", ""])
def test_a_client_that_refuses_gzip_gets_the_page_as_it_is(client, site, refusal):
    _fill(client, top_level=12, replies_each=0)
    response = client.get(
        f"{API}/comments", query_string={"thread": THREAD}, headers={"Accept-Encoding": refusal}
    )
    assert "Content-Encoding" not in response.headers
    assert len(response.json["comments"]) == 12


def test_a_short_page_is_not_compressed(client, site):
    post(client)
    response = client.get(
        f"{API}/comments", query_string={"thread": THREAD}, headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in response.headers
    assert response.json["comments"]
