"""Fill Isso's SQLite database with the benchmark's conversations. Runs in Isso's own virtualenv:

    bench/isso-venv/bin/python -m bench.isso_seed ISSO_SETTINGS_FILE

Isso's ``SQLite3`` class creates its schema; the rows are then inserted in one transaction with the
values Isso's own ``Comments.add`` would write (it opens a connection per statement, minutes for 11,000).
"""

from __future__ import annotations

import sqlite3
import sys
import time

from isso import config
from isso.db import SQLite3
from isso.utils import Bloomfilter

from devtools.conversations import (
    BROWSER_THREAD,
    COUNT_THREADS,
    POST_THREAD,
    THREAD_10K,
    THREAD_200,
    browser_conversation,
    conversation,
    thread_key,
)

APPROVED = 1  # Isso's mode for a published comment
REMOTE_ADDR = "127.0.0.0"  # what Isso stores for an IPv4 address (anonymized to /24)


def isso_uri(key: str) -> str:
    return "/" + key


def main(settings_path: str) -> None:
    settings = config.load(config.default_file(), settings_path)
    database = SQLite3(settings.get("general", "dbpath"), settings)
    threads = [
        (THREAD_200, conversation(200, seed=200)),
        (POST_THREAD, conversation(1, seed=3)),
        (BROWSER_THREAD, browser_conversation()),
        (THREAD_10K, conversation(10_000, reply_share=0.2, seed=10_000)),
        *((thread_key(n), conversation(1 + n % 5, seed=n)) for n in range(COUNT_THREADS)),
    ]
    voters = memoryview(Bloomfilter(iterable=[REMOTE_ADDR]).array)
    started = time.time() - 86_400
    with sqlite3.connect(database.path) as connection:
        for key, comments in threads:
            thread_id = connection.execute(
                "INSERT INTO threads (uri, title) VALUES (?, ?)", (isso_uri(key), f"Article {key}")
            ).lastrowid
            ids: list[int] = []
            for index, comment in enumerate(comments):
                cursor = connection.execute(
                    "INSERT INTO comments (tid, parent, created, modified, mode, remote_addr, text,"
                    " author, email, website, voters, notification)"
                    " VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, 0)",
                    (
                        thread_id,
                        ids[comment.parent] if comment.parent is not None else None,
                        started + index,
                        APPROVED,
                        REMOTE_ADDR,
                        comment.body,
                        comment.author,
                        comment.email,
                        voters,
                    ),
                )
                ids.append(cursor.lastrowid)


if __name__ == "__main__":
    main(sys.argv[1])
