"""Peak memory of a big site's export and of its subscribers.csv, each measured in its own child process.

    .venv/bin/python -m devtools.export_file big.jsonl --comments 600000 --threads 15000 \\
        --big-thread 50000 --subscribers 600000
    export FLASK_APP=wsgi ENGAGEMENT_DATABASE_URL=sqlite:///big.db
    .venv/bin/flask db upgrade && .venv/bin/flask engagement import json big.jsonl --site bench
    .venv/bin/python -m bench.export_memory --database-url sqlite:///big.db --site bench

The export runs as ``flask engagement export`` (the same generator the worker's export jobs and the
streamed HTTP export use); subscribers.csv is read to its last byte through the app's WSGI callable,
as a server reads it (the test client would gather the body whole). Each prints its time, size and
peak RSS (``wait4``): memory must not grow with the biggest thread or the number of subscribers.
Not a test: a 600,000-comment site takes minutes to build.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.import_memory import peak_rss_of


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "ENGAGEMENT_DATABASE_URL": database_url,
        "ENGAGEMENT_SECRET_KEY": "bench-secret",
        "ENGAGEMENT_LOG_LEVEL": "WARNING",
    }


def _subscribers_csv_child(site: str, output: Path) -> None:
    """In the child: read the site's subscribers.csv as an admin would, a chunk at a time, into ``output``."""
    from werkzeug.test import EnvironBuilder

    from engagement.models import StaffRole
    from engagement.staff.service import create_token
    from wsgi import app

    with app.app_context():
        _token, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="bench-export-memory")
    # Straight through WSGI: the test client gathers a whole body in memory, which is not what a server does.
    url = f"/api/v1/moderation/sites/{site}/subscribers.csv"
    environ = EnvironBuilder(path=url, headers={"Authorization": f"Bearer {secret}"}).get_environ()
    answered: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: answered.append(status))
    try:
        with output.open("wb") as file:
            for chunk in body:
                file.write(chunk)
    finally:
        getattr(body, "close", lambda: None)()
    if not answered[0].startswith("200"):
        raise SystemExit(f"subscribers.csv answered {answered[0]}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--child-subscribers", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_subscribers:
        _subscribers_csv_child(args.site, args.child_subscribers)
        return 0

    env = _env(args.database_url)
    results = {}
    with tempfile.TemporaryDirectory(prefix="engagement-export-memory-") as scratch:
        export = Path(scratch) / "export.jsonl"
        command = [sys.executable, "-m", "flask", "engagement", "export", "--site", args.site]
        status, seconds, peak = peak_rss_of([*command, "--output", str(export)], env)
        last = export.read_bytes()[-4096:].splitlines()[-1] if export.exists() else b"{}"
        end = json.loads(last)
        results["export"] = {
            "status": status,
            "seconds": round(seconds, 1),
            "mb": round(export.stat().st_size / 1024 / 1024, 1),
            "peak_rss_mb": round(peak / 1024 / 1024, 1),
            "end_records": end.get("records"),
        }
        export.unlink()
        csv_file = Path(scratch) / "subscribers.csv"
        command = [sys.executable, "-m", "bench.export_memory", "--database-url", args.database_url]
        status, seconds, peak = peak_rss_of(
            [*command, "--site", args.site, "--child-subscribers", str(csv_file)], env
        )
        with csv_file.open("rb") as file:
            rows = sum(1 for _ in file) - 1
        results["subscribers.csv"] = {
            "status": status,
            "seconds": round(seconds, 1),
            "rows": rows,
            "peak_rss_mb": round(peak / 1024 / 1024, 1),
        }
    sys.stdout.write(json.dumps(results, indent=2) + "\n")
    return 0 if all(result["status"] == 0 for result in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
