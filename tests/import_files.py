"""Realistic import files built in the tests: a WordPress WXR, a Disqus export and an Isso database.

Each one holds the same newsroom: several articles, nested replies, every status its source knows,
Unicode, HTML that must be cleaned (a <script>, an onclick), pingbacks, a deleted parent with live replies.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from engagement.extensions import db
from engagement.importers.service import import_comments, open_source

HOSTILE_HTML = 'Nice <script>alert("x")</script><b onclick="steal()">bold</b> <a href="javascript:x()">js</a>'
UNICODE_NAME = "Zoë Ångström 李雷 مرحبا 🎉"
UNICODE_BODY = "Ünïcödé çà marche 😀 — 日本語のコメント"


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


# --- WordPress --------------------------------------------------------------------------------------------


@dataclass
class WpComment:
    id: int | str
    body: str
    parent: int | str = 0
    approved: str = "1"
    author: str = "Reader"
    email: str = "reader@example.org"
    url: str = ""
    ip: str = "203.0.113.9"
    date_gmt: str = "2024-05-01 08:00:00"
    kind: str = "comment"
    trashed_from: str | None = None  # _wp_trash_meta_status


@dataclass
class WpPost:
    id: int
    title: str
    link: str
    comments: list[WpComment] = field(default_factory=list)
    comment_status: str = "open"
    date_gmt: str = "2024-05-01 07:00:00"
    has_post_id: bool = True  # hand-made files (and Isso's own test file) may leave <wp:post_id> out


def wxr_comment(c: WpComment) -> str:
    meta = ""
    if c.trashed_from is not None:
        meta = (
            "<wp:commentmeta><wp:meta_key>_wp_trash_meta_status</wp:meta_key>"
            f"<wp:meta_value>{cdata(c.trashed_from)}</wp:meta_value></wp:commentmeta>"
        )
    return f"""
    <wp:comment>
      <wp:comment_id>{c.id}</wp:comment_id>
      <wp:comment_author>{cdata(c.author)}</wp:comment_author>
      <wp:comment_author_email>{cdata(c.email)}</wp:comment_author_email>
      <wp:comment_author_url>{escape(c.url)}</wp:comment_author_url>
      <wp:comment_author_IP>{c.ip}</wp:comment_author_IP>
      <wp:comment_date>{c.date_gmt}</wp:comment_date>
      <wp:comment_date_gmt>{c.date_gmt}</wp:comment_date_gmt>
      <wp:comment_content>{cdata(c.body)}</wp:comment_content>
      <wp:comment_approved>{cdata(c.approved)}</wp:comment_approved>
      <wp:comment_type>{cdata("" if c.kind == "comment" else c.kind)}</wp:comment_type>
      <wp:comment_parent>{c.parent}</wp:comment_parent>
      <wp:comment_user_id>0</wp:comment_user_id>{meta}
    </wp:comment>"""


def wxr_item(post: WpPost) -> str:
    comments = "".join(wxr_comment(c) for c in post.comments)
    post_id = f"<wp:post_id>{post.id}</wp:post_id>" if post.has_post_id else ""
    return f"""
  <item>
    <title>{escape(post.title)}</title>
    <link>{escape(post.link)}</link>
    <pubDate>Wed, 01 May 2024 07:00:00 +0000</pubDate>
    <dc:creator>{cdata("editor")}</dc:creator>
    <guid isPermaLink="false">https://news.example/?p={post.id}</guid>
    <content:encoded>{cdata("<p>The article.</p>")}</content:encoded>
    {post_id}
    <wp:post_date>{post.date_gmt}</wp:post_date>
    <wp:post_date_gmt>{post.date_gmt}</wp:post_date_gmt>
    <wp:comment_status>{cdata(post.comment_status)}</wp:comment_status>
    <wp:post_name>{cdata("slug")}</wp:post_name>
    <wp:status>{cdata("publish")}</wp:status>
    <wp:post_type>{cdata("post")}</wp:post_type>{comments}
  </item>"""


def wxr(posts: list[WpPost], *, prolog: str = "") -> str:
    items = "".join(wxr_item(p) for p in posts)
    return f"""<?xml version="1.0" encoding="UTF-8" ?>{prolog}
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>The Daily</title>
  <link>https://news.example</link>
  <description>News</description>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://news.example</wp:base_site_url>
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login>{cdata("editor")}</wp:author_login></wp:author>
{items}
</channel>
</rss>
"""


def newsroom_posts() -> list[WpPost]:
    """Three articles; the first with a reply chain four deep, the second with every status and a
    reply whose parent was deleted for good, the third with only a pingback (no thread)."""
    return [
        WpPost(
            12,
            "Xi to join Putin in Moscow",
            "https://news.example/2024/05/xi-putin/",
            [
                WpComment(
                    101, "First!\n\nSecond paragraph\nwith a line break.", date_gmt="2024-05-01 08:00:00"
                ),
                WpComment(
                    102,
                    "A reply",
                    parent=101,
                    author="Bob",
                    email="bob@example.org",
                    date_gmt="2024-05-01 08:05:00",
                ),
                WpComment(103, "A reply to the reply", parent=102, date_gmt="2024-05-01 08:10:00"),
                WpComment(
                    104, "Deeper still", parent=103, author=UNICODE_NAME, date_gmt="2024-05-01 08:15:00"
                ),
                WpComment(
                    105,
                    HOSTILE_HTML,
                    author="Mallory",
                    email="mallory@example.org",
                    url="https://mallory.example",
                    date_gmt="2024-05-01 08:20:00",
                ),
                WpComment(106, "pinged", kind="pingback", date_gmt="2024-05-01 08:21:00"),
                WpComment(107, "tracked", kind="trackback", date_gmt="2024-05-01 08:22:00"),
            ],
        ),
        WpPost(
            13,
            "Ünïcödé headline: 日本",
            "https://news.example/2024/05/unicode/",
            [
                WpComment(
                    201,
                    UNICODE_BODY,
                    author=UNICODE_NAME,
                    email="zoe@example.org",
                    date_gmt="2024-05-02 10:00:00",
                ),
                WpComment(202, "Held for moderation", approved="0", date_gmt="2024-05-02 10:01:00"),
                WpComment(
                    203,
                    "Buy pills",
                    approved="spam",
                    author="Spammer",
                    email="spam@example.com",
                    date_gmt="2024-05-02 10:02:00",
                ),
                WpComment(204, "Trashed", approved="trash", trashed_from="1", date_gmt="2024-05-02 10:03:00"),
                WpComment(
                    205, "Reply to a comment deleted for good", parent=299, date_gmt="2024-05-02 10:04:00"
                ),
            ],
            comment_status="closed",
        ),
        WpPost(
            14,
            "Only pinged",
            "https://news.example/2024/05/pinged/",
            [WpComment(301, "ping", kind="pingback")],
        ),
    ]


def posts_sharing_a_comment_id(*, second_has_post_id: bool = True) -> list[WpPost]:
    """Two posts with a comment numbered 11 each (as in the WXR file of Isso's tests): a WordPress comment
    id is unique only within its post's <item> here. Eight comments in all, "Letzter :/" among them."""
    return [
        WpPost(
            18,
            "Hello, World",
            "https://news.example/2014/hello/",
            [
                WpComment(2, "Erster!", author="Ohai", date_gmt="2014-01-14 17:32:12"),
                WpComment(6, "Zweiter.", author="Tester", date_gmt="2014-04-29 15:21:27"),
                WpComment(7, "Drölfter!", parent=6, author="Tester", date_gmt="2014-04-29 15:21:35"),
                WpComment(8, "Yet another reply.", parent=7, author="Tester", date_gmt="2014-04-29 15:21:45"),
                WpComment(9, "...", parent=7, author="Tester", date_gmt="2014-04-29 15:21:52"),
                WpComment(10, "Two lines:\nlike this.", author="Multiline", date_gmt="2022-06-06 02:13:14"),
                WpComment(11, "The last one here", author="Letzter :/", date_gmt="2022-06-07 15:21:56"),
            ],
        ),
        WpPost(
            4,
            "Another post",
            "https://news.example/2014/another/",
            [WpComment(11, "Same number, other post", author="Anonymous", date_gmt="2014-04-29 15:21:57")],
            has_post_id=second_has_post_id,
        ),
    ]


# --- Disqus -----------------------------------------------------------------------------------------------


@dataclass
class DsqThread:
    dsq_id: int
    link: str
    title: str
    identifier: str = ""
    closed: bool = False
    deleted: bool = False


@dataclass
class DsqPost:
    dsq_id: int
    thread: int
    message: str
    parent: int | None = None
    name: str = "Reader"
    email: str = "reader@example.org"
    created_at: str = "2024-05-01T08:00:00Z"
    deleted: bool = False
    spam: bool = False
    ip: str = "198.51.100.4"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def disqus(threads: list[DsqThread], posts: list[DsqPost], *, prolog: str = "") -> str:
    parts = [
        f"""<?xml version="1.0" encoding="utf-8"?>{prolog}
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/internals.xsd">
  <category dsq:id="1"><forum>daily</forum><title>General</title><isDefault>true</isDefault></category>"""
    ]
    for t in threads:
        parts.append(f"""
  <thread dsq:id="{t.dsq_id}">
    <id>{escape(t.identifier)}</id>
    <forum>daily</forum>
    <category dsq:id="1"/>
    <link>{escape(t.link)}</link>
    <title>{escape(t.title)}</title>
    <message/>
    <createdAt>2024-04-30T10:00:00Z</createdAt>
    <author><name>editor</name><isAnonymous>false</isAnonymous><username>editor</username></author>
    <isClosed>{_bool(t.closed)}</isClosed>
    <isDeleted>{_bool(t.deleted)}</isDeleted>
  </thread>""")
    for p in posts:
        parent = f'\n    <parent dsq:id="{p.parent}"/>' if p.parent is not None else ""
        parts.append(f"""
  <post dsq:id="{p.dsq_id}">
    <id/>
    <message>{cdata(p.message)}</message>
    <createdAt>{p.created_at}</createdAt>
    <isDeleted>{_bool(p.deleted)}</isDeleted>
    <isSpam>{_bool(p.spam)}</isSpam>
    <author><email>{escape(p.email)}</email><name>{escape(p.name)}</name><isAnonymous>false</isAnonymous></author>
    <ipAddress>{p.ip}</ipAddress>
    <thread dsq:id="{p.thread}"/>{parent}
  </post>""")
    parts.append("\n</disqus>\n")
    return "".join(parts)


def newsroom_disqus() -> tuple[list[DsqThread], list[DsqPost]]:
    """Posts deliberately out of thread order, a reply before its parent, a deleted parent with live
    replies, a deleted post without replies, spam, a thread nobody commented on, a deleted thread."""
    threads = [
        DsqThread(
            1,
            "https://news.example/2024/05/xi-putin/",
            "Xi to join Putin",
            identifier="12 https://news.example/?p=12",
        ),
        DsqThread(2, "https://news.example/2024/05/unicode/", "Ünïcödé 日本", closed=True),
        DsqThread(3, "https://news.example/2024/05/empty/", "Nobody commented"),
        DsqThread(4, "https://news.example/2024/05/gone/", "Deleted thread", deleted=True),
    ]
    posts = [
        DsqPost(1001, 1, "<p>First!</p>", created_at="2024-05-01T08:00:00Z"),
        DsqPost(
            2001,
            2,
            f"<p>{UNICODE_BODY}</p>",
            name=UNICODE_NAME,
            email="zoe@example.org",
            created_at="2024-05-02T10:00:00Z",
        ),
        DsqPost(
            1003, 1, "<p>Reply listed before its parent</p>", parent=1002, created_at="2024-05-01T08:10:00Z"
        ),
        DsqPost(
            1002,
            1,
            "<p>Deleted by its author</p>",
            parent=1001,
            deleted=True,
            created_at="2024-05-01T08:05:00",
        ),
        DsqPost(
            1004,
            1,
            f"<p>{HOSTILE_HTML}</p>",
            name="Mallory",
            email="mallory@example.org",
            created_at="2024-05-01T08:20:00Z",
        ),
        DsqPost(1005, 1, "<p>Gone, nobody answered</p>", deleted=True, created_at="2024-05-01T08:30:00Z"),
        DsqPost(2002, 2, "<p>Cheap pills</p>", spam=True, name="Spammer", created_at="2024-05-02T10:02:00Z"),
        DsqPost(4001, 4, "<p>On a deleted thread</p>", created_at="2024-05-03T10:00:00Z"),
    ]
    return threads, posts


# --- Isso -------------------------------------------------------------------------------------------------

# Isso's own schema (isso/db/threads.py and isso/db/comments.py).
ISSO_SCHEMA = """
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER NOT NULL DEFAULT 0);
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def isso_database(path: Path, threads: list[tuple[int, str, str]], comments: list[dict]) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(ISSO_SCHEMA)
    connection.executemany("INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)", threads)
    for c in comments:
        row = {
            "parent": None,
            "modified": None,
            "mode": 1,
            "remote_addr": "192.0.2.0",
            "author": "Reader",
            "email": "reader@example.org",
            "website": None,
            "likes": 0,
            "dislikes": 0,
            **c,
        }
        connection.execute(
            "INSERT INTO comments (tid, id, parent, created, modified, mode, remote_addr, text, author,"
            " email, website, likes, dislikes, voters) VALUES (:tid, :id, :parent, :created, :modified,"
            " :mode, :remote_addr, :text, :author, :email, :website, :likes, :dislikes, x'00')",
            row,
        )
    connection.commit()
    connection.close()
    return path


def newsroom_isso(path: Path) -> Path:
    """Isso flattens replies to one level; mode 4 keeps a deleted comment for its replies."""
    threads = [
        (1, "/2024/05/xi-putin/", "Xi to join Putin"),
        (2, "/2024/05/unicode/", "Ünïcödé 日本"),
        (3, "/empty/", ""),
    ]
    comments = [
        {
            "tid": 1,
            "id": 1,
            "created": epoch("2024-05-01T08:00:00"),
            "text": "First! **bold** and <script>alert(1)</script>",
            "likes": 3,
        },
        {
            "tid": 1,
            "id": 2,
            "parent": 1,
            "created": epoch("2024-05-01T08:05:00"),
            "text": "A reply",
            "author": "Bob",
            "likes": 1,
        },
        {
            "tid": 1,
            "id": 3,
            "created": epoch("2024-05-01T08:10:00"),
            "mode": 4,
            "text": "",
            "author": None,
            "email": None,
        },
        {
            "tid": 1,
            "id": 4,
            "parent": 3,
            "created": epoch("2024-05-01T08:15:00"),
            "text": "Reply to a deleted comment",
        },
        {
            "tid": 1,
            "id": 5,
            "created": epoch("2024-05-01T08:20:00"),
            "mode": 2,
            "text": "Waiting for a moderator",
        },
        {
            "tid": 2,
            "id": 6,
            "created": epoch("2024-05-02T10:00:00"),
            "modified": epoch("2024-05-02T11:00:00"),
            "text": UNICODE_BODY,
            "author": UNICODE_NAME,
            "website": "https://zoe.example",
        },
        {
            "tid": 2,
            "id": 7,
            "created": epoch("2024-05-02T10:05:00"),
            "mode": 4,
            "text": "",
            "author": None,
            "email": None,
        },
    ]
    return isso_database(path, threads, comments)


# --- running an import --------------------------------------------------------------------------------


def run_import(
    format_name: str, path: Path, *, site: str = "news", dry_run: bool = False, thread_key: str = "path"
):
    """Import a file as the CLI does, without the CLI."""
    source = open_source(format_name=format_name, path=path, thread_key=thread_key)
    return import_comments(site_slug=site, source=source, dry_run=dry_run)


def row_counts() -> dict[str, int]:
    """Rows in every table, to show that something wrote nothing."""
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def sealed(records: list[dict]) -> str:
    """JSON Lines of ``records`` (any ``end`` record among them dropped) with the end record an export
    writes after them, for tests that change an export and then restore it."""
    import collections
    import hashlib
    import json

    lines = [json.dumps(record) + "\n" for record in records if record.get("type") != "end"]
    counts = collections.Counter(record["type"] for record in records if record.get("type") != "end")
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    end = {"type": "end", "lines": len(lines), "records": dict(counts), "sha256": digest}
    return "".join(lines) + json.dumps(end) + "\n"
