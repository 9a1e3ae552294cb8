"""Rate and peak memory of a JSON restore: a generated export (devtools/export_file.py) into a new database.

    .venv/bin/python -m bench.import_rate [--comments 100000] [--threads 5000] [--big-thread 10000]
                                          [--authors 20000] [--database-url URL]

The export is written by a child process, then imported by another, ``flask engagement import json``,
into a new SQLite database and, when ENGAGEMENT_BENCH_DATABASE_URL names a PostgreSQL server, a new
database there (or only into ``--database-url``). Comments per second are the file's comments over the
import's wall time (the process's start and the counters, bans and subscribers of the file included);
peak memory is the import process's own peak RSS (``wait4``). Issue 20's goal: at least 5,000
comments/s with flat memory. Not a test: it takes a minute or two.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.databases import databases
from bench.import_memory import flask, peak_rss_of

ROOT = Path(__file__).resolve().parent.parent
GOAL_COMMENTS_PER_SECOND = 5_000
MEMORY_BUDGET_MB = 150  # as bench/import_memory.py's for a 200 MB WordPress file


def write_file(path: Path, *, comments: int, threads: int, big_thread: int, authors: int) -> None:
    """The export, written by a child process: a large parent would lend its RSS to the import's child."""
    shape = ["--comments", comments, "--threads", threads, "--big-thread", big_thread, "--authors", authors]
    command = [sys.executable, "-m", "devtools.export_file", str(path), *map(str, shape)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)


def measure(database_url: str, path: Path, *, comments: int) -> dict[str, Any]:
    """Import ``path`` (holding ``comments`` comments) into a new database at ``database_url``."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "ENGAGEMENT_DATABASE_URL": database_url,
        "ENGAGEMENT_SECRET_KEY": "bench-secret",
        "ENGAGEMENT_LOG_LEVEL": "WARNING",
    }
    flask(env, "db", "upgrade")
    command = [sys.executable, "-m", "flask", "engagement", "import", "json", str(path), "--site", "bench"]
    status, seconds, peak = peak_rss_of(command, env, quiet=True)
    if status != 0:
        raise RuntimeError(f"import json exited with {status}")
    return {
        "comments": comments,
        "seconds": round(seconds, 1),
        "comments_per_second": round(comments / seconds),
        "peak_rss_mb": round(peak / 1024 / 1024, 1),
        "file_mb": round(path.stat().st_size / 1024 / 1024, 1),
    }


def measure_all(
    workdir: Path,
    *,
    comments: int = 100_000,
    threads: int = 5_000,
    big_thread: int = 10_000,
    authors: int = 20_000,
) -> dict[str, dict[str, Any]]:
    """The import on every bench database (SQLite, PostgreSQL when configured), by database."""
    path = workdir / "export.jsonl"
    write_file(path, comments=comments, threads=threads, big_thread=big_thread, authors=authors)
    try:
        return {
            database: measure(url, path, comments=comments) for database, url in databases(workdir, "import")
        }
    finally:
        path.unlink()


def run_in_child(*, comments: int = 100_000) -> dict[str, dict[str, Any]]:
    """``measure_all`` from a small child process, so that the caller's memory (bench/run.py's, with the
    service imported) is not carried into the import's peak RSS at exec."""
    command = [sys.executable, "-m", "bench.import_rate", "--json", "--comments", str(comments)]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    results: dict[str, dict[str, Any]] = json.loads(done.stdout.splitlines()[-1])
    return results


def line(database: str, result: dict[str, Any]) -> str:
    return (
        f"import json [{database}]: {result['comments']:,} comments ({result['file_mb']:.0f} MB) in "
        f"{result['seconds']:.1f} s = {result['comments_per_second']:,} comments/s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=5_000)
    parser.add_argument("--big-thread", type=int, default=10_000)
    parser.add_argument("--authors", type=int, default=20_000)
    parser.add_argument("--database-url", help="only this database (default: SQLite, and PostgreSQL if set)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (for bench/run.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engagement-import-rate-") as scratch:
        workdir = Path(scratch)
        shape = {
            "comments": args.comments,
            "threads": args.threads,
            "big_thread": args.big_thread,
            "authors": args.authors,
        }
        if args.database_url:
            path = workdir / "export.jsonl"
            write_file(path, **shape)
            results = {"given": measure(args.database_url, path, comments=args.comments)}
        else:
            results = measure_all(workdir, **shape)
    if args.json:
        print(json.dumps(results))
        return 0
    ok = True
    for database, result in results.items():
        print(line(database, result))
        ok &= result["comments_per_second"] >= GOAL_COMMENTS_PER_SECOND
        ok &= result["peak_rss_mb"] <= MEMORY_BUDGET_MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
