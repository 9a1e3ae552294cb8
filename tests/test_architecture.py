"""The structure the README's Architecture section describes, held by tests where import-linter cannot."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "engagement"
THREAD_BOOKKEEPING = PACKAGE / "threads.py"
DECLARATIONS = PACKAGE / "api.py"
LOADERS = PACKAGE / "http.py"


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
    offenders = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != THREAD_BOOKKEEPING and (lines := _thread_writes(ast.parse(path.read_text())))
    }
    assert offenders == {}
    assert _thread_writes(ast.parse(THREAD_BOOKKEEPING.read_text()))


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
    offenders = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in {DECLARATIONS, LOADERS} and (lines := _calls(ast.parse(path.read_text()), loaders))
    }
    assert offenders == {}
    names = {node.id for node in ast.walk(ast.parse(DECLARATIONS.read_text())) if isinstance(node, ast.Name)}
    assert {"load_body", "load_query"} <= names


def test_views_dump_their_answers_only_through_their_declaration():
    # The schema a view's answer is dumped with is the one its @response documents.
    offenders = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("routes.py"))
        if (lines := _calls(ast.parse(path.read_text()), {"dump", "jsonify"}))
    }
    assert offenders == {}


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
