"""The Spark job: :mod:`dedup.spark.plan`'s steps as RDD operations.

Documents come in as ``(doc, name, text)``, ``doc`` their place in the order, and are cut
into paragraphs where they are; a paragraph travels as written (:func:`_cut`) and is
fingerprinted where it is worked on (:func:`_signed`). Whatever
is keyed by paragraph (``gid``) is partitioned alike, by :func:`_place`, so
that a union of such RDDs holds each paragraph's records in one partition (its steps are
``mapPartitions`` over such unions, records told apart by their type) and joining two of
them moves nothing. Each paragraph's :class:`View` (its keys, pickled, without its
texts; its status; what its digest tells) is kept for every round, and so are the
postings of each key, where the key is (:class:`Table`), and the paragraphs of each
digest shared, where the digest is (:class:`Digests`); a round starts from those, the
statuses that changed in the round before (``(gid, kept)``), the verdicts worked out
before (records of their own, by the partition of the later paragraph of each pair,
unpickled only for the paragraphs a step works on) and the outcomes of the rounds
before, of which it works out again only the ones that may change. Keys, digests and the
pairs found in buckets travel as numpy blocks keyed by the partition's number, not as a
record a posting; texts wait on shelves, pickled one by one, for the few a step
verifies; no record holds more than a block (:data:`BLOCK`) or a shelf (:data:`SHELF`).
The documents are cut where they were read. Nothing depends on the partitions: every
group is sorted by the paragraphs' places before it is walked. Records travel as plain
tuples (a class's ``plain()``, made an object again by its ``of()`` where a step reads
it), which the pickler writes and reads without calling back into Python.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import pickle
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from dedup.collector import collect_less
from dedup.config import Config
from dedup.errors import DedupError, InputError
from dedup.index import Ref
from dedup.shingles import TokenHasher, distinct
from dedup.sources import blank, jsonl_document
from dedup.spark.plan import (
    BANDS,
    EDGES,
    SHINGLES,
    Cut,
    Exact,
    Found,
    FoundRecord,
    Gid,
    Outcome,
    OutcomeRecord,
    Pairs,
    Plan,
    Posted,
    Postings,
    Print,
    PrintRecord,
    Shared,
    Text,
    Written,
    cut,
    cut_paragraphs,
    decision,
    digest_view,
    found_of,
    found_record,
    hopeful,
    key_pairs,
    keys,
    matched,
    merged,
    moved,
    named,
    plan,
    shared_by_pair,
    signed_records,
    texts_of,
    verdicts,
    within,
)
from dedup.verify import EXACT

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.storagelevel import StorageLevel

#: The family of a key as :func:`~dedup.spark.plan.keys` writes it (bands are 0).
SHINGLE, EDGE = SHINGLES << 32, EDGES << 32

#: A pair to verify: kept paragraph q, later paragraph p, q's fingerprint as written, and
#: whether a pair far apart by sketches is passed over.
Pair = tuple[Gid, Gid, bool, bool]


class Stats(NamedTuple):
    """What a run did: paragraphs (with words), rounds, verified pairs, plans made (a
    paragraph's in every round it is planned in), and (once the output is written)
    paragraphs removed."""

    paragraphs: int
    rounds: int
    verified: int
    planned: int = 0
    removed: int = 0


def _level() -> StorageLevel:
    from pyspark.storagelevel import StorageLevel

    return StorageLevel.MEMORY_AND_DISK


def _cut(config: Config) -> Any:
    """The paragraphs of a partition's documents as the cleaner cuts them, keyed by
    paragraph: ``(batch, name, raw, wrapped)`` (:class:`~dedup.spark.plan.Written`), what
    travels to where a paragraph is worked on (its text once, not its fingerprint: with its
    keys and normalized text, 239 bytes a line shuffled at a million lines in session 35's
    count, against 63 in session 37's run)."""

    def run(rows: Iterable[tuple[int, str, str]]) -> Iterator[tuple[Gid, tuple[Any, ...]]]:
        for doc, name, text in rows:
            for p in cut_paragraphs(doc, name, text, config)[1]:
                yield (p.doc, p.paragraph), p[2:]

    return run


#: How many paragraphs a partition fingerprints at once (:func:`_signed`).
SIGNED = 4096


def _signed(config: Config) -> Any:
    """The paragraphs with words of a partition (:func:`_cut`'s records), fingerprinted
    there, as records (:meth:`~dedup.spark.plan.Print.plain`)."""

    def run(items: Iterable[tuple[Gid, tuple[Any, ...]]]) -> Iterator[tuple[Gid, PrintRecord]]:
        hasher = TokenHasher()
        items = iter(items)
        while chunk := [Written(*gid, *rest) for gid, rest in itertools.islice(items, SIGNED)]:
            for record in signed_records(chunk, config, hasher):
                if record[_TOKENS] > 0:
                    yield (record[0], record[1]), record

    return run


#: Odd 64-bit multipliers that mix a paragraph's ``(doc, paragraph)`` into its place.
_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)
_MASK = (1 << 64) - 1


def _place(key: Any) -> int:
    """The partition function of every keyed RDD of the job (Spark takes it modulo the
    partitions): a partition's number (an int) stays, a paragraph ``(doc, paragraph)``
    goes by the high bits of a multiplicative mix of both. Not Spark's default
    (``portable_hash``), which for a tuple runs a Python loop and reads the environment
    on every call: a few microseconds a record, every time a paragraph's record moves.
    Every ``partitionBy`` of the job names it: PySpark and the JVM tell partitioners apart
    by the function object, and a union of RDDs partitioned alike is one only if theirs
    are the same."""
    if isinstance(key, int):
        return key
    doc, paragraph = key
    mixed: int = ((doc * _MIX[0] + paragraph * _MIX[1]) & _MASK) >> 33
    return mixed


def _places(doc: npt.NDArray[np.int64], paragraph: npt.NDArray[np.int64], parts: int) -> Any:
    """The partition of each paragraph ``(doc, paragraph)`` (:func:`_place`), in array
    operations (unsigned products wrap as the mask does)."""
    mix = doc.astype(np.uint64) * np.uint64(_MIX[0]) + paragraph.astype(np.uint64) * np.uint64(
        _MIX[1]
    )
    return (mix >> np.uint64(33)) % np.uint64(parts)


#: The most rows (or values) a block sent to a partition holds: the JVM holds a record
#: whole (a partition's keys as one block, at a million paragraphs on one partition, did
#: not fit a 1 GB heap), and a worker the records it reads.
BLOCK = 1 << 16


def _by_place(
    columns: Sequence[npt.NDArray[Any]], places: Any, parts: int
) -> Iterator[tuple[int, tuple[npt.NDArray[Any], ...]]]:
    """The rows of ``columns`` in blocks (of at most :data:`BLOCK` rows) by partition,
    keyed by the partition's number, which :func:`_place` sends block ``t`` to, beside
    the paragraphs that are there; each block :class:`_Narrow` on the way."""
    order = np.argsort(places, kind="stable")
    bounds = np.searchsorted(places[order], np.arange(parts + 1)).tolist()
    for t in range(parts):
        for start in range(bounds[t], bounds[t + 1], BLOCK):
            rows = order[start : min(start + BLOCK, bounds[t + 1])]
            yield t, _Narrow(column[rows] for column in columns)


class _Narrow(tuple[npt.NDArray[Any], ...]):
    """Columns that pickle in the narrowest integer type that holds their values and
    unpickle as they were (a tuple, each column of its own type again): a block's
    paragraph numbers, sizes and counts mostly fit a byte or two, and the shuffle's
    compression takes out only part of an int64's zeros (the pairs found in buckets: 119
    → 67 bytes a line shuffled at 100,000 lines)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _widened, (tuple(map(_narrowest, self)), tuple(c.dtype.str for c in self))


def _narrowest(column: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if column.dtype.kind not in "iu" or not column.size:
        return column
    low, high = column.min(), column.max()
    narrow = np.result_type(np.min_scalar_type(low), np.min_scalar_type(high))
    return column.astype(narrow) if narrow.itemsize < column.dtype.itemsize else column


def _widened(
    columns: tuple[npt.NDArray[Any], ...], types: tuple[str, ...]
) -> tuple[npt.NDArray[Any], ...]:
    """:class:`_Narrow` 's columns as they were."""
    return tuple(c.astype(t, copy=False) for c, t in zip(columns, types, strict=True))


class _Planar(_Narrow):
    """:class:`_Narrow` columns pickled by byte plane (every value's lowest byte, then
    every value's next, ...): the gaps between a partition's keys (:func:`_gaps`) mostly
    fit two bytes, but a few in a block take three or four, and the block narrows to four;
    by plane the compression finds the high bytes' zeros (the keys sent to be trimmed:
    55.6 -> 44.8 bytes a line shuffled at 100,000 lines; the other blocks, whose values
    narrow well or are random, did not shrink so)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _unplaned, (tuple(map(_planes, self)), tuple(c.dtype.str for c in self))


def _planes(column: npt.NDArray[Any]) -> Any:
    narrow = _narrowest(column)
    if narrow.dtype.kind not in "iu" or narrow.dtype.itemsize == 1:
        return narrow
    planes = narrow.reshape(-1).view(np.uint8).reshape(-1, narrow.dtype.itemsize).T
    return np.ascontiguousarray(planes).tobytes(), narrow.dtype.str, narrow.shape


def _unplaned(columns: tuple[Any, ...], types: tuple[str, ...]) -> tuple[npt.NDArray[Any], ...]:
    """:class:`_Planar` 's columns as they were."""
    out = []
    for column, kind in zip(columns, types, strict=True):
        if not isinstance(column, np.ndarray):
            data, narrow, shape = column
            planes = np.frombuffer(data, np.uint8).reshape(np.dtype(narrow).itemsize, -1)
            column = np.ascontiguousarray(planes.T).view(narrow).reshape(shape)
        out.append(column.astype(kind, copy=False))
    return tuple(out)


def _by_paragraph(values: Sequence[Any], gids: Sequence[Gid], parts: int) -> Iterator[Any]:
    """``values`` in lists (of at most :data:`BLOCK`) by the partition of the paragraphs
    ``gids`` (one a value), keyed by the partition's number."""
    if not values:
        return
    places = _places(
        np.array([gid[0] for gid in gids], dtype=np.int64),
        np.array([gid[1] for gid in gids], dtype=np.int64),
        parts,
    ).tolist()
    by_place: dict[int, list[Any]] = defaultdict(list)
    for value, place in zip(values, places, strict=True):
        by_place[place].append(value)
    for place, listed in by_place.items():
        for start in range(0, len(listed), BLOCK):
            yield place, listed[start : start + BLOCK]


def _key_blocks(parts: int, which: Callable[[tuple[bool, bool, bool]], bool] | None = None) -> Any:
    """A partition's postings (of its paragraphs' :class:`View` s), by the partition of
    their keys: of every paragraph, or of those whose flags ``which`` takes
    (:func:`_active`)."""

    def run(items: Iterable[tuple[Gid, ViewRecord]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
        listed: list[list[int]] = []  # each paragraph's keys
        rows: list[tuple[int, int, int, int, int, bool, bool, bool]] = []
        for gid, record in items:
            view = View.of(record)
            if which is not None and not which(view.flags):
                continue
            p = view.posted
            listed.append(keys(p))
            rows.append((*gid, p.batch, p.size, len(p.shingles), *view.flags))
        if not rows:
            return
        counts = np.fromiter(map(len, listed), dtype=np.int64, count=len(listed))
        key = np.fromiter(itertools.chain.from_iterable(listed), np.int64, int(counts.sum()))
        columns = np.repeat(np.array(rows, dtype=np.int64).reshape(len(rows), 8), counts, 0).T
        flags = columns[5:].astype(bool)
        table = Postings(key, *columns[:5], *flags)
        yield from _by_place(table, table.key % parts, parts)

    return run


def _active(flags: tuple[bool, bool, bool]) -> bool:
    """Whether a paragraph's postings do anything (:func:`~dedup.spark.plan.key_view`): one
    that cannot be kept, is not kept and looks nothing up (a later copy of a text an
    earlier batch keeps) neither finds nor is found, nor takes room in a bucket. The first
    round's tables leave such postings out (a third of them at 100,000 lines of the
    shuffled corpus; the tables 129 → 37 bytes a line shuffled at a million); a round that
    makes one do something adds them (:func:`_touched`)."""
    return any(flags)


class Table(NamedTuple):
    """Postings of a key partition, ordered by key and paragraph, every posting of a key
    in one table (of about :data:`BLOCK` rows): kept for every round, with its flags as
    the first round had them (:class:`Flags` says how the rounds after have them), but
    the postings that did nothing then (:func:`_active`): a round that adds some of
    those makes the partition's tables again (:class:`Grown`)."""

    rows: Postings


class Grown(NamedTuple):
    """A key partition's table made again in a round that added postings to its tables
    (with their flags of the round): one of the tables that replace the first round's
    :class:`Table` s from then on, as :class:`Flags` would have told their flags."""

    rows: Postings


class Flags(NamedTuple):
    """The flags of a :class:`Table` 's postings in a round, in its order, as bits
    (keepable 1, looked up 2, kept 4): a key partition's, one a table, in the tables'
    order."""

    bits: npt.NDArray[np.uint8]

    @staticmethod
    def of(rows: Postings) -> Flags:
        """The flags of ``rows`` as they are."""
        bits = rows.keepable.astype(np.int64) + 2 * rows.looked_up + 4 * rows.kept
        return Flags(bits.astype(np.uint8))

    def on(self, rows: Postings) -> Postings:
        """``rows`` (the table these flags are of) with these flags."""
        if len(self.bits) != len(rows.key):
            raise AssertionError("flags of another table")
        return rows._replace(
            keepable=self.bits & 1 > 0, looked_up=self.bits & 2 > 0, kept=self.bits & 4 > 0
        )


def _tables(index: int, blocks: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Table]]:
    """A key partition's postings (every posting of its keys) as :class:`Table` s."""
    listed = [Postings(*block) for _, block in blocks]
    if not listed:
        return
    table = Postings(*(np.concatenate(column) for column in zip(*listed, strict=True)))
    order = np.lexsort((table.paragraph, table.doc, table.key))
    table = Postings._make(column[order] for column in table)
    # Keys a few at a time (every posting of a key in one piece), so that only one piece's
    # pairs are held at once; _plans sums what pieces send of one pair.
    for a, b in _pieces(table.key):
        yield index, Table(Postings._make(column[a:b] for column in table))


def _starts(key: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Where each run of one value of ``key`` (ordered) starts."""
    if not len(key):
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))


def _pieces(key: npt.NDArray[Any]) -> Iterator[tuple[int, int]]:
    """``key`` (ordered) in pieces of about :data:`BLOCK` rows, every row of a value in
    one piece: each one's bounds."""
    starts = _starts(key)
    at = np.minimum(np.searchsorted(starts, np.arange(0, len(key), BLOCK)), len(starts) - 1)
    yield from itertools.pairwise([*distinct(starts[at]).tolist(), len(key)])


class Bucketed(NamedTuple):
    """Pairs found in the buckets of key partition ``source`` in round ``round`` (its
    :class:`~dedup.spark.plan.Pairs` in columns), sent to the partition of their later
    paragraphs: the first round's of every paragraph, a later round's of the paragraphs
    whose pairs there moved (:class:`Marked`), which replace what that partition sent of
    them before."""

    source: int
    round: int
    pairs: tuple[npt.NDArray[Any], ...]


class Marked(NamedTuple):
    """Paragraphs ``(doc, paragraph)``, in columns, whose pairs in the buckets of key
    partition ``source`` moved in round ``round`` (:class:`Marks`), sent to their
    partition: they are planned again, with the pairs that key partition sent of them in
    that round (:class:`Bucketed`, none if it sent none)."""

    source: int
    round: int
    gids: tuple[npt.NDArray[Any], ...]


def _pair_blocks(parts: int) -> Any:
    """The pairs in the buckets of a partition's keys (its :class:`Table` s), by the
    partition of the paragraph whose buckets they are: the first round's."""

    def run(index: int, tables: Iterable[tuple[int, Table]]) -> Iterator[tuple[int, Bucketed]]:
        for _, table in tables:
            pairs = hopeful(merged(key_pairs(table.rows), False), table.rows)
            for place, block in _by_place(
                pairs, _places(pairs.p_doc, pairs.p_paragraph, parts), parts
            ):
                yield place, Bucketed(index, 1, block)

    return run


def _read(
    items: Iterable[tuple[int, Any]],
) -> tuple[Postings | None, Iterator[Postings], bool]:
    """A key partition's postings given (blocks of :func:`_key_blocks`, ordered by key), or
    None; its tables with their flags of this round (the :class:`Table` s with their
    :class:`Flags`, or the :class:`Grown` ones that replace them); whether grown. The
    given blocks, the flags and the grown tables come first (:func:`_union` keeps the
    order of its RDDs)."""
    items = iter(items)
    blocks: list[Postings] = []
    flags: list[Flags] = []
    grown: list[Postings] = []
    first: Table | None = None
    for _, value in items:
        if isinstance(value, Table):
            first = value
            break
        if isinstance(value, Flags):
            flags.append(value)
        elif isinstance(value, Grown):
            grown.append(value.rows)
        else:
            blocks.append(Postings(*value))
    given = None
    if blocks:
        joined = [np.concatenate(c) for c in zip(*blocks, strict=True)]
        order = np.argsort(joined[0], kind="stable")
        given = Postings._make(c[order] for c in joined)

    def tables() -> Iterator[Postings]:
        yield from grown
        count = 0
        for _, value in itertools.chain([(0, first)] if first else [], items):
            if not isinstance(value, Table):
                raise AssertionError("records of a key partition after its tables")
            if not grown:
                yield flags[count].on(value.rows) if flags else value.rows
            count += 1
        if flags and len(flags) != count:
            raise AssertionError("flags of tables not there")

    return given, tables(), bool(grown)


def _of_keys(given: Postings | None, rows: Postings) -> Postings | None:
    """The postings ``given`` (ordered by key) of the keys of ``rows``, or None."""
    if given is None or not len(rows.key):
        return None
    lo = np.searchsorted(given.key, rows.key[0], "left")
    hi = np.searchsorted(given.key, rows.key[-1], "right")
    return Postings._make(c[lo:hi] for c in given) if hi > lo else None


class Marks(NamedTuple):
    """Paragraphs ``(doc, paragraph)`` whose pairs in a key partition's buckets moved."""

    doc: npt.NDArray[np.int64]
    paragraph: npt.NDArray[np.int64]


def _touched(index: int, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """A key partition's tables given the postings whose flags changed: the flags now
    (:class:`Flags`, one a table; or, where postings the tables left out come to do
    something, the tables made again with them, :class:`Grown`), the paragraphs whose
    pairs moved (:class:`Marks`) and those pairs now (:func:`_pairs_of_marked`)."""
    given, listed, grown = _read(items)
    tables = list(listed)
    if given is not None:
        whole = Postings._make(
            np.concatenate(c)
            for c in zip(*tables, Postings._make(c[:0] for c in given), strict=True)
        )
        _, _, held = matched(whole, given)
        if not held.all():  # postings that did nothing, as they were: to add
            added = Postings._make(c[~held] for c in given)
            none = np.zeros(len(added.key), dtype=bool)
            added = added._replace(keepable=none, looked_up=none, kept=none)
            whole = Postings._make(np.concatenate(c) for c in zip(whole, added, strict=True))
            order = np.lexsort((whole.paragraph, whole.doc, whole.key))
            whole = Postings._make(c[order] for c in whole)
            tables = [Postings._make(c[a:b] for c in whole) for a, b in _pieces(whole.key)]
            grown = True
    marked: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    now_tables = []
    for rows in tables:
        told = _of_keys(given, rows)
        if told is not None:
            sub, at = within(rows, told)
            old = Postings._make(c[sub] for c in rows)
            hit = at >= 0
            now = [c.copy() for c in (rows.keepable, rows.looked_up, rows.kept)]
            for column, new in zip(now, (told.keepable, told.looked_up, told.kept), strict=True):
                column[sub[hit]] = new[at[hit]]
            rows = rows._replace(keepable=now[0], looked_up=now[1], kept=now[2])
            marked.append(moved(old, Postings._make(c[sub] for c in rows)))
        now_tables.append(rows)
        yield index, Grown(rows) if grown else Flags.of(rows)
    if marked:
        doc, paragraph = (np.concatenate(c) for c in zip(*marked, strict=True))
        yield index, Marks(doc, paragraph)
        gids = set(zip(doc.tolist(), paragraph.tolist(), strict=True))
        yield index, _pairs_of_marked(now_tables, gids)


def _pairs_of_marked(tables: Sequence[Postings], marked: AbstractSet[Gid]) -> Pairs:
    """The pairs in the buckets of a key partition's ``tables`` (their flags of this round)
    of the paragraphs ``marked`` (as the later paragraph of each), as the first round's
    are found (:func:`_pair_blocks`): what the partition sends of them now."""
    found = []
    among = _Among(marked)
    for rows in tables:
        mine = _rows_of(rows.doc, rows.paragraph, among)
        if not len(mine):
            continue
        sub, at = within(rows, Postings._make(c[mine] for c in rows))
        asked = Postings._make(c[sub] for c in rows)
        asked = asked._replace(looked_up=asked.looked_up & (at >= 0))
        found.append(hopeful(merged(key_pairs(asked), False), asked))
    return Pairs.joined(found)


def _placed(parts: int, at: int) -> Any:
    """A key partition's :class:`Marks` and the pairs of the paragraphs they name, by the
    partition of those paragraphs, as :class:`Marked` and :class:`Bucketed` of round
    ``at``."""

    def run(item: tuple[int, Marks | Pairs]) -> Iterator[tuple[int, Marked | Bucketed]]:
        source, value = item
        if isinstance(value, Marks):
            places = _places(value.doc, value.paragraph, parts)
            for place, block in _by_place(value, places, parts):
                yield place, Marked(source, at, block)
        else:
            places = _places(value.p_doc, value.p_paragraph, parts)
            for place, block in _by_place(value, places, parts):
                yield place, Bucketed(source, at, block)

    return run


def _digests(index: int, items: Iterable[tuple[Gid, ViewRecord]]) -> Iterator[tuple[int, Any]]:
    """A partition's paragraphs as the digest steps need them: ``(digest, doc, paragraph,
    batch, kept)`` in columns (blocks keyed by the partition's number), made once:
    ``kept`` the status the first round assumes."""
    rows = []
    for gid, record in items:
        view = View.of(record)
        p = view.posted
        rows.append((p.digest, *gid, p.batch, view.kept))
    table = np.array(rows, dtype=np.uint64).reshape(len(rows), 5).T
    for start in range(0, len(rows), BLOCK):
        yield index, tuple(column[start : start + BLOCK] for column in table)


def _digest_blocks(parts: int, first: bool) -> Any:
    """A partition's paragraphs (:func:`_digests`) by the partition of their digest: in
    the ``first`` round every one, as it assumes it, else, given the statuses that
    changed (``(gid, kept)``), the ones whose status changed, with it."""

    def run(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[int, Any]]:
        flips: dict[Gid, bool] = {}
        blocks = []
        for key, value in items:
            if isinstance(key, int):
                blocks.append(value)
            else:
                flips[key] = value
        found = 0
        among = _Among(flips.keys())
        for columns in blocks:
            if not first:
                rows = _rows_of(columns[1], columns[2], among)
                found += len(rows)
                gids = zip(columns[1][rows].tolist(), columns[2][rows].tolist(), strict=True)
                kept = np.array([flips[gid] for gid in gids], dtype=np.uint64)
                columns = (*(column[rows] for column in columns[:4]), kept)
            yield from _by_place(columns, columns[0] % np.uint64(parts), parts)
        if found != len(flips):
            raise AssertionError("statuses sent to a partition that does not hold them")

    return run


class Digests(NamedTuple):
    """A digest partition's paragraphs whose text another paragraph has, ``(digest, doc,
    paragraph, batch, kept)`` in columns, ordered by digest and paragraph (every one of a
    digest in one piece of about :data:`BLOCK` rows), ``kept`` the status assumed in a
    round: kept for the round after, which is given only the statuses that changed."""

    rows: tuple[npt.NDArray[np.uint64], ...]


def _exact(parts: int, first: bool) -> Any:
    """What each paragraph's digest tells (:func:`~dedup.spark.plan.digest_view`) where that
    differs from what it told the round before (before the first round: :data:`_ALONE`),
    in lists by the partition of each paragraph, and the digest partition's
    :class:`Digests` of the round; given every paragraph's rows as the ``first`` round
    assumes them (:func:`_digest_blocks`), or the :class:`Digests` of the round before
    and the rows of the paragraphs whose status changed."""

    def run(index: int, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        tables: list[Digests] = []
        given: list[tuple[npt.NDArray[np.uint64], ...]] = []
        for _, value in items:
            if isinstance(value, Digests):
                tables.append(value)
            else:
                given.append(value)
        if not (given if first else tables):
            return  # no paragraph of the partition's digests shares its text
        columns = [np.concatenate(c) for c in zip(*given, strict=True)]
        before: npt.NDArray[np.uint64] | None = None
        if not first:
            table = [np.concatenate(c) for c in zip(*(t.rows for t in tables), strict=True)]
            before = table[4].copy()
            starts: list[int] = []
            if columns:
                digest, doc, paragraph, _, kept = columns
                lo = np.searchsorted(table[0], digest, "left").tolist()
                hi = np.searchsorted(table[0], digest, "right").tolist()
                for at, (a, b) in enumerate(zip(lo, hi, strict=True)):
                    same = (table[1][a:b] == doc[at]) & (table[2][a:b] == paragraph[at])
                    table[4][a + np.flatnonzero(same)] = kept[at]
                starts = sorted({a for a, b in zip(lo, hi, strict=True) if b > a})
        else:
            order = np.lexsort((columns[2], columns[1], columns[0]))
            digest = columns[0][order]
            shared = np.zeros(len(digest), dtype=bool)
            shared[1:] = digest[1:] == digest[:-1]
            shared[:-1] |= shared[1:].copy()
            table = [column[order[shared]] for column in columns]
            starts = _starts(table[0]).tolist()
        found: list[tuple[Gid, Exact]] = []
        ends = np.searchsorted(table[0], table[0][starts], "right").tolist()
        for a, b in zip(starts, ends, strict=True):
            doc, paragraph, batch = (table[c][a:b].tolist() for c in (1, 2, 3))
            gids = list(zip(doc, paragraph, strict=True))
            now = digest_view(zip(gids, batch, (table[4][a:b] > 0).tolist(), strict=True))
            old: dict[Gid, Exact] = {}
            if before is not None:
                kept_before = (before[a:b] > 0).tolist()
                old = dict(digest_view(zip(gids, batch, kept_before, strict=True)))
            found += [(gid, view) for gid, view in now if view != old.get(gid, _ALONE)]
        for a, b in _pieces(table[0]):
            yield index, Digests(tuple(column[a:b] for column in table))
        yield from _by_paragraph(found, [gid for gid, _ in found], parts)

    return run


#: What the digest of a paragraph that no other paragraph has tells.
_ALONE = Exact(None, None, True)


#: A :class:`View` as a record of the job (:meth:`View.plain`).
ViewRecord = tuple[bytes, bool, tuple[Gid | None, Gid | None, bool], int]


class View(NamedTuple):
    """A paragraph in a round: what finding its candidates needs, its status assumed,
    what its digest tells, and what of that ``moved`` since the round before: nothing
    (:data:`STILL`), what its own plan is made of (:data:`ITSELF`: its digest's view), or
    its postings' flags too (:data:`POSTINGS`). What finding candidates needs is kept
    pickled (``blob``): a round reads every View, and works on a few."""

    blob: bytes
    kept: bool
    exact: Exact
    moved: int

    @staticmethod
    def first(p: Posted, kept: bool) -> View:
        """``p`` 's View before the first round: status ``kept``, the only one of its
        text (what the digest tells comes in the round)."""
        return View(pickle.dumps(tuple(p), pickle.HIGHEST_PROTOCOL), kept, _ALONE, POSTINGS)

    def plain(self) -> ViewRecord:
        """As the job's records hold it: plain tuples, which the pickler writes and reads
        itself, where a NamedTuple goes through ``__reduce_ex__`` and its ``__new__`` in
        Python (several times slower: a third of the workers' time went to pickling on a
        million lines, every View read in every round)."""
        return self.blob, self.kept, tuple(self.exact), self.moved  # type: ignore[return-value]

    @staticmethod
    def of(record: ViewRecord) -> View:
        """A View from its record (:meth:`plain`)."""
        blob, kept, exact, moved = record
        return View(blob, kept, Exact(*exact), moved)

    @property
    def posted(self) -> Posted:
        """What finding its candidates needs (unpickled on each call: pickled as a plain
        tuple, see :meth:`plain`)."""
        return Posted._make(pickle.loads(self.blob))

    @property
    def flags(self) -> tuple[bool, bool, bool]:
        """Its postings' flags: keepable, looked up, kept (see :class:`Postings`)."""
        return self.exact.keepable, self.exact.indexed is None, self.kept


STILL, ITSELF, POSTINGS = 0, 1, 2
#: Where a :class:`View`'s record holds what moved.
_MOVED = View._fields.index("moved")


def _viewed(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Gid, ViewRecord]]:
    """A partition's paragraphs (their :class:`View` s of the round before) given the
    statuses that changed (``(gid, kept)``) and what their digests tell that changed
    (lists keyed by an int, :func:`_exact`)."""
    before: list[tuple[Gid, ViewRecord]] = []
    kept: dict[Gid, bool] = {}
    exact: dict[Gid, Exact] = {}
    for key, value in items:
        if isinstance(key, int):
            exact.update(value)
        elif isinstance(value, bool):
            kept[key] = value
        else:
            before.append((key, value))
    given = kept.keys() | exact.keys()
    for gid, record in before:
        if gid not in given:  # most: read as records (View.of makes objects)
            if record[_MOVED] != STILL:
                record = (record[0], record[1], record[2], STILL)
            yield gid, record
            continue
        given.discard(gid)
        old = View.of(record)
        view = View(old.blob, kept.get(gid, old.kept), exact.get(gid, old.exact), STILL)
        if view.flags != old.flags:
            view = view._replace(moved=POSTINGS)
        elif view.exact != old.exact:
            view = view._replace(moved=ITSELF)
        yield gid, view.plain()
    _here(given, set())


def _playing(index: int, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """The :class:`View` s of a partition's paragraphs to plan again in a round: the ones
    that moved, and the ones whose pairs moved (:class:`Marks` of key partitions); and the
    verdicts known on their pairs (:class:`Verdicts`), which the round's steps read
    instead of every verdict known (a read of those took seconds a step, session 50)."""
    views: list[tuple[Gid, ViewRecord]] = []
    marked: set[Gid] = set()
    known: list[Verdicts] = []
    for key, value in items:
        if isinstance(value, Marked):
            marked.update(zip(*(c.tolist() for c in value.gids), strict=True))
        elif isinstance(value, Verdicts):
            known.append(value)
        elif not isinstance(key, int):
            views.append((key, value))
    _here(marked, {gid for gid, _ in views})
    playing = []
    for gid, record in views:
        if record[_MOVED] or gid in marked:
            playing.append(gid)
            yield gid, record
    among = _Among(playing)
    for block in known:
        mine = block.among(among)
        if len(mine.doc):
            yield index, mine


def _here(sent: Iterable[Gid], held: AbstractSet[Gid]) -> None:
    """Check that what was sent to a partition for paragraphs (``held`` there) is where
    they are: a partitioner other than the one assumed (:func:`_place`) would lose it
    silently."""
    if not set(sent) <= held:
        raise AssertionError("records sent to a partition that does not hold their paragraph")


#: A :class:`Planned` and a :class:`Decided` as records of the job (their ``plain``).
PlannedRecord = tuple[bool, tuple[Any, ...], tuple[Pair, ...]]
DecidedRecord = tuple[bool, OutcomeRecord, tuple[Pair, ...], tuple[Pair, ...]]


class Planned(NamedTuple):
    """A paragraph in a round: its assumed status, its plan, and the pairs of its plan not
    verified before (``missing``, last: :func:`_asked` reads them off the record)."""

    kept: bool
    step: Plan
    missing: tuple[Pair, ...]

    def plain(self) -> PlannedRecord:
        """As the job's records hold it: plain tuples (see :meth:`View.plain`)."""
        return self.kept, tuple(self.step), self.missing

    @staticmethod
    def of(record: PlannedRecord) -> Planned:
        kept, step, missing = record
        return Planned(kept, Plan(*step), missing)


class Decided(NamedTuple):
    """:class:`Planned` once decided: its outcome so far, the other pairs to verify when
    it repeats one (``others``, those not verified before ``missing``, last as in
    :class:`Planned`)."""

    kept: bool
    outcome: Outcome
    others: tuple[Pair, ...]
    missing: tuple[Pair, ...]

    def plain(self) -> DecidedRecord:
        """As the job's records hold it: plain tuples (see :meth:`View.plain`)."""
        return self.kept, self.outcome.plain(), self.others, self.missing

    @staticmethod
    def of(record: DecidedRecord) -> Decided:
        kept, outcome, others, missing = record
        return Decided(kept, Outcome.of(outcome), others, missing)


class Verdicts(NamedTuple):
    """Verdicts a step worked out in a partition, on pairs whose later paragraph is there,
    by that paragraph: the paragraphs ``(doc, paragraph)`` in columns, each one's verdicts
    pickled on their own (``list[tuple[Pair, FoundRecord]]``), so that a step unpickles
    only the verdicts of the paragraphs it works on (:func:`_looked_up`), and makes
    objects of only the ones it reads; ``sizes`` the verdicts of each.
    Records of at most :data:`BLOCK` paragraphs, keyed by the partition's number. A
    round's are kept for the rounds after it: a pair is verified once."""

    doc: npt.NDArray[np.int64]
    paragraph: npt.NDArray[np.int64]
    blobs: list[bytes]
    sizes: npt.NDArray[np.int64]

    @staticmethod
    def of(found: Iterable[tuple[Pair, Found]]) -> Iterator[Verdicts]:
        """``found`` as :class:`Verdicts` records."""
        return Verdicts.of_records((pair, found_record(*one)) for pair, one in found)

    @staticmethod
    def of_records(found: Iterable[tuple[Pair, FoundRecord]]) -> Iterator[Verdicts]:
        """``found`` (its verdicts as records) as :class:`Verdicts` records."""
        by: dict[Gid, list[tuple[Pair, FoundRecord]]] = defaultdict(list)
        for pair, record in found:
            by[pair[1]].append((pair, record))
        gids = list(by)
        for start in range(0, len(gids), BLOCK):
            listed = gids[start : start + BLOCK]
            yield Verdicts(
                np.array([gid[0] for gid in listed], dtype=np.int64),
                np.array([gid[1] for gid in listed], dtype=np.int64),
                [pickle.dumps(by[gid], pickle.HIGHEST_PROTOCOL) for gid in listed],
                np.array([len(by[gid]) for gid in listed], dtype=np.int64),
            )

    def among(self, gids: _Among) -> Verdicts:
        """The verdicts of the paragraphs of ``gids``, as they are pickled here."""
        rows = _rows_of(self.doc, self.paragraph, gids)
        blobs = [self.blobs[row] for row in rows.tolist()]
        return Verdicts(self.doc[rows], self.paragraph[rows], blobs, self.sizes[rows])


def _code(doc: npt.NDArray[Any], paragraph: npt.NDArray[Any]) -> Any:
    """A hash of each paragraph ``(doc, paragraph)``, to match paragraphs in columns."""
    return (doc.astype(np.uint64) * np.uint64(1000003)) ^ paragraph.astype(np.uint64)


def _looked_up(blocks: Sequence[Verdicts], gids: Iterable[Gid]) -> dict[Pair, FoundRecord]:
    """The verdicts of ``blocks`` on pairs whose later paragraph is one of ``gids``, as
    they hold them (:func:`~dedup.spark.plan.found_of` makes one a verdict)."""
    wanted = _Among(gids)
    have: dict[Pair, FoundRecord] = {}
    for block in blocks:
        for row in _rows_of(block.doc, block.paragraph, wanted).tolist():
            have.update(pickle.loads(block.blobs[row]))
    return have


class _Among:
    """Paragraphs ``(doc, paragraph)`` whose rows are looked for (:func:`_rows_of`): as a
    set, and in columns ordered by their hashes (:func:`_code`), made once for the many
    blocks a step looks in (made again for every block, they took 3% of the job's workers'
    samples at a million lines: session 49, py-spy)."""

    def __init__(self, gids: Iterable[Gid]) -> None:
        self.gids = gids if isinstance(gids, AbstractSet) else set(gids)
        flat = np.fromiter(itertools.chain.from_iterable(self.gids), np.int64, 2 * len(self.gids))
        codes = _code(flat[0::2], flat[1::2])
        order = np.argsort(codes)
        self.codes, self.doc, self.paragraph = codes[order], flat[0::2][order], flat[1::2][order]
        #: Whether two of them share a hash: their rows are then told apart by the set.
        self.shared = bool((self.codes[1:] == self.codes[:-1]).any())


def _rows_of(
    doc: npt.NDArray[Any], paragraph: npt.NDArray[Any], among: _Among
) -> npt.NDArray[np.intp]:
    """The rows of columns ``(doc, paragraph)`` that are one of ``among``."""
    if not len(among.codes) or not len(doc):
        return np.zeros(0, dtype=np.intp)
    code = _code(doc, paragraph)
    at = np.minimum(np.searchsorted(among.codes, code), len(among.codes) - 1)
    if not among.shared:
        hit = (
            (among.codes[at] == code) & (among.doc[at] == doc) & (among.paragraph[at] == paragraph)
        )
        found: npt.NDArray[np.intp] = np.flatnonzero(hit)
        return found
    rows = np.flatnonzero(among.codes[at] == code)
    gid = zip(doc[rows].tolist(), paragraph[rows].tolist(), strict=True)
    found = rows[np.array([g in among.gids for g in gid], dtype=bool)]
    return found


def _pairs(q: Iterable[tuple[Gid, bool, bool]], p: Gid) -> tuple[Pair, ...]:
    return tuple((q_gid, p, as_written, settle) for q_gid, as_written, settle in q)


def _missing(pairs: tuple[Pair, ...], have: Container[Pair]) -> tuple[Pair, ...]:
    return tuple(dict.fromkeys(pair for pair in pairs if pair not in have))


def _plans(at: int, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Gid, PlannedRecord]]:
    """The plans of a partition's paragraphs in play in round ``at`` (their :class:`View`
    s), from the pairs in their buckets and the verdicts known (both keyed by an int) that
    came to it: the pairs every key partition sent of each in the first round
    (:class:`Bucketed`), but where a later round's replace them (:class:`Marked`)."""
    steps: list[tuple[Gid, View]] = []
    blocks: list[Bucketed] = []
    marks: list[Marked] = []
    found: list[Verdicts] = []
    for key, value in items:
        if isinstance(value, Verdicts):
            found.append(value)
        elif isinstance(value, Bucketed):
            blocks.append(value)
        elif isinstance(value, Marked):
            marks.append(value)
        else:
            steps.append((key, View.of(value)))
    steps.sort(key=lambda step: step[0])
    known = _looked_up(found, (gid for gid, _ in steps))
    # The pairs come ordered by paragraph, as the paragraphs are walked: one paragraph's
    # at a time in Python objects.
    pairs = _now(blocks, marks, {gid for gid, _ in steps}) if at > 1 else _first(blocks)
    rows = shared_by_pair(merged(pairs, candidates=True))
    pending = next(rows, None)
    for gid, view in steps:
        shared: dict[Gid, Shared] = {}
        while pending is not None and pending[0][0] <= gid:
            (p_gid, q), shared[q] = pending
            _here([p_gid], {gid})
            pending = next(rows, None)
        step = plan(view.posted, view.exact, shared)
        yield gid, Planned(view.kept, step, _missing(_pairs(step.ids, gid), known)).plain()
    _here([pending[0][0]] if pending else [], set())  # pairs left: of no paragraph here


def _first(blocks: Sequence[Bucketed]) -> Pairs:
    """The pairs of the first round, which plans every paragraph."""
    if any(block.round > 1 for block in blocks):
        raise AssertionError("pairs of a later round in the first")
    return Pairs.joined([Pairs(*block.pairs) for block in blocks])


def _now(blocks: Sequence[Bucketed], marks: Sequence[Marked], playing: AbstractSet[Gid]) -> Pairs:
    """The pairs of the paragraphs ``playing`` in ``blocks`` as they are now: of each
    paragraph, what each key partition sent of it in the last round that marked it there
    (``marks``), or in the first round. A round after the first sends only the pairs of
    the paragraphs marked (their pairs there moved, :func:`_touched`): the others' are as
    they were. (Worked out in columns: a paragraph at a time, a dict's lookups of millions
    of pairs took 17% of a second round's plans at a million lines, session 50.)"""
    by: dict[tuple[int, int], set[Gid]] = defaultdict(set)  # (source, round): marked
    for mark in marks:
        by[mark.source, mark.round].update(zip(*(c.tolist() for c in mark.gids), strict=True))

    @functools.cache
    def among(source: int, at: int, later: bool) -> _Among:
        """The paragraphs marked at ``source`` in round ``at``, or in a round after it."""
        rounds = [r for s, r in by if s == source and (r > at if later else r == at)]
        return _Among(set().union(*(by[source, r] for r in rounds)))

    def marked(doc: npt.NDArray[Any], paragraph: npt.NDArray[Any], gids: _Among) -> Any:
        found = np.zeros(len(doc), dtype=bool)
        found[_rows_of(doc, paragraph, gids)] = True
        return found

    mine = _Among(playing)
    taken = []
    for block in blocks:  # each taken from before joining: few paragraphs play again
        pairs = Pairs(*block.pairs)
        rows = _rows_of(pairs.p_doc, pairs.p_paragraph, mine)
        doc, paragraph = pairs.p_doc[rows], pairs.p_paragraph[rows]
        now = ~marked(doc, paragraph, among(block.source, block.round, True))
        if block.round > 1:  # sent for the paragraphs marked then
            now &= marked(doc, paragraph, among(block.source, block.round, False))
        taken.append(pairs.take(rows[now]))
    return Pairs.joined(taken)


def _made(
    items: Iterable[tuple[Any, Any]], of: Callable[[Any], Any]
) -> tuple[list[tuple[Gid, Any]], Any]:
    """A partition's records (beside :class:`Verdicts`) made into what they are by ``of``
    (``Planned.of``, say), and the verdicts known there on their pairs, by pair."""
    records = []
    found: list[Verdicts] = []
    for key, value in items:
        if isinstance(value, Verdicts):
            found.append(value)
        else:
            records.append((key, of(value)))
    return records, _looked_up(found, (gid for gid, _ in records))


def _decided(index: int, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """The decisions of a partition's paragraphs in a round (:class:`Decided`), and the
    verdicts known on the other pairs each names (:class:`Verdicts`): with the verdicts
    on those verified next, all that naming them needs (:func:`_settled`)."""
    records, have = _made(items, Planned.of)
    named = []
    for gid, r in records:
        outcome, others = decision(
            r.step, {pair[0]: found_of(have[pair]) for pair in _pairs(r.step.ids, gid)}
        )
        more = _pairs(others, gid)
        named += [(pair, have[pair]) for pair in more if pair in have]
        yield gid, Decided(r.kept, outcome, more, _missing(more, have)).plain()
    for block in Verdicts.of_records(named):
        yield index, block


def _settled(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Gid, tuple[bool, OutcomeRecord]]]:
    """The outcomes named (the other pairs verified), beside the status assumed."""
    records, have = _made(items, Decided.of)
    for gid, r in records:
        outcome = r.outcome
        if r.others:
            found = {pair[0]: found_of(have[pair]) for pair in r.others}
            outcome = named(outcome, [pair[0] for pair in r.others], found)
        yield gid, (r.kept, outcome.plain())


#: A paragraph of a shelf as its own partition reads it (:meth:`Shelf.take`): its pickled
#: :class:`Text` without its texts as written, and those texts (``(raw, wrapped)``).
Taken = tuple[bytes, tuple[str, str]]

#: A paragraph of a shelf as it is sent to another partition (:meth:`Shelf.serve`): its
#: document's name, its text as written, and the lines it is wrapped with where a pair
#: reads them ('' where none does): what its :class:`Text` is made again of there
#: (:func:`_texts`), about half the bytes of the Text with its shingles. Or its name
#: alone, where every pair that wants it there is of a later copy of its text (see
#: :func:`_wanted`).
Served = tuple[str, ...]


class Shelf(NamedTuple):
    """A partition's paragraphs (at most :data:`SHELF`) as verifying needs them (not their
    keys), in a few objects: each one's :class:`~dedup.spark.plan.Text` without its texts
    as written, its shingles as bytes (:func:`_text`), pickled on its own so that a step
    that verifies a few of them unpickles those few, the blobs one after the other
    (``blobs``, ending at ``blob_ends``); and beside them each one's document's name, text
    as written and the lines it is wrapped with (``written``, three pieces a paragraph
    ending at ``written_ends``), which are what goes to another partition; and a BLAKE2b
    of each one's normalized text (``sums``: see :func:`text_sums`). Every step
    that verifies reads all of a partition's shelves; as lists of a tuple and a few
    strings a paragraph, unpickling them and finding paragraphs there by a dict took 6% of
    the job's workers' samples at a million lines (session 49, py-spy)."""

    doc: npt.NDArray[np.int64]
    paragraph: npt.NDArray[np.int64]
    blobs: bytes
    blob_ends: npt.NDArray[np.int64]
    written: str
    written_ends: npt.NDArray[np.int64]
    sums: npt.NDArray[np.uint64]

    @staticmethod
    def of(
        gids: Sequence[Gid],
        blobs: Sequence[bytes],
        written: Sequence[tuple[str, str, str]],
        normalized: Sequence[str],
    ) -> Shelf:
        pieces = [piece for one in written for piece in one]
        return Shelf(
            np.array([gid[0] for gid in gids], dtype=np.int64),
            np.array([gid[1] for gid in gids], dtype=np.int64),
            b"".join(blobs),
            np.cumsum([len(blob) for blob in blobs], dtype=np.int64),
            "".join(pieces),
            np.cumsum([len(piece) for piece in pieces], dtype=np.int64),
            text_sums(normalized),
        )

    def sums_only(self) -> Shelf:
        """This shelf without its texts: all that :func:`_wanted` reads of it."""
        empty = np.zeros(0, dtype=np.int64)
        return self._replace(blobs=b"", blob_ends=empty, written="", written_ends=empty)

    def blob(self, row: int) -> bytes:
        return self.blobs[int(self.blob_ends[row - 1]) if row else 0 : int(self.blob_ends[row])]

    def texts(self, row: int) -> tuple[str, str, str]:
        """The name, text as written and wrapping lines of the paragraph of ``row``."""
        start = int(self.written_ends[3 * row - 1]) if row else 0
        name, raw, wrapped = self.written_ends[3 * row : 3 * row + 3].tolist()
        return self.written[start:name], self.written[name:raw], self.written[raw:wrapped]


class _Shelves:
    """A partition's shelves, its paragraphs found by ``(doc, paragraph)``: a hash of each
    (:func:`_code`), sorted, searched for a few at a time."""

    def __init__(self, shelves: Sequence[Shelf]) -> None:
        self.shelves = list(shelves)
        sizes = [len(shelf.doc) for shelf in shelves]
        empty = np.zeros(0, dtype=np.int64)
        self.doc = np.concatenate([empty, *(shelf.doc for shelf in shelves)])
        self.paragraph = np.concatenate([empty, *(shelf.paragraph for shelf in shelves)])
        self.which = np.repeat(np.arange(len(sizes)), sizes)
        self.row = np.concatenate([empty, *map(np.arange, sizes)])
        codes = _code(self.doc, self.paragraph)
        self._sums: npt.NDArray[np.uint64] | None = None  # made when first asked for
        self.order = np.argsort(codes, kind="stable")
        self.codes = codes[self.order]

    def _at(self, gids: Sequence[Gid]) -> list[tuple[int, int]]:
        """Where each of ``gids`` is: its shelf and row there."""
        doc = np.array([gid[0] for gid in gids], dtype=np.int64)
        paragraph = np.array([gid[1] for gid in gids], dtype=np.int64)
        at = self._rows(doc, paragraph)
        return list(zip(self.which[at].tolist(), self.row[at].tolist(), strict=True))

    def sums(self, doc: npt.NDArray[np.int64], paragraph: npt.NDArray[np.int64]) -> Any:
        """The :attr:`Shelf.sums` of the paragraphs ``(doc, paragraph)``, a row each."""
        if self._sums is None:
            empty = np.zeros((0, 2), dtype=np.uint64)
            self._sums = np.concatenate([empty, *(shelf.sums for shelf in self.shelves)])
        return self._sums[self._rows(doc, paragraph)]

    def _rows(self, doc: npt.NDArray[np.int64], paragraph: npt.NDArray[np.int64]) -> Any:
        """Where each paragraph ``(doc, paragraph)`` is among these shelves' rows."""
        if not len(doc):
            return np.zeros(0, dtype=np.intp)
        if not len(self.codes):
            _here(zip(doc.tolist(), paragraph.tolist(), strict=True), set())
        code = _code(doc, paragraph)
        at = self.order[np.minimum(np.searchsorted(self.codes, code), len(self.codes) - 1)]
        missed = (self.doc[at] != doc) | (self.paragraph[at] != paragraph)
        for k in np.flatnonzero(missed).tolist():  # two paragraphs of one hash, or none
            first = int(np.searchsorted(self.codes, code[k], side="left"))
            last = int(np.searchsorted(self.codes, code[k], side="right"))
            rows = self.order[first:last].tolist()
            gid = (int(doc[k]), int(paragraph[k]))
            match = [row for row in rows if (self.doc[row], self.paragraph[row]) == gid]
            _here([gid], {gid} if match else set())
            at[k] = match[0]
        return at

    def take(self, gids: Sequence[Gid]) -> list[Taken]:
        """The paragraphs ``gids``, which must be on these shelves, with their texts."""
        out = []
        for which, row in self._at(gids):
            shelf = self.shelves[which]
            out.append((shelf.blob(row), shelf.texts(row)[1:]))
        return out

    def serve(
        self, gids: Sequence[Gid], wrapped: Sequence[bool], names: Sequence[bool] | None = None
    ) -> list[Served]:
        """The paragraphs ``gids``, which must be on these shelves, as they are sent, with
        the lines they are wrapped with where ``wrapped`` says; their names alone where
        ``names`` says."""
        out: list[Served] = []
        alone = names or [False] * len(gids)
        for (which, row), want, name_only in zip(self._at(gids), wrapped, alone, strict=True):
            name, raw, lines = self.shelves[which].texts(row)
            out.append((name,) if name_only else (name, raw, lines if want else ""))
        return out


def text_sums(normalized: Sequence[str]) -> npt.NDArray[np.uint64]:
    """A BLAKE2b (16 bytes) of each normalized text, as two uint64 columns a row: what
    tells a later copy of a text from another text of its digest (64 bits of xxHash,
    which texts can be made to share) where the text is not (:func:`_wanted`)."""
    import hashlib

    data = b"".join(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        for text in normalized
    )
    return np.frombuffer(data, dtype=np.uint64).reshape(len(normalized), 2)


def _text(blob: bytes, written: tuple[str, str]) -> Text:
    """A paragraph taken from its own partition's shelf (:data:`Taken`) as a :class:`Text`."""
    name, paragraph, normalized, shingles, bloom, distinct, truncated = pickle.loads(blob)
    return Text(
        name,
        paragraph,
        normalized,
        np.frombuffer(shingles, dtype=np.uint32),
        bloom,
        distinct,
        truncated,
        *written,
    )


def _texts(gids: Sequence[Gid], served: Sequence[Served], config: Config) -> dict[Gid, Text]:
    """Paragraphs served from another partition (:data:`Served`) as :class:`Text` s,
    fingerprinted again here (a fingerprint is a function of the text as written)."""
    written = [Written(*gid, 0, *one) for gid, one in zip(gids, served, strict=True)]
    return dict(zip(gids, texts_of(written, config), strict=True))


def _shelf(index: int, items: Iterable[tuple[Gid, PrintRecord]]) -> Iterator[tuple[int, Shelf]]:
    """A partition's shelves (of :data:`SHELF` paragraphs), keyed by the partition's
    number (where they lie)."""
    items = iter(items)
    while chunk := list(itertools.islice(items, SHELF)):
        gids, blobs, written, normalized = [], [], [], []
        for gid, record in chunk:
            p = Print._make(record)  # its keys left as bytes (Print.of makes them ints)
            shingles = record[_SHINGLES]  # as the Text's blob holds them
            kept = (p.name, p.paragraph, p.normalized, shingles, p.bloom, p.distinct, p.truncated)
            gids.append(gid)
            blobs.append(pickle.dumps(kept, pickle.HIGHEST_PROTOCOL))
            written.append((p.name, p.raw, p.wrapped))
            normalized.append(p.normalized)
        yield index, Shelf.of(gids, blobs, written, normalized)


#: Where a :class:`~dedup.spark.plan.Print`'s record holds its digest and its shingles.
_DIGEST, _SHINGLES = Print._fields.index("digest"), Print._fields.index("shingles")
_BANDS, _EDGES = Print._fields.index("bands"), Print._fields.index("edges")
_TOKENS = Print._fields.index("tokens")


def _text_of(record: PrintRecord) -> tuple[int, int]:
    """What tells the copies of a paragraph's text from other texts: its digest and a
    checksum of its keys. Two texts of one digest (a 64-bit collision) have other keys,
    and are told apart but for a 32-bit collision more: :func:`_trimmed` counts a text's
    keys once, by its first paragraph, and must not take one text's keys for another's."""
    bands, shingles, edges = record[_BANDS], record[_SHINGLES], record[_EDGES]  # bytes
    sizes = len(bands).to_bytes(4, "little") + len(shingles).to_bytes(4, "little")
    return record[_DIGEST], zlib.crc32(b"".join((sizes, bands, shingles, edges)))


#: Paragraphs a shelf (a record of the JVM's).
SHELF = 1 << 12


def _shelved(items: Iterable[tuple[int, Any]]) -> tuple[_Shelves, list[Any]]:
    """A partition's shelves, and the other values that came to it, in a list."""
    shelves, sent = [], []
    for _, value in items:
        if isinstance(value, Shelf):
            shelves.append(value)
        else:
            sent.append(value)
    return _Shelves(shelves), sent


def _missing_blocks(index: int, items: Iterable[tuple[Gid, Any]]) -> Iterator[tuple[int, Any]]:
    """The ``missing`` pairs of a partition's paragraphs (the records of :class:`Planned`
    or :class:`Decided`, both ending with them), in columns (:func:`_pair_columns`), in
    blocks of at most :data:`BLOCK` pairs keyed by the partition's number: they stay
    where they are, to be verified there once the texts they need came. A pair of a
    paragraph and the earlier copy of its text that its digest names (a plan's ``top``)
    is marked so."""
    pairs: list[Pair] = []
    copies: list[bool] = []
    for _, record in items:
        if isinstance(record, Verdicts):
            continue
        top = record[1][_TOP] if len(record) == len(Planned._fields) else None
        pairs += record[-1]
        copies += [pair[0] == top for pair in record[-1]]
    columns = _pair_columns(pairs, copies)
    for start in range(0, len(columns[0]), BLOCK):
        yield index, _Narrow(c[start : start + BLOCK] for c in columns)


#: Where a :class:`Planned` record's plan holds its ``top``.
_TOP = Plan._fields.index("top")


def _pair_columns(
    pairs: Sequence[Pair], copies: Sequence[bool]
) -> tuple[npt.NDArray[np.int64], ...]:
    """``pairs`` as columns ``(q doc, q paragraph, p doc, p paragraph, as written,
    settle, copy)`` (``copies``: a flag a pair), ordered by ``q`` then ``p``, which narrow
    (:class:`_Narrow`) and compress where Python tuples of them did not (:func:`_pairs_of`
    makes them pairs again)."""
    rows = np.array(
        [(*q, *p, w, settle, copy) for (q, p, w, settle), copy in zip(pairs, copies, strict=True)],
        dtype=np.int64,
    ).reshape(len(pairs), 7)
    return tuple(rows[np.lexsort(rows[:, 5::-1].T)].T)


def _pairs_of(columns: Sequence[npt.NDArray[np.int64]]) -> list[Pair]:
    """The pairs :func:`_pair_columns` was given (in its order)."""
    q_doc, q_paragraph, p_doc, p_paragraph, as_written, settle = (c.tolist() for c in columns[:6])
    return [
        ((a, b), (c, d), bool(w), bool(t))
        for a, b, c, d, w, t in zip(
            q_doc, q_paragraph, p_doc, p_paragraph, as_written, settle, strict=True
        )
    ]


def _wanted(parts: int) -> Any:
    """The earlier paragraphs of a partition's missing pairs (:func:`_missing_blocks`),
    each once, with whether a pair reads it as written (and so needs the lines it is
    wrapped with), by the partition that holds them, in blocks ``(index, (doc,
    paragraph, as written, copy, sum))`` that name the partition they are wanted at.

    ``copy`` where every pair that wants it here is of a later paragraph with its digest
    (:func:`_missing_blocks`) and these paragraphs have one text, whose :func:`text_sums`
    is ``sum`` (two columns): if its own text has that sum, the verdict on each pair is
    :data:`~dedup.verify.EXACT` (its text is theirs), and its name is all that is sent
    (:func:`_served`). Of the paragraphs sent at a million lines, 306,547 of 817,530
    (42 of 131 MB pickled) were those."""

    def run(index: int, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        shelf, blocks = _shelved(items)
        if not blocks:
            return
        doc, paragraph, p_doc, p_paragraph, written, _, copy = (
            np.concatenate(c) for c in zip(*blocks, strict=True)
        )
        order = np.lexsort((paragraph, doc))
        doc, paragraph, written, copy = doc[order], paragraph[order], written[order], copy[order]
        sums = shelf.sums(p_doc[order], p_paragraph[order])
        starts = np.flatnonzero(
            np.concatenate(([True], (doc[1:] != doc[:-1]) | (paragraph[1:] != paragraph[:-1])))
        )
        first = np.repeat(starts, np.diff(np.append(starts, len(doc))))
        alike = (sums == sums[first]).all(axis=1) & (copy > 0)
        copies = np.minimum.reduceat(alike, starts)
        columns = (
            doc[starts],
            paragraph[starts],
            np.maximum.reduceat(written, starts),
            copies,
            *(np.where(copies, column[starts], 0) for column in sums.T),
        )
        for place, block in _by_place(columns, _places(columns[0], columns[1], parts), parts):
            yield place, (index, block)

    return run


class Sent(NamedTuple):
    """Earlier paragraphs sent where pairs of theirs are verified: ``(doc, paragraph)`` in
    columns, and each one as the shelf serves it (:meth:`Shelf.serve`)."""

    gids: tuple[npt.NDArray[np.int64], ...]
    served: list[Served]


def _served(items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Sent]]:
    """The paragraphs of a partition wanted elsewhere (:func:`_wanted`), as the shelf
    serves them, keyed by the partition that wants them."""
    shelf, blocks = _shelved(items)
    for place, (doc, paragraph, written, copies, *sums) in blocks:
        gids = list(zip(doc.tolist(), paragraph.tolist(), strict=True))
        same = copies > 0  # looked up only where asked: serve finds every row again
        rows = np.flatnonzero(same)
        asked = np.stack(sums, axis=1)[rows]
        same[rows] = (shelf.sums(doc[rows], paragraph[rows]) == asked).all(axis=1)
        served = shelf.serve(gids, [bool(w) for w in written.tolist()], same.tolist())
        yield place, Sent(_Narrow((doc, paragraph)), served)


def _verify(config: Config) -> Any:
    """The verdicts on a partition's missing pairs (:func:`_missing_blocks`), from the
    earlier paragraphs that came to it (:class:`Sent`) and its own shelf."""

    def run(index: int, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Verdicts]]:
        shelf, values = _shelved(items)
        pairs: list[Pair] = []
        earlier: dict[Gid, Text] = {}
        copied: dict[Gid, str] = {}  # the names of those whose pairs here are of copies
        for value in values:
            if isinstance(value, Sent):
                gids = list(zip(*(c.tolist() for c in value.gids), strict=True))
                whole: dict[Gid, Served] = {}
                for gid, one in zip(gids, value.served, strict=True):
                    if len(one) == 1:
                        copied[gid] = one[0]
                    else:
                        whole[gid] = one
                # The lines a paragraph is wrapped with come when any pair reads them; a
                # pair that does not leaves them unread (plan._fingerprint).
                earlier.update(_texts(list(whole), list(whole.values()), config))
            else:
                pairs += _pairs_of(value)
        if not pairs:
            return
        _here((pair[0] for pair in pairs), earlier.keys() | copied.keys())
        made: list[tuple[Pair, Found]] = [
            (pair, (Ref(copied[pair[0]], pair[0][1]), EXACT)) for pair in pairs if pair[0] in copied
        ]
        pairs = [pair for pair in pairs if pair[0] not in copied]
        later = list(dict.fromkeys(pair[1] for pair in pairs))
        mine = {gid: _text(*one) for gid, one in zip(later, shelf.take(later), strict=True)}
        listed = [(pair, earlier[pair[0]]) for pair in pairs]
        found = verdicts([(q, mine[pair[1]], pair[2], pair[3]) for pair, q in listed], config)
        made += [
            (pair, (Ref(q.name, q.paragraph), verdict))
            for (pair, q), verdict in zip(listed, found, strict=True)
        ]
        for block in Verdicts.of(made):
            yield index, block

    return run


def _verified(
    asked: RDD[tuple[Gid, Any]],
    shelves: RDD[tuple[int, Shelf]],
    sums: RDD[tuple[int, Shelf]],
    config: Config,
    parts: int,
) -> tuple[RDD[tuple[int, Verdicts]], int]:
    """The verdicts on the ``missing`` pairs of ``asked`` (by its later paragraph),
    persisted, and how many. The pairs stay at the later paragraph's place (persisted
    while the step runs: it reads them twice); the earlier paragraphs they name are asked
    for there, each once (:func:`_wanted`), and their texts come to it, to be verified
    there. A partition unpickles of its shelf only the paragraphs it is asked for; asking,
    it reads its shelves without their texts (``sums``, :meth:`Shelf.sums_only`)."""
    missing = asked.mapPartitionsWithIndex(_missing_blocks, True).persist(_level())
    wanted = _union(sums, missing).mapPartitionsWithIndex(_wanted(parts))
    wanted = wanted.partitionBy(parts, _place)
    sent = _union(shelves, wanted).mapPartitions(_served).partitionBy(parts, _place)
    found = _union(shelves, sent, missing).mapPartitionsWithIndex(_verify(config), True)
    found.persist(_level())
    count = _count(found)  # made now: the pairs are read no more
    missing.unpersist()
    return found, count


def _posting(record: PrintRecord) -> tuple[Any, ...]:
    """What trimming needs of a paragraph (its record, :meth:`~dedup.spark.plan.Print.plain`):
    its :class:`~dedup.spark.plan.Posted` as a plain tuple, its keys still uint32 bytes."""
    return (*record[:3], record[4], *record[6:9], len(record[7]) // 4)


class _Flat(NamedTuple):
    """The keys of a partition's paragraphs (:func:`_posting` records) in columns: each
    key as :func:`~dedup.spark.plan.keys` writes it, the paragraph that posts it (its row),
    a family after the other (``ends``: where each family's keys end), each paragraph's in
    order. Python sets of every paragraph's keys, made twice, took 15% of the job's
    workers' samples at a million lines (session 49, py-spy)."""

    key: npt.NDArray[np.int64]
    row: npt.NDArray[np.intp]
    ends: tuple[int, ...]

    @staticmethod
    def of(paragraphs: Sequence[tuple[Any, ...]]) -> _Flat:
        keys, rows, ends = [], [], []
        for family in (BANDS, SHINGLES, EDGES):
            blobs = [p[4 + family] for p in paragraphs]
            values = np.frombuffer(b"".join(blobs), dtype=np.uint32).astype(np.int64)
            sizes = np.fromiter(map(len, blobs), np.intp, len(blobs)) // 4
            keys.append(values | np.int64(family << 32))
            rows.append(np.repeat(np.arange(len(blobs)), sizes))
            ends.append(sum(map(len, keys)))
        return _Flat(np.concatenate(keys), np.concatenate(rows), tuple(ends))

    def distinct(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """The distinct keys, ascending, and where each key of the columns is among them
        (by one sort: a sort and a search for every key took four times as long)."""
        order = np.argsort(self.key)
        ordered = self.key[order]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        at = np.empty(len(order), dtype=np.intp)
        at[order] = np.cumsum(first) - 1
        return ordered[first], at

    def counts(self, at: npt.NDArray[np.intp], counted: npt.NDArray[np.bool_]) -> Any:
        """How many of the paragraphs ``counted`` (a flag a row) post each distinct key
        (``at``: where each key is among them, :meth:`distinct`), a paragraph once however
        often it posts a key."""
        mine = counted[self.row]
        pairs = distinct(self.row[mine].astype(np.int64) << 32 | at[mine])
        size = int(at.max(initial=-1)) + 1
        return np.bincount(pairs & np.int64(0xFFFFFFFF), minlength=size).astype(np.int32)

    def trimmed(
        self, paragraphs: Sequence[tuple[Any, ...]], keep: npt.NDArray[np.bool_]
    ) -> Iterator[tuple[Gid, tuple[Any, ...]]]:
        """``paragraphs`` as :class:`~dedup.spark.plan.Posted` records with the keys
        ``keep`` (a flag a key) leaves, as tuples of ints."""
        families = []
        for start, end in itertools.pairwise((0, *self.ends)):
            kept = keep[start:end]
            values = (self.key[start:end][kept] & _LOW).tolist()
            sizes = np.bincount(self.row[start:end][kept], minlength=len(paragraphs))
            bounds = (0, *itertools.accumulate(sizes.tolist()))
            families.append([tuple(values[a:b]) for a, b in itertools.pairwise(bounds)])
        for p, bands, shingles, edges in zip(paragraphs, *families, strict=True):
            yield p[:2], (*p[:4], bands, shingles, edges, p[7])


def _trimmed(
    posted: RDD[tuple[Gid, Any]],
    first: RDD[tuple[Gid, bool]],
    partitions: int,
    block: int = BLOCK,
) -> RDD[tuple[Gid, Any]]:
    """The paragraphs (their :class:`~dedup.spark.plan.Posted`, as plain tuples) without
    the keys that no other text posts (most shingles, and the keys of a text that
    recurs only as itself), found once, so that no round sends them again. Each partition
    sends the keys its paragraphs post, each once with how many texts post it there
    (counted by the ``first`` paragraph of each text, :func:`_text_of`), to the keys'
    partitions, in ascending blocks (of at most ``block`` keys) as gaps (:func:`_gaps`),
    and gets back a bit a key, in the order it sent them: whether more than one text posts
    it in all (the keys themselves came back before: 39 bytes a line shuffled at a million
    lines in session 37's run, 2 as bits in session 38's).

    A key that only copies of one text post puts nobody in a bucket that counts: a later
    copy of a text kept in an earlier batch reads no pairs (its plan is the copy,
    :func:`~dedup.spark.plan.plan`), nor does one of the batch that keeps it, and a copy
    not kept is in no bucket (counted by paragraph, such keys were kept: 11.8 postings a
    paragraph after trimming at 100,000 shuffled lines, 6.4 by text)."""
    parts = partitions

    def by_part(key: npt.NDArray[np.int64]) -> Iterator[tuple[int, int, npt.NDArray[np.intp]]]:
        """Rows of ``key`` by the partition of each key, in blocks: ``(partition, block
        number, rows)``."""
        place = key % parts
        for t in range(parts):
            rows = np.flatnonzero(place == t)
            for j, start in enumerate(range(0, len(rows), block)):
                yield t, j, rows[start : start + block]

    def listed(index: int, items: Iterable[tuple[Gid, Any]]) -> Iterator[tuple[int, Any]]:
        firsts: set[Gid] = set()
        paragraphs = []
        for gid, value in items:
            if value is True:
                firsts.add(gid)
            else:
                paragraphs.append(value)
        flat = _Flat.of(paragraphs)
        key, at = flat.distinct()
        counts = flat.counts(at, np.fromiter((p[:2] in firsts for p in paragraphs), bool))
        for t, j, rows in by_part(key):
            yield t, (index, j, _Planar((*_gaps(key[rows]), counts[rows])))

    def shared(index: int, blocks: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        found = [
            (source, j, _keys(family, gap), counts)
            for _, (source, j, (family, gap, counts)) in blocks
        ]
        if not found:
            return
        key = np.concatenate([k for _, _, k, _ in found])
        _, at = np.unique(key, return_inverse=True)
        many = np.bincount(at, weights=np.concatenate([c for _, _, _, c in found]))[at] > 1
        start = 0
        for source, j, k, _ in found:
            yield source, (index, j, np.packbits(many[start : start + len(k)]))
            start += len(k)

    def trim(index: int, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Gid, Any]]:
        bits: dict[tuple[int, int], npt.NDArray[np.uint8]] = {}
        paragraphs = []
        for key, value in items:
            if isinstance(key, int):
                bits[value[:2]] = value[2]
            else:
                paragraphs.append(value)
        flat = _Flat.of(paragraphs)
        key, at = flat.distinct()
        many = np.zeros(len(key), dtype=bool)
        for t, j, rows in by_part(key):
            many[rows] = np.unpackbits(bits.pop((t, j)), count=len(rows)).astype(bool)
        if bits:
            raise AssertionError(f"partition {index}: bits for keys it did not send")
        yield from flat.trimmed(paragraphs, many[at])

    found = posted.union(first).mapPartitionsWithIndex(listed).partitionBy(parts, _place)
    back = found.mapPartitionsWithIndex(shared).partitionBy(parts, _place)
    return posted.union(back).mapPartitionsWithIndex(trim, True)


_LOW = np.int64(0xFFFFFFFF)


def _gaps(key: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Ascending keys (:func:`~dedup.spark.plan.keys`: a family above bit 32) as their
    families and the gaps between their low 32 bits within a family (the first of a
    family: its low bits), which narrow to a byte or two where the keys take five
    (:func:`_keys` makes the keys again)."""
    family, low = key >> 32, key & _LOW
    gap = np.diff(low, prepend=0)
    firsts = _starts(family)
    gap[firsts] = low[firsts]
    return family, gap


def _keys(family: npt.NDArray[np.int64], gap: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The keys :func:`_gaps` was given."""
    total = np.cumsum(gap)
    firsts = _starts(family)
    low = total - np.repeat((total - gap)[firsts], np.diff(np.append(firsts, len(gap))))
    key: npt.NDArray[np.int64] = family << 32 | low
    return key


def _assumed(items: Iterable[tuple[Gid, Any]]) -> Iterator[tuple[Gid, ViewRecord]]:
    """A partition's paragraphs (what finding candidates needs of them) given the first of
    each text (``(gid, True)``): their :class:`View` s before the first round, which
    assumes every first one kept."""
    firsts: set[Gid] = set()
    paragraphs: list[tuple[Gid, Posted]] = []
    for gid, value in items:
        if value is True:
            firsts.add(gid)
        else:
            paragraphs.append((gid, Posted._make(value)))
    for gid, p in paragraphs:
        kept = gid in firsts
        firsts.discard(gid)
        yield gid, View.first(p, kept).plain()
    _here(firsts, set())


def _union(*rdds: RDD[Any]) -> RDD[Any]:
    """RDDs partitioned alike as one, still partitioned so (a partition holds theirs, the
    first RDD's records first, then the second's, and so on)."""
    out = rdds[0]
    for rdd in rdds[1:]:
        out = out.union(rdd)
    return out


#: Records a batch of a side of :func:`zipped` (PySpark's own choice when it batches them).
ZIP_BATCH = 100


def zipped(first: RDD[Any], second: RDD[Any]) -> RDD[tuple[Any, Any]]:
    """``first.zip(second)``, each side pickled by the plain pickler in batches of
    :data:`ZIP_BATCH`. ``RDD.zip`` itself re-pickles a side batched otherwise (every RDD
    of the job: auto-batched) with cloudpickle, which calls back into Python for every
    object it writes: 5% of the workers' time on a million lines, where the documents and
    what was decided for them are zipped."""
    from pyspark.serializers import BatchedSerializer, PickleSerializer

    batched = BatchedSerializer(PickleSerializer(), ZIP_BATCH)  # type: ignore[no-untyped-call]
    # _reserialize is what RDD.zip batches a side with (a map that pickles its output so).
    return first._reserialize(batched).zip(second._reserialize(batched))


def _in_round(at: int, settled: tuple[bool, OutcomeRecord]) -> tuple[int, OutcomeRecord]:
    """A paragraph's outcome settled in round ``at`` (counted from 0)."""
    return at, settled[1]


def _latest(
    items: Iterable[tuple[Gid, tuple[int, OutcomeRecord]]],
) -> Iterator[tuple[Gid, OutcomeRecord]]:
    """Each paragraph's outcome of the last round that settled it (:func:`_in_round`), in
    whatever order a partition lists the rounds' records."""
    last: dict[Gid, tuple[int, OutcomeRecord]] = {}
    for gid, settled in items:
        held = last.get(gid)
        if held is None or settled[0] > held[0]:
            last[gid] = settled
    for gid, (_, outcome) in last.items():
        yield gid, outcome


def _told(item: tuple[Gid, OutcomeRecord]) -> bool:
    """Whether a paragraph's outcome changes its document's cut: removed, or a close call
    (read off its record, :meth:`~dedup.spark.plan.Outcome.plain`: making a million
    Outcomes to ask took seconds, session 50)."""
    _, removed, found, _ = item[1]
    return removed or found is not None


def _removed(record: OutcomeRecord) -> bool:
    """Whether an outcome (its record) removes its paragraph."""
    return bool(record[1])


def decide(
    docs: RDD[tuple[int, str, str]], config: Config, partitions: int
) -> tuple[RDD[tuple[Gid, OutcomeRecord]], Stats]:
    """Every paragraph's :class:`~dedup.spark.plan.Outcome` (of the ones with words), as
    its record (:meth:`~dedup.spark.plan.Outcome.plain`).

    A round: what each paragraph's digest tells comes to its partition (:func:`_exact`,
    its :class:`View`); the pairs in its buckets are found where its keys are, in tables of
    postings kept there for every round (:class:`Table`), and come to it, where its plan
    is made beside the verdicts known (:class:`Planned`); the pairs not verified yet are
    verified where the later paragraph is, and it is decided there (:class:`Decided`),
    then its other repeats verified and named. What a round settles (outcome, status,
    verdicts known) is what the next one starts from. The first round plans every
    paragraph; a round after it, only those whose plan may differ: whose view moved (the
    digest tables given the statuses that changed), or whose pairs did (the key tables
    given the postings whose flags changed, :func:`_touched`); the others' outcomes
    stand. A key partition then sends only the pairs of the paragraphs whose pairs there
    moved (:class:`Marked`, :class:`Bucketed`), and a paragraph is planned with the last
    that each key partition sent of it (:func:`_now`; the pairs a later round asked of
    every key partition again took 43 bytes a line shuffled at a million lines, in
    session 39's run)."""
    parts = partitions
    cuts = docs.mapPartitions(_cut(config)).partitionBy(parts, _place)
    live = cuts.mapPartitions(_signed(config), True).persist(_level())
    texts = live.mapPartitionsWithIndex(_shelf, True).persist(_level())
    sums = texts.mapValues(Shelf.sums_only).persist(_level())
    # The first round assumes every paragraph kept but a later copy of an earlier text.
    firsts = live.map(lambda item: (_text_of(item[1]), item[0])).reduceByKey(min, parts, _place)
    first = firsts.map(lambda item: (item[1], True)).partitionBy(parts, _place)
    # What a round needs of each paragraph (not its texts: those go to verifying only).
    posting = live.mapValues(_posting)
    trimmed = _trimmed(posting, first, parts)
    views = _union(trimmed, first).mapPartitions(_assumed, True).persist(_level())
    digests = views.mapPartitionsWithIndex(_digests, True).persist(_level())
    count = int(texts.map(lambda item: len(item[1].doc)).sum())
    digests.count()
    live.unpersist()
    empty: RDD[tuple[int, Verdicts]] = texts.context.emptyRDD()
    known = empty.partitionBy(parts, _place)
    worked: list[RDD[tuple[int, Verdicts]]] = []  # every round's verdicts, known from then on
    rounds = verified = planned_count = 0
    tables: RDD[tuple[int, Table]] | None = None
    flags: list[RDD[tuple[int, Flags | Grown]]] = []  # none: the first round's tables'
    touched: RDD[tuple[int, Any]] | None = None
    # The pairs found in buckets: the first round's, and every later round's of the
    # paragraphs whose pairs moved (Bucketed and Marked, by their partition), re-read from
    # the shuffle's files in every round after.
    found: list[RDD[tuple[int, Bucketed | Marked]]] = []
    exact: RDD[tuple[int, Any]] | None = None
    flips: list[RDD[tuple[Gid, bool]]] = []  # the statuses that changed in the round before
    settles: list[RDD[tuple[Gid, tuple[bool, OutcomeRecord]]]] = []  # a round's, of its plans
    while True:
        rounds += 1
        opening = exact is None
        given = _union(digests, *flips).mapPartitions(_digest_blocks(parts, opening))
        before = [exact.filter(lambda item: isinstance(item[1], Digests))] if exact else []
        done: list[RDD[Any] | None] = [views, touched, exact, *flips]
        exact = _union(given.partitionBy(parts, _place), *before)
        exact = exact.mapPartitionsWithIndex(_exact(parts, opening), True).persist(_level())
        # Keyed by the partition they go to, but made where their digests are: a map
        # forgets that partitioning, so that partitionBy moves them.
        told = exact.flatMap(lambda item: [] if isinstance(item[1], Digests) else [item])
        told = told.partitionBy(parts, _place)
        viewed = _union(views, *flips, told).mapPartitions(_viewed, True).persist(_level())
        if tables is None:
            tables = (
                viewed.mapPartitions(_key_blocks(parts, _active))
                .partitionBy(parts, _place)
                .mapPartitionsWithIndex(_tables, True)
                .persist(_level())
            )
            playing = viewed
            known_here: RDD[Any] = known  # none yet
            blocks = tables.mapPartitionsWithIndex(_pair_blocks(parts))
            blocks = blocks.partitionBy(parts, _place)
            found.append(blocks)
        else:
            changes = (
                viewed.filter(lambda item: item[1][_MOVED] == POSTINGS)
                .mapPartitions(_key_blocks(parts))
                .partitionBy(parts, _place)
            )
            touched = (
                _union(changes, *flags, tables)
                .mapPartitionsWithIndex(_touched, True)
                .persist(_level())
            )
            flags = [touched.filter(lambda item: isinstance(item[1], (Flags, Grown)))]
            marks = (
                touched.filter(lambda item: isinstance(item[1], (Marks, Pairs)))
                .flatMap(_placed(parts, rounds))
                .partitionBy(parts, _place)
            )
            found.append(marks)
            playing = _union(viewed, marks, known)
            playing = playing.mapPartitionsWithIndex(_playing, True).persist(_level())
            done.append(playing)
            # The verdicts known on the pairs of the paragraphs in play, which came with
            # them (the first round knows none).
            known_here = playing.filter(lambda item: isinstance(item[1], Verdicts))
        plans = functools.partial(_plans, rounds)
        planned = _union(playing, *found).mapPartitions(plans, True).persist(_level())
        made, made_count = _verified(planned, texts, sums, config, parts)
        decided = _union(planned, made, known_here).mapPartitionsWithIndex(_decided, True)
        decided = decided.persist(_level())
        more, more_count = _verified(decided, texts, sums, config, parts)
        verified += made_count + more_count
        settled = _union(decided, more).mapPartitions(_settled, True)
        settles.append(settled.persist(_level()))
        flipped = settled.filter(lambda item: item[1][0] == _removed(item[1][1]))
        flips = [flipped.mapValues(lambda r: not _removed(r[1])).persist(_level())]
        changed = flips[0].count()
        planned_count += planned.count()
        for rdd in (*done, planned, decided):
            if rdd is not None:
                rdd.unpersist()
        views = viewed
        worked += [made, more]
        known = _union(known, made, more)
        if not changed:
            for rdd in (texts, sums, digests, tables, touched, views, exact, *flips, *worked):
                if rdd is not None:
                    rdd.unpersist()
            rounds_settled = (
                settle.mapValues(functools.partial(_in_round, at))
                for at, settle in enumerate(settles)
            )
            outcomes = _union(*rounds_settled).mapPartitions(_latest, True)
            return outcomes, Stats(count, rounds, verified, planned_count)


def _count(verdicts: RDD[tuple[int, Verdicts]]) -> int:
    return int(verdicts.map(lambda item: int(item[1].sizes.sum())).sum())


def clean(
    docs: RDD[tuple[int, str, str]], config: Config, partitions: int | None = None
) -> tuple[RDD[Cut], Stats]:
    """Documents ``(doc, name, text)`` cleaned as one corpus in the order of ``doc``, the
    work in ``partitions`` (default: :func:`_partitions`): each one's
    :class:`~dedup.spark.plan.Cut`, in the partitions and the order of ``docs`` (a
    partition's documents in order, the partitions in order), so that ``docs``, or what it
    was mapped from, zips with it: the documents are cut where they are, and only what was
    decided for a paragraph that is removed or a close call moves to them."""
    docs = docs.persist(_level())
    outcomes, stats = decide(docs, config, partitions or _partitions(docs))
    n = docs.getNumPartitions()
    if not n:
        return docs.map(lambda row: cut(row[1], row[2], config, {})), stats
    firsts = docs.mapPartitionsWithIndex(
        lambda at, rows: [(row[0], at) for row in itertools.islice(rows, 1)]
    ).collect()
    starts = [first for first, _ in firsts]

    def place(item: tuple[Gid, OutcomeRecord]) -> tuple[int, tuple[int, Any]]:
        (doc, paragraph), outcome = item
        return firsts[bisect.bisect_right(starts, doc) - 1][1], (doc, (paragraph, outcome))

    def each(
        items: Iterable[tuple[int, tuple[int, Any]]],
    ) -> Iterator[tuple[int, dict[int, OutcomeRecord]]]:
        """What was decided for each document of a partition, in order (one a document)."""
        told: dict[int, dict[int, OutcomeRecord]] = defaultdict(dict)
        here = []
        for _, (doc, decided) in items:
            if decided is None:
                here.append(doc)
            else:
                told[doc][decided[0]] = decided[1]
        for doc in sorted(here):
            yield doc, told.get(doc, {})

    def cut_one(pair: tuple[tuple[int, str, str], tuple[int, dict[int, OutcomeRecord]]]) -> Cut:
        (doc, name, text), (decided_doc, decided) = pair
        if doc != decided_doc:  # never another document's removals
            raise DedupError(
                f"document {name!r}: the documents of a partition are not in the order of "
                "their numbers, which the job needs"
            )
        return cut(name, text, config, {at: Outcome.of(r) for at, r in decided.items()})

    # Every document marks its place, so that its partition lists it (decided or not).
    marks = docs.mapPartitionsWithIndex(lambda at, rows: ((at, (row[0], None)) for row in rows))
    told = outcomes.filter(_told).map(place)
    decided = marks.union(told).partitionBy(n).mapPartitions(each)
    cuts = zipped(docs, decided).map(cut_one)
    return cuts, stats


#: Characters of text a partition of the work holds at most, unless told how many
#: partitions: a partition's records are held whole by a Python worker while a step runs
#: (about 7 KB a paragraph at the peak), and a persisted partition is a block the JVM
#: reads back whole (a million lines of the scale corpus on two partitions did not fit a
#: 1 GB heap; 100,000 on one did). More partitions than needed cost time (100,000 lines
#: on 4 partitions instead of 2: 66 s against 54).
PART = 1 << 24


def _partitions(docs: RDD[tuple[int, str, str]]) -> int:
    """How many partitions the work on ``docs`` takes: Spark's parallelism, or a multiple
    of it (every core busy to the end of a step) so that none holds more than
    :data:`PART` characters of text."""
    chars = int(docs.map(lambda row: len(row[2])).sum())
    cores = docs.context.defaultParallelism
    return cores * max(1, -(-chars // (PART * cores)))


def read_jsonl(
    spark: Any, inputs: Sequence[tuple[str, str]], text_field: str, id_field: str | None
) -> RDD[tuple[int, tuple[str, str, str, str]]]:
    """The records of JSON Lines files ``(name, path)``, by place (the files in the order
    given, then their lines): ``("ok", name, text, line)``, or ``("error", where,
    problem, "")`` for a line that is no document (as :func:`dedup.sources.documents`
    reads them: blank lines skipped, a document named by its id, else file and line)."""
    sc = spark.sparkContext
    parts = []
    for number, (name, path) in enumerate(inputs):
        lines = spark.read.option("lineSep", "\n").text(path).rdd.map(lambda row: row[0])
        parts.append(lines.zipWithIndex().flatMap(_record(number, name, text_field, id_field)))
    out: RDD[tuple[int, tuple[str, str, str, str]]] = sc.union(parts) if parts else sc.emptyRDD()
    return out


def _record(number: int, name: str, text_field: str, id_field: str | None) -> Any:
    def parse(item: tuple[str, int]) -> list[tuple[int, tuple[str, str, str, str]]]:
        line, at = item
        if blank(line):
            return []
        where = f"{name}:{at + 1}"
        try:
            doc, text, _ = jsonl_document(line, where, text_field, id_field)
        except InputError as error:
            return [((number << 40) | at, ("error", where, error.problem, ""))]
        return [((number << 40) | at, ("ok", doc, text, line))]

    return parse


def _collect_less_in_tasks() -> None:
    """In a Spark task's Python worker (which imports this module to run the job's
    steps), the cycle collector run less often (:mod:`dedup.collector`); in the driver,
    the host's process, nothing."""
    spark = sys.modules.get("pyspark")
    if spark is not None and spark.TaskContext.get() is not None:
        collect_less()


_collect_less_in_tasks()
