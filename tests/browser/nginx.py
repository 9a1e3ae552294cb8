"""Debian's nginx in front of article pages, set up with the SSI recipe the docs give
(docs/recipes/nginx-ssi.conf), so a test reads the article as a reader's browser gets it from nginx."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import unavailable

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "nginx-ssi.conf"
CONFIG = """daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    types {{ text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
{recipe}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def nginx_with_ssi(root: Path, comments_origin: str) -> Iterator[str]:
    """nginx serving ``root/www`` with the SSI recipe and comments from ``comments_origin``; yields
    nginx's origin."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        unavailable("nginx (apt-get install -y nginx)")
    (root / "www").mkdir(parents=True, exist_ok=True)
    port = _free_port()
    recipe = RECIPE.read_text(encoding="utf-8").replace("COMMENTS_ORIGIN", comments_origin)
    config = root / "nginx.conf"
    config.write_text(CONFIG.format(root=root, port=port, recipe=recipe), encoding="utf-8")
    process = subprocess.Popen(
        [binary, "-c", str(config), "-p", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "error.log").read_text(encoding="utf-8", errors="replace")
                    raise RuntimeError(f"nginx did not start: {log}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
