"""Paragraphs as spans of the original text, so that nothing is ever rewritten.

A paragraph's span ``[start, end)`` excludes the whitespace around it (spaces, tabs, line
breaks, a BOM). Its *lines* ``[line_start, line_end)`` add the indentation before it and the
whitespace after it on the same lines, without the final line break: removing a paragraph
removes whole lines, so the lines that stay are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from dedup.config import SplitMode
from dedup.lazy import lazy_re
from dedup.lexicon import FUNCTION_WORDS, HANGING, NEGATIONS
from dedup.native import speedups

Array = npt.NDArray[np.int64]

# Whitespace that never belongs to a paragraph's span: at its start what regex's ``\s``
# matches, at its end what ``str.isspace()`` does (which adds U+001C-U+001F), and the BOM
# at both (tests check these tables against both definitions).
_SPACES = [
    *(0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B)),
    *(0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF),
]
_LEAD = np.zeros(0x10000, dtype=bool)
_LEAD[_SPACES] = True
_TRAIL = _LEAD.copy()
_TRAIL[0x1C:0x20] = True
_CR, _LF = 13, 10
_TABLES = (_LEAD.tobytes(), _TRAIL.tobytes())  # for the compiled kernel


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph: its position, its span ``[start, end)`` and its lines' span."""

    index: int
    start: int
    end: int
    line_start: int
    line_end: int


class Lines(NamedTuple):
    """The lines of a text as arrays: line ``i`` is ``[line_start[i], line_end[i])``
    without its line break (CRLF, LF or CR), its content ``[start[i], end[i])`` trimmed of
    whitespace, and ``blank[i]`` when it has none."""

    start: Array
    end: Array
    line_start: Array
    line_end: Array
    blank: npt.NDArray[np.bool_]


#: A text longer than this (in characters) is looked at this many characters at a time,
#: so that finding its lines takes a few bytes a character however long a line is.
BLOCK = 1 << 22


def lines(text: str, start_of_text: bool = True) -> Lines:
    """The lines of ``text``; a BOM that starts the text (``start_of_text``) is no line's."""
    if speedups is not None:  # one pass over the text where it lies
        bom = start_of_text and text[:1] == "\ufeff"
        start, end, line_start, line_end, blank = (
            np.frombuffer(b, bool if i == 4 else np.int64)
            for i, b in enumerate(speedups.text_lines(text, bom, *_TABLES))
        )
        return Lines(start, end, line_start, line_end, blank)
    if len(text) > BLOCK:
        return _lines_in_blocks(text, start_of_text)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    size = len(codes)
    cr, lf = codes == _CR, codes == _LF
    crlf = np.zeros(size, dtype=bool)  # a CR that starts a CRLF
    crlf[:-1] = cr[:-1] & lf[1:]
    after_cr = np.zeros(size, dtype=bool)
    after_cr[1:] = crlf[:-1]
    ends = np.flatnonzero((cr | lf) & ~after_cr)
    starts, ends = _line_bounds(ends, crlf[ends], size, start_of_text and text[:1] == "\ufeff")
    clipped = np.minimum(codes, 0xFFFF)  # U+FFFF and above are no spaces
    # Each line's first character that is no leading space, and its last that is no
    # trailing space, found among the positions of all such characters.
    solid = np.append(np.flatnonzero(~_LEAD[clipped]), size)
    start = solid[np.searchsorted(solid, starts)]
    solid = np.concatenate(([-1], np.flatnonzero(~_TRAIL[clipped])))
    last = solid[np.searchsorted(solid, ends) - 1]
    return _lines(starts, ends, start, last)


def _line_bounds(
    breaks: Array, crlf: npt.NDArray[np.bool_], size: int, bom: bool
) -> tuple[Array, Array]:
    """Each line's start and end (before its break), from where the breaks are."""
    starts = np.concatenate(([0], breaks + 1 + crlf))
    if starts[-1] < size:  # a last line without a line break
        ends = np.append(breaks, size)
    else:
        starts, ends = starts[:-1], breaks
    if bom:
        starts[0] = 1
    return starts, ends


def _lines(starts: Array, ends: Array, start: Array, last: Array) -> Lines:
    """Lines from their bounds, their first leading and last trailing non-space."""
    blank = start >= ends
    end = np.maximum(last + 1, start)
    return Lines(np.where(blank, starts, start), np.where(blank, starts, end), starts, ends, blank)


def _codes(text: str, start: int, stop: int) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text[start:stop].encode("utf-32-le", "surrogatepass"), np.uint32)


def _lines_in_blocks(text: str, start_of_text: bool) -> Lines:
    """:func:`lines` of a long text, ``BLOCK`` characters at a time: first the breaks,
    then each line's first and last non-space, carried over to the next block where a
    block holds none."""
    size = len(text)
    breaks, crlfs, after_cr = [], [], False
    for at in range(0, size, BLOCK):
        codes = _codes(text, at, at + BLOCK + 1)  # one more: a CRLF across blocks
        cr, lf = codes == _CR, codes == _LF
        crlf = cr[:-1] & lf[1:] if len(codes) > BLOCK else np.append(cr[:-1] & lf[1:], False)
        inside = (cr | lf)[:BLOCK]
        inside[0] &= not after_cr
        inside[1:] &= ~crlf[:-1]
        found = np.flatnonzero(inside)
        breaks.append(found + at)
        crlfs.append(crlf[found])
        after_cr = bool(crlf[-1])
    starts, ends = _line_bounds(
        np.concatenate(breaks), np.concatenate(crlfs), size, start_of_text and text[0] == "\ufeff"
    )
    start = np.full(len(starts), size, dtype=np.int64)
    last = np.full(len(ends), -1, dtype=np.int64)
    waiting = np.empty(0, dtype=np.int64)  # lines with no leading non-space found yet
    before = -1  # the last trailing non-space in the blocks before
    for at in range(0, size, BLOCK):
        clipped = np.minimum(_codes(text, at, at + BLOCK), 0xFFFF)
        lead = np.flatnonzero(~_LEAD[clipped]) + at
        trail = np.flatnonzero(~_TRAIL[clipped]) + at
        lo, hi = np.searchsorted(starts, [at, at + BLOCK])
        rows = np.concatenate((waiting, np.arange(lo, hi)))
        k = np.searchsorted(lead, np.maximum(starts[rows], at))
        done = k < len(lead)
        start[rows[done]] = lead[k[done]]
        waiting = rows[~done]
        lo, hi = np.searchsorted(ends, [at, at + BLOCK if at + BLOCK < size else size + 1])
        k = np.searchsorted(trail, ends[lo:hi]) - 1
        last[lo:hi] = np.where(k >= 0, trail[np.maximum(k, 0)] if len(trail) else -1, before)
        if len(trail):
            before = int(trail[-1])
    return _lines(starts, ends, start, last)


class Spans(NamedTuple):
    """Paragraphs as arrays, as :class:`Paragraph` has them, and ``line``: the lines
    before each one's first line."""

    start: Array
    end: Array
    line_start: Array
    line_end: Array
    line: Array

    def __len__(self) -> int:
        return len(self.start)

    def paragraphs(self, first: int = 0, offset: int = 0) -> list[Paragraph]:
        """As :class:`Paragraph` objects, numbered from ``first``, shifted by ``offset``."""
        return [
            Paragraph(first + i, s + offset, e + offset, ls + offset, le + offset)
            for i, (s, e, ls, le) in enumerate(zip(*(a.tolist() for a in self[:4]), strict=True))
        ]


def spans(text_lines: Lines, mode: SplitMode) -> Spans:
    """The paragraphs of a text whose lines are ``text_lines``: each non-blank line
    (``"lines"``) or each block of non-blank lines (``"blank"``)."""
    filled = np.flatnonzero(~text_lines.blank)
    if mode == "lines":
        first = last = filled
    else:
        new = np.ones(len(filled), dtype=bool)
        new[1:] = np.diff(filled) > 1
        first = filled[new]
        last = np.append(filled[np.flatnonzero(new)[1:] - 1], filled[-1:])
    return Spans(
        text_lines.start[first],
        text_lines.end[last],
        text_lines.line_start[first],
        text_lines.line_end[last],
        first,
    )


#: ``"auto"`` decides on a text's beginning: its first ``AUTO_LINES`` lines within its first
#: ``AUTO_CHARS`` characters (so a text streams whatever its size, and the choice does not
#: depend on how it arrives in pieces).
AUTO_LINES = 10_000
AUTO_CHARS = 1 << 20
#: ``"auto"`` chooses blank-line blocks when there are at least this many of them ...
AUTO_BLOCKS = 3
#: ... of at most this many lines on average; else a paragraph a line.
AUTO_BLOCK_LINES = 8

#: What a reader cannot see: controls, format characters (zero-width space and joiners,
#: the BOM, direction marks), separators, fillers and variation selectors; as the regex
#: module has ``[\p{Cc}\p{Cf}\p{Z}\s\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164
#: \uFE00-\uFE0F\uFFA0]`` (a test holds it to that), spelled out for the stdlib engine.
INVISIBLE_CHARS = (
    "\u0000-\u0020\u007f-\u00a0\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    "\u08e2\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f"
    "\u205f-\u2064\u2066-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = lazy_re(f"[{INVISIBLE_CHARS}]*")
_INVISIBLE_ONE = lazy_re(f"[{INVISIBLE_CHARS}]")


def auto_ready(received: int, breaks: int) -> bool:
    """Whether :func:`auto_mode` can decide on a text of which ``received`` characters,
    holding ``breaks`` complete line breaks, have arrived (it can at the end in any case)."""
    return received >= AUTO_CHARS or breaks >= AUTO_LINES


def auto_mode(text: str) -> SplitMode:
    """What ``"auto"`` means for a text that starts with ``text``: ``"blank"`` when, in its
    first ``AUTO_LINES`` lines within ``AUTO_CHARS`` characters, at least ``AUTO_BLOCKS``
    blocks stand between blank lines and they have at most ``AUTO_BLOCK_LINES`` lines on
    average; else ``"lines"``. A line of invisible characters only (a zero-width space, a
    BOM) is blank. One blank line in a text of lines does not make it blocks, and a text
    cleaned in the mode chosen keeps that mode (unless the cleaning leaves fewer blocks).

    >>> auto_mode("one\\ntwo\\n"), auto_mode("a\\nb\\n\\nc\\n\\nd\\ne\\n")
    ('lines', 'blank')
    >>> auto_mode("a\\nb\\n\\u200b\\nc\\n"), auto_mode("a\\n\\nb\\n" + "c\\n" * 30 + "\\nd\\n")
    ('lines', 'lines')
    """
    head = text[:AUTO_CHARS]
    found = lines(head)
    blank = found.blank[:AUTO_LINES].copy()
    solid = np.flatnonzero(~blank).tolist()
    starts = found.start[: len(blank)].tolist()
    # A line of invisible characters starts with one: the others need no closer look.
    if _INVISIBLE_ONE.search("".join([head[starts[i]] for i in solid])):
        ends = found.end[: len(blank)].tolist()
        for i in solid:
            if _INVISIBLE.fullmatch(head, starts[i], ends[i]):
                blank[i] = True
    filled = np.flatnonzero(~blank)
    blocks = 1 + int((np.diff(filled) > 1).sum()) if len(filled) else 0
    if blocks >= AUTO_BLOCKS and len(filled) <= AUTO_BLOCK_LINES * blocks:
        return "blank"
    return "lines"


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

    >>> split_resolved("one\\ntwo\\n")[0], split_resolved("one\\n\\ntwo\\n\\nthree\\n")[0]
    ('lines', 'blank')
    """
    if mode == "auto":
        mode = auto_mode(text)
    return mode, spans(lines(text, start_of_text), mode).paragraphs()


def _left_open(line: str) -> int:
    """How far a line of prose (two words or more) leaves its sentence open: 2 when it ends
    in a word a sentence cannot stop on (:data:`~dedup.lexicon.HANGING`: "the", "and",
    "of"), whatever the next line starts with; 1 when it ends in a word broken with a
    hyphen, or another small word a sentence goes on after ("said that", "log in"): in
    lower case, of three letters at most or a function word (:mod:`dedup.lexicon`), if the
    next line starts with a small letter; else 0. A line that ends in another word may be a
    heading or a title ("... for a big rocket", then "by <author>"), and is taken for one.
    A comma, or a semicolon and a small word, ends the clauses of a list written a clause a
    line ("...," / "whereas ..."; "...; and" / "whereas ...": the preamble of the Universal
    Declaration in the injection benchmark): each clause is a unit of its own."""
    words = line.rsplit(None, 2)
    if len(words) < 2:  # a label ("css"), not a line of prose
        return 0
    last = words[-1]
    if last[-1] == "-":
        return int(last[:-1].isalpha())
    if not (last.isalpha() and last.islower()) or words[-2].endswith(";"):
        return 0  # "...; and": the next line is the next clause of a list, a unit
    folded = last.casefold()
    if folded in HANGING:
        return 2
    return int(len(last) <= 3 or folded in FUNCTION_WORDS or folded in NEGATIONS)


def _goes_on(above: str, line: str) -> bool:
    """Whether ``line`` goes on with the sentence of the line right above it.

    >>> _goes_on("If you are deployed behind a proxy server and", "Django cannot tell")
    True
    >>> _goes_on("Later that week the mayor said that", "the committee approved")
    True
    >>> _goes_on("Seeking a bigger role for a big rocket", "by Jeff Foust")
    False
    >>> _goes_on("Please log in", "Contact us")
    False
    """
    first, end = line[:1], above[-1:]
    if not (first.isalpha() and (end.islower() or end == "-")):
        return False
    return _left_open(above) > (0 if first.islower() else 1)


class Wrapping(NamedTuple):
    """What telling the lines of sentences wrapped over lines apart in a batch of lines
    takes besides them: the lines before it and after it (as written, the ones a cleaner
    looks at) and the numbers of all three, in order."""

    above: list[str]
    below: list[str]
    numbers: list[int]


def wrapped_lines(texts: Sequence[str], wrapping: Wrapping) -> list[str]:
    """For each line of a batch (``texts``, as written), the other lines of the sentence
    it is part of when that is wrapped over lines (see
    :attr:`~dedup.fingerprint.Fingerprint.wrapped`), among the lines ``wrapping`` puts
    around the batch (:func:`_goes_on`); '' for a line that is a sentence of its own.

    >>> lines = ["Later that week the mayor said that", "the committee approved", "Contact us"]
    >>> wrapped_lines(lines, Wrapping([], [], [1, 2, 3]))
    ['the committee approved', 'Later that week the mayor said that', '']
    """
    above, below, numbers = wrapping
    lines = [*above, *texts, *below]
    # Where each sentence starts: at every line that does not go on from the one above.
    starts = [0] + [
        k
        for k in range(1, len(lines))
        if not (numbers[k] == numbers[k - 1] + 1 and _goes_on(lines[k - 1], lines[k]))
    ]
    first, count = len(above), len(texts)
    wrapped = [""] * count
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        for at in range(max(start, first), min(end, first + count)) if end - start > 1 else ():
            wrapped[at - first] = "\n".join(lines[m] for m in range(start, end) if m != at)
    return wrapped
