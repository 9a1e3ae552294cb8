"""The structure the README's Architecture section describes, held by tests where import-linter cannot."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "engagement"
THREAD_BOOKKEEPING = PACKAGE / "threads.py"


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
