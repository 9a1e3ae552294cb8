"""Hostile or broken XML is refused with a clear error, and nothing at all is written."""

from __future__ import annotations

import pytest

from engagement.errors import ApiError
from tests.factories import make_site
from tests.import_files import (
    WpComment,
    WpPost,
    disqus,
    newsroom_disqus,
    newsroom_posts,
    row_counts,
    run_import,
    wxr,
)

BILLION_LAUGHS = """
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>"""
EXTERNAL_ENTITY = """
<!DOCTYPE rss [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>"""


def refused(path, format_name: str) -> ApiError:
    with pytest.raises(ApiError) as error:
        run_import(format_name, path)
    return error.value


def wxr_using(entity: str, prolog: str) -> str:
    posts = newsroom_posts()
    posts[0].comments[0].body = "placeholder"
    # The entity reference goes where a real attack puts it: in text the importer would store.
    return wxr(posts, prolog=prolog).replace("<![CDATA[placeholder]]>", f"&{entity};")


@pytest.mark.parametrize(
    ("entity", "prolog", "message"),
    [
        ("lol9", BILLION_LAUGHS, "declares XML entities"),
        ("secret", EXTERNAL_ENTITY, "declares XML entities"),
    ],
    ids=["entity-expansion", "external-entity"],
)
def test_wordpress_file_with_entities_is_refused_and_nothing_written(app, tmp_path, entity, prolog, message):
    make_site("news")
    before = row_counts()
    path = tmp_path / "hostile.xml"
    path.write_text(wxr_using(entity, prolog), encoding="utf-8")

    error = refused(path, "wordpress")

    assert error.code == "unsafe_xml" and message in error.message
    assert row_counts() == before


def test_disqus_file_with_an_external_entity_is_refused_and_nothing_written(app, tmp_path):
    make_site("news")
    before = row_counts()
    threads, posts = newsroom_disqus()
    posts[0].message = "placeholder"
    text = disqus(threads, posts, prolog=EXTERNAL_ENTITY.replace("rss", "disqus"))
    path = tmp_path / "hostile.xml"
    path.write_text(text.replace("<![CDATA[placeholder]]>", "&secret;"), encoding="utf-8")

    error = refused(path, "disqus")

    assert error.code == "unsafe_xml"
    assert row_counts() == before


def test_an_entity_declared_after_many_good_items_still_leaves_nothing_written(app, tmp_path):
    """The whole import is one transaction: what was written before the bad part is rolled back."""
    make_site("news")
    before = row_counts()
    posts = [
        WpPost(n, f"Post {n}", f"https://news.example/{n}/", [WpComment(n * 10, f"Comment {n}")])
        for n in range(1, 1200)
    ]
    good = wxr(posts)
    path = tmp_path / "late.xml"
    path.write_text(good.replace("</channel>", "<item><title>&undefined;</title></item></channel>"))

    error = refused(path, "wordpress")

    assert error.code == "malformed_xml" and "undefined entity" in error.message
    assert row_counts() == before


def test_a_truncated_file_is_refused_as_malformed(app, tmp_path):
    make_site("news")
    path = tmp_path / "cut.xml"
    path.write_text(wxr(newsroom_posts())[:-300], encoding="utf-8")
    error = refused(path, "wordpress")
    assert error.code == "malformed_xml"
    assert row_counts()["comments"] == 0


def test_cli_reports_the_refusal_and_exits_non_zero(app, runner, tmp_path):
    make_site("news")
    path = tmp_path / "hostile.xml"
    path.write_text(wxr_using("lol9", BILLION_LAUGHS), encoding="utf-8")
    result = runner.invoke(args=["engagement", "import", "wordpress", str(path), "--site", "news"])
    assert result.exit_code != 0
    assert "declares XML entities" in result.output and "(unsafe_xml)" in result.output
