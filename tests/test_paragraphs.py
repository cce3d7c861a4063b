"""Splitting into spans, and cutting removed paragraphs out with their whole lines."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.native import speedups
from dedup.paragraphs import (
    _LEAD,
    _TRAIL,
    AUTO_BLOCK_LINES,
    AUTO_BLOCKS,
    Paragraph,
    auto_mode,
    lines,
    split,
    split_resolved,
)


# The rule dedup.stream applies as text streams by, written for a whole text: the oracle.
def cut(
    text: str, paragraphs: Sequence[Paragraph], removed: Iterable[int]
) -> list[tuple[int, int]]:
    """The spans to cut from ``text`` to drop the paragraphs at ``removed``, in order.

    A removed paragraph takes its whole lines and the line break after them when a kept
    paragraph follows; else the line break before them, so the text keeps its leading and
    trailing whitespace and every kept line stays as it was.
    """
    gone = set(removed)
    spans = []
    kept_after = False
    for p in reversed(paragraphs):
        if p.index not in gone:
            kept_after = True
        elif kept_after:
            spans.append((p.line_start, paragraphs[p.index + 1].line_start))
        elif p.index > 0:
            spans.append((paragraphs[p.index - 1].line_end, p.line_end))
        else:
            spans.append((p.line_start, p.line_end))
    spans.reverse()
    return spans


def apply_cuts(text: str, spans: Sequence[tuple[int, int]]) -> str:
    pieces = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def texts(text: str, mode: str = "auto") -> list[str]:
    return [text[p.start : p.end] for p in split(text, mode)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("\n\n", []),
        ("one", ["one"]),
        ("\ufeffone\r\ntwo\r\n", ["one", "two"]),
        ("one\rtwo", ["one", "two"]),
        ("  indented\t\n\ttabbed  ", ["indented", "tabbed"]),
        ("\u00a0nbsp edge\u00a0\nx", ["nbsp edge", "x"]),
    ],
)
def test_lines(text: str, expected: list[str]) -> None:
    assert texts(text, "lines") == expected


def test_auto_uses_blocks_only_when_blank_lines_separate_short_blocks() -> None:
    assert split_resolved("\n\nleading blank\nlines\n\n")[0] == "lines"
    assert split_resolved("a\n  \t\nb\n\nc")[0] == "blank"
    assert texts("a\nb\n\nc\r\n\r\nd") == ["a\nb", "c", "d"]
    # One odd line does not flip a text of lines: a single blank line, or a few in a
    # long text, or lines of invisible characters only.
    assert auto_mode("a\nb\n\nc\n") == "lines"
    assert auto_mode("".join(f"line {n}\n" + "\n" * (n % 10 == 0) for n in range(100))) == "lines"
    for invisible in ("\ufeff", "\u200b", "\u200d\u2060", "\u00ad", "\u3164", " \u200e "):
        assert auto_mode(f"a\nb\n{invisible}\nc\n") == "lines", repr(invisible)
        assert auto_mode(f"a\n{invisible}\nb\n{invisible}\nc\n") == "blank", repr(invisible)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["a", "b c", " ", "\t", "\u200b", "\ufeff", "\u00a0", "\u3164"])
        ).map("".join),
        max_size=40,
    )
)
def test_auto_looks_at_every_line_that_may_be_invisible(found: list[str]) -> None:
    # The rule whole: every line that is not blank is matched against the invisible
    # characters (auto_mode matches only the lines that start with one).
    invisible = regex.compile(
        r"[\p{Cc}\p{Cf}\p{Z}\s\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0]*"
    )
    text = "\n".join(found) + "\n"
    blank = [not line.strip() or bool(invisible.fullmatch(line)) for line in text.splitlines()]
    filled = [i for i, b in enumerate(blank) if not b]
    blocks = 1 + sum(b - a > 1 for a, b in itertools.pairwise(filled)) if filled else 0
    expected = (
        "blank" if blocks >= AUTO_BLOCKS and len(filled) <= AUTO_BLOCK_LINES * blocks else "lines"
    )
    assert auto_mode(text) == expected


def test_auto_decides_on_the_beginning_of_a_text() -> None:
    blocks = "one line\nanother\n\n" * 6000  # 18,000 lines: blocks in the first 10,000
    assert auto_mode(blocks + "x\n" * 50_000) == "blank"
    assert auto_mode("x\n" * 10_000 + blocks) == "lines"


def test_spans_cover_whole_lines() -> None:
    text = "  one  \n\ttwo\nthree"
    first, second, third = split(text)
    assert (first.line_start, first.line_end) == (0, 7)
    assert (second.line_start, second.line_end) == (8, 12)
    assert (third.line_start, third.line_end) == (13, 18)


@pytest.mark.parametrize(
    ("text", "removed", "expected"),
    [
        ("a\nb\nc", [1], "a\nc"),
        ("a\nb\nc", [2], "a\nb"),
        ("a\nb\nc\n", [1, 2], "a\n"),
        ("a\n  b  \nc", [1], "a\nc"),
        ("a  \nb", [1], "a  "),
        ("a\n\nb\n\nc\n", [1], "a\n\nc\n"),
        ("a\n\nb\n\nc\n", [2], "a\n\nb\n"),
        ("\ufeffa\nb", [0], "\ufeffb"),
        ("\ufeffa\nb\n", [0, 1], "\ufeff\n"),
        ("a\r\nb\r\nc\r\n", [0], "b\r\nc\r\n"),
    ],
)
def test_cut(text: str, removed: list[int], expected: str) -> None:
    assert apply_cuts(text, cut(text, split(text), removed)) == expected


# The line rule as one regular expression per line: the oracle for the array version.
_LINE = regex.compile(r"([^\r\n]*)(\r\n|\n|\r|\Z)")
_EDGE = regex.compile(r"[\s\ufeff]+")
_BLANK = regex.compile(r"[\s\ufeff]*")


def lines_by_pattern(text: str, start_of_text: bool) -> list[tuple[int, int, int, int, bool]]:
    found = []
    for match in _LINE.finditer(text):
        if not match.group(0):
            break
        line_start, line_end = match.span(1)
        if line_start == 0 and start_of_text and text.startswith("\ufeff"):
            line_start = 1  # a BOM belongs to the file, not to its first line
        if _BLANK.fullmatch(text, line_start, line_end):
            found.append((line_start, line_start, line_start, line_end, True))
            continue
        start, end = line_start, line_end
        lead = _EDGE.match(text, start, end)
        if lead:
            start = lead.end()
        while end > start and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
            end -= 1
        found.append((start, end, line_start, line_end, False))
    return found


# Line breaks, spaces that only str.isspace() knows, a BOM, a lone surrogate, an emoji.
AWKWARD = st.text(
    alphabet=st.sampled_from(
        list("ab \t\n\r\ufeff\x0b\x1c\x1f\x85\u2028\u3000\xa0\u200b\u00e9\ud800\U0001f600")
    ),
    max_size=30,
)


@settings(max_examples=1000, deadline=None)
@given(AWKWARD, st.booleans())
def test_lines_are_what_the_line_pattern_finds(text: str, start_of_text: bool) -> None:
    found = lines(text, start_of_text)
    assert list(zip(*(a.tolist() for a in found), strict=True)) == lines_by_pattern(
        text, start_of_text
    )


def test_the_space_tables_are_regex_and_str_spaces() -> None:
    for code in range(0x10000):
        char = chr(code)
        assert _LEAD[code] == bool(regex.match(r"[\s\ufeff]", char)), hex(code)
        assert _TRAIL[code] == (char.isspace() or char == "\ufeff"), hex(code)
    assert not any(chr(code).isspace() for code in range(0x10000, 0x110000))


@settings(max_examples=500, deadline=None)
@given(AWKWARD, st.booleans(), st.integers(min_value=1, max_value=7))
def test_a_long_text_is_looked_at_in_blocks_with_the_same_lines(
    text: str, start_of_text: bool, block: int
) -> None:
    import dedup.paragraphs

    kernels = dedup.paragraphs.speedups
    dedup.paragraphs.speedups = None  # the numpy path, which looks at blocks
    try:
        whole = lines(text, start_of_text)
        original, dedup.paragraphs.BLOCK = dedup.paragraphs.BLOCK, block
        try:
            found = lines(text, start_of_text)
        finally:
            dedup.paragraphs.BLOCK = original
    finally:
        dedup.paragraphs.speedups = kernels
    assert [a.tolist() for a in found] == [a.tolist() for a in whole]


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=1000, deadline=None)
@given(AWKWARD, st.booleans())
def test_the_compiled_lines_are_the_numpy_ones(text: str, start_of_text: bool) -> None:
    import dedup.paragraphs

    compiled = lines(text, start_of_text)
    dedup.paragraphs.speedups = None
    try:
        plain = lines(text, start_of_text)
    finally:
        dedup.paragraphs.speedups = speedups
    assert [a.tolist() for a in compiled] == [a.tolist() for a in plain]
    assert [a.dtype for a in compiled] == [a.dtype for a in plain]
