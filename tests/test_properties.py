"""Invariants that hold for any text: lossless, idempotent, kept paragraphs untouched."""

from __future__ import annotations

import contextlib
import pickle
import re
from collections.abc import Iterator
from difflib import SequenceMatcher
from types import ModuleType
from typing import get_args

import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.native import speedups
from dedup.paragraphs import split
from dedup.result import CloseCall, Removal
from dedup.shapes import (
    _CODE,
    _GLUED_DATE,
    _LINK_VERB,
    _SEPARATOR,
    _SEPARATOR_MARK,
    _STRONG_CODE,
    _STRONG_SEARCHES,
    _code_like,
    _found,
)
from dedup.shingles import distinct, shared_counts
from dedup.verify import Kind, Verdict, opcodes, opcodes_in_python

from .test_paragraphs import apply_cuts, cut


@contextlib.contextmanager
def _kernels(module: ModuleType, kernels: ModuleType | None) -> Iterator[None]:
    """``module`` with the compiled kernels ``kernels`` (None: its pure-Python twins)."""
    saved, module.speedups = module.speedups, kernels
    try:
        yield
    finally:
        module.speedups = saved


# Paragraph material that repeats often, with the variations scraped text has.
BASE = [
    "The council approved the new budget after a long debate about schools and roads.",
    "Opposition members said the plan ignored rising rents in the northern districts.",
    "Share",
    "国家统计局今天公布的数据显示经济运行总体平稳。",
    "* * *",
    "Price: 10 € per month, billed yearly for all of our customers in Europe.",
]
VARIANT = st.sampled_from(
    [
        lambda s: s,
        str.upper,
        lambda s: s.replace(" ", "  "),
        lambda s: s[: len(s) // 2] + "…",
        lambda s: "(dpa) " + s,
        lambda s: s.replace("the ", "", 1),
        lambda s: "\u200b" + s.replace("a", "&amp;", 1),
    ]
)
PARAGRAPH = st.one_of(
    st.tuples(st.sampled_from(BASE), VARIANT).map(lambda pair: pair[1](pair[0])),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\r\n"),
        max_size=60,
    ),
)
SEPARATOR = st.sampled_from(["\n", "\r\n", "\n\n", "\n \n", "\r", " \n\t", "\n\n\n"])
EDGE = st.sampled_from(["", "\n", "\ufeff", "  ", "\r\n", "\n\n"])


@st.composite
def documents(draw: st.DrawFn, separators: st.SearchStrategy[str] = SEPARATOR) -> str:
    paragraphs = draw(st.lists(PARAGRAPH, max_size=12))
    text = draw(EDGE)
    for paragraph in paragraphs:
        text += paragraph + draw(separators)
    return text + draw(EDGE)


MODES = st.sampled_from(["lines", "blank"])


@settings(max_examples=300, deadline=None)
@given(text=documents(), mode=st.sampled_from(["auto", "lines", "blank"]))
def test_restore_gives_back_the_original(text: str, mode: str) -> None:
    result = dedup.clean(text, split=mode)
    assert dedup.restore(result.text, result.removed) == text
    as_report = [removal.to_dict() for removal in result.removed]
    assert dedup.restore(result.text, as_report) == text


@settings(max_examples=300, deadline=None)
@given(text=documents(), mode=MODES)
def test_cleaning_twice_changes_nothing_more(text: str, mode: str) -> None:
    once = dedup.clean(text, split=mode)
    assert dedup.clean(once.text, split=mode).text == once.text


@settings(max_examples=200, deadline=None)
@given(text=documents())
def test_cleaning_twice_in_the_mode_auto_chose_changes_nothing_more(text: str) -> None:
    once = dedup.clean(text)
    assert dedup.clean(once.text, split=once.split).text == once.text


@settings(max_examples=300, deadline=None)
@given(text=documents(), mode=MODES)
def test_kept_paragraphs_are_the_input_paragraphs_unchanged_in_order(text: str, mode: str) -> None:
    result = dedup.clean(text, split=mode)
    gone = {removal.index for removal in result.removed}
    kept = [text[p.start : p.end] for p in result.paragraphs if p.index not in gone]
    assert [result.text[p.start : p.end] for p in split(result.text, mode)] == kept


@settings(max_examples=200, deadline=None)
@given(text=documents())
def test_every_removal_names_a_kept_earlier_paragraph(text: str) -> None:
    result = dedup.clean(text)
    gone = {removal.index for removal in result.removed}
    for removal in result.removed:
        assert removal.duplicate_of < removal.index
        assert removal.duplicate_of not in gone
        assert removal.text == text[removal.start : removal.end]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(PARAGRAPH, max_size=12),
    st.lists(SEPARATOR, min_size=12, max_size=12),
    EDGE,
    EDGE,
    st.sampled_from(["auto", "lines", "blank"]),
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=80),
)
def test_a_document_fed_in_pieces_cleans_as_a_whole(
    paragraphs: list[str],
    separators: list[str],
    head: str,
    tail: str,
    split_mode: str,
    sizes: list[int],
    batch: int,
    auto_lines: int,
    auto_chars: int,
) -> None:
    import dedup.paragraphs
    import dedup.stream

    text = head + "".join(p + s for p, s in zip(paragraphs, separators, strict=False)) + tail
    out: list[str] = []
    original = dedup.stream.BATCH, dedup.paragraphs.AUTO_LINES, dedup.paragraphs.AUTO_CHARS
    # Small batches, and "auto" decided on a short beginning: the pieces' sizes must not
    # change what is decided.
    dedup.stream.BATCH = batch
    dedup.paragraphs.AUTO_LINES, dedup.paragraphs.AUTO_CHARS = auto_lines, auto_chars
    whole = dedup.clean(text, split=split_mode)
    try:
        cleaner = dedup.Deduplicator(split=split_mode).cleaner("doc", out.append)
        quiet: list[str] = []  # the same without events
        silent = dedup.Deduplicator(split=split_mode).cleaner("doc", quiet.append, events=False)
        events, position, turn = [], 0, 0
        while position < len(text):
            size = sizes[turn % len(sizes)]
            events += cleaner.feed(text[position : position + size])
            assert not silent.feed(text[position : position + size])
            position, turn = position + size, turn + 1
        events += cleaner.close()
        assert not silent.close()
    finally:
        dedup.stream.BATCH, dedup.paragraphs.AUTO_LINES, dedup.paragraphs.AUTO_CHARS = original
    assert "".join(out) == whole.text == "".join(quiet)
    assert silent.removed == cleaner.removed
    assert cleaner.split == whole.split
    assert cleaner.paragraphs == len(whole.paragraphs)
    assert [e for e in events if isinstance(e, dedup.Removal)] == list(whole.removed)
    assert [e for e in events if isinstance(e, dedup.CloseCall)] == list(whole.close)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(PARAGRAPH, max_size=12),
    st.lists(SEPARATOR, min_size=12, max_size=12),
    EDGE,
    EDGE,
)
def test_removed_paragraphs_go_with_their_lines_as_the_rule_says(
    paragraphs: list[str], separators: list[str], head: str, tail: str
) -> None:
    text = head + "".join(p + s for p, s in zip(paragraphs, separators, strict=False)) + tail
    result = dedup.clean(text)
    spans = cut(text, result.paragraphs, [r.index for r in result.removed])
    assert result.text == apply_cuts(text, spans)
    assert [(r.cut_start, r.cut_end) for r in result.removed] == spans
    breaks = re.compile(r"\r\n|\n|\r")
    assert [r.line for r in result.removed] == [
        1 + len(breaks.findall(text, 0, r.start)) for r in result.removed
    ]


@st.composite
def edited(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A token sequence from a few (often repeated) tokens and a copy with a few edits."""
    alphabet = draw(st.sampled_from(["a", "ab", "abc", "abcdef"]))
    tokens = st.sampled_from(list(alphabet + "xy"))
    a = draw(st.lists(st.sampled_from(list(alphabet)), max_size=10))
    b = list(a)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(b)))
        edit = draw(st.sampled_from(["add", "drop", "swap"]))
        if edit == "add" or not b:
            b.insert(at, draw(tokens))
        elif edit == "drop":
            del b[min(at, len(b) - 1)]
        else:
            b[min(at, len(b) - 1)] = draw(tokens)
    pair = (tuple(a), tuple(b))
    return pair if draw(st.booleans()) else (pair[1], pair[0])


@settings(max_examples=2000, deadline=None)
@given(edited())
def test_opcodes_are_difflibs(pair: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    a, b = pair
    want = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert opcodes_in_python(a, b) == want
    assert opcodes(a, b) == want  # compiled, when built


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from("abcdef"), max_size=40),
    st.lists(st.sampled_from("abcdef"), max_size=40),
)
def test_compiled_opcodes_are_difflibs_on_any_sequences(a: list[str], b: list[str]) -> None:
    # Few distinct items, many repeats: blocks of equal length compete, and difflib's
    # choice among them (the earliest in a, then in b) must be made the same way.
    assert speedups is not None
    want = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert speedups.opcodes(a, b) == want
    assert speedups.opcodes(tuple(a), tuple(b)) == want


# Small values often, so that sets share some; any uint32 too.
SET = st.frozensets(st.integers(0, 9) | st.integers(min_value=0, max_value=2**32 - 1))


def _flat(sets: list[frozenset[int]]) -> tuple[np.ndarray, np.ndarray]:
    values = [sorted(s) for s in sets]
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    return np.array([x for v in values for x in v], dtype=np.uint32), offsets


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_shingles_shared_by_many_pairs_are_each_pairs_count(data: st.DataObject) -> None:
    known = data.draw(st.lists(SET))
    asked = data.draw(st.lists(SET, min_size=len(known), max_size=len(known)))
    want = [len(a & b) for a, b in zip(known, asked, strict=True)]
    import dedup.shingles

    for kernels in (speedups, None):  # compiled (when built), then numpy
        with _kernels(dedup.shingles, kernels):
            counts = shared_counts(*_flat(known), *_flat(asked))
        assert counts.tolist() == want and counts.dtype == np.int64


@settings(max_examples=300, deadline=None)
@given(st.lists(SET, max_size=12), st.sampled_from([1, 9, 128]), st.integers(0, 2**32 - 1))
def test_compiled_minhash_rows_are_numpys(
    sets: list[frozenset[int]], num_perm: int, seed: int
) -> None:
    import dedup.minhash

    values, offsets = _flat(sets)
    rows = []
    for kernels in (speedups, None):  # compiled (when built), then numpy
        with _kernels(dedup.minhash, kernels):
            rows.append(dedup.minhash.signature_rows(values, offsets, num_perm, seed))
    assert np.array_equal(rows[0], rows[1])
    assert rows[0].shape == (len(sets), num_perm) and rows[0].dtype == np.uint32
    assert rows[0].flags.writeable


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 5) | st.integers(0, 2**32 - 1), max_size=60),
    st.sampled_from([np.uint8, np.uint32, np.uint64, np.int64]),
)
def test_stable_order_is_a_stable_argsort(keys: list[int], dtype: type) -> None:
    from dedup.fingerprint import stable_order

    array = np.array(keys, dtype=np.uint64).astype(dtype)  # wrapped into the type's range
    got = stable_order(array)
    assert got.tolist() == np.argsort(array, kind="stable").tolist() and got.dtype == np.int64


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x24F)), max_size=8))
def test_token_hashes_of_a_batch_are_the_hashers_on_its_tokens(texts: list[str]) -> None:
    # Latin letters, ASCII (compiled: no str a token), NULs, "$": grouped and hashed
    # alike whichever runs.
    import dedup.shingles
    from dedup.normalize import token_groups
    from dedup.shingles import TokenHasher, token_hash_groups

    want = [(rows, TokenHasher().hashes(tokens).tolist()) for rows, tokens in token_groups(texts)]
    for kernels in (speedups, None):  # compiled (when built), then Python
        with _kernels(dedup.shingles, kernels):
            got = token_hash_groups(texts, TokenHasher())
        assert [(rows, hashes.tolist()) for rows, hashes in got] == want


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.characters(max_codepoint=0x24F), max_size=40),
        st.text(
            alphabet="a1\u00b2\u00b9\u00bd$\u00a5\u00b5\u00d7\u00f7_ \x00\u00e9\u0142", max_size=20
        ),
    )
)
def test_compiled_latin_token_hashes_are_the_patterns_tokens(text: str) -> None:
    # Every character below U+0250, and the ones at the classes' edges: numbers that are
    # no word characters going on with digits, currency signs, x and / signs, the NUL.
    from dedup.normalize import _LATIN_TOKEN_OR_SEPARATOR, SEPARATOR

    assert speedups is not None
    want = [
        0 if token == SEPARATOR else xxhash.xxh3_64_intdigest(token.encode("utf-8"))
        for token in _LATIN_TOKEN_OR_SEPARATOR.findall(text)
    ]
    assert np.frombuffer(speedups.latin_token_hashes(text), np.uint64).tolist() == want
    with pytest.raises(ValueError, match="above U\\+024F"):
        speedups.latin_token_hashes(text + "\u0250")


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=30), st.text(alphabet="a\u00ff\u024f\u0250\u05ff\u0600", max_size=8)
    ),
    st.sampled_from([0x80, 0x100, 0x250, 0x600, 0x10000]),
)
def test_below_a_code_point_is_max_of_the_characters(text: str, bound: int) -> None:
    # Every kind of str (one, two and four bytes a character), and the bounds it is asked.
    import dedup.normalize

    if speedups is not None:
        assert speedups.max_char(text) == max(map(ord, text), default=0)
    for kernels in (speedups, None):  # compiled (when built), then Python
        with _kernels(dedup.normalize, kernels):
            assert dedup.normalize._below(text, bound) == all(ord(c) < bound for c in text)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(alphabet=" \t\n\x0b\x0c\r\x1c\x1f\x85`'&aZ9_.é", max_size=20), max_size=8))
def test_a_batch_of_ascii_normalizes_as_each_text_does(texts: list[str]) -> None:
    # White space of every kind at the ends and inside, what str.strip() takes and the
    # pattern does not, backticks, capitals, entities' '&', a non-ASCII letter beside.
    import dedup.normalize
    from dedup.normalize import normalize, normalize_batch

    want = [normalize(text) for text in texts]
    for kernels in (speedups, None):  # compiled (when built), then Python
        with _kernels(dedup.normalize, kernels):
            assert normalize_batch(texts) == want


@settings(max_examples=300, deadline=None)
@given(text=documents(), mode=MODES)
def test_removals_not_told_apart_are_the_same_removals(text: str, mode: str) -> None:
    # Nobody reading what a removal repeats (dedup clean -q) lets the search for a removed
    # paragraph's kept copies stop at the first: the same paragraphs go.
    want = dedup.clean(text, split=mode)
    out: list[str] = []
    cleaner = dedup.Deduplicator(dedup.Config(split=mode)).cleaner(
        None, out.append, events=False, kinds=False
    )
    assert cleaner.feed(text) + cleaner.close() == []
    assert "".join(out) == want.text
    exact = sum(1 for removal in want.removed if removal.kind == "exact")
    assert cleaner.removed["exact"] == exact
    assert cleaner.removed["repeat"] == len(want.removed) - exact


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="aZ_ 9.é(){}[];:=<>!-&|$#/\"'+\n", max_size=30))
def test_code_like_skips_only_text_code_never_matches(text: str) -> None:
    assert _code_like(text) == (_CODE.search(text) is not None)
    assert _found(_STRONG_SEARCHES, text) == (_STRONG_CODE.search(text) is not None)


# Colons of roles, times and links, marks with and without white space, words, digits.
_LABELLED = st.lists(
    st.sampled_from(
        [
            ":",
            "::",
            " ",
            "\t",
            "\n",
            "-",
            "|",
            "/",
            ">",
            '"',
            "=",
            "a",
            "Z",
            "é",
            "9",
            "٣",
            "²",
            "x:",
            ":class:",
            "12:45",
            "http://",
            "read ",
            "watch ",
            "view ",
            "listen to ",
            "Read ",
            "26.01.2022",
            "1/2/3",
            "word",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_LABELLED)
def test_a_separator_mark_is_found_exactly_where_a_separator_is(text: str) -> None:
    # _label passes over the separator scan where the marks alone find none.
    assert (_SEPARATOR_MARK.search(text, 0, 120) is None) == (
        _SEPARATOR.search(text, 0, 120) is None
    )


@settings(max_examples=500, deadline=None)
@given(_LABELLED)
def test_a_glued_date_or_link_verb_starts_where_label_looks_for_it(text: str) -> None:
    if _GLUED_DATE.match(text):
        assert text[:1].isdigit()
    if _LINK_VERB.match(text):
        assert text[:1] in "rwlv"


@given(
    kind=st.sampled_from([None, *get_args(Kind)]),
    similarity=st.floats(0, 1),
    reason=st.text(max_size=40),
)
def test_a_verdict_is_pickled_as_its_fields(
    kind: Kind | None, similarity: float, reason: str
) -> None:
    verdict = Verdict(kind, similarity, reason)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(verdict, protocol))
        assert back == verdict and type(back) is Verdict


@given(
    index=st.integers(0, 10**6),
    text=st.text(max_size=20),
    document=st.none() | st.text(max_size=10),
    kind=st.sampled_from(get_args(Kind)),
    similarity=st.floats(0, 1),
    also=st.lists(st.tuples(st.none() | st.text(max_size=5), st.integers(0, 99)), max_size=3),
)
def test_a_removal_and_a_close_call_are_pickled_as_their_fields(
    index: int,
    text: str,
    document: str | None,
    kind: Kind,
    similarity: float,
    also: list[tuple[str | None, int]],
) -> None:
    removal = Removal(
        index,
        text,
        3,
        9,
        1,
        document,
        kind,
        similarity,
        text[::-1],
        tuple(also),
        2,
        10,
        " ",
        "\n",
        line=index + 1,
    )
    close = CloseCall(index, 4, document, similarity, text)
    for value in (removal, close):
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(value, protocol))
            assert back == value and type(back) is type(value)


@given(
    values=st.lists(st.integers(0, 2**32 - 1), max_size=300),
    dtype=st.sampled_from([np.uint32, np.int64, np.uint64]),
    repeats=st.integers(1, 3),
)
def test_distinct_is_numpys_unique(values: list[int], dtype: type, repeats: int) -> None:
    """The sort that stands in for ``np.unique`` gives its values, in its type."""
    array = np.array(values * repeats, dtype=dtype)
    got, want = distinct(array), np.unique(array)
    assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()
