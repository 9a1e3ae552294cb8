"""Peak memory of a large WordPress import: a generated WXR (200 MB by default) into a fresh database.

    .venv/bin/python -m bench.import_memory [--size-mb 200] [--budget-mb 150] [--database-url URL] [--keep]

The file is written in a temporary directory: realistic posts with threaded comments (Unicode, links,
HTML to clean, pingbacks) plus one post with a very large thread. The import runs as
``flask engagement import wordpress`` in a child process, and its peak resident memory comes from that
child's own ``wait4`` rusage (``ru_maxrss``), so neither this script nor the migration step counts. Exit
status 1 when the peak is over the budget. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    *("election", "council", "budget", "river", "bridge", "school", "minister", "harbour", "train"),
    *("naïve", "café", "Zürich", "東京", "Köln", "señor", "crème", "brûlée", "façade"),
]
HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench Daily</title><link>https://bench.example</link><wp:wxr_version>1.2</wp:wxr_version>
"""
TAIL = "</channel>\n</rss>\n"


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def comment_xml(rng: random.Random, comment_id: int, parent: int, minute: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 160)))
    html = "<b onclick='x()'>really</b> <script>bad()</script>"
    body = f"{words}\n\nSee https://bench.example/{comment_id} {html}"
    kind = "pingback" if comment_id % 97 == 0 else ""
    approved = rng.choice(("1", "1", "1", "1", "0", "spam", "trash"))
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_author>{cdata(f'Reader {comment_id % 5000} Ünïcode')}</wp:comment_author>"
        f"<wp:comment_author_email>reader{comment_id % 5000}@example.org</wp:comment_author_email>"
        f"<wp:comment_author_url>https://reader{comment_id % 50}.example</wp:comment_author_url>"
        f"<wp:comment_author_IP>203.0.{comment_id % 256}.{minute % 256}</wp:comment_author_IP>"
        f"<wp:comment_date_gmt>2024-{1 + minute // 40000 % 12:02d}-{1 + minute // 1440 % 28:02d} "
        f"{minute // 60 % 24:02d}:{minute % 60:02d}:00</wp:comment_date_gmt>"
        f"<wp:comment_content>{cdata(body)}</wp:comment_content>"
        f"<wp:comment_approved>{approved}</wp:comment_approved>"
        f"<wp:comment_type>{kind}</wp:comment_type>"
        f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
    )


def chunks(rng: random.Random) -> Iterator[str]:
    """Posts forever, a comment at a time (the caller stops at the target size); post 1 holds a
    20,000-comment thread."""
    comment_id = 0
    post_id = 0
    while True:
        post_id += 1
        count = 20_000 if post_id == 1 else rng.randint(5, 120)
        yield (
            f"<item><title>{escape(f'Story {post_id}: {rng.choice(WORDS)}')}</title>"
            f"<link>https://bench.example/2024/story-{post_id}/</link>"
            f"<wp:post_id>{post_id}</wp:post_id><wp:post_date_gmt>2024-01-01 00:00:00</wp:post_date_gmt>"
            f"<wp:comment_status>open</wp:comment_status><wp:post_type>post</wp:post_type>\n"
        )
        first = comment_id + 1
        for n in range(count):
            comment_id += 1
            # A third are replies to an earlier comment of the same post: threads several levels deep.
            parent = rng.randint(first, comment_id - 1) if n and rng.random() < 0.33 else 0
            yield comment_xml(rng, comment_id, parent, comment_id)
        yield "</item>\n"


def write_wxr(path: Path, size_bytes: int) -> int:
    """Write a WXR of about ``size_bytes`` (ending after a whole post); returns its size."""
    rng = random.Random(20260507)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        for chunk in chunks(rng):
            out.write(chunk)
            written += len(chunk.encode())
            if written >= size_bytes and chunk == "</item>\n":
                break
        out.write(TAIL)
    return path.stat().st_size


def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def peak_rss_of(command: list[str], env: dict[str, str], *, quiet: bool = False) -> tuple[int, float, int]:
    """(exit status, seconds, peak RSS in bytes) of a child process, from its own rusage.

    Linux carries the RSS high-water mark of the forking process into the child at exec, so this
    script must stay small (it writes the WXR a chunk at a time) for the figure to be the import's."""
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL if quiet else None)
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return child.returncode, time.monotonic() - started, usage.ru_maxrss * scale


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=200)
    parser.add_argument("--budget-mb", type=float, default=150)
    parser.add_argument("--database-url", help="default: a new SQLite file next to the WXR")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="engagement-import-bench-"))
    wxr = workdir / "bench.xml"
    print(f"writing {args.size_mb:.0f} MB WXR to {wxr} ...", flush=True)
    size = write_wxr(wxr, int(args.size_mb * 1024 * 1024))
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "ENGAGEMENT_DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
        "ENGAGEMENT_SECRET_KEY": "bench-secret",
        "ENGAGEMENT_LOG_LEVEL": "WARNING",
    }
    flask(env, "db", "upgrade")
    flask(env, "engagement", "create-site", "bench", "--name", "Bench Daily")
    print(f"importing {size / 1024 / 1024:.1f} MB ...", flush=True)
    command = [sys.executable, "-m", "flask", "engagement", "import", "wordpress", str(wxr)]
    command += ["--site", "bench"]
    status, seconds, peak = peak_rss_of(command, env)
    peak_mb = peak / 1024 / 1024
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    own_mb /= 1024 * 1024
    if own_mb >= peak_mb:
        print(f"warning: this script's own peak ({own_mb:.0f} MB) may hide the import's", file=sys.stderr)
    verdict = "within" if peak_mb <= args.budget_mb else "OVER"
    print(
        f"file {size / 1024 / 1024:.1f} MB, import {seconds:.0f} s, exit {status}, "
        f"peak RSS {peak_mb:.1f} MB: {verdict} the {args.budget_mb:.0f} MB budget"
    )
    if args.keep:
        print(f"kept {workdir}")
    else:
        for path in sorted(workdir.iterdir()):
            path.unlink()
        workdir.rmdir()
    return 0 if status == 0 and peak_mb <= args.budget_mb else 1


if __name__ == "__main__":
    sys.exit(main())
