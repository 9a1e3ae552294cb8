"""The structure docs/architecture.md describes, held by tests where import-linter cannot."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "engagement"
THREAD_BOOKKEEPING = PACKAGE / "threads.py"
DECLARATIONS = PACKAGE / "api.py"
LOADERS = PACKAGE / "http.py"
TESTS = ROOT / "tests"


def _offenders(paths: Iterable[Path], lines_of: Callable[[ast.AST], list[int]]) -> dict[str, list[int]]:
    """The files among ``paths`` where ``lines_of`` finds something, with the lines it found."""
    found = {str(path.relative_to(ROOT)): lines_of(ast.parse(path.read_text())) for path in sorted(paths)}
    return {path: lines for path, lines in found.items() if lines}


def _thread_writes(tree: ast.AST) -> list[int]:
    """Lines that update threads: ``update(Thread...)`` / ``update(threads)`` or an assignment to a
    ``comment_count`` or ``version`` attribute."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "update" and node.args:
            target = ast.unparse(node.args[0])
            if target.startswith(("Thread", "threads")):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in {"comment_count", "version"}:
                    lines.append(node.lineno)
    return lines


def test_only_the_thread_bookkeeping_module_writes_a_threads_count_and_version():
    # Every write of a thread's count or version must touch its change stamps after commit; the one
    # module that writes them does, so no other may (the import pipeline and moderation used to).
    others = (path for path in PACKAGE.rglob("*.py") if path != THREAD_BOOKKEEPING)
    assert _offenders(others, _thread_writes) == {}
    assert _thread_writes(ast.parse(THREAD_BOOKKEEPING.read_text()))


_WRITES = {"update", "delete", "insert", "insert_or_update", "insert_ignoring_conflicts", "insert_if_absent"}
COUNTERS = PACKAGE / "counters"


def _counter_writes(tree: ast.AST) -> list[int]:
    """Lines that write a counter table (``update(Counter...)``, ``insert_or_update(CounterSource...)``...)
    or name a counter's change stamp (``counter_key``)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in _WRITES and ast.unparse(node.args[0]).startswith("Counter"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute | ast.Name) and "counter_key" in {
            getattr(node, "attr", None),
            getattr(node, "id", None),
        }:
            lines.append(node.lineno)
    return lines


def test_only_the_counters_feature_writes_counters_and_touches_their_stamps():
    # A badge is served from cache while its counter's stamp holds: whatever writes a counter must touch
    # it. The counters feature does (a JSON restore hands it what it read, as events), so no other may.
    others = (
        path
        for path in PACKAGE.rglob("*.py")
        if COUNTERS not in path.parents and path != PACKAGE / "caching.py"
    )
    assert _offenders(others, _counter_writes) == {}
    assert _offenders(COUNTERS.rglob("*.py"), _counter_writes)


def _calls(tree: ast.AST, names: set[str]) -> list[int]:
    """Lines that call one of ``names``, as a bare name or an attribute (``http.load_body(...)``)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) in names or getattr(node.func, "attr", None) in names)
    ]


def test_only_the_declaration_module_loads_request_bodies_and_query_strings():
    # A view that loaded its own input could validate something its declaration does not document:
    # every load goes through @arguments (engagement.api), which the OpenAPI document is built from.
    loaders = {"load_body", "load_query", "json_body"}
    others = (path for path in PACKAGE.rglob("*.py") if path not in {DECLARATIONS, LOADERS})
    assert _offenders(others, lambda tree: _calls(tree, loaders)) == {}
    names = {node.id for node in ast.walk(ast.parse(DECLARATIONS.read_text())) if isinstance(node, ast.Name)}
    assert {"load_body", "load_query"} <= names


def test_views_dump_their_answers_only_through_their_declaration():
    # The schema a view's answer is dumped with is the one its @response documents.
    assert _offenders(PACKAGE.rglob("routes.py"), lambda tree: _calls(tree, {"dump", "jsonify"})) == {}


def test_an_upward_import_breaks_the_layers_contract(tmp_path):
    # The contract in pyproject.toml is what `make lint` checks; a shared module importing a feature
    # (the kind of loop the layering removed) must fail it.
    import shutil
    import subprocess
    import sys

    root = PACKAGE.parent
    shutil.copytree(PACKAGE, tmp_path / "engagement", ignore=shutil.ignore_patterns("static", "templates"))
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
    kept = subprocess.run(
        lint, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert kept.returncode == 0, kept.stdout
    threads = tmp_path / "engagement" / "threads.py"
    threads.write_text(threads.read_text() + "\nfrom engagement.comments import service  # noqa\n")
    broken = subprocess.run(
        lint, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert broken.returncode != 0
    assert "engagement.threads -> engagement.comments.service" in broken.stdout


def _imports_of(tree: ast.AST, package: str) -> list[int]:
    """Lines that import ``package`` or a module in it (anywhere, a function's body included)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == package or name.startswith(f"{package}.") for name in names):
            lines.append(node.lineno)
    return lines


def test_no_test_imports_the_bench():
    # The bench is a report, not a test: what tests share with it lives in devtools, so a change to the
    # bench breaks no test and the suite needs none of the bench's own packages.
    assert _offenders(TESTS.rglob("*.py"), lambda tree: _imports_of(tree, "bench")) == {}
    nested = "import bench.seed\ndef f():\n    from bench.data import x"
    assert _imports_of(ast.parse(nested), "bench") == [1, 3]
    assert _imports_of(ast.parse("import benchmark\nfrom devtools import servers"), "bench") == []
