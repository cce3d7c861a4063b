"""Where kept paragraphs are remembered, behind a small interface.

An index answers, for a :class:`~dedup.fingerprint.Batch` of paragraphs, which kept
paragraphs may repeat each one (candidates, verified afterwards on their text), and takes
kept paragraphs in. It records the settings it was built with and refuses others.

The in-memory index keeps everything in numpy arrays, about 8 bytes per key of a paragraph
and its normalized text, so a million paragraphs fit in a few hundred megabytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.errors import IndexMismatchError
from dedup.fingerprint import Batch, Keys, Sketches, batch_keys, gather

#: A bucket (an LSH band value, a shingle, a paragraph's first or last two tokens) holds at
#: most this many paragraphs: the first ones kept. Templated text ("Page 1 of 20", product
#: grids) would otherwise make every paragraph a candidate of every other, which is
#: quadratic; a paragraph is still found through its other buckets, and exact repeats
#: always are (their digests are not capped). Within a batch of paragraphs being decided,
#: a bucket holds the batch's first ``MAX_BUCKET`` paragraphs with that key as well.
MAX_BUCKET = 32

#: Candidates verified for one paragraph, the most similar first (exact repeats always).
MAX_CANDIDATES = 8

Array = npt.NDArray[np.int64]


class Ref(NamedTuple):
    """Where a paragraph stands: its document's id and its index in that document."""

    document: str
    paragraph: int


class Entry(NamedTuple):
    """A kept paragraph as the index holds it: where it stands, its normalized text and
    its shingles (empty when short)."""

    ref: Ref
    normalized: str
    shingles: npt.NDArray[np.uint32]


class Matches(NamedTuple):
    """Candidates of a batch's rows: ``exact[row]`` is the id of a kept paragraph with the
    same digest (or -1); ``rows``, ``ids`` and ``scores`` list the candidates of the other
    rows, grouped by row, the best first (the most keys shared; the earliest kept on a
    tie), at most ``MAX_CANDIDATES`` a row."""

    exact: Array
    rows: Array
    ids: Array
    scores: npt.NDArray[np.float64]
    #: For each key family, how many paragraphs the index holds under each of the batch's
    #: keys (in :func:`batch_keys` order); 0 for the keys of exact repeats, not looked up.
    held: list[Array]


class Index(Protocol):
    """What the pipeline needs of an index; memory today, Redis tomorrow."""

    @property
    def settings(self) -> str:
        """The ``Config.index_name()`` of the settings the index was built with."""

    def __len__(self) -> int:
        """How many paragraphs it holds; they have the ids ``0 .. len - 1``."""

    def query(self, batch: Batch) -> Matches:
        """The kept paragraphs that may repeat each row of ``batch``."""

    def insert(self, batch: Batch, rows: Sequence[int], refs: Sequence[Ref]) -> None:
        """Remember ``batch``'s ``rows`` as kept paragraphs ``refs``, in that order."""

    def entry(self, id: int) -> Entry:
        """Kept paragraph ``id``: where it stands, its normalized text and shingles."""

    def texts(self, ids: Array) -> tuple[npt.NDArray[np.uint8], Array]:
        """The normalized texts of kept paragraphs ``ids`` in UTF-8, one after another,
        and where each starts (with the end last)."""

    def sketches(self, ids: Array) -> Sketches:
        """The :class:`~dedup.fingerprint.Sketches` of kept paragraphs ``ids``."""


def check_settings(index: Index, config: Config) -> None:
    """Refuse an index built with other settings than ``config``."""
    if index.settings != config.index_name():
        raise IndexMismatchError(
            f"the index was built with '{index.settings}', but the settings in force are "
            f"'{config.index_name()}'; use the same settings or build a new index"
        )


def _ranks(keys: npt.NDArray[np.generic]) -> Array:
    """For sorted ``keys``, each one's position among the equal keys before it."""
    if not len(keys):
        return np.empty(0, dtype=np.int64)
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(keys)))
    return np.arange(len(keys)) - np.repeat(starts, sizes)


def _first(keys: npt.NDArray[np.generic], cap: int) -> npt.NDArray[np.bool_] | None:
    """For sorted ``keys``, which are among the first ``cap`` of their equal keys (None
    when all are): the ones with the same key ``cap`` places before are not."""
    late = keys[cap:] == keys[:-cap] if cap else np.ones(len(keys), dtype=bool)
    if not late.any():
        return None
    return np.concatenate((np.ones(min(cap, len(keys)), dtype=bool), ~late))


def _expand(lo: Array, hi: Array) -> tuple[Array, Array]:
    """``(i, j)`` for every ``j`` in ``range(lo[i], hi[i])``."""
    counts = hi - lo
    which = np.repeat(np.arange(len(lo)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, np.repeat(lo, counts) + within


class Postings:
    """Keys, each with the ids of the first ``cap`` paragraphs posted under it.

    Held as sorted runs of ``(key, id)`` pairs, merged when the run before the newest is at
    most four times as large (a log-structured merge): adding is a sort of the new pairs
    and a few merges, a lookup a ``searchsorted`` in each of a logarithmic number of runs.
    Ids are added in increasing order, and a key's ids stay in that order.
    """

    def __init__(self, cap: int, dtype: npt.DTypeLike) -> None:
        self.cap = cap
        self.dtype = dtype
        self._runs: list[tuple[npt.NDArray[Any], npt.NDArray[np.int32]]] = []

    def add(
        self,
        keys: npt.NDArray[np.generic],
        ids: Array,
        order: npt.NDArray[np.integer[Any]] | None = None,
    ) -> None:
        """Post ``ids`` under ``keys``, the ones at ``order`` if given (which sorts them
        stably), else all."""
        if order is None:
            order = np.argsort(keys, kind="stable")
        if len(order):
            self._runs.append(
                self._capped(keys[order].astype(self.dtype), ids[order].astype(np.int32))
            )
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 4 * len(self._runs[-1][0]):
            (k1, i1), (k2, i2) = self._runs[-2:]
            del self._runs[-2:]
            # Merge the sorted runs (the newer one's pairs after the older one's equal keys)
            # by placing one into the other: no sort.
            at = np.searchsorted(k1, k2, side="right") + np.arange(len(k2))
            older = np.ones(len(k1) + len(k2), dtype=bool)
            older[at] = False
            keys, merged = np.empty(len(older), dtype=k1.dtype), np.empty(len(older), np.int32)
            keys[at], merged[at] = k2, i2
            keys[older], merged[older] = k1, i1
            self._runs.append(self._capped(keys, merged))

    def _capped(
        self, keys: npt.NDArray[Any], ids: npt.NDArray[np.int32]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.int32]]:
        """Sorted ``keys`` and their ``ids``, without the ids past a key's first ``cap``."""
        keep = _first(keys, self.cap)
        return (keys, ids) if keep is None else (keys[keep], ids[keep])

    def lookup(
        self, keys: npt.NDArray[np.generic], order: npt.NDArray[np.integer[Any]] | None = None
    ) -> tuple[Array, Array]:
        """``(which, ids)``: the ids posted under ``keys[which]``, the first ``cap`` of each,
        for the keys at ``order`` (all by default), which sorts them."""
        # Sorted needles walk each run in order (far fewer cache misses), and only the
        # ones found there are looked up a second time, for the end of their range.
        if order is None:
            order = np.argsort(keys, kind="stable")
        needles = keys[order].astype(self.dtype, copy=False)
        found_which, found_ids = [], []
        for run_keys, run_ids in self._runs:
            lo = np.searchsorted(run_keys, needles, side="left")
            hit = np.flatnonzero(run_keys[np.minimum(lo, len(run_keys) - 1)] == needles)
            hi = np.searchsorted(run_keys, needles[hit], side="right")
            which, at = _expand(lo[hit], hi)
            found_which.append(order[hit[which]])
            found_ids.append(run_ids[at].astype(np.int64))
        if not found_which:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        which, ids = np.concatenate(found_which), np.concatenate(found_ids)
        if len(self._runs) > 1:  # older runs come first: the first ids stay
            order = np.argsort(which, kind="stable")
            which, ids = which[order], ids[order]
            keep = _first(which, self.cap)
            if keep is not None:
                which, ids = which[keep], ids[keep]
        return which, ids


def score(
    pairs: Sequence[tuple[Array, Array]], shingle_counts: Array, limit: int
) -> tuple[Array, Array, npt.NDArray[Any]]:
    """Rank candidate pairs ``(row, id)`` found through bands, shingles and edges.

    A pair scores one per band and per edge shared, plus twice the share of the row's
    shingles found when at least half are (possibly an excerpt, worth a look). Returns
    ``(rows, ids, scores)`` grouped by row, the best first, at most ``limit`` a row.
    """
    codes, weights = [], []
    for family, (rows, ids) in enumerate(pairs):
        code = (rows << 32) | ids
        if family == 1:  # shingles
            code, count = np.unique(code, return_counts=True)
            size = shingle_counts[code >> 32]
            enough = count * 2 >= size
            code = code[enough]
            weights.append(2 * count[enough] / size[enough])
        else:
            weights.append(np.ones(len(code)))
        codes.append(code)
    code = np.concatenate(codes)
    unique, inverse = np.unique(code, return_inverse=True)
    total = np.bincount(inverse, weights=np.concatenate(weights), minlength=len(unique))
    rows, ids = unique >> 32, unique & 0xFFFFFFFF
    order: Array = np.lexsort((ids, -total, rows))
    rows, ids, total = rows[order], ids[order], total[order]
    keep = _first(rows, limit)
    return (rows, ids, total) if keep is None else (rows[keep], ids[keep], total[keep])


class Inner(NamedTuple):
    """Pairs of rows of one batch that share keys, for each key family (bands, shingles,
    edges). A key's bucket takes the first paragraphs *kept* with it, up to ``MAX_BUCKET``
    with those the index holds: when fewer rows of the batch post a key than there is room
    (the usual case), every earlier row that is kept is a partner, and ``pairs`` lists them;
    else the key is *crowded*, and which rows get in is known only as rows are kept:
    ``crowded`` lists its postings (row, the key's group number, the room left)."""

    pairs: list[tuple[Array, Array]]
    crowded: list[tuple[Array, Array, Array]]


def batch_pairs(
    keys: Keys,
    orders: Sequence[npt.NDArray[np.int32]],
    held: Sequence[Array],
    keepable: npt.NDArray[np.bool_],
    cap: int = MAX_BUCKET,
) -> Inner:
    """The :class:`Inner` pairs of a batch: ``orders`` sort each family's keys, and
    ``held[family][k]`` is how many paragraphs the index holds under the ``k``-th key of
    ``keys[family]`` (0 where it was not looked up: another row with the same key tells).
    Only ``keepable`` rows can be partners (an exact copy of a kept paragraph, or a later
    copy of a row, is always removed)."""
    pairs, crowded = [], []
    for (rows, values), order, counts in zip(keys, orders, held, strict=True):
        # Keys come in row order: sorting them stably sorts by key, then row.
        rows, values, counts = rows[order], values[order], counts[order]
        partner = keepable[rows]
        rank = _ranks(values)
        starts = np.flatnonzero(rank == 0)
        sizes = np.diff(np.append(starts, len(values)))
        group = np.repeat(np.arange(len(starts)), sizes)
        room = cap - (np.maximum.reduceat(counts, starts) if len(starts) else counts)
        # A group is crowded when more of its rows could be kept than there is room for.
        eligible = np.bincount(group, weights=partner, minlength=len(starts))
        busy = (eligible > room)[group]
        crowded.append((rows[busy], group[busy], room[group[busy]]))
        # Pairs in the other groups: each row with the eligible rows before it (at most
        # `cap` a group, however many copies of one paragraph the group holds).
        calm = ~busy
        rows, group, partner = rows[calm], group[calm], partner[calm]
        eligible = np.flatnonzero(partner)
        before: Array = np.cumsum(partner) - partner  # eligible rows before each position
        first = np.arange(len(rows)) - _ranks(group)  # where each row's group starts
        which, at = _expand(before[first], before)
        at = eligible[at]
        keep = rows[at] < rows[which]
        pairs.append((rows[which][keep], rows[at][keep]))
    return Inner(pairs, crowded)


def raw_counts(pairs: Sequence[tuple[Array, Array]]) -> tuple[Array, Array, Array]:
    """``(rows, partners, counts)`` with ``counts[:, family]`` the keys of each family a
    pair of rows shares."""
    codes = [(later << 32) | earlier for later, earlier in pairs]
    unique, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    counts: Array = np.zeros((len(unique), len(codes)), dtype=np.int64)
    family = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
    np.add.at(counts, (inverse, family), 1)
    return unique >> 32, unique & 0xFFFFFFFF, counts


class MemoryIndex:
    """An in-process index with four kinds of keys:

    * exact digests of the normalized text (never capped);
    * LSH bands of the MinHash signature (datasketch's ``MinHashLSH`` banding, see
      :mod:`dedup.lsh`), for near copies;
    * shingles, for excerpts and pull-quotes, too small a part of the paragraph they come
      from for an LSH tuned to Jaccard to find;
    * the first and the last two tokens, for paragraphs too short to have shingles.

    Keys are stored as 32-bit values (the digests as 64-bit ones): a collision only adds a
    candidate, which verification then rejects.
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._settings = config.index_name()
        self._exact = Postings(1, np.uint64)
        self._bands = Postings(MAX_BUCKET, np.uint32)
        self._shingles = Postings(MAX_BUCKET, np.uint32)
        self._edges = Postings(MAX_BUCKET, np.uint32)
        self._size = 0
        # Each kept paragraph's document, index, normalized text (UTF-8), shingles and
        # token sketch, by id; texts and shingle sets one after another, with offsets.
        self._documents: list[str] = []
        self._paragraphs = _Column(np.int64)
        self._texts = bytearray()
        self._text_offsets = _Column(np.int64, initial=[0])
        self._sets = _Column(np.uint32)
        self._set_offsets = _Column(np.int64, initial=[0])
        self._blooms = _Column(np.uint64, width=2)
        self._distinct = _Column(np.uint8)

    @property
    def settings(self) -> str:
        return self._settings

    def __len__(self) -> int:
        return self._size

    def query(self, batch: Batch) -> Matches:
        rows, ids = self._exact.lookup(batch.digests)
        exact = np.full(len(batch), -1, dtype=np.int64)
        exact[rows] = ids
        keys = batch_keys(batch, self._config)
        pairs, held = [], []
        for postings, (key_rows, values), order in zip(
            (self._bands, self._shingles, self._edges), keys, batch.key_orders, strict=True
        ):
            # An exact repeat needs no other candidate: its keys are not looked up.
            which, found = postings.lookup(values, order[exact[key_rows[order]] < 0])
            pairs.append((key_rows[which], found))
            held.append(np.bincount(which, minlength=len(values)))
        return Matches(exact, *score(pairs, np.diff(batch.offsets), MAX_CANDIDATES), held)

    def insert(self, batch: Batch, rows: Sequence[int], refs: Sequence[Ref]) -> None:
        if not rows:
            return
        chosen = np.asarray(rows, dtype=np.int64)
        ids = np.full(len(batch), -1, dtype=np.int64)
        ids[chosen] = np.arange(self._size, self._size + len(chosen))
        self._exact.add(batch.digests[chosen], ids[chosen])
        for postings, (key_rows, values), order in zip(
            (self._bands, self._shingles, self._edges),
            batch_keys(batch, self._config),
            batch.key_orders,
            strict=True,
        ):
            key_ids = ids[key_rows]
            postings.add(values, key_ids, order[key_ids[order] >= 0])
        texts, text_offsets = gather(
            np.frombuffer(batch.utf8, np.uint8), batch.utf8_offsets, chosen
        )
        shingles, offsets = gather(batch.shingles, batch.offsets, chosen)
        self._documents += [ref.document for ref in refs]
        self._paragraphs.extend(np.array([ref.paragraph for ref in refs], dtype=np.int64))
        self._text_offsets.extend(len(self._texts) + text_offsets[1:])
        self._texts += texts.tobytes()
        self._set_offsets.extend(self._sets.size + offsets[1:])
        self._sets.extend(shingles)
        self._blooms.extend(batch.blooms[chosen])
        self._distinct.extend(batch.distinct[chosen])
        self._size += len(chosen)

    def entry(self, id: int) -> Entry:
        texts, shingles = self._text_offsets.view, self._set_offsets.view
        return Entry(
            Ref(self._documents[id], int(self._paragraphs.view[id])),
            self._texts[texts[id] : texts[id + 1]].decode("utf-8", "surrogatepass"),
            self._sets.view[shingles[id] : shingles[id + 1]].copy(),
        )

    def texts(self, ids: Array) -> tuple[npt.NDArray[np.uint8], Array]:
        return gather(np.frombuffer(self._texts, np.uint8), self._text_offsets.view, ids)

    def sketches(self, ids: Array) -> Sketches:
        shingles, offsets = gather(self._sets.view, self._set_offsets.view, ids)
        return Sketches(shingles, offsets, self._blooms.view[ids], self._distinct.view[ids])


class _Column:
    """A numpy array that grows at its end: its capacity doubles in place (``realloc``,
    so no copy of a large array, and pages not yet written cost no memory). Views of it
    are valid until the next ``extend``."""

    def __init__(self, dtype: npt.DTypeLike, width: int = 0, initial: Sequence[int] = ()) -> None:
        self._shape = (width,) if width else ()
        self._data = np.empty((max(len(initial), 16), *self._shape), dtype=dtype)
        self.size = len(initial)
        if initial:
            self._data[: self.size] = initial

    def extend(self, values: npt.NDArray[Any]) -> None:
        end = self.size + len(values)
        if end > len(self._data):
            self._data.resize((max(end, 2 * len(self._data)), *self._shape), refcheck=False)
        self._data[self.size : end] = values
        self.size = end

    @property
    def view(self) -> npt.NDArray[Any]:
        return self._data[: self.size]
