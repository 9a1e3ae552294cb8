"""widget.js as served: one valid script under its size budget, every string translated, no leaks."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engagement.web.widget_bundle import (
    WIDGET_DIRECTORY,
    build_widget_bundle,
    compact_script,
    widget_messages,
    widget_script_names,
)
from tests.services import unavailable

# 12 KiB, and half a KiB more since a page carries only its first replies and the widget loads the rest.
GZIP_BUDGET_BYTES = 12 * 1024 + 512
LANGUAGES = {"en", "de", "fr", "es", "pt", "ru", "uk", "zh"}
# Enough of a page for the bundle's top level to run in node: boot waits for DOMContentLoaded.
FAKE_PAGE = """
globalThis.document = {currentScript: null, readyState: "loading", addEventListener() {}};
globalThis.location = {origin: "https://news.example"};
"""
# Constructs a whitespace stripper gets wrong: regex vs division, "+ +", "//" inside strings and
# regexes, template literals with braces, line breaks that end statements.
TRICKY_SCRIPT = r"""
// a comment line
const half = 10 / 2 / 1; /* block
comment */ const re = /[/\]]+\/\/x/g, notRe = (half) / 5;
let a = 1, b = 2
a = a + +b
b = b - -a
const text = "keep  //  this", other = 'and /* this */';
const nested = `${`x${ "}" + { k: 1 }.k }`}  y ${ a ? "t" : "f" }`;
const fn = (x) => x
  ? /^https?:\/\//i.test(x)
  : typeof x;
out = [half, "a]b//c".replace(re, "-"), notRe, a, b, text, other, nested, fn("http://x"), fn(""), `${-a}`];
"""


@pytest.fixture(scope="module")
def bundle() -> str:
    return build_widget_bundle()


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        unavailable("node (apt-get install -y nodejs)")
    return path


def run_node(node: str, script: str, tmp_path: Path) -> str:
    source = tmp_path / "script.js"
    source.write_text(script, encoding="utf-8")
    result = subprocess.run([node, str(source)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_widget_bundle_stays_within_the_gzip_budget(bundle: str) -> None:
    size = len(gzip.compress(bundle.encode("utf-8"), compresslevel=9))
    assert size <= GZIP_BUDGET_BYTES, f"widget.js is {size} bytes gzipped; the budget is {GZIP_BUDGET_BYTES}"


def test_widget_bundle_is_valid_javascript(bundle: str, node: str, tmp_path: Path) -> None:
    script = tmp_path / "widget.js"
    script.write_text(bundle, encoding="utf-8")
    result = subprocess.run(
        [node, "--check", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_widget_bundle_defines_no_global(bundle: str, node: str, tmp_path: Path) -> None:
    script = FAKE_PAGE + (
        "const before = new Set(Object.getOwnPropertyNames(globalThis));\n"
        f"{bundle}\n"
        "const added = Object.getOwnPropertyNames(globalThis).filter((name) => !before.has(name));\n"
        "process.stdout.write(JSON.stringify(added));\n"
    )
    assert json.loads(run_node(node, script, tmp_path)) == []


def test_every_message_the_widget_uses_exists_in_every_language() -> None:
    messages = widget_messages()
    sources = "\n".join(
        (WIDGET_DIRECTORY / name).read_text(encoding="utf-8") for name in widget_script_names()
    )
    used = set(re.findall(r"\bt\(\s*\"(\w+)\"", sources))

    assert set(messages) == LANGUAGES
    assert used, 'no t("key") call found: the pattern no longer matches how the widget translates'
    assert used == set(messages["en"]), "keys used by the widget and keys in the table differ"
    for language, table in messages.items():
        assert set(table) == set(messages["en"]), f"{language} keys differ from English"
        for key, text in table.items():
            forms = list(text.values()) if isinstance(text, dict) else [text]
            assert all(isinstance(form, str) and form.strip() for form in forms), f"{language}.{key} is empty"
            assert not isinstance(text, dict) or "other" in text, f"{language}.{key} lacks the 'other' plural"


def test_a_language_missing_a_message_cannot_be_bundled(tmp_path: Path) -> None:
    for source in WIDGET_DIRECTORY.iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    messages = widget_messages()
    del messages["de"]["reply"]
    (tmp_path / "messages.json").write_text(json.dumps(messages), encoding="utf-8")

    with pytest.raises(ValueError, match="de keys differ"):
        build_widget_bundle(tmp_path)


def test_only_sanitized_comment_html_is_parsed_as_markup(bundle: str) -> None:
    assert len(re.findall(r"\.innerHTML\s*=", bundle)) == 1, "innerHTML is for setSafeHtml alone"
    forbidden = (
        "eval(",
        "new Function",
        "document.cookie",
        "document.write",
        "insertAdjacentHTML",
        "outerHTML",
    )
    assert [word for word in forbidden if word in bundle] == []


def test_compacting_a_script_does_not_change_what_it_does(node: str, tmp_path: Path) -> None:
    show = "\nprocess.stdout.write(JSON.stringify(out));"
    compacted = compact_script(TRICKY_SCRIPT)

    assert run_node(node, "let out;" + compacted + show, tmp_path) == run_node(
        node, "let out;" + TRICKY_SCRIPT + show, tmp_path
    )
    assert "comment" not in compacted
    assert len(compacted) < len(TRICKY_SCRIPT) * 0.8
