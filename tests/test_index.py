"""The batch path equals the one-paragraph path, and the index keeps the first ids."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.config import Config
from dedup.deduplicator import CLOSE
from dedup.fingerprint import fingerprint, fingerprint_batch
from dedup.index import MAX_BUCKET, Postings, Ref
from dedup.native import speedups
from dedup.normalize import normalize, normalize_batch, tokenize, tokenize_batch
from dedup.verify import compare, far_pairs
from tests.conftest import DATA

from .test_properties import PARAGRAPH

TEXTS = st.lists(
    st.one_of(
        PARAGRAPH,
        st.text(max_size=40),
        st.text(alphabet="aB `&;#x0-9AMP nbsp\u2019\u00e9", max_size=30),
        st.just("a\x00b"),
    ),
    min_size=0,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_batch_normalization_and_tokens_equal_one_by_one(texts: list[str]) -> None:
    normalized = normalize_batch(texts)
    assert normalized == [normalize(text) for text in texts]
    flat = tokenize_batch(normalized)
    expected: list[str] = []
    for position, text in enumerate(normalized):
        expected += (["\x00"] if position else []) + tokenize(text)
    assert flat == expected


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_batch_shingles_equal_one_by_one(texts: list[str]) -> None:
    config = Config(min_tokens=4)
    batch = fingerprint_batch(texts, config)
    assert len(batch) == len(texts)
    for row, normalized in enumerate(batch.normalized):
        alone = fingerprint(normalized, config)
        shingles = batch.shingles[batch.offsets[row] : batch.offsets[row + 1]]
        assert np.array_equal(alone.shingles, shingles)
        assert batch.tokens[row] == len(alone.tokens)


def test_postings_keep_the_first_ids_of_a_key_across_merges() -> None:
    postings = Postings(MAX_BUCKET, np.uint32)
    for start in range(0, 200, 10):  # 20 runs, merged as they grow
        ids = np.arange(start, start + 10)
        postings.add(np.where(ids % 2 == 0, 1000, ids).astype(np.uint32), ids)
    which, ids = postings.lookup(np.array([1000, 11, 999], dtype=np.uint32))
    assert ids[which == 0].tolist() == list(range(0, 2 * MAX_BUCKET, 2))
    assert ids[which == 1].tolist() == [11]
    assert not (which == 2).any()


def test_postings_find_the_keys_of_a_run_loaded_after_others() -> None:
    # With the compiled kernels a filter of the keys added is read before the runs: a run
    # loaded (from a file) lets go of it, so that its keys are looked up in the runs.
    postings = Postings(MAX_BUCKET, np.uint32)
    postings.add(np.array([5 << 26], dtype=np.uint32), np.array([0]))
    loaded = np.array([1 << 31, 3 << 30], dtype=np.uint32)
    postings.load(loaded, np.array([1, 2], dtype=np.int32))
    which, ids = postings.lookup(np.array([3 << 30, 1 << 31, 5 << 26, 7], dtype=np.uint32))
    assert dict(zip(which.tolist(), ids.tolist(), strict=True)) == {0: 2, 1: 1, 2: 0}


def test_decisions_do_not_depend_on_batch_boundaries(monkeypatch: object) -> None:
    import dedup.stream as module

    lines = [
        f"Line number {i % 37} of a list that repeats itself every so often." for i in range(300)
    ]
    lines += [
        f"Item {i % 5} costs {i} euros in the shop around the corner today." for i in range(60)
    ]
    text = "\n".join(lines)
    whole = dedup.clean(text)
    monkeypatch.setattr(module, "BATCH", 7)  # type: ignore[attr-defined]
    assert dedup.clean(text) == whole


VOCABULARY = [
    "the",
    "cat",
    "sat",
    "on",
    "a",
    "mat",
    "10",
    "20",
    "not",
    "dog",
    "ran",
    "far",
    "away",
    "from",
    "home",
    "2023",
    "东",
    "京",
]


@st.composite
def related(draw: st.DrawFn) -> tuple[str, str]:
    """Two texts, the second the first with a few words changed, added or cut (or not)."""
    words = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=16))
    other = list(words)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(other)))
        edit = draw(st.sampled_from(["add", "drop", "swap"]))
        word = draw(st.sampled_from(VOCABULARY))
        if edit == "add" or not other:
            other.insert(at, word)
        elif edit == "drop":
            del other[min(at, len(other) - 1)]
        else:
            other[min(at, len(other) - 1)] = word
    if other and draw(st.booleans()):  # cut inside its last word ("2023" -> "20")
        other[-1] = other[-1][: draw(st.integers(1, max(1, len(other[-1]))))]
    if draw(st.booleans()):
        other = [*other[: draw(st.integers(1, max(1, len(other))))], "..."]
    return " ".join(words), " ".join(other) or "x"


@settings(max_examples=400, deadline=None)
@given(st.lists(related(), min_size=1, max_size=8))
def test_far_pairs_are_never_repeats_or_close_calls(pairs: list[tuple[str, str]]) -> None:
    config = Config(min_tokens=6)
    earlier = fingerprint_batch([a for a, _ in pairs], config)
    later = fingerprint_batch([b for _, b in pairs], config)
    rows = np.arange(len(pairs))
    far = far_pairs(earlier.sketches(rows), later.sketches(rows), later.truncated, config, CLOSE)
    for row in rows[far]:
        verdict = compare(earlier.fingerprint(row, config), later.fingerprint(row, config), config)
        assert not verdict.repeat and verdict.similarity < CLOSE, pairs[row]


def test_far_pairs_settle_pairs_of_short_and_of_long_paragraphs() -> None:
    config = Config()
    texts = [
        "Home | News | Sport",
        "Weather for the week ahead",
        "The council approved the new budget after a long debate about schools and roads.",
        "Opposition members said the plan ignored rising rents in the northern districts.",
        "The council approved the new budget after a long debate about schools and rails.",
    ]
    batch = fingerprint_batch(texts, config)
    earlier, later = np.array([0, 2, 2]), np.array([1, 3, 4])
    far = far_pairs(
        batch.sketches(earlier), batch.sketches(later), batch.truncated[later], config, CLOSE
    )
    assert far.tolist() == [True, True, False]


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_token_sketches_bound_the_tokens(texts: list[str]) -> None:
    batch = fingerprint_batch(texts, Config(min_tokens=4))
    for row, normalized in enumerate(batch.normalized):
        tokens = set(tokenize(normalized))
        short = len(tokenize(normalized)) < 4
        assert batch.distinct[row] == (len(tokens) if short else 255)
        assert int(np.bitwise_count(batch.blooms[row]).sum()) <= len(tokens)


def test_a_digest_shared_by_another_text_is_no_exact_repeat() -> None:
    import dataclasses

    deduplicator = dedup.Deduplicator()
    kept = "A paragraph long enough to be indexed, kept in the first batch."
    deduplicator.clean(kept, "first")
    config = deduplicator.config
    other = fingerprint_batch(["Something else entirely, with no word of it shared."], config)
    digest = fingerprint_batch([kept], config).digests
    colliding = dataclasses.replace(other, digests=digest)  # as if xxh3 collided
    removed, exact, decisions = deduplicator.decide(colliding, "second", 0)
    assert not removed.any() and exact == 0 and not decisions
    removed, exact, decisions = deduplicator.decide(fingerprint_batch([kept], config), "third", 0)
    assert removed.tolist() == [True] and exact == 1
    assert decisions[0].ref == Ref("first", 0) and decisions[0].verdict.kind == "exact"


@settings(max_examples=500, deadline=None)
@given(st.lists(related(), min_size=1, max_size=6))
def test_a_new_number_settles_a_pair_as_the_alignment_would(
    pairs: list[tuple[str, str]],
) -> None:
    import dedup.verify as verify

    config = Config(min_tokens=6)
    for a, b in pairs:
        earlier = fingerprint(normalize(a), config)
        later = fingerprint(normalize(b), config)
        quick = compare(earlier, later, config)
        original, verify._new_number = verify._new_number, lambda a, b: None  # type: ignore[assignment]
        try:
            assert compare(earlier, later, config) == quick, (a, b)
        finally:
            verify._new_number = original


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=40),
        st.text(alphabet=st.characters(max_codepoint=0x24F), max_size=40),
        st.text(alphabet="a1²³¼$¥_é \u0301.", max_size=20),  # numbers after words, marks
    )
)
def test_ascii_and_latin_text_have_the_tokens_of_the_unicode_pattern(text: str) -> None:
    """ASCII and Latin text (below U+0250) is tokenized by the stdlib's engine, or compiled,
    with the tokens and places of the regex module's pattern (not normalized text too:
    superscripts, fractions)."""
    from dedup.normalize import _TOKEN, token_spans

    assert tokenize(text) == _TOKEN.findall(text)
    assert token_spans(text) == [m.span() for m in _TOKEN.finditer(text)]


LATIN = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x24F), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(LATIN, PARAGRAPH, st.text(max_size=20)), max_size=10))
def test_token_groups_give_each_text_its_tokens(texts: list[str]) -> None:
    from dedup.normalize import _TOKEN, SEPARATOR, token_groups

    normalized = normalize_batch(texts)
    found: dict[int, list[str]] = {}
    for rows, tokens in token_groups(normalized):
        parts = " ".join(tokens).split(SEPARATOR)
        for row, part in zip(rows, parts, strict=True):
            found[row] = part.split()
    assert found == {row: _TOKEN.findall(text) for row, text in enumerate(normalized)}


def test_copies_of_one_paragraph_pair_with_the_eligible_rows_only() -> None:
    """4,000 rows under one key, one of them a possible partner: 3,999 pairs, not 8 million
    (issue 10: identical paragraphs were quadratic within a batch)."""
    from dedup.index import batch_pairs

    rows = np.arange(4000, dtype=np.int64)
    keys = [(rows, np.zeros(4000, dtype=np.uint32))]
    keepable = np.zeros(4000, dtype=bool)
    keepable[0] = True
    inner = batch_pairs(
        keys, [np.arange(4000, dtype=np.int32)], [np.zeros(4000, np.int64)], keepable
    )
    ((later, earlier),) = inner.pairs
    assert len(later) == 3999 and set(earlier.tolist()) == {0}
    assert later.tolist() == list(range(1, 4000))


@pytest.mark.skipif(not (DATA / "scale-paragraphs.txt.gz").exists(), reason="needs ../shared/data")
def test_removals_not_told_apart_take_fewer_pairs_and_remove_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Real lines with no exact repeat: a removed line's first repeat found ends its search
    # when nobody reads which kept lines it repeats (dedup clean -q); the same lines go.
    import dedup.deduplicator

    lines: dict[str, None] = {}
    with gzip.open(DATA / "scale-paragraphs.txt.gz", "rt", encoding="utf-8") as corpus:
        for line in corpus:
            lines[line] = None
            if len(lines) == 20000:
                break
    text = "".join(lines)
    calls = [0]

    def counted(*args: Any, **options: Any) -> Any:
        calls[0] += 1
        return compare(*args, **options)

    monkeypatch.setattr(dedup.deduplicator, "compare", counted)
    found = []
    for kinds in (True, False):
        calls[0], out = 0, []
        cleaner = dedup.Deduplicator(Config(split="lines")).cleaner(
            None, out.append, events=False, kinds=kinds
        )
        cleaner.feed(text)
        cleaner.close()
        found.append(("".join(out), sum(cleaner.removed.values()), calls[0]))
    (told, removed, pairs), (counted_only, removed_too, fewer) = found
    assert counted_only == told and removed_too == removed > 100
    assert fewer < pairs


def test_a_paragraph_past_the_limit_is_kept_and_compared_with_nothing(monkeypatch: object) -> None:
    import dedup.stream

    monkeypatch.setattr(dedup.stream, "MAX_COMPARED", 60)  # type: ignore[attr-defined]
    long = "A paragraph long enough to pass the limit set for this test, twice over."
    text = f"{long}\nshort one here\n{long}\nshort one here\n"
    result = dedup.clean(text, split="lines")
    assert [r.index for r in result.removed] == [3]  # the long copies both stay


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 40), max_size=60), min_size=1, max_size=12),
    st.lists(st.integers(0, 45), max_size=80),
    st.integers(1, 5),
    st.booleans(),
    st.booleans(),
    st.sampled_from([1, 0x9E3779B1]),
)
def test_compiled_postings_hold_and_find_what_numpys_do(
    adds: list[list[int]], needles: list[int], cap: int, loaded: bool, recent: bool, spread: int
) -> None:
    # Few keys, many ids each: caps met within a run and across runs merged as they grow,
    # needles asked twice, keys no run holds. Runs are merged in place where they may be:
    # not a run loaded read-only (a file's), nor one held as added lately (what a
    # persistent index writes next), which must read as it was added. Spread over 32 bits
    # (an odd factor keeps them apart), keys meet a filter of 64 bits by their top six:
    # most needles no run holds are passed over, the others and the held ones looked up,
    # and the filter is made anew as it fills.
    import dedup.index.memory as memory

    adds = [[key * spread % 2**32 for key in keys] for keys in adds]
    needles = [key * spread % 2**32 for key in needles]

    def by_needle(which: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for w, i in zip(which.tolist(), ids.tolist(), strict=True):
            out.setdefault(w, []).append(i)
        return out

    asked = np.array(needles, dtype=np.uint32)
    runs, found = [], []
    saved = getattr(memory, "speedups")  # noqa: B009
    size = memory._FILTER_SIZE
    for kernels in (saved, None):
        setattr(memory, "speedups", kernels)  # noqa: B010 (None: the numpy path)
        memory._FILTER_SIZE = 6
        try:
            postings = Postings(cap, np.uint32)
            next_id = 0
            if loaded:
                first = Postings(cap, np.uint32)
                first.add(np.array(adds[0], dtype=np.uint32), np.arange(len(adds[0])))
                for k, i in first._runs:
                    postings.load(*(np.frombuffer(a.tobytes(), a.dtype) for a in (k, i)))
                next_id = len(adds[0])
            if recent:
                postings.keep_recent(next_id)
            for keys in adds[1:] if loaded else adds:
                ids = np.arange(next_id, next_id + len(keys))
                next_id += len(keys)
                postings.add(np.array(keys, dtype=np.uint32), ids)
            runs.append([(k.tolist(), i.tolist()) for k, i in postings._runs])
            found.append(by_needle(*postings.lookup(asked)))
            ask = (0, next_id // 2, postings._recent_from)
            found.append({n: [a.tolist() for a in postings.since(n)] for n in ask})
        finally:
            setattr(memory, "speedups", saved)  # noqa: B010
            memory._FILTER_SIZE = size
    assert runs[0] == runs[1]
    assert found[:2] == found[2:]


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 5), st.integers(0, 6)), max_size=80),
    st.lists(st.booleans(), min_size=16, max_size=16),
    st.integers(1, 6),
)
def test_compiled_batch_pairs_are_numpys(
    postings: list[tuple[int, int, int]], keepable: list[bool], cap: int
) -> None:
    # Rows under few keys (a row may post a key twice), some not keepable, the index
    # holding up to more than the cap under a key: groups crowded and calm.
    import dedup.index.base as base

    rows = np.array([row for row, _, _ in postings], dtype=np.int64)
    values = np.array([key for _, key, _ in postings], dtype=np.uint32)
    held = np.array([count for _, _, count in postings], dtype=np.int64)
    order = np.argsort(values, kind="stable").astype(np.int32)
    found = []
    saved = getattr(base, "speedups")  # noqa: B009
    for kernels in (saved, None):
        setattr(base, "speedups", kernels)  # noqa: B010 (None: the numpy path)
        try:
            inner = base.batch_pairs([(rows, values)], [order], [held], np.array(keepable), cap)
        finally:
            setattr(base, "speedups", saved)  # noqa: B010
        found.append(([a.tolist() for a in inner.crowded[0]], [a.tolist() for a in inner.pairs[0]]))
    assert found[0] == found[1]


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 7), st.sampled_from([0, 1, 2, 3, 5, 2**32 - 1])))
        | st.lists(st.tuples(st.integers(0, 7), st.integers(0, 2**32 - 1)), max_size=4),
        min_size=3,
        max_size=3,
    ),
    st.lists(st.integers(0, 9), min_size=8, max_size=8),
    st.integers(0, 6),
)
def test_compiled_score_is_numpys(
    families: list[list[tuple[int, int]]], sizes: list[int], limit: int
) -> None:
    # Few ids, so that pairs meet through several families and several postings each;
    # shingle counts at, below and above half of a row's shingles (none: 0); ties in
    # score; ids at the top of 32 bits.
    import dedup.index.base as base

    pairs = [
        (np.array([r for r, _ in f], dtype=np.int64), np.array([i for _, i in f], dtype=np.int64))
        for f in families
    ]
    found = []
    saved = getattr(base, "speedups")  # noqa: B009
    for kernels in (saved, None):
        setattr(base, "speedups", kernels)  # noqa: B010 (None: the numpy path)
        try:
            with np.errstate(divide="ignore"):  # a row without shingles posts none
                got = base.score(pairs, np.array(sizes, dtype=np.int64), limit)
        finally:
            setattr(base, "speedups", saved)  # noqa: B010
        assert [a.dtype for a in got] == [np.int64, np.int64, np.float64]
        found.append([a.tobytes() for a in got])
    assert found[0] == found[1]


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=6), max_size=10),
    st.lists(st.integers(0, 9), max_size=20),
    st.sampled_from([np.uint8, np.uint32, np.uint64]),
)
def test_compiled_gather_is_numpys(slices: list[list[int]], rows: list[int], dtype: type) -> None:
    import dedup.fingerprint as fingerprint

    values = np.array([v for s in slices for v in s], dtype=np.uint64).astype(dtype)
    offsets = np.zeros(len(slices) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in slices], out=offsets[1:])
    asked = np.array([r for r in rows if r < len(slices)], dtype=np.int64)
    found = []
    saved = getattr(fingerprint, "speedups")  # noqa: B009
    for kernels in (saved, None):
        setattr(fingerprint, "speedups", kernels)  # noqa: B010 (None: the numpy path)
        try:
            got, starts = fingerprint.gather(values, offsets, asked)
        finally:
            setattr(fingerprint, "speedups", saved)  # noqa: B010
        assert got.dtype == values.dtype and starts.dtype == np.int64 and got.flags.writeable
        found.append((got.tolist(), starts.tolist()))
    assert found[0] == found[1]
    with pytest.raises(ValueError, match="beyond the offsets"):
        assert speedups is not None
        speedups.gather(values, offsets, np.array([len(slices)], dtype=np.int64))


def test_candidates_rank_by_score_then_by_earlier_id() -> None:
    from dedup.index.base import score

    empty = np.empty(0, dtype=np.int64)
    bands = (np.array([1, 0, 0, 0, 1, 0], dtype=np.int64), np.array([9, 7, 5, 3, 2, 7]))
    edges = (np.array([0, 1], dtype=np.int64), np.array([4, 9], dtype=np.int64))
    rows, ids, totals = score([bands, (empty, empty), edges], np.array([10, 10]), 3)
    # Row 0: id 7 twice (2), then 3, 4, 5 once each (the earliest ids first, up to 3).
    # Row 1: id 9 by a band and an edge (2), then 2.
    assert rows.tolist() == [0, 0, 0, 1, 1]
    assert ids.tolist() == [7, 3, 4, 9, 2]
    assert totals.tolist() == [2.0, 1.0, 1.0, 2.0, 1.0]


def test_kept_fingerprints_held_are_the_ones_compared_last() -> None:
    """The fingerprints of kept paragraphs are rebuilt from the index only when not held;
    when full, the one compared longest ago goes (a paragraph compared again stays)."""
    from dedup.deduplicator import _Recent

    config = Config()
    built: list[int] = []

    def entry(id: int) -> Callable[[], tuple[str, npt.NDArray[np.uint32]]]:
        def build() -> tuple[str, npt.NDArray[np.uint32]]:
            built.append(id)
            return f"paragraph {id}", np.empty(0, dtype=np.uint32)

        return build

    recent = _Recent(2)
    for id in (1, 2, 1, 3, 1, 2):  # 1 again before 3 comes: 2 goes, then 3 for 2
        assert recent.get(id, entry(id), config).normalized == f"paragraph {id}"
    assert built == [1, 2, 3, 2]
