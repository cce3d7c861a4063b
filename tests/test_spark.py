"""The Spark job gives the one-machine cleaner's removals and text, byte for byte.

The steps (:mod:`dedup.spark.plan`) are checked here without Spark, against
:class:`~dedup.Deduplicator`, on corpora made to crowd the index's buckets, cross batch
boundaries and chain near copies; the job itself on a real Spark (``local[2]``), for any
number of partitions. Without Java the Spark tests skip, but not in CI (``CI=true``).
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import textwrap
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.stream
from dedup import Deduplicator
from dedup.config import Config
from dedup.errors import InputError
from dedup.index import Ref
from dedup.spark.job import (
    _ALONE,
    POSTINGS,
    STILL,
    Bucketed,
    Decided,
    Digests,
    Grown,
    Marked,
    Marks,
    Planned,
    View,
    _exact,
    _Flat,
    _gaps,
    _in_round,
    _keys,
    _latest,
    _Narrow,
    _now,
    _pairs_of_marked,
    _place,
    _places,
    _Planar,
    _tables,
    _touched,
)
from dedup.spark.plan import (
    SHINGLES,
    Exact,
    Gid,
    Outcome,
    Pairs,
    Plan,
    Posted,
    Posting,
    Postings,
    Print,
    Shared,
    _once,
    _pair_order,
    clean_all,
    digest_view,
    found_of,
    found_record,
    hopeful,
    key_pairs,
    key_view,
    keys,
    merged,
    moved,
    postings,
    prints,
    shared_by_pair,
    within,
)
from dedup.verify import EXACT, Verdict
from tests.conftest import SEED

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "data" / "pages.jsonl.gz"

_WORDS = [
    "the",
    "a",
    "of",
    "page",
    "product",
    "red",
    "blue",
    "green",
    "sofa",
    "chaise",
    "table",
    "price",
    "total",
    "items",
    "cart",
    "news",
    "says",
    "mayor",
    "city",
    "report",
    "said",
    "that",
    "and",
]


def _corpus(seed: int, documents: int, lines: int) -> list[tuple[str, str]]:
    """Templated documents: a few dozen lines drawn again and again, edited a word at a
    time, shouted, cut off, numbered: keys shared by far more paragraphs than a bucket
    holds, and chains of near copies whose statuses depend on one another."""
    rng = random.Random(seed)
    base = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 14))) for _ in range(60)]

    def edit(line: str) -> str:
        words = line.split()
        op = rng.random()
        if op < 0.3 and words:
            words[rng.randrange(len(words))] = rng.choice(_WORDS)
        elif op < 0.5:
            words.insert(rng.randrange(len(words) + 1), rng.choice(_WORDS))
        elif op < 0.6 and len(words) > 1:
            del words[rng.randrange(len(words))]
        elif op < 0.7:
            words = [word.upper() for word in words]
        elif op < 0.75:
            return line + "…"
        elif op < 0.8:
            return f"Page {rng.randint(1, 30)} of 20"
        return " ".join(words)

    out = []
    for number in range(documents):
        found = []
        for _ in range(rng.randint(1, lines)):
            line = rng.choice(base)
            for _ in range(rng.choice((0, 1, 1, 2))):
                line = edit(line)
            found.append(line)
            if rng.random() < 0.1:
                found.append("")
        out.append((f"d{number}", "\n".join(found)))
    return out


def _one_machine(documents: list[tuple[str, str]], config: Config) -> list[Any]:
    deduplicator = Deduplicator(config)
    return [deduplicator.clean(text, name) for name, text in documents]


def _same(documents: list[tuple[str, str]], config: Config) -> int:
    """Check the steps against the one-machine cleaner; the rounds they took."""
    cuts, decided = clean_all(documents, config)
    for (name, _), want, got in zip(documents, _one_machine(documents, config), cuts, strict=True):
        assert got.text == want.text, name
        assert [r.to_dict() for r in got.removals] == [r.to_dict() for r in want.removed], name
        assert [c.to_dict() for c in got.close] == [c.to_dict() for c in want.close], name
    return decided.rounds


@pytest.mark.parametrize("seed", range(4))
def test_the_steps_decide_as_the_cleaner_on_templated_text(seed: int) -> None:
    rounds = _same(_corpus(seed, 30, 150), Config(split="lines"))
    assert rounds >= 2  # statuses assumed in the first round were wrong, and corrected


def test_the_steps_decide_as_the_cleaner_across_batches() -> None:
    # One document of more than a batch (4096 paragraphs), between two short ones.
    documents = _corpus(11, 3, 40)
    documents[1] = ("long", "\n".join(text for _, text in _corpus(12, 120, 70)))
    assert documents[1][1].count("\n") > 4200
    _same(documents, Config(split="lines"))


def test_the_steps_decide_as_the_cleaner_on_blocks() -> None:
    documents = [(name, text.replace("\n", "\n\n")) for name, text in _corpus(5, 20, 60)]
    _same(documents, Config(split="auto"))


@pytest.mark.skipif(not PAGES.exists(), reason="needs ../shared/data/pages.jsonl.gz")
def test_the_steps_decide_as_the_cleaner_on_real_pages() -> None:
    _same(real_pages(60), Config(split="lines"))


def real_pages(count: int) -> list[tuple[str, str]]:
    """The first ``count`` pages of the shared data, named ``doc-0``, ``doc-1``, ..."""
    documents = []
    with gzip.open(PAGES, "rt", encoding="utf-8") as pages:
        for line in pages:
            documents.append((f"doc-{len(documents)}", json.loads(line)["text"]))
            if len(documents) == count:
                break
    return documents


# Postings of a few keys by a few paragraphs (doc, paragraph): many to a key, past a
# bucket's room, a paragraph posting a key more than once; most paragraphs kept.
_POSTINGS = st.integers(1, 300).flatmap(
    lambda n: st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(0, 23)), min_size=n, max_size=n
    )
)
_FLAGS = st.tuples(
    st.sampled_from([True, True, False]), st.booleans(), st.sampled_from([True, True, True, False])
)


def _viewed_by_key(
    rows: list[tuple[int, int, int]], keys: int, flags: list[tuple[bool, bool, bool]], batch: int
) -> tuple[dict[tuple[Gid, Gid], Shared], Postings]:
    """Postings ``(which key, doc, paragraph)`` with ``flags`` by paragraph: what
    :func:`key_view` finds walking them a key at a time, and the postings as columns."""
    want: dict[tuple[Gid, Gid], Shared] = {}
    by_key: dict[tuple[int, int], list[Posting]] = {}
    columns: list[tuple[int, ...]] = []
    for which, doc, paragraph in rows:
        family, value = which % keys % 3, which % keys // 3
        keepable, looked_up, kept = flags[doc * 24 + paragraph]
        first = paragraph - paragraph % batch
        posting = Posting((doc, paragraph), first, keepable, looked_up, kept)
        by_key.setdefault((family, value), []).append(posting)
        columns.append(
            (family << 32 | value, doc, paragraph, first, 7, 7, keepable, looked_up, kept)
        )
    for (family, _), postings_of_key in by_key.items():
        key_view(family, postings_of_key, want)
    return want, postings(columns)


@settings(max_examples=200, deadline=None)
@given(
    rows=_POSTINGS,
    keys=st.integers(1, 6),
    flags=st.lists(_FLAGS, min_size=72, max_size=72),
    batch=st.integers(1, 6),
    blocks=st.integers(1, 4),
)
def test_key_pairs_finds_what_key_view_finds(
    rows: list[tuple[int, int, int]],
    keys: int,
    flags: list[tuple[bool, bool, bool]],
    batch: int,
    blocks: int,
) -> None:
    """The array operations (keys split into ``blocks`` as the job's partitions split
    them, merged after) against the walk over one key's postings at a time."""
    want, table = _viewed_by_key(rows, keys, flags, batch)
    parts = [merged(key_pairs(part), candidates=False) for part in _split(table, blocks)]
    got = dict(shared_by_pair(merged(Pairs.joined(parts), candidates=False)))
    assert got == want


def _split(table: Postings, blocks: int) -> list[Postings]:
    """``table`` 's postings by key partition, as the job's ``blocks`` partitions split them."""
    return [Postings(*(c[table.key % blocks == b] for c in table)) for b in range(blocks)]


def _set_postings(
    rows: list[tuple[int, int, int]],
    keys: int,
    flags: list[tuple[bool, bool, bool]],
    batch: int,
    spare: list[int],
) -> Postings:
    """Postings ``(which key, doc, paragraph)`` as a paragraph posts them (its shingle keys
    a set), each paragraph with as many shingles as the shingle keys it posts and
    ``spare`` more by paragraph (the ones only it posts)."""
    seen: set[tuple[int, int, int, int]] = set()
    listed: list[tuple[int, int, int]] = []
    for which, doc, paragraph in rows:
        family, value = which % keys % 3, which % keys // 3
        if family == SHINGLES and (family, value, doc, paragraph) in seen:
            continue
        seen.add((family, value, doc, paragraph))
        listed.append((family << 32 | value, doc, paragraph))
    reach = Counter((doc, paragraph) for key, doc, paragraph in listed if key >> 32 == SHINGLES)
    columns = []
    for key, doc, paragraph in listed:
        shingles = reach[doc, paragraph]
        size = shingles + spare[doc * 24 + paragraph] if shingles else 0
        first = paragraph - paragraph % batch
        columns.append((key, doc, paragraph, first, size, shingles, *flags[doc * 24 + paragraph]))
    return postings(columns)


@settings(max_examples=300, deadline=None)
@given(
    rows=_POSTINGS,
    keys=st.integers(1, 6),
    flags=st.lists(_FLAGS, min_size=72, max_size=72),
    batch=st.integers(1, 6),
    blocks=st.integers(1, 4),
    spare=st.lists(st.integers(0, 4), min_size=72, max_size=72),
    far=st.booleans(),
)
def test_hopeful_leaves_the_candidates_as_they_were(
    rows: list[tuple[int, int, int]],
    keys: int,
    flags: list[tuple[bool, bool, bool]],
    batch: int,
    blocks: int,
    spare: list[int],
    far: bool,
) -> None:
    """The pairs each key partition (keys split into ``blocks``) finds, without the
    shingles that cannot make a candidate there, make the same candidates as all of them,
    once merged, and score them alike: what is left out is shingles that count for
    nothing (a pair of batches apart that shares fewer than half of its later paragraph's
    shingles, which :func:`~dedup.deduplicator._index_score` passes over). With ``far``,
    documents 1 and 2 are the lines of a second file, numbered ``1 << 40`` on (as
    :func:`~dedup.spark.job.read_jsonl` numbers them)."""
    table = _set_postings(rows, keys, flags, batch, spare)
    if far:
        table = table._replace(doc=np.where(table.doc > 0, (1 << 40) + table.doc - 1, table.doc))
    found, sent = [], []
    for part in _split(table, blocks):
        found.append(merged(key_pairs(part), candidates=False))
        sent.append(hopeful(found[-1], part))
    for candidates in (True, False):
        want = _scored(merged(Pairs.joined(found), candidates))
        assert _scored(merged(Pairs.joined(sent), candidates)) == want


def _scored(pairs: Pairs) -> dict[tuple[Gid, Gid], Shared]:
    """The shared counts of ``pairs`` by pair, as the plans read them: the shingles of a
    pair of batches apart only from half of its later paragraph's on, and no such pair
    left sharing nothing."""
    out = {}
    for (pair, shared), size in zip(shared_by_pair(pairs), pairs.p_size.tolist(), strict=True):
        bands, common, edges, inner, calm = shared
        if not inner and common * 2 < size:
            common = 0
        if inner or bands or common or edges:
            out[pair] = [bands, common, edges, inner, calm]
    return out


def test_hopeful_leaves_out_a_phrase_shared_by_long_paragraphs() -> None:
    """Two paragraphs that share one shingle key (a phrase) and post two more each (as
    many as their shingles allow some other paragraph to share): with 20 shingles the pair
    is no candidate whatever other partitions hold, and is not sent; with 5 it could be,
    where the partition does not hold their other keys."""

    def sent(size: int, held: tuple[int, ...]) -> int:
        table = postings(
            [
                (SHINGLES << 32 | key, doc, 0, 0, size, 3, True, True, True)
                for doc, own in ((0, (1, 2)), (1, (3, 4)))
                for key in (9, *own)
                if key in held
            ]
        )
        found = merged(key_pairs(table), candidates=False)
        assert len(found.p_doc) == 1
        return len(hopeful(found, table).p_doc)

    assert sent(20, (9, 1, 2, 3, 4)) == 0
    assert sent(20, (9,)) == 0
    assert sent(5, (9, 1, 2, 3, 4)) == 0  # shares 1 of 5 shingles, no more elsewhere
    assert sent(5, (9,)) == 1  # 3 of 5, if both post the other two keys elsewhere


@settings(max_examples=200, deadline=None)
@given(
    rows=_POSTINGS,
    keys=st.integers(1, 6),
    flags=st.lists(_FLAGS, min_size=72, max_size=72),
    flipped=st.lists(st.tuples(st.integers(0, 71), st.integers(0, 2)), max_size=6),
    batch=st.integers(1, 6),
)
def test_moved_finds_the_paragraphs_whose_buckets_changed(
    rows: list[tuple[int, int, int]],
    keys: int,
    flags: list[tuple[bool, bool, bool]],
    flipped: list[tuple[int, int]],
    batch: int,
) -> None:
    """A few paragraphs' flags flipped: the paragraphs whose pairs now differ, as the walk
    over each key finds them, are the ones :func:`moved` finds."""
    now = [list(f) for f in flags]
    for at, flag in flipped:
        now[at][flag] = not now[at][flag]
    before, old = _viewed_by_key(rows, keys, flags, batch)
    after, new = _viewed_by_key(rows, keys, [(a, b, c) for a, b, c in now], batch)
    want = {p for p, q in before.keys() | after.keys() if before.get((p, q)) != after.get((p, q))}
    doc, paragraph = moved(old, new)
    assert set(zip(doc.tolist(), paragraph.tolist(), strict=True)) == want


@settings(max_examples=300, deadline=None)
@given(
    rows=_POSTINGS,
    keys=st.integers(1, 6),
    flags=st.lists(_FLAGS, min_size=72, max_size=72),
    flipped=st.lists(st.tuples(st.integers(0, 71), st.integers(0, 2)), min_size=1, max_size=6),
    batch=st.integers(1, 6),
    idle=st.lists(st.integers(0, 71), max_size=12),
)
def test_a_round_adds_the_postings_the_tables_left_out(
    rows: list[tuple[int, int, int]],
    keys: int,
    flags: list[tuple[bool, bool, bool]],
    flipped: list[tuple[int, int]],
    batch: int,
    idle: list[int],
) -> None:
    """Tables that leave out the postings that do nothing (:func:`_active`), given the
    postings whose flags changed, mark the paragraphs that tables of every posting mark,
    and hold then the same postings that do something."""
    flags = [(False, False, False) if at in idle else f for at, f in enumerate(flags)]
    now = [list(f) for f in flags]
    for at, flag in flipped:
        now[at][flag] = not now[at][flag]
    _, old = _viewed_by_key(rows, keys, flags, batch)
    _, new = _viewed_by_key(rows, keys, [(a, b, c) for a, b, c in now], batch)
    changed = {at for at, _ in flipped if tuple(now[at]) != flags[at]}
    given = np.isin(new.doc * 24 + new.paragraph, list(changed))
    active = old.keepable | old.looked_up | old.kept

    def touched(kept: npt.NDArray[np.bool_]) -> tuple[set[tuple[int, ...]], set[Gid]]:
        tables = list(_tables(0, [(0, tuple(c[kept] for c in old))])) if kept.any() else []
        out = [value for _, value in _touched(0, [(0, tuple(c[given] for c in new)), *tables])]
        grown = [v.rows for v in out if isinstance(v, Grown)]
        flagged = [] if grown else [v.on(t.rows) for v, (_, t) in zip(out, tables, strict=False)]
        doing = set()
        for table in grown + flagged:
            for row in zip(*(c.tolist() for c in table), strict=True):
                if any(row[6:]):
                    doing.add(tuple(row))
        marks = {
            gid
            for v in out
            if isinstance(v, Marks)
            for gid in zip(v.doc.tolist(), v.paragraph.tolist(), strict=True)
        }
        return doing, marks

    assert touched(active) == touched(np.ones(len(active), dtype=bool))


@settings(max_examples=300, deadline=None)
@given(
    rows=_POSTINGS,
    keys=st.integers(1, 6),
    flags=st.lists(_FLAGS, min_size=72, max_size=72),
    batch=st.integers(1, 6),
    marked=st.sets(st.tuples(st.integers(0, 2), st.integers(0, 23)), max_size=12),
)
def test_a_later_round_sends_of_the_marked_paragraphs_what_the_first_would(
    rows: list[tuple[int, int, int]],
    keys: int,
    flags: list[tuple[bool, bool, bool]],
    batch: int,
    marked: set[Gid],
) -> None:
    """What a key partition sends in a later round of the paragraphs whose pairs there
    moved (:func:`_pairs_of_marked`) is what the first round finds of them with the same
    flags (:func:`_pair_blocks`), summed over its tables: the pairs a paragraph's
    partition keeps of the rounds before stand in for the rest."""
    rows = list({(which % keys, doc, paragraph): None for which, doc, paragraph in rows})
    _, table = _viewed_by_key(rows, keys, flags, batch)
    tables = [t.rows for _, t in _tables(0, [(0, tuple(table))])]

    def listed(pairs: Pairs) -> list[tuple[Any, ...]]:
        pairs = merged(pairs, candidates=True)
        p = zip(pairs.p_doc.tolist(), pairs.p_paragraph.tolist(), strict=True)
        rest = zip(*(c.tolist() for c in pairs[2:]), strict=True)
        return sorted(
            (*gid, *(tuple(v) if isinstance(v, list) else v for v in row))
            for gid, row in zip(p, rest, strict=True)
        )

    first = Pairs.joined([hopeful(merged(key_pairs(t), False), t) for t in tables])
    gids = zip(first.p_doc.tolist(), first.p_paragraph.tolist(), strict=True)
    mine = first.take(np.array([gid in marked for gid in gids], dtype=bool))
    assert listed(_pairs_of_marked(tables, marked)) == listed(mine)


def test_a_paragraph_is_planned_with_what_each_key_partition_sent_of_it_last() -> None:
    """A paragraph's pairs (:func:`_now`): of each key partition, those of the last round
    that marked it there (none, if that round sent none), else the first round's; of the
    paragraphs in play only."""

    def block(source: int, at: int, rows: list[tuple[int, int, int]]) -> Bucketed:
        p, q, count = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
        zero, no = np.zeros(len(p), dtype=np.int64), np.zeros(len(p), dtype=bool)
        counts = np.column_stack([count, zero, zero])
        return Bucketed(source, at, tuple(Pairs(zero, p, zero + 5, zero, q, counts, no, no)))

    def marked(source: int, at: int, paragraphs: list[int]) -> Marked:
        p = np.array(paragraphs, dtype=np.int64)
        return Marked(source, at, (np.zeros(len(p), dtype=np.int64), p))

    blocks = [
        block(0, 1, [(1, 0, 3), (2, 0, 4), (5, 0, 1)]),
        block(1, 1, [(1, 0, 2), (2, 0, 1), (3, 0, 6)]),
        block(0, 2, [(1, 0, 7)]),
        block(1, 3, [(2, 0, 9)]),
    ]
    marks = [marked(0, 2, [1]), marked(0, 3, [2]), marked(1, 3, [2])]
    got = _now(blocks, marks, {(0, 1), (0, 2), (0, 3)})
    columns = (got.p_paragraph, got.q_paragraph, got.counts[:, 0])
    rows = zip(*(c.tolist() for c in columns), strict=True)
    assert sorted(rows) == [(1, 0, 2), (1, 0, 7), (2, 0, 9), (3, 0, 6)]


def test_the_verdicts_known_go_with_the_paragraphs_in_play() -> None:
    """A later round plans the paragraphs that moved or were marked (:func:`_playing`),
    and the verdicts known on their pairs go with them, the others' left behind: a plan
    would verify again a pair whose verdict did not come."""
    from dedup.spark.job import Verdicts, _playing

    def view(paragraph: int, moved: int) -> Any:
        posted = Posted(0, paragraph, 0, 7, (), (), (), 3)
        return View.first(posted, True)._replace(moved=moved).plain()

    same, far = Verdict("exact", 1.0, "same"), Verdict(None, 0.2, "too different")
    found = [
        (((0, 0), (0, p), True, False), (Ref("a", 0), same if p % 2 else far)) for p in (1, 2, 3)
    ]
    found.append((((0, 1), (0, 3), True, False), (Ref("a", 1), far)))
    marked = Marked(4, 2, (np.array([0]), np.array([3])))
    items = [((0, 1), view(1, POSTINGS)), ((0, 2), view(2, STILL)), ((0, 3), view(3, STILL))]
    items += [(5, marked), *((5, block) for block in Verdicts.of(found))]
    out = list(_playing(5, items))
    assert [gid for gid, value in out if not isinstance(value, Verdicts)] == [(0, 1), (0, 3)]
    blocks = [value for key, value in out if isinstance(value, Verdicts) and key == 5]
    assert sum(int(block.sizes.sum()) for block in blocks) == 3
    known = dict(pair for block in blocks for blob in block.blobs for pair in pickle.loads(blob))
    assert known == {pair: found_record(*one) for pair, one in found if pair[1] != (0, 2)}


@settings(max_examples=300, deadline=None)
@given(
    gids=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
        max_size=40,
    ),
    far=st.sampled_from([0, 40, 61]),
    again=st.lists(st.integers(0, 39), max_size=10),
)
def test_pairs_are_ordered_and_told_apart_as_numpy_does_it_by_rows(
    gids: list[tuple[int, int, int, int]], far: int, again: list[int]
) -> None:
    """The order of pairs by paragraph (a pair's place as one number, each paragraph's, or
    by columns where the documents' numbers are too large for those) is the four-column
    lexsort's, and the rows no other equals are the ones ``np.unique`` over rows counts
    once."""
    columns = np.array(gids, dtype=np.int64).reshape(len(gids), 4).T
    if far:  # documents numbered as a file's lines past the first file (number << 40)
        columns[0] += 1 << far
        columns[2] += 1 << far
    p_doc, p_paragraph, q_doc, q_paragraph = columns
    want = np.lexsort((q_paragraph, q_doc, p_paragraph, p_doc))
    assert _pair_order(p_doc, p_paragraph, q_doc, q_paragraph).tolist() == want.tolist()
    rows = np.unique(columns.T, axis=0)  # a pair once in each reading, some in both
    rows = np.concatenate([rows, rows[[i for i in again if i < len(rows)]]])
    if len(rows):
        _, first, times = np.unique(rows, axis=0, return_index=True, return_counts=True)
        assert set(np.flatnonzero(_once(list(rows.T))).tolist()) == set(first[times == 1].tolist())


@settings(max_examples=200, deadline=None)
@given(rows=_POSTINGS, picks=st.lists(st.integers(0, 299), min_size=1, max_size=20))
def test_within_finds_the_postings_given_in_a_table(
    rows: list[tuple[int, int, int]], picks: list[int]
) -> None:
    """The rows of the keys given, each with the given row that is the same posting."""
    columns = sorted(
        (which, doc, paragraph, 0, 7, 7, True, True, True) for which, doc, paragraph in rows
    )
    table = postings(columns)
    given = [columns[at % len(columns)] for at in picks]
    sub, at = within(table, postings(given))
    keys = {row[0] for row in given}
    assert sub.tolist() == [n for n, row in enumerate(columns) if row[0] in keys]
    for n, a in zip(sub.tolist(), at.tolist(), strict=True):
        same = [g for g, row in enumerate(given) if row[:3] == columns[n][:3]]
        assert a == (same[0] if same else -1)
    with pytest.raises(AssertionError):
        within(table, postings([(columns[0][0], 99, 0, 0, 7, 7, True, True, True)]))


def _told(digest: list[int], gids: list[Gid], kept: list[bool]) -> dict[Gid, Exact]:
    """What each paragraph's digest tells, worked out from every paragraph: for the ones
    whose text another one has."""
    groups: dict[int, list[tuple[Gid, int, bool]]] = {}
    for d, gid, k in zip(digest, gids, kept, strict=True):
        groups.setdefault(d, []).append((gid, gid[1] // 2 * 2, k))
    return {
        gid: view for group in groups.values() if len(group) > 1 for gid, view in digest_view(group)
    }


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 7), st.booleans()),
        min_size=1,
        max_size=30,
        unique_by=lambda row: row[1:3],
    ),
    rounds=st.lists(st.lists(st.integers(0, 29), max_size=8), max_size=3),
)
def test_the_digest_tables_tell_what_changed(
    rows: list[tuple[int, int, int, bool]], rounds: list[list[int]]
) -> None:
    """A round's digest step tells each paragraph's digest view where it differs from the
    round before's (the first round: from a text of its own), whether from every
    paragraph or from the tables it kept and the statuses that changed."""
    digest = [row[0] for row in rows]
    gids = [(row[1], row[2]) for row in rows]
    kept = [row[3] for row in rows]

    def step(
        first: bool, given: list[int], tables: list[Any]
    ) -> tuple[list[Any], dict[Gid, Exact]]:
        listed = [(digest[n], *gids[n], gids[n][1] // 2 * 2, kept[n]) for n in given]
        columns = tuple(np.array(listed, dtype=np.uint64).reshape(len(listed), 5).T)
        out = list(_exact(3, first)(0, [(0, columns), *((0, t) for t in tables)]))
        told = {gid: view for _, v in out if isinstance(v, list) for gid, view in v}
        return [v for _, v in out if isinstance(v, Digests)], told

    tables, told = step(True, list(range(len(rows))), [])
    before = _told(digest, gids, kept)
    assert told == {gid: view for gid, view in before.items() if view != _ALONE}
    for flips in rounds:
        flipped = sorted({at % len(rows) for at in flips})
        for n in flipped:
            kept[n] = not kept[n]
        tables, told = step(False, flipped, tables)
        now = _told(digest, gids, kept)
        assert told == {gid: view for gid, view in now.items() if view != before[gid]}
        before = now


@settings(max_examples=200, deadline=None)
@given(
    gids=st.lists(st.tuples(st.integers(0, 2**45), st.integers(0, 2**20)), max_size=50),
    parts=st.integers(1, 64),
)
def test_the_job_places_paragraphs_as_its_partitioner_does(
    gids: list[tuple[int, int]], parts: int
) -> None:
    """Blocks of rows meant for a paragraph's partition go where the job's partitioner
    puts the paragraph (and a block keyed by a partition's number goes there)."""
    docs = np.array([doc for doc, _ in gids], dtype=np.int64)
    paragraphs = np.array([paragraph for _, paragraph in gids], dtype=np.int64)
    got = _places(docs, paragraphs, parts).tolist()
    assert got == [_place(gid) % parts for gid in gids]
    assert [_place(t) % parts for t in range(parts)] == list(range(parts))


def test_a_paragraph_gets_the_outcome_of_the_last_round_that_settled_it() -> None:
    """Whatever order a partition lists the rounds' records in (a union of RDDs lists the
    first one's first, but nothing needs it to), the last round's outcome stands."""
    kept = Outcome((0, 1), False, None, None, ()).plain()
    removed = Outcome((0, 1), True, Ref("a", 0), Verdict("exact", 1.0, "same"), ()).plain()
    rounds = [[((0, 1), (True, kept)), ((0, 2), (True, kept))], [((0, 1), (True, removed))]]
    records = [(gid, _in_round(at, r)) for at, got in enumerate(rounds) for gid, r in got]
    for order in (records, records[::-1]):
        assert dict(_latest(order)) == {(0, 1): removed, (0, 2): kept}


def test_what_an_outcome_tells_is_read_off_its_record() -> None:
    """A paragraph's document is told of it when it is removed or a close call, and its
    status flips by whether it is removed: read off the record as an Outcome says."""
    from dedup.spark.job import _removed, _told

    ref, close = Ref("a", 0), Verdict(None, 0.7, "says 'x' where the kept paragraph says 'y'")
    for outcome in (
        Outcome((0, 1), True, ref, Verdict("exact", 1.0, "same"), (Ref("b", 2),)),
        Outcome((0, 2), False, ref, close, ()),
        Outcome((0, 3), False, None, None, ()),
    ):
        record = outcome.plain()
        assert _told((outcome.gid, record)) == (outcome.removed or outcome.ref is not None)
        assert _removed(record) is outcome.removed


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of the types the pickler writes itself, all the way down."""
    if type(value) in (tuple, list):
        return all(_plain(item) for item in value)
    return type(value) in (str, bytes, int, float, bool, type(None))


def test_the_jobs_records_are_plain_and_make_the_same_objects_again() -> None:
    """What travels between the job's steps as plain tuples (which the pickler writes and
    reads without calling back into Python) makes the object it was made of again: every
    field, of its type."""
    pair = ((1, 2), (3, 4), True, False)
    removed = Outcome(
        (3, 4), True, Ref("a", 1), Verdict("near", 0.9, "same words"), (Ref("b", 2), Ref("c", 0))
    )
    outcomes = [
        removed,
        Outcome((3, 5), False, None, None, ()),
        Outcome((3, 6), False, Ref("a", 2), Verdict(None, 0.7, "close"), ()),
    ]
    step = Plan((3, 4), None, [((1, 2), True, False)], [((1, 3), False, True)])
    made: list[tuple[Any, Any]] = [(o, Outcome.of) for o in outcomes]
    made += [
        (Planned(True, step, (pair,)), Planned.of),
        (Decided(False, removed, (pair,), ()), Decided.of),
        (View(b"posted", True, Exact((0, 1), (0, 1), False), POSTINGS), View.of),
        (View(b"posted", False, _ALONE, STILL), View.of),
    ]
    text = "Two lines of words, the first one.\nAnd the second line, with other words."
    made += [(p, Print.of) for p in prints(7, "a", text, Config(split="lines"))[1]]
    assert len(made) == 9
    for thing, of in made:
        record = pickle.loads(pickle.dumps(thing.plain()))
        assert _plain(record)
        assert repr(of(record)) == repr(thing)
    found = (Ref("a", 1), Verdict("contained", 0.8, "an excerpt"))
    for verdict in (found, (found[0], None)):
        assert _plain(found_record(*verdict))
        assert repr(found_of(found_record(*verdict))) == repr(verdict)


def test_paragraphs_signed_where_they_are_worked_on_are_the_cleaners(monkeypatch: Any) -> None:
    """The job moves paragraphs as cut (:func:`cut_paragraphs`) and fingerprints them
    where they land, in groups of any size and documents mixed (:func:`signed`): each
    paragraph's fingerprint is the one the cleaner makes of its batch, with the lines of
    its wrapped sentence."""
    from dedup.fingerprint import fingerprint_batch
    from dedup.spark import plan as steps

    made: list[Any] = []  # the batches the cleaner had fingerprinted

    class Fingerprinting(steps._Recorder):
        def fingerprints(self, texts: list[str], wait: bool, wrapping: Any = None) -> Any:
            batch = fingerprint_batch(texts, self.config, None, wrapping)
            made.append(batch)
            return super().fingerprints(texts, wait, wrapping)

    monkeypatch.setattr(dedup.stream, "BATCH", 16)  # several batches a document
    config = Config(split="lines")
    rng = random.Random(3)
    prose = (
        "Later that week the mayor said that the committee approved the new road plan, which "
        "had been discussed for years by the council and the residents of the town. Work "
        "will start in the spring and should end before the winter, the mayor added."
    )
    words = prose.split()[:20]
    docs = [  # lines of random words, and sentences wrapped over lines among them
        "\n".join(
            " ".join(rng.choices(words, k=rng.randint(1, 12)))
            if rng.random() < 0.8
            else "\n".join(textwrap.wrap(prose, rng.randint(30, 60)))
            for _ in range(40)
        )
        for _ in range(5)
    ]
    docs.append(SEED.read_text(encoding="utf-8"))
    written, expected = [], []
    for doc, text in enumerate(docs):
        made.clear()
        cleaner = steps.Cleaner(Fingerprinting(config), f"d{doc}", lambda text: None, events=False)
        cleaner.feed(text)
        cleaner.close()
        cut = steps.cut_paragraphs(doc, f"d{doc}", text, config)[1]
        assert [p.raw for p in cut] == [t for b in made for t in b.texts]
        assert [p.wrapped for p in cut] == [w for b in made for w in b.wrapped]
        assert any(p.wrapped for p in cut) or doc == len(docs) - 1
        written += cut
        expected += [(b.normalized[r], int(b.digests[r])) for b in made for r in range(len(b))]
    whole = steps.signed(written, config)
    assert [(p.normalized, p.digest) for p in whole] == expected
    assert steps.signed_records(written, config) == [p.plain() for p in whole]
    by_doc = [steps.prints(doc, f"d{doc}", text, config)[1] for doc, text in enumerate(docs)]
    assert whole == [p for printed in by_doc for p in printed]
    for size in (1, 7, 100):
        pieces = [written[i : i + size] for i in range(0, len(written), size)]
        assert [p for piece in pieces for p in steps.signed(piece, config)] == whole
    # What verifying needs is made of the texts alone, as it is of their fingerprints.
    for text, p in zip(steps.texts_of(written, config), whole, strict=True):
        one = steps.Text.of(p)
        assert text.shingles.dtype == one.shingles.dtype
        assert text.shingles.tolist() == one.shingles.tolist()
        assert text._replace(shingles=None) == one._replace(shingles=None)
    assert steps.texts_of([], config) == []


def test_a_paragraph_served_to_another_partition_is_the_one_on_its_shelf(
    monkeypatch: Any,
) -> None:
    """What goes to verifying elsewhere (name and text as written, :meth:`Shelf.serve`)
    makes there the :class:`Text` its own partition reads from its shelves."""
    from dedup.spark import job
    from dedup.spark.job import _shelf, _Shelves, _text, _texts

    monkeypatch.setattr(job, "SHELF", 3)
    config = Config(split="lines")
    text = SEED.read_text(encoding="utf-8")
    records = [(p.gid, p.plain()) for p in prints(3, "seed", text, config)[1] if p.tokens]
    shelf = _Shelves([one for _, one in _shelf(0, records)])
    gids = [gid for gid, _ in records[::-1]]
    assert len(shelf.shelves) > 2
    taken = {gid: _text(*one) for gid, one in zip(gids, shelf.take(gids), strict=True)}
    for wrapped in (True, False):
        served = _texts(gids, shelf.serve(gids, [wrapped] * len(gids)), config)
        assert served.keys() == taken.keys()
        for gid in gids:
            mine, there = taken[gid], served[gid]
            assert there.shingles.tolist() == mine.shingles.tolist()
            assert there.shingles.dtype == mine.shingles.dtype
            there, mine = there._replace(shingles=None), mine._replace(shingles=None)
            assert there == (mine if wrapped else mine._replace(wrapped=""))


def test_a_later_copy_of_a_text_is_verified_by_the_earlier_ones_name_alone() -> None:
    """A pair of a paragraph and the earlier copy of its text its digest names (a plan's
    ``top``) needs no text sent where the two have one BLAKE2b (:func:`_wanted`): the
    earlier paragraph's name alone comes, and the verdict is the one verifying the texts
    gives; two texts taken for copies (a digest's collision, made here) are sent whole and
    verified as any pair is."""
    from dedup.spark.job import _looked_up, _missing_blocks, _served, _shelf, _verify, _wanted

    config = Config(split="lines")
    text = "the first paragraph of a few words\nanother one made of other words\n" * 2
    printed = [p for p in prints(4, "page", text, config)[1] if p.tokens]
    shelves = [(0, shelf) for _, shelf in _shelf(0, [(p.gid, p.plain()) for p in printed])]
    first, other, copy = (p.gid for p in printed[:3])

    def verified(q: Gid, top: Gid | None) -> tuple[list[Any], Any]:
        """What is sent for pair ``(q, copy)`` (q the plan's ``top`` or not) and its verdict."""
        step = Plan(copy, top, [(q, True, False)], [])
        planned = [(copy, Planned(True, step, ((q, copy, True, False),)).plain())]
        missing = list(_missing_blocks(0, planned))
        sums = [(0, shelf.sums_only()) for _, shelf in shelves]
        wanted = list(_wanted(1)(0, [*sums, *missing]))
        sent = list(_served([*shelves, *wanted]))
        found = [block for _, block in _verify(config)(0, [*shelves, *sent, *missing])]
        return [one for _, s in sent for one in s.served], _looked_up(found, [copy])

    served, thin = verified(first, first)
    assert served == [("page",)]
    assert found_of(thin[first, copy, True, False]) == (Ref("page", first[1]), EXACT)
    served, whole = verified(first, None)
    assert [len(one) for one in served] == [3]
    assert whole == thin
    served, collided = verified(other, other)
    assert [len(one) for one in served] == [3]
    ref, verdict = found_of(collided[other, copy, True, False])
    assert ref == Ref("page", other[1])
    assert verdict is None or not verdict.repeat


_GIDS = st.lists(
    st.sampled_from([(0, 1000003), (1, 0), (2, 1164997), (0, 0), (3, 1)])
    | st.tuples(st.integers(0, 5), st.integers(0, 5)),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(rows=_GIDS, wanted=_GIDS)
def test_rows_of_paragraphs_are_found_by_hash_and_told_apart_when_hashes_meet(
    rows: list[tuple[int, int]], wanted: list[tuple[int, int]]
) -> None:
    """The rows of columns ``(doc, paragraph)`` that are among some paragraphs are the ones
    a set of them finds, whether two paragraphs (wanted, or a row and a wanted one) share
    a hash (:func:`_code`: ``(0, 1000003)``, ``(1, 0)`` and ``(2, 1164997)`` do) or not."""
    from dedup.spark.job import _Among, _rows_of

    doc = np.array([d for d, _ in rows], dtype=np.int64)
    paragraph = np.array([p for _, p in rows], dtype=np.int64)
    found = _rows_of(doc, paragraph, _Among(wanted)).tolist()
    assert found == [i for i, gid in enumerate(rows) if gid in set(wanted)]


def test_shelves_find_their_paragraphs_when_two_share_a_hash() -> None:
    """A paragraph is found on its shelves by a hash of ``(doc, paragraph)``; two that
    share one are told apart, and one that is not there is an error, not another's text."""
    from dedup.spark.job import Shelf, _code, _Shelves

    gids = [(0, 1000003), (5, 2), (1, 0), (2, 9)]
    assert len({int(_code(np.array([d]), np.array([p]))[0]) for d, p in gids[::2]}) == 1
    written = [(f"doc {d}", f"text {d}.{p}", "") for d, p in gids]
    shelves = _Shelves(
        [
            Shelf.of(gids[:2], [b"a", b"bb"], written[:2], ["a", "b"]),
            Shelf.of(gids[2:], [b"ccc", b""], written[2:], ["c", "d"]),
        ]
    )
    order = [gids[2], gids[0], gids[3], gids[1]]
    assert shelves.serve(order, [True] * 4) == [written[gids.index(g)] for g in order]
    assert [blob for blob, _ in shelves.take(order)] == [b"ccc", b"a", b"", b"bb"]
    with pytest.raises(AssertionError, match="does not hold"):
        shelves.take([(1, 1000003)])
    with pytest.raises(AssertionError, match="does not hold"):
        _Shelves([]).take([(0, 0)])


@pytest.mark.parametrize("packing", [_Narrow, _Planar])
@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["int64", "int32", "uint64", "uint32", "int16", "bool"]),
    st.lists(st.integers(-(2**70), 2**70), max_size=40),
    st.integers(1, 3),
)
def test_a_block_arrives_as_it_was_sent(
    packing: type[_Narrow], dtype: str, values: list[int], width: int
) -> None:
    """A block's columns, pickled narrow (:class:`_Narrow`, and by byte plane:
    :class:`_Planar`), unpickle with their values and types, whatever the values
    (negative, past 32 bits, none)."""
    kind = np.dtype(dtype)
    if kind.kind != "b":
        info = np.iinfo(kind)
        values = [min(max(v, info.min), info.max) for v in values]
    column = np.array(values, dtype=kind)
    block = (column, np.repeat(column, width).reshape(len(column), width), column > 0)
    narrow = pickle.dumps(packing(block), pickle.HIGHEST_PROTOCOL)
    back = pickle.loads(narrow)
    assert type(back) is tuple
    for sent, got in zip(block, back, strict=True):
        assert got.dtype == sent.dtype and got.shape == sent.shape
        assert got.tolist() == sent.tolist()
    if len(values) > 10 and all(0 <= v < 256 for v in values) and kind.itemsize > 1:
        assert len(narrow) < len(pickle.dumps(block, pickle.HIGHEST_PROTOCOL))


def test_gaps_a_few_of_which_are_wide_compress_better_by_plane() -> None:
    """Gaps between keys that mostly fit two bytes, a few of them four (which narrow a
    block to four), compress better by byte plane (:class:`_Planar`)."""
    gaps = np.random.default_rng(1).geometric(1 / 3000, 20_000).astype(np.int64)
    gaps[::5000] = 2**31
    narrow, planar = (
        len(zlib.compress(pickle.dumps(packing((gaps,)), pickle.HIGHEST_PROTOCOL)))
        for packing in (_Narrow, _Planar)
    )
    assert planar < 0.85 * narrow


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2**32 - 1)), max_size=60))
def test_keys_sent_as_gaps_arrive_as_they_were(values: list[tuple[int, int]]) -> None:
    """Ascending keys of any families (:func:`_gaps`) come back from their gaps, which are
    never negative and stay within 32 bits."""
    key = np.unique(np.array([family << 32 | value for family, value in values], dtype=np.int64))
    family, gap = _gaps(key)
    assert gap.min(initial=0) >= 0 and gap.max(initial=0) < 2**32
    assert _keys(family, gap).tolist() == key.tolist()


def _record_of(p: Posted) -> tuple[Any, ...]:
    """``p`` as trimming takes it (:func:`~dedup.spark.job._posting`): keys as uint32 bytes."""
    return (*p[:4], *(np.array(v, dtype=np.uint32).tobytes() for v in p[4:7]), p.size)


_values = st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 5), max_size=6).map(tuple)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_values, _values, _values, st.booleans()), max_size=12),
    st.sets(st.integers(0, 5)),
)
def test_keys_in_columns_count_and_trim_as_sets_of_each_paragraph_do(
    drawn: list[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], bool]], kept: set[int]
) -> None:
    """The keys of a partition's paragraphs in columns (:class:`_Flat`) are counted once a
    paragraph among those counted, and trimmed paragraph by paragraph, family by family,
    in order, a value posted twice kept twice, as sets of each paragraph's keys do it."""
    paragraphs = [
        Posted(n, 0, 0, n, *values, len(values[1])) for n, (*values, _) in enumerate(drawn)
    ]
    counted = np.array([flag for *_, flag in drawn], dtype=bool)
    flat = _Flat.of([_record_of(p) for p in paragraphs])
    every = sorted({k for p in paragraphs for k in keys(p)})
    key, at = flat.distinct()
    assert key.tolist() == every and key[at].tolist() == flat.key.tolist()
    posters = Counter(
        k for p, flag in zip(paragraphs, counted, strict=True) if flag for k in set(keys(p))
    )
    assert flat.counts(at, counted).tolist() == [posters[k] for k in every]
    keep = {k for k in every if k & 0xFFFFFFFF in kept}
    trimmed = dict(flat.trimmed([_record_of(p) for p in paragraphs], np.isin(flat.key, list(keep))))
    for p in paragraphs:
        got = Posted._make(trimmed[p.gid])
        assert got.size == p.size and got[:4] == p[:4]
        assert keys(got) == [k for k in keys(p) if k in keep]


def test_the_job_spreads_paragraphs_over_its_partitions() -> None:
    """Documents of one paragraph each, or of many, fill every partition about evenly."""
    for docs, paragraphs in ((10_000, 1), (100, 100)):
        gids = [(doc, paragraph) for doc in range(docs) for paragraph in range(paragraphs)]
        for parts in (2, 3, 8, 64):
            counts = np.bincount([_place(gid) % parts for gid in gids], minlength=parts)
            assert counts.min() > 0.9 * len(gids) / parts


def test_the_settings_given_go_over_the_sessions_own() -> None:
    from dedup.spark import _settings

    # Its own: a local master with a 4 GB heap, shuffles compressed with zstd at level 3.
    own = _settings(None, "dedup", {}, {})
    assert own["spark.master"] == "local[*]"
    assert own["spark.driver.memory"] == "4g"
    assert own["spark.io.compression.codec"] == "zstd"
    assert own["spark.io.compression.zstd.level"] == "3"
    # --conf goes over them, and over spark-submit's; --master over --conf's master.
    given = {
        "spark.driver.memory": "16g",
        "spark.io.compression.codec": "lz4",
        "spark.io.compression.zstd.level": "1",
    }
    chosen = _settings("local[8]", "dedup", {**given, "spark.master": "yarn"}, {})
    assert {k: chosen[k] for k in given} == given
    assert chosen["spark.master"] == "local[8]"
    assert (
        _settings(None, "dedup", {"spark.driver.memory": "2g"}, {"spark.driver.memory": "8g"})[
            "spark.driver.memory"
        ]
        == "2g"
    )
    # spark-submit's choices stand where nothing else is given (not set again here), and a
    # cluster's driver gets no heap of ours.
    submitted = _settings(None, "dedup", {}, {"spark.master": "yarn"})
    assert "spark.master" not in submitted and "spark.driver.memory" not in submitted
    kept = _settings(None, "dedup", {}, {"spark.driver.memory": "8g"})
    assert "spark.driver.memory" not in kept


def test_a_setting_not_given_as_key_equals_value_is_refused(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dedup.cli import cli

    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "one"}\n', encoding="utf-8")
    for bad in ("spark.driver.memory", "=16g", " spark.x=1"):
        done = CliRunner().invoke(cli, ["spark", str(source), str(tmp_path / "out"), "--conf", bad])
        assert done.exit_code == 2
        assert done.stderr == f"Error: --conf {bad}: give a Spark setting as KEY=VALUE\n"
    assert not (tmp_path / "out").exists()


# --- on a real Spark ------------------------------------------------------------------------


def test_a_file_whose_name_is_not_utf8_is_refused_before_spark_meets_it(tmp_path: Path) -> None:
    from dedup.spark import jsonl_inputs

    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    name = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jsonl")
    Path(name).write_text('{"text": "x"}\n')
    with pytest.raises(InputError) as caught:
        jsonl_inputs([str(tmp_path)])
    assert str(caught.value) == f"{name}: its name is not UTF-8, which Spark cannot open: rename it"


def test_a_file_reached_twice_is_read_once_as_clean_reads_it(tmp_path: Path) -> None:
    from dedup.spark import jsonl_inputs

    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "y"}\n')
    a, b = str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")
    notes: list[str] = []
    given = [b, str(tmp_path), "hdfs://x/c.jsonl", f"{tmp_path}/./b.jsonl"]
    assert jsonl_inputs(given, note=notes.append) == [
        (b, b),
        (a, a),
        ("hdfs://x/c.jsonl", "hdfs://x/c.jsonl"),
    ]
    assert notes == [f"{name}: skipped, the same file as {b}" for name in (b, given[3])]


def _java() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PySpark is not installed (pip install -e '.[spark]')")
    if not _java():
        if os.environ.get("CI") == "true":
            pytest.fail("Java is missing: .ci/run installs default-jre-headless")
        pytest.skip("Spark needs Java (apt-get install default-jre-headless)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from dedup.spark import session

    started = session("local[2]")
    started.sparkContext.setLogLevel("ERROR")
    yield started
    started.stop()


def _write_jsonl(folder: Path, documents: list[tuple[str, str]], files: int = 3) -> None:
    folder.mkdir()
    for part in range(files):
        with (folder / f"part-{part}.jsonl").open("w", encoding="utf-8") as out:
            for n in range(part * len(documents) // files, (part + 1) * len(documents) // files):
                name, text = documents[n]
                out.write(json.dumps({"id": name, "text": text, "n": n}) + "\n")


_CLEAN = [sys.executable, "-m", "dedup", "clean", "--jsonl", "--scope", "corpus", "-q", "-j", "1"]


def _clean_jsonl(folder: Path, *options: str) -> str:
    """What ``dedup clean --jsonl --scope corpus`` writes for the files of ``folder``."""
    done = subprocess.run(
        [*_CLEAN, *options, str(folder)],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def _parts(folder: Path) -> str:
    return "".join(
        part.read_text(encoding="utf-8") for part in sorted(folder.glob("part-*")) if part.is_file()
    )


def _files(folder: Path) -> list[tuple[str, str]]:
    from dedup.spark import jsonl_inputs

    return jsonl_inputs([str(folder)])


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_the_job_writes_what_clean_writes_whatever_the_partitions(
    spark: Any, tmp_path: Path, partitions: int
) -> None:
    from dedup.spark import clean_jsonl

    folder = tmp_path / "in"
    _write_jsonl(folder, _corpus(partitions, 25, 80))
    out = tmp_path / "out"
    stats = clean_jsonl(
        spark, _files(folder), str(out), Config(split="lines"), partitions=partitions
    )
    want = _clean_jsonl(folder, "--split", "lines")
    assert _parts(out) == want
    assert stats.removed == sum(json.loads(line)["dedup"]["removed"] for line in want.splitlines())
    assert stats.removed > 100
    # Statuses assumed wrong and corrected in rounds that plan only what may change.
    assert stats.rounds >= 3
    assert stats.paragraphs < stats.planned < stats.paragraphs * 1.5


def test_a_jsonl_file_with_byte_order_marks_is_cleaned_as_clean_cleans_it(
    spark: Any, tmp_path: Path
) -> None:
    from dedup.spark import clean_jsonl

    folder = tmp_path / "in"
    folder.mkdir()
    lines = [
        json.dumps({"id": name, "text": text}) for name, text in _corpus(2, 6, 10)
    ]  # as Windows tools write them, concatenated: a BOM starts the file and two more lines
    text = "\ufeff" + "\r\n".join(lines[:3]) + "\r\n\ufeff\r\n\ufeff" + "\r\n".join(lines[3:])
    (folder / "a.jsonl").write_text(text + "\r\n", encoding="utf-8")
    clean_jsonl(spark, _files(folder), str(tmp_path / "out"), Config(split="lines"))
    want = _clean_jsonl(folder, "--split", "lines")
    assert want.startswith("\ufeff") and want.count("\ufeff") == 2
    assert _parts(tmp_path / "out").replace("\n", "\r\n") == want[1:]  # Spark drops the first


def test_the_work_takes_partitions_enough_for_its_text(spark: Any, monkeypatch: Any) -> None:
    from dedup.spark import job

    docs = spark.sparkContext.parallelize([(n, f"d{n}", "x" * 100) for n in range(50)], 3)
    assert job._partitions(docs) == 2  # 5,000 characters: Spark's parallelism on local[2]
    monkeypatch.setattr(job, "PART", 1000)
    assert job._partitions(docs) == 6  # at most 1,000 a partition, a multiple of 2 cores
    monkeypatch.setattr(job, "PART", 2500)
    assert job._partitions(docs) == 2


def test_the_tasks_run_the_cycle_collector_less_often_and_the_driver_as_it_was(
    spark: Any,
) -> None:
    """A task's Python worker, which imports the job's module to run a step, runs the
    collector less often (a tenth of the workers' time went to it); the driver, the
    host's process, keeps its own setting."""
    import gc
    import importlib

    from dedup.collector import THRESHOLD
    from dedup.spark import job

    def threshold(_: int) -> int:
        importlib.import_module("dedup.spark.job")
        return gc.get_threshold()[0]

    tasks = spark.sparkContext.parallelize([0, 1], 2).map(threshold).collect()
    assert tasks == [THRESHOLD, THRESHOLD]
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        job._collect_less_in_tasks()
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


@pytest.mark.skipif(
    os.environ.get("DEDUP_PURE_PYTHON") == "1",
    reason="six minutes on Spark: run once, with the compiled kernels (the steps and the "
    "small corpora are checked both ways)",
)
def test_the_job_writes_what_clean_writes_on_a_thousand_documents(
    spark: Any, tmp_path: Path
) -> None:
    from tests.test_corpus import _jsonl_folder

    folder = tmp_path / "jsonl"
    _jsonl_folder(folder)
    out = tmp_path / "out"
    from dedup.spark import clean_jsonl

    clean_jsonl(spark, _files(folder), str(out), Config(split="lines"), partitions=4)
    assert _parts(out) == _clean_jsonl(folder, "--split", "lines")


@pytest.mark.parametrize("partitions", [1, 3])
def test_trimming_leaves_the_keys_more_than_one_text_posts(spark: Any, partitions: int) -> None:
    """Whatever the partitions and blocks the keys travel in, a paragraph keeps the keys
    another text posts too (once or more), and only those: the copies of a text (every
    fifth paragraph is one of an earlier paragraph) count as one, told by the first
    paragraph of each text."""
    from dedup.spark import job

    rng = random.Random(partitions)
    paragraphs = []
    for n in range(60):
        bands, shingles, edges = (
            tuple(rng.randrange(40 if family else 2**32) for _ in range(rng.randrange(6)))
            for family in range(3)
        )
        gid = (n // 7, n % 7)
        text = Posted(*gid, 0, n, bands, shingles, edges, len(shingles))
        if n % 5 == 4:
            text = paragraphs[rng.randrange(n)]._replace(doc=gid[0], paragraph=gid[1])
        paragraphs.append(text)
    firsts = {}
    for p in paragraphs:
        firsts.setdefault(p.digest, p.gid)
    posters: dict[int, int] = {}
    for p in paragraphs:
        if firsts[p.digest] == p.gid:
            for key in set(keys(p)):
                posters[key] = posters.get(key, 0) + 1
    context = spark.sparkContext
    rdd = context.parallelize([(p.gid, _record_of(p)) for p in paragraphs], 2)
    first = context.parallelize([(gid, True) for gid in firsts.values()], 2)
    trimmed = dict(
        job._trimmed(
            rdd.partitionBy(partitions, _place),
            first.partitionBy(partitions, _place),
            partitions,
            block=3,
        ).collect()
    )
    for p in paragraphs:
        got = Posted._make(trimmed[p.gid])
        assert got._replace(bands=(), shingles=(), edges=()) == p._replace(
            bands=(), shingles=(), edges=()
        )
        assert keys(got) == [key for key in keys(p) if posters[key] > 1]
    assert (
        0
        < sum(map(len, map(keys, map(Posted._make, trimmed.values()))))
        < sum(len(keys(p)) for p in paragraphs)
    )


def test_the_job_never_cuts_a_document_with_another_ones_removals(spark: Any) -> None:
    from dedup.spark import job

    # A partition that lists its documents against the order of their numbers: the job
    # says so rather than cut each with what was decided for the other (the text of
    # document 0 lost as a repeat found in document 1).
    line = "A line repeated in two documents, and long enough to count.\n"
    docs = spark.sparkContext.parallelize(
        [(1, "b", line + "The second document's own line, long enough too.\n"), (0, "a", line)], 1
    )
    cuts, _ = job.clean(docs, Config(split="lines"))
    with pytest.raises(Exception, match="not in the order of their numbers"):
        cuts.collect()


def test_a_dataframe_is_cleaned_as_the_cleaner_cleans_it(spark: Any) -> None:
    from dedup.spark import clean_dataframe

    documents = _corpus(21, 12, 50)
    rows = [(number * 10, name, text) for number, (name, text) in enumerate(documents)]
    df = spark.createDataFrame(list(reversed(rows)), "n long, id string, text string")
    got = clean_dataframe(df, order="n", partitions=3, split="lines").collect()
    want = _one_machine(documents, Config(split="lines"))
    assert [row["id"] for row in got] == [name for name, _ in documents]
    for row, result in zip(got, want, strict=True):
        assert row["text"] == result.text
        assert row["dedup"]["removed"] == len(result.removed)
        removals = [r.asDict(recursive=True) for r in row["dedup"]["removals"]]
        expected = []
        for removal in result.removed:
            fields = removal.to_dict()
            fields.setdefault("duplicate_of_document", None)
            fields["also_repeats"] = [
                {"document": document, "index": index} for document, index in removal.also_repeats
            ]
            expected.append(fields)
        assert removals == expected


def test_a_dataframe_without_a_text_column_to_clean_is_refused_at_once(spark: Any) -> None:
    from dedup.errors import ConfigError
    from dedup.spark import clean_dataframe

    df = spark.createDataFrame([(1, 5)], "id int, body int")
    with pytest.raises(ConfigError, match=r"^no column 'text' \(text=...\)$"):
        clean_dataframe(df)
    with pytest.raises(ConfigError, match=r"^column 'body' holds int, not text \(text=...\)$"):
        clean_dataframe(df, text="body")
    df = spark.createDataFrame([(1, "a")], "id int, body string")
    with pytest.raises(ConfigError, match=r"^no column 'name' \(id=...; None names"):
        clean_dataframe(df, text="body", id="name")


def test_the_command_runs_and_refuses_what_it_cannot_do(spark: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dedup.cli import cli

    folder = tmp_path / "in"
    _write_jsonl(folder, _corpus(3, 10, 40), files=2)
    out = tmp_path / "out"
    runner = CliRunner()
    done = runner.invoke(
        cli, ["spark", str(folder), str(out), "--split", "lines", "--master", "local[2]"]
    )
    assert done.exit_code == 0, done.output
    assert _parts(out) == _clean_jsonl(folder, "--split", "lines")
    assert "removed" in done.stderr
    # An output that exists is not written over.
    again = runner.invoke(cli, ["spark", str(folder), str(out)])
    assert again.exit_code == 2
    assert again.stderr.strip().endswith(f"{out}: exists; name a new folder for the output")
    # A bad line is named as clean names it; nothing is written.
    with (folder / "part-1.jsonl").open("a", encoding="utf-8") as file:
        file.write('{"id": "x", "text": 3}\n')
    bad = runner.invoke(cli, ["spark", str(folder), str(tmp_path / "other")])
    assert bad.exit_code == 2
    lines = len((folder / "part-1.jsonl").read_text(encoding="utf-8").splitlines())
    assert f"part-1.jsonl:{lines}: has a non-string 'text' field" in bad.stderr
    assert not (tmp_path / "other").exists()


def test_spark_submit_runs_the_command(spark: Any, tmp_path: Path) -> None:
    import dedup.spark.submit

    folder = tmp_path / "in"
    _write_jsonl(folder, _corpus(4, 8, 30), files=1)
    submit = Path(sys.executable).parent / "spark-submit"
    command = [str(submit)] if submit.exists() else ["spark-submit"]
    arguments = [str(folder), str(tmp_path / "out"), "--split", "lines"]
    done = subprocess.run(
        [*command, "--master", "local[1]", dedup.spark.submit.__file__, *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _parts(tmp_path / "out") == _clean_jsonl(folder, "--split", "lines")
    assert "removed" in done.stdout  # spark-submit puts the program's stderr in its stdout


def test_the_command_cleans_parquet_keeping_its_columns(spark: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dedup.cli import cli

    documents = _corpus(8, 10, 40)
    rows = [(f"u{n}", text, n, 100 - n) for n, (_, text) in enumerate(documents)]
    frame = spark.createDataFrame(rows, "url string, body string, n long, rank long")
    frame.coalesce(2).write.parquet(str(tmp_path / "in"))
    out = tmp_path / "out"
    options = ["--text-field", "body", "--id-field", "url", "--order", "rank", "--split", "lines"]
    done = CliRunner().invoke(
        cli, ["spark", str(tmp_path / "in"), str(out), "--format", "parquet", *options, "-q"]
    )
    assert done.exit_code == 0, done.output
    got = spark.read.parquet(str(out)).orderBy("n", ascending=False).collect()
    assert [row["n"] for row in got] == list(range(len(documents)))[::-1]  # all columns kept
    # Taken in the order of rank: the last document first.
    ordered = [(f"u{n}", documents[n][1]) for n in reversed(range(len(documents)))]
    want = _one_machine(ordered, Config(split="lines"))
    assert [row["body"] for row in got] == [result.text for result in want]
    assert [row["dedup"]["removed"] for row in got] == [len(r.removed) for r in want]
    assert sum(len(r.removed) for r in want) > 20
    # What Spark cannot read is one line, exit 2.
    missing = CliRunner().invoke(
        cli, ["spark", str(tmp_path / "none"), str(tmp_path / "o"), "--format", "parquet"]
    )
    assert missing.exit_code == 2
    assert missing.stderr.startswith("Error: spark: ")
    assert len(missing.stderr.strip().splitlines()) == 1
