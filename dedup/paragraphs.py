"""Paragraphs as spans of the original text, so that nothing is ever rewritten.

A paragraph's span excludes the whitespace around it (spaces, tabs, line breaks, a BOM);
that whitespace is the *separator* and is kept byte for byte with the paragraphs that stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from dedup.config import SplitMode

# A line: its content, then its terminator (CRLF, LF or CR), or the end of the text.
_LINE = regex.compile(r"([^\r\n]*)(\r\n|\n|\r|\Z)")
# Whitespace that never belongs to a paragraph's span: Unicode spaces and the BOM.
_EDGE = regex.compile(r"[\s\ufeff]+")
_BLANK = regex.compile(r"[\s\ufeff]*")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph: its position among the paragraphs and its span ``[start, end)``."""

    index: int
    start: int
    end: int


def _content_spans(text: str) -> list[tuple[int, int, bool]]:
    """Each line as ``(start, end, blank)``, its span trimmed of surrounding whitespace."""
    spans = []
    for match in _LINE.finditer(text):
        start, end = match.span(1)
        if not match.group(0):
            break
        if _BLANK.fullmatch(text, start, end):
            spans.append((start, start, True))
            continue
        lead = _EDGE.match(text, start, end)
        if lead:
            start = lead.end()
        while end > start and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
            end -= 1
        spans.append((start, end, False))
    return spans


def _has_blank_blocks(lines: list[tuple[int, int, bool]]) -> bool:
    """True when a blank line stands between two non-blank lines."""
    seen_text = False
    gap = False
    for _, _, blank in lines:
        if blank:
            gap = seen_text
        elif gap:
            return True
        else:
            seen_text = True
    return False


def split(text: str, mode: SplitMode = "auto") -> list[Paragraph]:
    """Cut ``text`` into paragraphs, returned as spans in document order.

    >>> text = "Title\\n\\nFirst line\\nsame block\\n\\n  Second  \\n"
    >>> [text[p.start:p.end] for p in split(text)]
    ['Title', 'First line\\nsame block', 'Second']
    >>> [text[p.start:p.end] for p in split(text, "lines")]
    ['Title', 'First line', 'same block', 'Second']
    """
    lines = _content_spans(text)
    if mode == "auto":
        mode = "blank" if _has_blank_blocks(lines) else "lines"
    spans: list[tuple[int, int]] = []
    if mode == "lines":
        spans = [(start, end) for start, end, blank in lines if not blank]
    else:
        block: list[int] | None = None
        for start, end, blank in lines:
            if blank:
                if block:
                    spans.append((block[0], block[1]))
                block = None
            elif block is None:
                block = [start, end]
            else:
                block[1] = end
        if block:
            spans.append((block[0], block[1]))
    return [Paragraph(i, start, end) for i, (start, end) in enumerate(spans)]
