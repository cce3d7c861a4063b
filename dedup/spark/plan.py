"""The one-machine cleaner's decisions (scope corpus), worked out in steps that need no
order and no single place: each a function of one group of records, so that a Spark job
(:mod:`dedup.spark.job`) runs them on its executors, and :func:`decide_all` runs them here
(grouping with dicts) for a check that needs no Spark.

What :class:`~dedup.deduplicator.Deduplicator` decides for a paragraph depends on the
paragraphs kept before it: an index bucket (a band, shingle or edge key) holds the first
``MAX_BUCKET`` paragraphs *kept* with its key, an exact repeat is removed as a copy of the
kept paragraph it equals, and a paragraph's candidates are ranked among what its buckets
hold. So the work goes in rounds, from an assumed status for every paragraph (kept, unless
an earlier paragraph has the same text):

1. :func:`digest_view` and :func:`key_pairs` (:func:`key_view` one key at a time), by
   digest and by key: what each paragraph's buckets held when it was decided, had every
   earlier paragraph the assumed status, with the cleaner's batches as they were (a
   paragraph of the batch being decided is a *partner*, found as
   :func:`~dedup.index.batch_pairs` finds it);
2. :func:`plan`, by paragraph: its candidates ranked as the cleaner ranks them, and the
   pairs to verify;
3. :func:`verdict`, by pair: the same :func:`~dedup.verify.compare` (pairs that sketches
   show far apart are passed over, as the cleaner does);
4. :func:`decision`, by paragraph: removed (and as a copy of which) or kept.

The statuses decided become the assumed ones of the next round, until a round decides
what it assumed. Then every paragraph was decided from the statuses of the paragraphs
before it as they were decided, which is the one-machine run, by induction over the order:
the result is the same whatever the partitions, and exact, not an estimate (verdicts are
worked out once; a round after the first verifies only pairs not seen before). A paragraph
whose status changes makes the paragraphs after it that share a key with it decide again;
in practice two to four rounds settle a corpus (:attr:`Decisions.rounds`). A paragraph's
plan is a function of its own view (status, :class:`Exact`) and of what it shares with
each paragraph in its buckets (verdicts never change), so a round after the first needs
to plan only the paragraphs whose view moved or whose pairs did (:func:`moved`); the
others decide as they did.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from dedup.config import Config, SplitMode
from dedup.decision import Decided, Decision, Pending
from dedup.deduplicator import CLOSE, DECIDING, _index_score, _rank, _score
from dedup.fingerprint import (
    Batch,
    Fingerprint,
    Sketches,
    batch_keys,
    fingerprint,
    fingerprint_batch,
    shingle_batch,
    token_sketches,
    truncated_rows,
)
from dedup.index import MAX_BUCKET, MAX_CANDIDATES, Ref
from dedup.paragraphs import Wrapping, wrapped_lines
from dedup.result import CloseCall, Removal
from dedup.shingles import TokenHasher, distinct
from dedup.stream import Cleaner
from dedup.verify import EXACT, Verdict, compare, far_pairs

#: A paragraph's place in the corpus: its document's place in the order, its index there.
Gid = tuple[int, int]

BANDS, SHINGLES, EDGES = 0, 1, 2


class Print(NamedTuple):
    """A paragraph as the cleaner fingerprinted it, with where it stands: what every step
    needs of it (plain values, so that Spark pickles it small)."""

    doc: int
    paragraph: int
    #: The index of the first paragraph of the cleaner's batch it was decided in.
    batch: int
    name: str
    digest: int
    tokens: int
    #: Its keys as the index posts them (a value may come twice), by family.
    bands: tuple[int, ...]
    shingles: tuple[int, ...]
    edges: tuple[int, ...]
    bloom: tuple[int, int]
    distinct: int
    truncated: bool
    normalized: str
    raw: str
    wrapped: str

    @property
    def gid(self) -> Gid:
        return (self.doc, self.paragraph)

    def plain(self) -> PrintRecord:
        """As the Spark job's records hold it: a plain tuple, its keys (``bands``,
        ``shingles`` and ``edges``, its fields 6 to 8) as uint32 bytes (a key's value is
        32 bits: see :func:`keys`), which pickle an eighth smaller after zstd and about
        three times faster than a NamedTuple of tuples of ints."""
        return (
            *self[:6],
            *(np.array(values, dtype=np.uint32).tobytes() for values in self[6:9]),
            *self[9:],
        )

    @staticmethod
    def of(record: PrintRecord) -> Print:
        """A Print from its record (:meth:`plain`)."""
        return Print(
            *record[:6],
            *(tuple(np.frombuffer(values, dtype=np.uint32).tolist()) for values in record[6:9]),
            *record[9:],
        )


#: A :class:`Print` as a record of the Spark job (:meth:`Print.plain`).
PrintRecord = tuple[Any, ...]


class Posted(NamedTuple):
    """What finding a paragraph's candidates needs of it (without its texts, which only
    verifying needs): where it stands, its batch, digest and keys, and how many shingles
    it has (its keys may leave out the ones no other text posts: see
    :func:`~dedup.spark.job._trimmed`)."""

    doc: int
    paragraph: int
    batch: int
    digest: int
    bands: tuple[int, ...]
    shingles: tuple[int, ...]
    edges: tuple[int, ...]
    size: int

    @property
    def gid(self) -> Gid:
        return (self.doc, self.paragraph)


def posted(p: Print) -> Posted:
    return Posted(
        p.doc, p.paragraph, p.batch, p.digest, p.bands, p.shingles, p.edges, len(p.shingles)
    )


class Text(NamedTuple):
    """What verifying a pair needs of one of its paragraphs (:func:`verdicts`): its
    document's name and its index there (a removal names the kept paragraph), its texts,
    its shingles (:attr:`Print.shingles`, as an array) and its sketches."""

    name: str
    paragraph: int
    normalized: str
    shingles: npt.NDArray[np.uint32]
    bloom: tuple[int, int]
    distinct: int
    truncated: bool
    #: As written, and the lines it is wrapped with: empty where a pair does not read them
    #: (its kept paragraph of an earlier batch, :func:`_fingerprint`).
    raw: str = ""
    wrapped: str = ""

    @staticmethod
    def of(p: Print) -> Text:
        """What verifying needs of ``p``."""
        return Text(
            p.name,
            p.paragraph,
            p.normalized,
            np.array(p.shingles, dtype=np.uint32),
            p.bloom,
            p.distinct,
            p.truncated,
            p.raw,
            p.wrapped,
        )


def _fingerprint(p: Text, config: Config, as_written: bool) -> Fingerprint:
    """``p``'s fingerprint: as the batch has it (``as_written``: its text as written and
    the lines it is wrapped with), or as the index has it (a kept paragraph of an earlier
    batch)."""
    if as_written:
        return fingerprint(p.normalized, config, p.shingles, p.raw, p.wrapped)
    return fingerprint(p.normalized, config, p.shingles)


# --- fingerprints: the cleaner cuts and signs, deciding nothing ---------------------------


class _Now:
    __slots__ = ("value",)

    def __init__(self, value: Batch) -> None:
        self.value = value

    def result(self) -> Batch:
        return self.value


@dataclasses.dataclass(frozen=True)
class _Rows:
    """A batch as the cleaner cut it, not fingerprinted: its paragraphs as written, and
    the lines each is wrapped with (when the cleaner gave the lines around it)."""

    texts: Sequence[str]
    wrapped: Sequence[str] = ()

    def __len__(self) -> int:
        return len(self.texts)


class _Recorder:
    """A decider that keeps every paragraph and records the batches it is given, as
    :class:`_Rows` (fingerprinting nothing)."""

    jobs = 1

    def __init__(self, config: Config) -> None:
        self.config = config
        self.batches: list[tuple[int, _Rows]] = []

    def fingerprints(
        self, texts: list[str], wait: bool, wrapping: Wrapping | None = None
    ) -> Pending[Batch]:
        wrapped = wrapped_lines(texts, wrapping) if wrapping is not None else ()
        return _Now(_Rows(texts, wrapped))  # type: ignore[arg-type]  # all the cut takes

    def decide(
        self, batch: Batch, document: str, first: int, explain: bool = True, refs: bool = True
    ) -> Decided:
        self.batches.append((first, batch))  # type: ignore[arg-type]  # a _Rows
        return Decided(np.zeros(len(batch), dtype=bool), 0, [])


class Written(NamedTuple):
    """A paragraph as the cleaner cut it, before it is fingerprinted: what the Spark job
    moves from where a document was read to where the paragraph is worked on (its text
    once, as written; its fingerprint is made there, :func:`signed`)."""

    doc: int
    paragraph: int
    #: The index of the first paragraph of the cleaner's batch it was decided in.
    batch: int
    name: str
    raw: str
    #: The lines it is wrapped with (:attr:`~dedup.fingerprint.Fingerprint.wrapped`).
    wrapped: str


def cut_paragraphs(
    doc: int, name: str, text: str, config: Config
) -> tuple[SplitMode, list[Written]]:
    """The split mode and the paragraphs of document ``name`` (``doc``-th in the order), cut
    as :class:`~dedup.stream.Cleaner` cuts them, batch by batch (not fingerprinted)."""
    recorder = _Recorder(config)
    cleaner = Cleaner(recorder, name, lambda text: None, events=False)
    cleaner.feed(text)
    cleaner.close()
    assert cleaner.split is not None
    out = [
        Written(doc, first + row, first, name, raw, batch.wrapped[row] if batch.wrapped else "")
        for first, batch in recorder.batches
        for row, raw in enumerate(batch.texts)
    ]
    return cleaner.split, out


def signed(
    paragraphs: Sequence[Written], config: Config, hasher: TokenHasher | None = None
) -> list[Print]:
    """The :class:`Print` s of ``paragraphs``, fingerprinted together (a paragraph's
    fingerprint is its own: the same in any batch)."""
    return [Print._make(record) for record in _signed(paragraphs, config, hasher, False)]


def signed_records(
    paragraphs: Sequence[Written], config: Config, hasher: TokenHasher | None = None
) -> list[PrintRecord]:
    """What :func:`signed` gives, as records (:meth:`Print.plain`), their keys' bytes cut
    from the batch's (made into tuples of ints and back into bytes, they took a third of
    the time the job took to fingerprint, session 50)."""
    return _signed(paragraphs, config, hasher, True)


def _signed(
    paragraphs: Sequence[Written], config: Config, hasher: TokenHasher | None, plain: bool
) -> list[tuple[Any, ...]]:
    """The fields of :class:`Print` s, their keys as :meth:`Print.plain` has them when
    ``plain``."""
    if not paragraphs:
        return []
    batch = fingerprint_batch([p.raw for p in paragraphs], config, hasher)
    per_row: list[list[Any]] = []
    for rows, values in batch_keys(batch, config):
        bounds = np.searchsorted(rows, np.arange(len(batch) + 1)).tolist()
        if plain:  # a key's value is 32 bits (see keys)
            whole = values.astype(np.uint32).tobytes()
            per_row.append([whole[4 * a : 4 * b] for a, b in itertools.pairwise(bounds)])
        else:
            listed = values.tolist()
            per_row.append([tuple(listed[a:b]) for a, b in itertools.pairwise(bounds)])
    digests, tokens = batch.digests.tolist(), batch.tokens.tolist()
    blooms, distinct = batch.blooms.tolist(), batch.distinct.tolist()
    truncated = batch.truncated.tolist()
    return [
        (
            p.doc,
            p.paragraph,
            p.batch,
            p.name,
            digests[row],
            tokens[row],
            per_row[BANDS][row],
            per_row[SHINGLES][row],
            per_row[EDGES][row],
            (blooms[row][0], blooms[row][1]),
            distinct[row],
            truncated[row],
            batch.normalized[row],
            p.raw,
            p.wrapped,
        )
        for row, p in enumerate(paragraphs)
    ]


def texts_of(paragraphs: Sequence[Written], config: Config) -> list[Text]:
    """What verifying needs of ``paragraphs`` (:class:`Text`), made from their texts as
    written: what :func:`signed` and :meth:`Text.of` make of them, without the
    signatures, keys and digests that only finding candidates needs (which took about half
    of the time of verifying's texts, session 50)."""
    if not paragraphs:
        return []
    normalized, flat, starts, ends, shingles, offsets = shingle_batch(
        [p.raw for p in paragraphs], config
    )
    counts = ends - starts
    blooms, distinct = token_sketches(flat, starts, counts, min(config.min_tokens, 255))
    bounds, bloom, count = offsets.tolist(), blooms.tolist(), distinct.tolist()
    truncated = truncated_rows(normalized).tolist()
    return [
        Text(
            p.name,
            p.paragraph,
            normalized[row],
            shingles[bounds[row] : bounds[row + 1]],
            (bloom[row][0], bloom[row][1]),
            count[row],
            truncated[row],
            p.raw,
            p.wrapped,
        )
        for row, p in enumerate(paragraphs)
    ]


def prints(doc: int, name: str, text: str, config: Config) -> tuple[SplitMode, list[Print]]:
    """The split mode and the paragraphs of document ``name`` (``doc``-th in the order), cut
    and fingerprinted as :class:`~dedup.stream.Cleaner` does."""
    split, paragraphs = cut_paragraphs(doc, name, text, config)
    return split, signed(paragraphs, config)


# --- step 1: what each paragraph's buckets held, by digest and by key ----------------------


class Exact(NamedTuple):
    """What a paragraph's digest tells: ``indexed`` the kept paragraph of an earlier batch with
    the same text (the index's exact match: the paragraph is removed as its copy, nothing
    else looked at), ``top`` that or, within its batch, the first paragraph with the same
    text when it was kept; ``first`` whether it is the first of its text in its batch."""

    indexed: Gid | None
    top: Gid | None
    first: bool

    @property
    def keepable(self) -> bool:
        """Whether it can be a partner of a later paragraph of its batch (an exact copy of a
        kept paragraph, or a later copy of a paragraph of the batch, is not)."""
        return self.first and self.indexed is None


def digest_view(rows: Iterable[tuple[Gid, int, bool]]) -> Iterator[tuple[Gid, Exact]]:
    """For the paragraphs with one digest (``(gid, batch, kept)``, any order), each one's
    :class:`Exact`. The index holds a digest's first kept paragraph."""
    ordered = sorted(rows)
    held: Gid | None = None  # the first kept, of the batches done
    at = 0
    while at < len(ordered):
        (doc, _), batch, _ = ordered[at]
        end = at
        while end < len(ordered) and (ordered[end][0][0], ordered[end][1]) == (doc, batch):
            end += 1
        first, _, first_kept = ordered[at]
        for gid, _, _ in ordered[at:end]:
            top = held if held is not None else first if gid != first and first_kept else None
            yield gid, Exact(held, top, gid == first)
        if held is None:
            held = next((gid for gid, _, kept in ordered[at:end] if kept), None)
        at = end


class Posting(NamedTuple):
    """A paragraph posting a key: where it stands, its batch, whether it can be a partner
    in its batch (:attr:`Exact.keepable`), whether its keys are looked up (no exact match
    in the index) and whether it is (assumed) kept."""

    gid: Gid
    batch: int
    keepable: bool
    looked_up: bool
    kept: bool


#: What a paragraph shares with one candidate in its buckets: keys of each family (bands,
#: shingles, edges), whether the candidate is of its batch (a *partner*), and whether
#: through a *calm* key: one of the batch with room for all of its paragraphs that could be
#: kept (a pair far apart by sketches is then passed over, as
#: :meth:`~dedup.deduplicator.Deduplicator._triage` does; candidates of earlier batches
#: always are).
Shared = list[int]


def key_view(family: int, postings: Iterable[Posting], into: dict[tuple[Gid, Gid], Shared]) -> None:
    """For the postings of one key (any order), count ``into[(p, q)]`` each paragraph ``q``
    in the bucket of each paragraph ``p`` whose keys are looked up, once per posting of each
    (a paragraph may post a key twice): the first ``MAX_BUCKET`` postings kept in earlier
    batches, then as :func:`~dedup.index.batch_pairs` and
    :meth:`~dedup.deduplicator.Deduplicator.decide` find partners in the batch.

    The rule one posting at a time, as it reads best: the steps run :func:`key_pairs`,
    which works it out for every key at once, and a property test holds the two equal."""
    ordered = sorted(postings)
    if len(ordered) < 2:
        return
    outer: list[Gid] = []  # the bucket in the index: the first kept postings
    at = 0
    while at < len(ordered):
        doc, batch = ordered[at].gid[0], ordered[at].batch
        end = at
        while end < len(ordered) and (ordered[end].gid[0], ordered[end].batch) == (doc, batch):
            end += 1
        room = MAX_BUCKET - len(outer)
        calm = sum(p.keepable for p in ordered[at:end]) <= room
        # Partners so far: every eligible kept posting (a calm key), or the first ones kept
        # up to the room left (a crowded one).
        partners: list[Gid] = []
        k = at
        while k < end:
            row = ordered[k]
            same = k
            while same < end and ordered[same].gid == row.gid:
                same += 1
            if row.looked_up:
                for q in outer:
                    _count(into, row.gid, q, family, False, True, same - k)
                for q in partners:
                    _count(into, row.gid, q, family, True, calm, same - k)
            if row.kept and (row.keepable or not calm):
                for _ in range(same - k if calm else min(same - k, room - len(partners))):
                    partners.append(row.gid)
            k = same
        for p in ordered[at:end]:
            if p.kept and len(outer) < MAX_BUCKET:
                outer.append(p.gid)
        at = end


class Postings(NamedTuple):
    """Postings of many keys as columns, one row a posting (any order): the key (its
    family in the bits above 32), the paragraph posting it (``doc``, ``paragraph``), its
    batch, its shingles (:attr:`Posted.size`), how many shingle keys it posts in all
    (``reach``: its :attr:`Posted.shingles`, those some other text posts too; see
    :func:`hopeful`), and :class:`Posting`'s flags."""

    key: npt.NDArray[np.int64]
    doc: npt.NDArray[np.int64]
    paragraph: npt.NDArray[np.int64]
    batch: npt.NDArray[np.int64]
    size: npt.NDArray[np.int64]
    reach: npt.NDArray[np.int64]
    keepable: npt.NDArray[np.bool_]
    looked_up: npt.NDArray[np.bool_]
    kept: npt.NDArray[np.bool_]


class Pairs(NamedTuple):
    """Paragraphs ``p`` and ``q`` in its buckets, one row a pair (or, before
    :func:`merged`, a part of what a pair shares): ``p``'s shingles (:attr:`Posted.size`),
    the keys of each family they share (``counts``, one column a family), whether ``q`` is
    of ``p``'s batch and whether through a calm key (see :data:`Shared`)."""

    p_doc: npt.NDArray[np.int64]
    p_paragraph: npt.NDArray[np.int64]
    p_size: npt.NDArray[np.int64]
    q_doc: npt.NDArray[np.int64]
    q_paragraph: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    inner: npt.NDArray[np.bool_]
    calm: npt.NDArray[np.bool_]

    def take(self, rows: npt.NDArray[Any]) -> Pairs:
        """The rows ``rows`` (indices or a mask)."""
        return Pairs(*(column[rows] for column in self))

    @staticmethod
    def joined(parts: Sequence[Pairs]) -> Pairs:
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return Pairs(
                empty, empty, empty, empty, empty, empty.reshape(0, 3), empty > 0, empty > 0
            )
        return Pairs(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _starts(new: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """For each row, the index of the first row of its run (``new`` marks where one starts)."""
    return np.maximum.accumulate(np.where(new, np.arange(len(new)), 0))


def _spread(
    rows: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each of ``rows`` repeated its length of times, with the counter 0, 1, ... of each."""
    src = np.repeat(rows, lengths)
    ends = np.cumsum(lengths)
    return src, np.arange(len(src)) - np.repeat(ends - lengths, lengths)


def key_pairs(postings: Postings) -> Pairs:
    """:func:`key_view` for every key at once, in array operations: for each posting of a
    paragraph whose keys are looked up, the postings in its bucket (the first
    ``MAX_BUCKET`` kept of earlier batches) and its partners in its batch (the postings
    kept before it, all of them when the key is calm, else the first ones up to the room
    left), one row each, to be :func:`merged`. Every posting of a key must be given."""
    order = np.lexsort((postings.paragraph, postings.doc, postings.key))
    key, doc, paragraph, batch, size = (
        a[order]
        for a in (postings.key, postings.doc, postings.paragraph, postings.batch, postings.size)
    )
    keepable, looked_up, kept = (
        a[order] for a in (postings.keepable, postings.looked_up, postings.kept)
    )
    n = len(key)
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = key[1:] != key[:-1]
    new_batch = new_key.copy()
    new_batch[1:] |= (doc[1:] != doc[:-1]) | (batch[1:] != batch[:-1])
    new_run = new_batch.copy()
    new_run[1:] |= paragraph[1:] != paragraph[:-1]
    key_start, batch_start, run_start = _starts(new_key), _starts(new_batch), _starts(new_run)
    # The bucket in the index when a batch is decided: the first kept postings of the key.
    kept_before: npt.NDArray[np.int64] = np.cumsum(kept) - kept
    outer = np.minimum(kept_before[batch_start] - kept_before[key_start], MAX_BUCKET)
    src, t = _spread(np.flatnonzero(looked_up), outer[looked_up])
    dst = np.flatnonzero(kept)[kept_before[key_start[src]] + t]
    # Partners: the batch's eligible postings before the paragraph's, up to the room left.
    room = MAX_BUCKET - outer
    group = np.cumsum(new_batch) - 1
    calm = np.bincount(group, weights=keepable)[group] <= room
    eligible = kept & (keepable | ~calm)
    eligible_before = np.cumsum(eligible) - eligible
    found = eligible_before[run_start] - eligible_before[batch_start]
    inner_src, inner_t = _spread(np.flatnonzero(looked_up), np.minimum(found, room)[looked_up])
    inner_dst = np.flatnonzero(eligible)[eligible_before[batch_start[inner_src]] + inner_t]
    p = np.concatenate([src, inner_src])
    q = np.concatenate([dst, inner_dst])
    inner = np.arange(len(p)) >= len(src)
    counts = np.zeros((len(p), 3), dtype=np.int64)
    counts[np.arange(len(p)), key[p] >> 32] = 1
    return Pairs(
        doc[p], paragraph[p], size[p], doc[q], paragraph[q], counts, inner, inner & calm[p]
    )


def _pair_order(
    p_doc: npt.NDArray[np.int64],
    p_paragraph: npt.NDArray[np.int64],
    q_doc: npt.NDArray[np.int64],
    q_paragraph: npt.NDArray[np.int64],
) -> npt.NDArray[np.intp]:
    """The stable order of pairs by ``p`` then ``q`` (each ``(doc, paragraph)``): a sort
    by one key, the pair's place as one number, where that fits 63 bits (a sort by two
    keys took 3 to 20 times as long); else by two, each paragraph's place as one number;
    else by the four columns (the same order)."""
    if not len(p_doc):
        return np.zeros(0, dtype=np.intp)
    docs = max(int(p_doc.max()), int(q_doc.max()))
    span = max(int(p_paragraph.max()), int(q_paragraph.max())) + 1
    places = docs * span + span
    if min(p_doc.min(), q_doc.min(), p_paragraph.min(), q_paragraph.min()) < 0 or (
        places > 1 << 63
    ):
        return np.lexsort((q_paragraph, q_doc, p_paragraph, p_doc))
    p, q = p_doc * span + p_paragraph, q_doc * span + q_paragraph
    if places * places > 1 << 63:
        return np.lexsort((q, p))
    return np.argsort(p * places + q, kind="stable")


def merged(pairs: Pairs, candidates: bool) -> Pairs:
    """The rows of ``pairs`` of one pair as one, ordered by pair; with ``candidates``,
    without the pairs of earlier batches that share too little to be candidates
    (:func:`plan` passes over them)."""
    by = _pair_order(pairs.p_doc, pairs.p_paragraph, pairs.q_doc, pairs.q_paragraph)
    pairs = pairs.take(by)
    first = np.zeros(len(by), dtype=bool)
    first[:1] = True
    for column in (pairs.p_doc, pairs.p_paragraph, pairs.q_doc, pairs.q_paragraph):
        first[1:] |= column[1:] != column[:-1]
    heads = np.flatnonzero(first)
    if not len(heads):
        return pairs
    one = pairs.take(heads)
    counts = np.add.reduceat(pairs.counts, heads, axis=0)
    calm = np.logical_or.reduceat(pairs.calm, heads)
    out = one._replace(counts=counts, calm=calm)
    if not candidates:
        return out
    common = counts[:, SHINGLES]
    enough = (common > 0) & (common * 2 >= one.p_size)
    return out.take(one.inner | (counts[:, BANDS] > 0) | (counts[:, EDGES] > 0) | enough)


def hopeful(pairs: Pairs, table: Postings) -> Pairs:
    """``pairs`` (:func:`merged`, found in the buckets of ``table``'s keys: some of the
    keys of each paragraph ``p``) without the shingles a pair of batches apart shares here
    when those cannot make it a candidate, and without the pairs then left sharing
    nothing: most pairs found through shingles (a phrase two paragraphs share), whose
    sending was the largest part of the job's shuffle.

    Such a pair is a candidate through shingles only when it shares at least half of
    ``p``'s shingles, summed over every key partition (:func:`merged`), and shares at most
    one through each shingle key ``p`` posts (a set): so what it shares elsewhere is at
    most ``p``'s shingle keys that ``table`` does not hold (``reach`` less those here). If
    what it shares here falls short even with all of those, the sum falls short too,
    whatever the other partitions send: without these shingles the pair is scored and
    dropped as it was (:func:`~dedup.deduplicator._index_score` counts shingles only from
    half on). A pair that is a candidate loses nothing, here or anywhere. Pairs of one
    batch stay as found: any key they share makes them partners."""
    common = pairs.counts[:, SHINGLES]
    shared = np.flatnonzero((common > 0) & ~pairs.inner)
    if not len(shared):
        return pairs
    shingled = table.key >> 32 == SHINGLES
    held = int(shingled.sum())
    # The paragraphs posting shingle keys here and the pairs' p numbered alike, in one
    # order (a document's number may take 62 bits: no one number for both columns).
    doc = np.concatenate([table.doc[shingled], pairs.p_doc[shared]])
    paragraph = np.concatenate([table.paragraph[shingled], pairs.p_paragraph[shared]])
    order = np.lexsort((paragraph, doc))
    new = np.ones(len(order), dtype=bool)
    new[1:] = (doc[order][1:] != doc[order][:-1]) | (paragraph[order][1:] != paragraph[order][:-1])
    number = np.empty(len(order), dtype=np.int64)
    number[order] = np.cumsum(new) - 1
    here = np.bincount(number[:held], minlength=int(new.sum()))
    reach = np.zeros(len(here), dtype=np.int64)
    reach[number[:held]] = table.reach[shingled]
    # Every p sharing shingles here posts shingle keys here: here[p] > 0.
    p = number[held:]
    most = common[shared] + reach[p] - here[p]
    short = shared[2 * most < pairs.p_size[shared]]
    if not len(short):
        return pairs
    counts = pairs.counts.copy()
    counts[short, SHINGLES] = 0
    return pairs._replace(counts=counts).take(pairs.inner | counts.any(axis=1))


def moved(old: Postings, new: Postings) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The paragraphs ``(doc, paragraph)`` whose pairs in the buckets of some keys differ
    between two readings of their postings, ``old`` and ``new`` (the same rows, but for
    their flags): every posting of each key must be given. What a paragraph shares with
    each candidate is summed over its keys, so a paragraph not found here shares with each
    as before (a round after the first plans only the paragraphs it must)."""
    readings = [merged(key_pairs(table), candidates=False) for table in (old, new)]
    both = Pairs.joined(readings)
    columns = [
        both.p_doc,
        both.p_paragraph,
        both.q_doc,
        both.q_paragraph,
        *both.counts.T,
        both.inner.astype(np.int64),
        both.calm.astype(np.int64),
    ]
    # A pair appears once in each reading at most: one found once differs.
    once = _once(columns)
    gids = np.unique(np.column_stack([both.p_doc[once], both.p_paragraph[once]]), axis=0)
    return gids[:, 0], gids[:, 1]


def _once(columns: Sequence[npt.NDArray[Any]]) -> npt.NDArray[np.bool_]:
    """Which rows of ``columns`` (integers) no other row equals, where a row has at most
    one equal: rows with equal hashes compared whole (``np.unique`` over rows, which sorts
    them as bytes, where three share a hash). Hashed column by column, as the columns
    are, not from a stack of rows."""
    size = len(columns[0])
    mixed = np.zeros(size, dtype=np.uint64)
    for column in columns:
        mixed = (mixed ^ column.astype(np.uint64)) * np.uint64(_MIX)
    order = np.argsort(mixed, kind="stable")
    same_hash = mixed[order][1:] == mixed[order][:-1]
    if (same_hash[1:] & same_hash[:-1]).any():
        rows = np.column_stack(columns)
        _, first, times = np.unique(rows, axis=0, return_index=True, return_counts=True)
        once = np.zeros(size, dtype=bool)
        once[first[times == 1]] = True
        return once
    a, b = order[:-1][same_hash], order[1:][same_hash]
    equal = np.ones(len(a), dtype=bool)
    for column in columns:
        equal &= column[a] == column[b]
    once = np.ones(size, dtype=bool)
    once[a[equal]] = once[b[equal]] = False
    return once


#: An odd 64-bit multiplier that mixes a row's values into one hash (:func:`_once`).
_MIX = 0x9E3779B97F4A7C15


def within(table: Postings, given: Postings) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The rows of ``table`` (ordered by key) that post the keys of ``given``, and for each
    the row of ``given`` that is the same posting (key and paragraph), or -1. Every
    posting given must be in the table."""
    rows, at, held = matched(table, given)
    if not held.all():
        raise AssertionError("a posting given that the table does not hold")
    return rows, at


def matched(
    table: Postings, given: Postings
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """:func:`within` 's rows of ``table`` and the row of ``given`` each is, and which of
    the postings ``given`` the table holds."""
    keys = distinct(given.key)
    lo, hi = np.searchsorted(table.key, keys, "left"), np.searchsorted(table.key, keys, "right")
    src, t = _spread(lo, hi - lo)
    rows = src + t
    n = len(given.key)
    key, doc, paragraph = (
        np.concatenate([g, c[rows]])
        for g, c in zip(
            (given.key, given.doc, given.paragraph),
            (table.key, table.doc, table.paragraph),
            strict=True,
        )
    )
    # A posting's rows together, the given ones (of lower index) first.
    order = np.lexsort((np.arange(len(key)), paragraph, doc, key))
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for column in (key, doc, paragraph):
        new[1:] |= column[order][1:] != column[order][:-1]
    head = order[_starts(new)]
    at = np.full(len(key), -1, dtype=np.int64)
    at[order] = np.where(head < n, head, -1)
    in_table = np.zeros(len(key), dtype=bool)  # the heads of postings the table holds
    in_table[head[order >= n]] = True
    held = np.zeros(n, dtype=bool)
    held[order[order < n]] = in_table[head[order < n]]
    return rows, at[n:], held


def keys(p: Posted | Print) -> list[int]:
    """A paragraph's keys as :class:`Postings` has them, its family above bit 32."""
    return [
        family << 32 | value
        for family, values in enumerate((p.bands, p.shingles, p.edges))
        for value in values
    ]


def postings(rows: Sequence[tuple[int, int, int, int, int, int, bool, bool, bool]]) -> Postings:
    """:class:`Postings` from rows ``(key, doc, paragraph, batch, size, reach, keepable,
    looked_up, kept)``."""
    columns = np.array(rows, dtype=np.int64).reshape(len(rows), 9).T
    key, doc, paragraph, batch, size, reach = columns[:6]
    keepable, looked_up, kept = columns[6:].astype(bool)
    return Postings(key, doc, paragraph, batch, size, reach, keepable, looked_up, kept)


def shared_by_pair(pairs: Pairs) -> Iterator[tuple[tuple[Gid, Gid], Shared]]:
    """The rows of ``pairs`` as :data:`Shared` counts by ``(p, q)``."""
    columns = zip(
        pairs.p_doc.tolist(),
        pairs.p_paragraph.tolist(),
        pairs.q_doc.tolist(),
        pairs.q_paragraph.tolist(),
        pairs.counts.tolist(),
        pairs.inner.tolist(),
        pairs.calm.tolist(),
        strict=True,
    )
    for p_doc, p_paragraph, q_doc, q_paragraph, counts, inner, calm in columns:
        yield ((p_doc, p_paragraph), (q_doc, q_paragraph)), [*counts, int(inner), int(calm)]


def _count(
    into: dict[tuple[Gid, Gid], Shared],
    p: Gid,
    q: Gid,
    family: int,
    inner: bool,
    calm: bool,
    times: int,
) -> None:
    shared = into.get((p, q))
    if shared is None:
        shared = into[(p, q)] = [0, 0, 0, int(inner), 0]
    shared[family] += times
    if inner and calm:
        shared[4] = 1


# --- step 2: the candidates of a paragraph, ranked as the cleaner ranks them ---------------


class Plan(NamedTuple):
    """What deciding paragraph ``gid`` needs verified: the deciding candidates ``ids`` (or
    the exact copy ``top``), and ``others`` to verify when it repeats one (its removal then
    names every kept paragraph it repeats), each ``(q, as_written, settle)``: whether q's
    fingerprint has its text as written (a paragraph of the same batch), and whether a pair
    far apart by sketches is passed over."""

    gid: Gid
    top: Gid | None
    ids: list[tuple[Gid, bool, bool]]
    others: list[tuple[Gid, bool, bool]]


def plan(p: Posted, exact: Exact, shared: dict[Gid, Shared]) -> Plan:
    """Paragraph ``p``'s :class:`Plan`, from its :class:`Exact` and what it shares with each
    paragraph in its buckets (:func:`key_view`)."""
    if exact.indexed is not None:  # its text is checked (a digest may collide), nothing else
        return Plan(p.gid, exact.indexed, [(exact.indexed, False, False)], [])
    outer = {q: c for q, c in shared.items() if not c[3]}
    inner = {q: c[:3] for q, c in shared.items() if c[3]}
    calm = {q for q, c in shared.items() if c[3] and c[4]}
    size = p.size
    scored = []
    for q, (bands, common, edges, _, _) in outer.items():
        total = _index_score([bands, common, edges], size)
        if total is not None:  # else a few shingles in common: no candidate
            scored.append((-total, q))
    scored.sort()
    scored = scored[:MAX_CANDIDATES]
    deciding, more = scored[:DECIDING], scored[DECIDING:]
    if inner:
        ranked = sorted(deciding + [(-_score(c, size), q) for q, c in inner.items()])
        ids, passed = ranked[:DECIDING], ranked[DECIDING:]
    else:
        ids, passed = deciding, []

    def listed(found: list[tuple[float, Gid]]) -> list[tuple[Gid, bool, bool]]:
        return [(q, q in inner, q not in inner or q in calm) for _, q in found]

    if exact.top is not None:
        return Plan(p.gid, exact.top, [(exact.top, True, False)], [])
    chosen = listed(ids)
    return Plan(p.gid, None, chosen, listed(passed + more)[: MAX_CANDIDATES - len(chosen)])


# --- step 3: verdicts on pairs --------------------------------------------------------------


def verdicts(
    pairs: Sequence[tuple[Text, Text, bool, bool]], config: Config
) -> list[Verdict | None]:
    """The verdicts on ``pairs`` ``(q, p, as_written, settle)``: kept ``q``, later ``p``;
    None for a pair passed over (``settle`` and far apart by sketches)."""
    if not pairs:
        return []
    far = far_pairs(
        _sketches([q for q, _, _, _ in pairs]),
        _sketches([p for _, p, _, _ in pairs]),
        np.array([p.truncated for _, p, _, _ in pairs], dtype=bool),
        config,
        CLOSE,
    ).tolist()
    out: list[Verdict | None] = []
    for (q, p, as_written, settle), apart in zip(pairs, far, strict=True):
        if settle and apart:
            out.append(None)
        elif q.normalized == p.normalized:
            out.append(EXACT)
        else:
            earlier = _fingerprint(q, config, as_written)
            out.append(compare(earlier, _fingerprint(p, config, True), config, brief_below=CLOSE))
    return out


def _sketches(texts: Sequence[Text]) -> Sketches:
    sizes = [len(t.shingles) for t in texts]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    shingles = np.concatenate([np.zeros(0, dtype=np.uint32), *(t.shingles for t in texts)])
    blooms = np.array([t.bloom for t in texts], dtype=np.uint64).reshape(len(texts), 2)
    distinct = np.array([t.distinct for t in texts], dtype=np.uint8)
    return Sketches(shingles, offsets, blooms, distinct)


# --- step 4: the decision -------------------------------------------------------------------


class Outcome(NamedTuple):
    """What was decided for paragraph ``gid``: removed as a repeat of ``ref`` (``verdict``,
    the other kept paragraphs it repeats ``also``), or kept (a close call when ``ref`` is
    given: the closest candidate)."""

    gid: Gid
    removed: bool
    ref: Ref | None
    verdict: Verdict | None
    also: tuple[Ref, ...]

    def decision(self, document: str) -> Decision | None:
        if self.ref is None or self.verdict is None:
            return None
        return Decision(self.gid[1], document, self.ref, self.verdict, self.also)

    def plain(self) -> OutcomeRecord:
        """As the Spark job's records hold it: plain tuples, which the pickler writes and
        reads itself (a NamedTuple or a dataclass calls back into Python both ways)."""
        found = None if self.ref is None else found_record(self.ref, self.verdict)
        return self.gid, self.removed, found, tuple((r.document, r.paragraph) for r in self.also)

    @staticmethod
    def of(record: OutcomeRecord) -> Outcome:
        """An Outcome from its record (:meth:`plain`)."""
        gid, removed, found, also = record
        ref, verdict = (None, None) if found is None else found_of(found)
        return Outcome(gid, removed, ref, verdict, tuple(Ref(*r) for r in also))


#: A verdict with the paragraph it is on (None: passed over, far apart).
Found = tuple[Ref, Verdict | None]

#: A :data:`Found` as the Spark job's records hold it (:func:`found_record`).
FoundRecord = tuple[tuple[str, int], tuple[Any, float, str] | None]

#: An :class:`Outcome` as a record of the Spark job (:meth:`Outcome.plain`).
OutcomeRecord = tuple[Gid, bool, FoundRecord | None, tuple[tuple[str, int], ...]]


def found_record(ref: Ref, verdict: Verdict | None) -> FoundRecord:
    """A verdict with the paragraph it is on as plain tuples (see :meth:`Outcome.plain`)."""
    plain = None if verdict is None else (verdict.kind, verdict.similarity, verdict.reason)
    return (ref.document, ref.paragraph), plain


def found_of(record: FoundRecord) -> Found:
    """A verdict with the paragraph it is on from its record (:func:`found_record`)."""
    ref, verdict = record
    return Ref(*ref), None if verdict is None else Verdict(*verdict)


def decision(plan: Plan, found: dict[Gid, Found]) -> tuple[Outcome, list[tuple[Gid, bool, bool]]]:
    """The :class:`Outcome` of ``plan`` from the verdicts ``found`` on its deciding pairs,
    and the other pairs to verify (its ``others``, when it repeats one); the outcome's
    ``also`` and ``ref`` are final only once :func:`named` saw those too."""
    best, repeats = _best([q for q, _, _ in plan.ids], found)
    if best is None:
        return Outcome(plan.gid, False, None, None, ()), []
    ref, verdict = best
    if verdict.repeat:
        also = tuple(sorted(r for r in repeats if r != ref))
        wanted = plan.others if repeats and plan.top is None else []
        return Outcome(plan.gid, True, ref, verdict, also), wanted
    if verdict.similarity >= CLOSE:
        return Outcome(plan.gid, False, ref, verdict, ()), []
    return Outcome(plan.gid, False, None, None, ()), []


def named(outcome: Outcome, others: list[Gid], found: dict[Gid, Found]) -> Outcome:
    """A removal's outcome once its ``others`` were verified (``found``): a better one
    among them is the paragraph it repeats, the rest are the others it repeats."""
    if not others:
        return outcome
    assert outcome.ref is not None and outcome.verdict is not None
    better, repeats = _best(others, found)
    best = (outcome.ref, outcome.verdict)
    if better is not None and _rank(better[1]) > _rank(best[1]):
        best = better
    every = [outcome.ref, *outcome.also, *repeats]
    also = tuple(sorted(r for r in every if r != best[0]))
    return outcome._replace(ref=best[0], verdict=best[1], also=also)


def _best(ids: list[Gid], found: dict[Gid, Found]) -> tuple[tuple[Ref, Verdict] | None, list[Ref]]:
    """As :meth:`~dedup.deduplicator.Deduplicator._verify` takes the verdicts on ``ids``:
    the best (the first on a tie) and the paragraphs repeated."""
    best: tuple[Ref, Verdict] | None = None
    repeats: list[Ref] = []
    for q in ids:
        ref, verdict = found[q]
        if verdict is None:
            continue
        if verdict.repeat:
            repeats.append(ref)
        if best is None or _rank(verdict) > _rank(best[1]):
            best = (ref, verdict)
    return best, repeats


# --- here: every step on one machine, grouped with dicts -----------------------------------


class Decisions(NamedTuple):
    """Every paragraph's :class:`Outcome` (of the ones with words), and how many rounds and
    verified pairs it took."""

    outcomes: dict[Gid, Outcome]
    rounds: int
    verified: int


def assumed(prints: Iterable[Print]) -> dict[Gid, bool]:
    """The first round's statuses: kept, but for a later paragraph with an earlier one's
    text (ordered by the caller's sort; the order of ``prints`` does not matter)."""
    first: dict[int, Gid] = {}
    for p in prints:
        if p.tokens > 0 and (p.digest not in first or p.gid < first[p.digest]):
            first[p.digest] = p.gid
    return {p.gid: first[p.digest] == p.gid for p in prints if p.tokens > 0}


def decide_all(prints: Sequence[Print], config: Config) -> Decisions:
    """The decisions of the one-machine cleaner (scope corpus, documents in the order of
    :attr:`Print.doc`) on ``prints``, worked out here in rounds (see the module's
    docstring)."""
    by_gid = {p.gid: p for p in prints}
    texts = {p.gid: Text.of(p) for p in prints}
    live = sorted((p for p in prints if p.tokens > 0), key=lambda p: p.gid)
    kept = assumed(live)
    cache: dict[tuple[Gid, Gid, bool, bool], Verdict | None] = {}

    def verify(wanted: Iterable[tuple[Gid, Sequence[tuple[Gid, bool, bool]]]]) -> None:
        new = list(
            {
                (q, p, as_written, settle): None
                for p, pairs in wanted
                for q, as_written, settle in pairs
                if (q, p, as_written, settle) not in cache
            }
        )
        got = verdicts([(texts[q], texts[p], a, s) for q, p, a, s in new], config)
        cache.update(zip(new, got, strict=True))

    def found(p: Gid, wanted: Iterable[tuple[Gid, bool, bool]]) -> dict[Gid, Found]:
        return {q: (Ref(by_gid[q].name, q[1]), cache[(q, p, a, s)]) for q, a, s in wanted}

    rounds = 0
    while True:
        rounds += 1
        steps = list(plans(live, kept))
        verify((step.gid, step.ids) for step in steps)
        decided = [(step.gid, *decision(step, found(step.gid, step.ids))) for step in steps]
        verify((gid, others) for gid, _, others in decided)
        outcomes = {
            gid: named(outcome, [q for q, _, _ in others], found(gid, others))
            if others
            else outcome
            for gid, outcome, others in decided
        }
        now = {gid: not outcome.removed for gid, outcome in outcomes.items()}
        if now == kept:
            return Decisions(outcomes, rounds, len(cache))
        kept = now


def plans(live: Sequence[Print], kept: dict[Gid, bool]) -> Iterator[Plan]:
    """Step 1 and 2 for the paragraphs ``live`` (with words), given their ``kept`` status."""
    by_digest: dict[int, list[tuple[Gid, int, bool]]] = defaultdict(list)
    for p in live:
        by_digest[p.digest].append((p.gid, p.batch, kept[p.gid]))
    exact: dict[Gid, Exact] = {}
    for rows in by_digest.values():
        exact.update(digest_view(rows))
    listed: list[tuple[int, int, int, int, int, int, bool, bool, bool]] = []
    for p in live:
        e = exact[p.gid]
        size = len(p.shingles)  # its keys: every shingle, none trimmed here
        flags = (p.batch, size, size, e.keepable, e.indexed is None, kept[p.gid])
        listed += [(key, *p.gid, *flags) for key in keys(p)]
    shared: dict[Gid, dict[Gid, Shared]] = defaultdict(dict)
    for (p_gid, q), counts in shared_by_pair(merged(key_pairs(postings(listed)), candidates=True)):
        shared[p_gid][q] = counts
    for p in live:
        yield plan(posted(p), exact[p.gid], shared.get(p.gid, {}))


# --- the cleaned text: the cleaner again, told what was decided ----------------------------


class _Replay:
    """A decider that decides what it is told (:class:`Outcome` s by paragraph index)."""

    jobs = 1

    def __init__(self, config: Config, outcomes: dict[int, Outcome]) -> None:
        self.config = config
        self.outcomes = outcomes

    def fingerprints(
        self, texts: list[str], wait: bool, wrapping: Wrapping | None = None
    ) -> Pending[Batch]:
        return _Now(_Rows(texts))  # type: ignore[arg-type]  # the size is all it takes

    def decide(
        self, batch: Batch, document: str, first: int, explain: bool = True, refs: bool = True
    ) -> Decided:
        removed = np.zeros(len(batch), dtype=bool)
        decisions = []
        for row in range(len(batch)):
            outcome = self.outcomes.get(first + row)
            if outcome is None:
                continue
            removed[row] = outcome.removed
            made = outcome.decision(document)
            if made is not None:
                decisions.append(made)
        return Decided(removed, 0, decisions)


class Cut(NamedTuple):
    """A document cleaned: its text, paragraphs, removals and close calls."""

    text: str
    split: SplitMode
    paragraphs: int
    removals: list[Removal]
    close: list[CloseCall]


def cut(name: str, text: str, config: Config, outcomes: dict[int, Outcome]) -> Cut:
    """Document ``name`` cleaned as the one-machine cleaner cleans it, given what was
    decided for its paragraphs (by index)."""
    out: list[str] = []
    cleaner = Cleaner(_Replay(config, outcomes), name, out.append)
    events = cleaner.feed(text) + cleaner.close()
    assert cleaner.split is not None
    return Cut(
        "".join(out),
        cleaner.split,
        cleaner.paragraphs,
        [e for e in events if isinstance(e, Removal)],
        [e for e in events if isinstance(e, CloseCall)],
    )


def clean_all(documents: Sequence[tuple[str, str]], config: Config) -> tuple[list[Cut], Decisions]:
    """``(name, text)`` documents cleaned in that order as one corpus, step by step here:
    what the Spark job does, on one machine (for tests, and to compare)."""
    found: list[Print] = []
    for doc, (name, text) in enumerate(documents):
        found += prints(doc, name, text, config)[1]
    decided = decide_all(found, config)
    by_doc: dict[int, dict[int, Outcome]] = defaultdict(dict)
    for (doc, index), outcome in decided.outcomes.items():
        by_doc[doc][index] = outcome
    cuts = [cut(name, text, config, by_doc[doc]) for doc, (name, text) in enumerate(documents)]
    return cuts, decided
