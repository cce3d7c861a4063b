"""Paragraphs as spans of the original text, so that nothing is ever rewritten.

A paragraph's span ``[start, end)`` excludes the whitespace around it (spaces, tabs, line
breaks, a BOM). Its *lines* ``[line_start, line_end)`` add the indentation before it and the
whitespace after it on the same lines, without the final line break: removing a paragraph
removes whole lines, so the lines that stay are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import regex

from dedup.config import SplitMode

# A line: its content, then its terminator (CRLF, LF or CR), or the end of the text.
_LINE = regex.compile(r"([^\r\n]*)(\r\n|\n|\r|\Z)")
# Whitespace that never belongs to a paragraph's span: Unicode spaces and the BOM.
_EDGE = regex.compile(r"[\s\ufeff]+")
_BLANK = regex.compile(r"[\s\ufeff]*")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph: its position, its span ``[start, end)`` and its lines' span."""

    index: int
    start: int
    end: int
    line_start: int
    line_end: int


class _Line(NamedTuple):
    start: int  # of the content, trimmed
    end: int
    line_start: int  # of the whole line, without its line break
    line_end: int
    blank: bool


def _lines(text: str, start_of_text: bool = True) -> list[_Line]:
    lines = []
    for match in _LINE.finditer(text):
        if not match.group(0):
            break
        line_start, line_end = match.span(1)
        if line_start == 0 and start_of_text and text.startswith("\ufeff"):
            line_start = 1  # a BOM belongs to the file, not to its first line
        if _BLANK.fullmatch(text, line_start, line_end):
            lines.append(_Line(line_start, line_start, line_start, line_end, True))
            continue
        start, end = line_start, line_end
        lead = _EDGE.match(text, start, end)
        if lead:
            start = lead.end()
        while end > start and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
            end -= 1
        lines.append(_Line(start, end, line_start, line_end, False))
    return lines


class BlankBlocks:
    """Tells, from the lines of a text seen one piece after another, whether a blank line
    stands between two non-blank lines (then ``"auto"`` means ``"blank"``)."""

    def __init__(self) -> None:
        self.seen_text = False
        self.gap = False
        self.found = False

    def feed(self, text: str) -> bool:
        """Take the next piece, made of whole lines; True once blank blocks are found."""
        self._lines(_lines(text, start_of_text=False))
        return self.found

    def _lines(self, lines: list[_Line]) -> None:
        for line in lines:
            if self.found:
                return
            if line.blank:
                self.gap = self.seen_text
            elif self.gap:
                self.found = True
            else:
                self.seen_text = True


def _has_blank_blocks(lines: list[_Line]) -> bool:
    """True when a blank line stands between two non-blank lines."""
    detector = BlankBlocks()
    detector._lines(lines)
    return detector.found


def split(text: str, mode: SplitMode = "auto") -> list[Paragraph]:
    """Cut ``text`` into paragraphs, returned as spans in document order.

    See :func:`split_resolved`, which also says which mode ``"auto"`` chose.

    >>> text = "Title\\n\\nFirst line\\nsame block\\n\\n  Second  \\n"
    >>> [text[p.start:p.end] for p in split(text)]
    ['Title', 'First line\\nsame block', 'Second']
    >>> [text[p.start:p.end] for p in split(text, "lines")]
    ['Title', 'First line', 'same block', 'Second']
    """
    return split_resolved(text, mode)[1]


def split_resolved(
    text: str, mode: SplitMode = "auto", *, start_of_text: bool = True
) -> tuple[SplitMode, list[Paragraph]]:
    """The mode used (``"auto"`` resolved to ``"blank"`` or ``"lines"``) and the paragraphs.

    ``start_of_text`` is False for a piece from inside a longer text, which cannot begin
    with the text's byte order mark.

    >>> split_resolved("one\\ntwo\\n")[0], split_resolved("one\\n\\ntwo\\n")[0]
    ('lines', 'blank')
    """
    lines = _lines(text, start_of_text)
    if mode == "auto":
        mode = "blank" if _has_blank_blocks(lines) else "lines"
    blocks: list[list[_Line]] = []
    if mode == "lines":
        blocks = [[line] for line in lines if not line.blank]
    else:
        block: list[_Line] = []
        for line in lines:
            if not line.blank:
                block.append(line)
            elif block:
                blocks.append(block)
                block = []
        if block:
            blocks.append(block)
    return mode, [
        Paragraph(i, block[0].start, block[-1].end, block[0].line_start, block[-1].line_end)
        for i, block in enumerate(blocks)
    ]
