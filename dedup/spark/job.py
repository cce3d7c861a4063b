"""The Spark job: :mod:`dedup.spark.plan`'s steps as RDD operations.

Documents come in as ``(doc, name, text)``, ``doc`` their place in the order. Whatever is
keyed by paragraph (``gid``) is partitioned alike, by Spark's default partitioner, so that
joining two such RDDs moves nothing; the statuses assumed for a round travel with the
fingerprints (``(gid, (posted, kept))``), and verdicts worked out in one round are kept
for the next by the later paragraph of each pair. Keys and the pairs found in their
buckets travel as numpy blocks, one a partition (keyed by the partition's number), not as
a record a posting. Nothing depends on the partitions: every group is sorted by the
paragraphs' places before it is walked.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.errors import InputError
from dedup.index import Ref
from dedup.sources import jsonl_document
from dedup.spark.plan import (
    EDGES,
    SHINGLES,
    Cut,
    Exact,
    Found,
    Gid,
    Outcome,
    Pairs,
    Plan,
    Posted,
    Postings,
    Print,
    Shared,
    cut,
    decision,
    digest_view,
    key_pairs,
    keys,
    merged,
    named,
    plan,
    posted,
    postings,
    prints,
    shared_by_pair,
    verdicts,
)

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.storagelevel import StorageLevel

#: The family of a key as :func:`~dedup.spark.plan.keys` writes it (bands are 0).
SHINGLE, EDGE = SHINGLES << 32, EDGES << 32

#: A pair to verify: kept paragraph q, later paragraph p, q's fingerprint as written, and
#: whether a pair far apart by sketches is passed over.
Pair = tuple[Gid, Gid, bool, bool]


class Stats(NamedTuple):
    """What a run did: paragraphs (with words), rounds, verified pairs, and (once the
    output is written) paragraphs removed."""

    paragraphs: int
    rounds: int
    verified: int
    removed: int = 0


def _level() -> StorageLevel:
    from pyspark.storagelevel import StorageLevel

    return StorageLevel.MEMORY_AND_DISK


def _prints(config: Config) -> Any:
    def run(rows: Iterable[tuple[int, str, str]]) -> Iterator[tuple[Gid, Print]]:
        for doc, name, text in rows:
            for p in prints(doc, name, text, config)[1]:
                yield p.gid, p

    return run


def _places(doc: npt.NDArray[np.int64], paragraph: npt.NDArray[np.int64], parts: int) -> Any:
    """The partition of each paragraph ``(doc, paragraph)`` under PySpark's default
    partitioner (``portable_hash(gid) % parts``, which is CPython's tuple hash of old over
    ints that hash to themselves), in array operations."""
    mask = np.uint64(sys.maxsize)
    h = np.full(len(doc), 0x345678, dtype=np.uint64)
    for column in (doc, paragraph):
        h = ((h ^ column.astype(np.uint64)) * np.uint64(1000003)) & mask
    return (h ^ np.uint64(2)) % np.uint64(parts)


def _by_place(
    columns: Sequence[npt.NDArray[Any]], places: Any, parts: int
) -> Iterator[tuple[int, tuple[npt.NDArray[Any], ...]]]:
    """The rows of ``columns`` as one block per partition, keyed by the partition's
    number: an int small enough hashes to itself, so the default partitioner sends block
    ``t`` to partition ``t``, beside the paragraphs that are there."""
    for t in range(parts):
        rows = places == t
        if rows.any():
            yield t, tuple(column[rows] for column in columns)


def _key_blocks(parts: int) -> Any:
    """A partition's postings, by the partition of their keys."""

    def run(
        items: Iterable[tuple[Gid, tuple[tuple[Posted, bool], Exact]]],
    ) -> Iterator[tuple[int, tuple[npt.NDArray[Any], ...]]]:
        listed: list[tuple[int, int, int, int, int, bool, bool, bool]] = []
        for gid, ((p, kept), exact) in items:
            flags = (p.batch, p.size, exact.keepable, exact.indexed is None, kept)
            listed += [(key, *gid, *flags) for key in keys(p)]
        if listed:
            table = postings(listed)
            yield from _by_place(table, table.key % parts, parts)

    return run


def _pair_blocks(parts: int) -> Any:
    """The pairs in the buckets of a partition's keys (every posting of a key is there),
    by the partition of the paragraph whose buckets they are."""

    def run(
        blocks: Iterable[tuple[int, tuple[npt.NDArray[Any], ...]]],
    ) -> Iterator[tuple[int, tuple[npt.NDArray[Any], ...]]]:
        listed = [Postings(*block) for _, block in blocks]
        if listed:
            table = Postings(*(np.concatenate(column) for column in zip(*listed, strict=True)))
            pairs = merged(key_pairs(table), candidates=False)
            yield from _by_place(pairs, _places(pairs.p_doc, pairs.p_paragraph, parts), parts)

    return run


def _plans(
    items: Iterable[tuple[Any, Any]],
) -> Iterator[tuple[Gid, Plan]]:
    """The plans of a partition's paragraphs (``viewed``), from the blocks of pairs in
    their buckets (keyed by an int) that came to the partition."""
    steps: list[tuple[Gid, tuple[tuple[Posted, bool], Exact]]] = []
    blocks: list[Pairs] = []
    for key, value in items:
        if isinstance(key, int):
            blocks.append(Pairs(*value))
        else:
            steps.append((key, value))
    shared: dict[Gid, dict[Gid, Shared]] = defaultdict(dict)
    for (gid, q), counts in shared_by_pair(merged(Pairs.joined(blocks), candidates=True)):
        shared[gid][q] = counts
    if not shared.keys() <= {gid for gid, _ in steps}:
        raise AssertionError("pairs sent to a partition that does not hold their paragraph")
    for gid, ((p, _), exact) in steps:
        yield gid, plan(p, exact, shared.get(gid, {}))


def _texts(p: Print) -> Print:
    """What verifying needs of a paragraph: not its keys but its shingles."""
    return p._replace(bands=(), edges=())


def _verify(config: Config) -> Any:
    def run(
        items: Iterable[tuple[Gid, tuple[tuple[Pair, Print], Print]]],
    ) -> Iterator[tuple[Gid, tuple[Pair, Found]]]:
        listed = list(items)
        found = verdicts([(q, p, pair[2], pair[3]) for _, ((pair, q), p) in listed], config)
        for (gid, ((pair, q), _)), verdict in zip(listed, found, strict=True):
            yield gid, (pair, (Ref(q.name, q.paragraph), verdict))

    return run


class _Verdicts:
    """The verdicts worked out so far, kept from round to round by the later paragraph of
    each pair, where its decision is made: nothing but the earlier paragraph's text of a
    pair verified for the first time moves."""

    def __init__(self, texts: RDD[tuple[Gid, Print]], config: Config, partitions: int) -> None:
        self._texts = texts
        self._config = config
        self._partitions = partitions
        empty: RDD[tuple[Gid, dict[Pair, Found]]] = texts.context.emptyRDD()
        self.known = empty.partitionBy(partitions)
        self.count = 0
        #: What a round's lookups hold until the round is decided.
        self.held: list[RDD[Any]] = []

    def of(self, wanted: RDD[tuple[Gid, tuple[Pair, ...]]]) -> RDD[tuple[Gid, dict[Gid, Found]]]:
        """For each paragraph, its ``wanted`` pairs' verdicts by candidate; the pairs not
        verified before are verified now."""
        parts = self._partitions
        asked = wanted.partitionBy(parts).leftOuterJoin(self.known, parts).persist(_level())
        # The earlier paragraph's text to the later one's place, to be verified there.
        made = (
            asked.flatMap(_unknown)
            .partitionBy(parts)
            .join(self._texts, parts)
            .map(lambda item: (item[1][0][1], item[1]))
            .partitionBy(parts)
            .join(self._texts, parts)
            .mapPartitions(_verify(self._config), preservesPartitioning=True)
            .groupByKey(parts)
            .mapValues(dict)
            .persist(_level())
        )
        self.count += made.values().map(len).sum()
        previous = self.known
        self.known = self.known.union(made).reduceByKey(_merged, parts).persist(_level())
        self.known.count()
        previous.unpersist()
        self.held += [asked, made]
        return asked.leftOuterJoin(made, parts).mapValues(_picked)


def _unknown(
    item: tuple[Gid, tuple[tuple[Pair, ...], dict[Pair, Found] | None]],
) -> list[tuple[Gid, Pair]]:
    """The pairs of a paragraph not verified yet, by their earlier paragraph."""
    _, (pairs, known) = item
    return [(pair[0], pair) for pair in set(pairs) if not known or pair not in known]


def _merged(a: dict[Pair, Found], b: dict[Pair, Found]) -> dict[Pair, Found]:
    return {**a, **b}


def _picked(
    value: tuple[tuple[tuple[Pair, ...], dict[Pair, Found] | None], dict[Pair, Found] | None],
) -> dict[Gid, Found]:
    (pairs, known), made = value
    have = {**(known or {}), **(made or {})}
    return {pair[0]: have[pair] for pair in pairs}


def _wanted(step: Plan) -> tuple[Pair, ...]:
    return tuple((q, step.gid, as_written, settle) for q, as_written, settle in step.ids)


def _decide(
    value: tuple[Plan, dict[Gid, Found] | None],
) -> tuple[Outcome, tuple[Pair, ...]]:
    step, found = value
    outcome, others = decision(step, found or {})
    return outcome, tuple((q, step.gid, a, s) for q, a, s in others)


def _trimmed(posted: RDD[tuple[Gid, Posted]], partitions: int) -> RDD[tuple[Gid, Posted]]:
    """The paragraphs without the keys no other paragraph posts (most shingles: they put
    nobody in anybody's bucket), found once, so that no round sends them again. Keys go
    to their partition and back in blocks, one a partition."""
    parts = partitions

    def listed(items: Iterable[tuple[Gid, Posted]]) -> Iterator[tuple[int, Any]]:
        rows = [(key, *gid) for gid, p in items for key in set(keys(p))]
        if rows:
            table = np.array(rows, dtype=np.int64).reshape(len(rows), 3).T
            yield from _by_place(tuple(table), table[0] % parts, parts)

    def shared(blocks: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        found = [block for _, block in blocks]
        if found:
            key, doc, paragraph = (np.concatenate(c) for c in zip(*found, strict=True))
            _, at, counts = np.unique(key, return_inverse=True, return_counts=True)
            rows = counts[at] > 1
            table = key[rows], doc[rows], paragraph[rows]
            yield from _by_place(table, _places(table[1], table[2], parts), parts)

    def trim(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Gid, Posted]]:
        held: dict[Gid, set[int]] = defaultdict(set)
        paragraphs = []
        for key, value in items:
            if isinstance(key, int):
                for k, doc, paragraph in zip(*(c.tolist() for c in value), strict=True):
                    held[(doc, paragraph)].add(k)
            else:
                paragraphs.append((key, value))
        for gid, p in paragraphs:
            mine = held.get(gid, set())
            yield (
                gid,
                p._replace(
                    bands=tuple(v for v in p.bands if v in mine),
                    shingles=tuple(v for v in p.shingles if SHINGLE | v in mine),
                    edges=tuple(v for v in p.edges if EDGE | v in mine),
                ),
            )

    found = posted.mapPartitions(listed).partitionBy(parts).mapPartitions(shared)
    return posted.union(found.partitionBy(parts)).mapPartitions(trim, True)


def _named(
    value: tuple[tuple[Outcome, tuple[Pair, ...]], dict[Gid, Found] | None],
) -> Outcome:
    (outcome, others), found = value
    return named(outcome, [q for q, _, _, _ in others], found) if found else outcome


def decide(
    docs: RDD[tuple[int, str, str]], config: Config, partitions: int
) -> tuple[RDD[tuple[Gid, Outcome]], Stats]:
    """Every paragraph's :class:`~dedup.spark.plan.Outcome` (of the ones with words).

    Whatever is keyed by paragraph is partitioned alike (``partitionBy``, kept by
    ``mapValues`` and by joins of RDDs partitioned alike), so that joining two of them
    moves nothing between executors."""
    parts = partitions
    live = (
        docs.mapPartitions(_prints(config))
        .filter(lambda item: item[1].tokens > 0)
        .partitionBy(parts)
        .persist(_level())
    )
    count = live.count()
    texts = live.mapValues(_texts).persist(_level())
    # The first round assumes every paragraph kept but a later copy of an earlier text.
    firsts = live.map(lambda item: (item[1].digest, item[0])).reduceByKey(min, parts)
    first = firsts.map(lambda item: (item[1], True)).partitionBy(parts)
    # What a round needs of each paragraph (not its texts: those go to verifying only).
    state = (
        _trimmed(live.mapValues(posted), parts)
        .leftOuterJoin(first, parts)
        .mapValues(lambda value: (value[0], bool(value[1])))
        .persist(_level())
    )
    state.count()
    texts.count()
    live.unpersist()
    known = _Verdicts(texts, config, parts)
    rounds = 0
    while True:
        rounds += 1
        exact = (
            state.map(lambda item: (item[1][0].digest, (item[0], item[1][0].batch, item[1][1])))
            .groupByKey(parts)
            .flatMap(lambda item: digest_view(item[1]))
            .partitionBy(parts)
        )
        viewed = state.join(exact, parts).persist(_level())
        blocks = (
            viewed.mapPartitions(_key_blocks(parts))
            .partitionBy(parts)
            .mapPartitions(_pair_blocks(parts))
            .partitionBy(parts)
        )
        plans = viewed.union(blocks).mapPartitions(_plans, True).persist(_level())
        found = known.of(plans.mapValues(_wanted))
        decided = plans.leftOuterJoin(found, parts).mapValues(_decide).persist(_level())
        others = decided.filter(lambda item: bool(item[1][1])).mapValues(lambda v: v[1])
        outcomes = (
            decided.leftOuterJoin(known.of(others), parts).mapValues(_named).persist(_level())
        )
        joined = state.join(outcomes, parts)
        changed = joined.filter(lambda item: item[1][0][1] == item[1][1].removed).count()
        for done in (viewed, plans, decided, *known.held):
            done.unpersist()
        known.held.clear()
        if not changed:
            texts.unpersist()
            return outcomes, Stats(count, rounds, known.count)
        previous = state
        state = joined.mapValues(lambda v: (v[0][0], not v[1].removed)).persist(_level())
        state.count()
        previous.unpersist()
        outcomes.unpersist()


def clean(
    docs: RDD[tuple[int, str, str]], config: Config, partitions: int
) -> tuple[RDD[tuple[int, Cut]], Stats]:
    """Documents ``(doc, name, text)`` cleaned as one corpus in the order of ``doc``: each
    one's :class:`~dedup.spark.plan.Cut`, by ``doc``."""
    docs = docs.persist(_level())
    outcomes, stats = decide(docs, config, partitions)
    by_doc = outcomes.map(lambda item: (item[0][0], (item[0][1], item[1]))).groupByKey(partitions)

    def cut_one(item: tuple[int, tuple[tuple[str, str], Any]]) -> tuple[int, Cut]:
        doc, ((name, text), decided) = item
        return doc, cut(name, text, config, dict(decided or ()))

    cuts = (
        docs.map(lambda row: (row[0], (row[1], row[2])))
        .leftOuterJoin(by_doc, partitions)
        .map(cut_one)
    )
    return cuts, stats


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
        if not line.strip():
            return []
        where = f"{name}:{at + 1}"
        try:
            doc, text, _ = jsonl_document(line, where, text_field, id_field)
        except InputError as error:
            return [((number << 40) | at, ("error", where, error.problem, ""))]
        return [((number << 40) | at, ("ok", doc, text, line))]

    return parse
