"""HTML in: the text of a page, as a main-text extractor finds it, or the whole page's.

``main`` is what trafilatura's ``extract`` returns with ``deduplicate=False`` (its own
removal of repeats is dedup's job here, and dedup says what it removed): the article's
paragraphs, one a line, without menus, footers and "read also" boxes. ``full`` is every
text of the page's body, a line per block (paragraphs, headings, list items, table rows,
``<br>``), white space collapsed but in ``<pre>`` (code keeps its lines and indentation),
scripts and styles left out: boilerplate and all, which is what a crawl-wide ``--scope
corpus`` run removes. Both need the ``html`` extra
(``pip install 'paradedup[html]'``).

Extraction is not lossless: what dedup cleans, reports and can restore is the extracted
text, not the HTML.
"""

from __future__ import annotations

from typing import Any, Literal

from dedup.errors import ConfigError

Extract = Literal["main", "full", "none"]
EXTRACT_MODES: tuple[Extract, ...] = ("main", "full", "none")

#: File names read as HTML (a ``.gz`` after them too).
HTML_SUFFIXES = (".html", ".htm", ".xhtml")

#: An HTML file larger than this is refused: no page is, and its tree would take many
#: times its size in memory.
MAX_HTML = 64 << 20

#: Elements that make a line of their own in ``full`` text.
_BLOCKS = frozenset(
    (
        *("address", "article", "aside", "blockquote", "br", "caption", "dd", "details"),
        *("dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "legend", "li", "main", "menu"),
        *("nav", "ol", "option", "p", "pre", "section", "summary", "table", "tbody", "thead"),
        *("tfoot", "tr", "ul"),
    )
)
#: Elements whose text is not the page's text.
_HIDDEN = frozenset(
    ["head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object"]
)


def is_html(name: str) -> bool:
    """Whether a file of this name is read as HTML.

    >>> is_html("news/Page.HTM"), is_html("page.html.gz"), is_html("notes.txt")
    (True, True, False)
    """
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return lower.endswith(HTML_SUFFIXES)


def text_name(name: str) -> str:
    """The name of the text extracted from the HTML file ``name``.

    >>> text_name("site/page.html"), text_name("page.htm.gz")
    ('site/page.txt', 'page.txt.gz')
    """
    zipped = name.lower().endswith(".gz")
    stem = name[:-3] if zipped else name
    stem = stem[: stem.rfind(".")]
    return stem + ".txt" + (".gz" if zipped else "")


def page_text(html: str | bytes, mode: Extract) -> str:
    """The text of the page ``html`` (bytes: its encoding found as a browser would), a
    paragraph a line, ending with a line break ("" when it has none)."""
    try:
        import trafilatura
        from trafilatura.utils import load_html
    except ImportError:
        raise ConfigError(
            "reading HTML needs trafilatura: pip install 'paradedup[html]' "
            "(or --extract none to read it as text)"
        ) from None
    if mode == "main":
        text = trafilatura.extract(html, deduplicate=False) or ""
    else:
        tree = load_html(html)
        text = "" if tree is None else _full_text(tree)
    return text + "\n" if text else ""


def _full_text(tree: Any) -> str:
    """Every text of ``tree``'s body, a line per block, white space collapsed (a line break
    in the source is a space, as a browser shows it) but in preformatted text (``<pre>``:
    code), which keeps its lines and their indentation."""
    from lxml import etree

    body = tree.find(".//body")
    if body is None:
        body = tree
    lines: list[str] = []
    line: list[str] = []
    hidden = pre = 0
    kept = False  # whether the line being made is preformatted

    def end_line() -> None:
        nonlocal line, kept
        text = "".join(line)
        text = text.rstrip() if kept else " ".join(text.split())
        if text.strip():
            lines.append(text)
        line, kept = [], False

    def add(text: str) -> None:
        nonlocal kept
        if not pre:
            line.append(text)
            return
        first, *rest = text.split("\n")
        kept = True
        line.append(first)
        for piece in rest:
            end_line()
            kept = True
            line.append(piece)

    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.rsplit("}", 1)[-1].lower()
        if event == "start":
            if tag in _HIDDEN:
                hidden += 1
            elif hidden == 0:
                if tag in _BLOCKS:
                    end_line()
                elif tag in ("td", "th"):
                    line.append(" ")
                pre += tag == "pre"
                if element.text and tag:
                    add(element.text)
            continue
        if tag in _HIDDEN:
            hidden -= 1
        elif hidden == 0 and tag in _BLOCKS:
            pre -= tag == "pre"
            end_line()
        if hidden == 0 and element.tail and element is not body:
            add(element.tail)
    end_line()
    return "\n".join(lines)
