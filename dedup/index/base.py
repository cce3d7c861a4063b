"""The index protocol and what every backend shares: references to kept paragraphs,
candidates (:class:`Matches`), the settings check, and the pairs within a batch.

An index answers, for a :class:`~dedup.fingerprint.Batch` of paragraphs, which kept
paragraphs may repeat each one (candidates, verified afterwards on their text), and takes
kept paragraphs in. It records the settings it was built with and refuses others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.errors import IndexMismatchError
from dedup.fingerprint import Batch, Keys, Sketches
from dedup.native import speedups

#: A bucket (an LSH band value, a shingle, a paragraph's first or last two tokens) holds at
#: most this many paragraphs: the first ones kept. Templated text ("Page 1 of 20", product
#: grids) would otherwise make every paragraph a candidate of every other, which is
#: quadratic; a paragraph is still found through its other buckets, and exact repeats
#: always are (their digests are not capped). Within a batch of paragraphs being decided,
#: a bucket holds the batch's first ``MAX_BUCKET`` paragraphs with that key as well.
MAX_BUCKET = 32

#: Candidates held for one paragraph, the most similar first (exact repeats always); the
#: deduplicator verifies the first few, and the others for a paragraph that repeats one.
MAX_CANDIDATES = 16

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

    def insert(
        self, batch: Batch, rows: Sequence[int], documents: Sequence[str], paragraphs: Array
    ) -> None:
        """Remember ``batch``'s ``rows`` (in increasing order) as kept paragraphs, row
        ``rows[k]`` paragraph ``paragraphs[k]`` of ``documents[k]``."""

    def ref(self, id: int) -> Ref:
        """Where kept paragraph ``id`` stands (its document and index)."""

    def refs(self, ids: Array) -> list[Ref]:
        """:meth:`ref` of each of ``ids``."""

    def entry(self, id: int) -> Entry:
        """Kept paragraph ``id``: where it stands, its normalized text and shingles."""

    def texts(self, ids: Array) -> tuple[npt.NDArray[np.uint8], Array]:
        """The normalized texts of kept paragraphs ``ids`` in UTF-8, one after another,
        and where each starts (with the end last)."""

    def sketches(self, ids: Array) -> Sketches:
        """The :class:`~dedup.fingerprint.Sketches` of kept paragraphs ``ids``."""

    def documents(self, ids: Array) -> list[str]:
        """The names of the documents that kept paragraphs ``ids``."""

    def refresh(self) -> None:
        """Take in what other processes committed meanwhile (a shared index), when nothing
        of this process's is waiting for its commit."""

    def commit(self) -> None:
        """Make the paragraphs inserted so far part of the index for good (a persistent or
        shared index); call it once the documents that keep them were delivered."""

    def close(self) -> None:
        """Release what the index holds (a lock, a connection); uncommitted inserts go."""

    def info(self) -> dict[str, Any]:
        """Where it is, its settings, paragraphs and documents (committed), size in bytes,
        when it was made, its format and the ``dedup`` version that last wrote it."""

    def drop(self) -> list[str]:
        """Delete it (a persistent index) and close it; what it left, never having written
        it (a user's files in an index's folder, as paths within it)."""


def check_settings(index: Index, config: Config) -> None:
    """Refuse an index built with other settings than ``config``, naming each that differs
    with both values.

    >>> from dedup.index import MemoryIndex
    >>> check_settings(MemoryIndex(Config(shingle_size=3)), Config(shingle_size=5, seed=2))
    Traceback (most recent call last):
    ...
    dedup.errors.IndexMismatchError: the index was built with other settings: shingle_size: \
index 3, now 5; seed: index 1, now 2 (use the same settings, or another index)
    """
    built, now = index.settings, config.index_name()
    if built == now:
        return
    old, new = _fields(built), _fields(now)
    differ = [
        f"{key}: index {old.get(key, '(none)')}, now {new.get(key, '(none)')}"
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key)
    ]
    raise IndexMismatchError(
        f"the index was built with other settings: {'; '.join(differ) or built} "
        "(use the same settings, or another index)"
    )


def _fields(name: str) -> dict[str, str]:
    """``key=value`` pairs of a settings name (``Config.index_name()``)."""
    return dict(part.split("=", 1) for part in name.split() if "=" in part)


def ranks(keys: npt.NDArray[np.generic]) -> Array:
    """For sorted ``keys``, each one's position among the equal keys before it."""
    if not len(keys):
        return np.empty(0, dtype=np.int64)
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(keys)))
    return np.arange(len(keys)) - np.repeat(starts, sizes)


def first_of(keys: npt.NDArray[np.generic], cap: int) -> npt.NDArray[np.bool_] | None:
    """For sorted ``keys``, which are among the first ``cap`` of their equal keys (None
    when all are): the ones with the same key ``cap`` places before are not."""
    late = keys[cap:] == keys[:-cap] if cap else np.ones(len(keys), dtype=bool)
    if not late.any():
        return None
    return np.concatenate((np.ones(min(cap, len(keys)), dtype=bool), ~late))


def expand(lo: Array, hi: Array) -> tuple[Array, Array]:
    """``(i, j)`` for every ``j`` in ``range(lo[i], hi[i])``."""
    counts = hi - lo
    which = np.repeat(np.arange(len(lo)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, np.repeat(lo, counts) + within


def score(
    pairs: Sequence[tuple[Array, Array]], shingle_counts: Array, limit: int
) -> tuple[Array, Array, npt.NDArray[Any]]:
    """Rank candidate pairs ``(row, id)`` found through bands, shingles and edges.

    A pair scores one per band and per edge shared, plus twice the share of the row's
    shingles found when at least half are (possibly an excerpt, worth a look). Returns
    ``(rows, ids, scores)`` grouped by row, the best first, at most ``limit`` a row.
    """
    if speedups is not None and len(pairs) == 3:  # compiled: bucketed by row, no big sort
        columns = [np.ascontiguousarray(a, dtype=np.int64) for pair in pairs for a in pair]
        sizes = np.ascontiguousarray(shingle_counts, dtype=np.int64)
        rows, ids, total = speedups.score_pairs(*columns, sizes, limit)
        return (
            np.frombuffer(rows, np.int64),
            np.frombuffer(ids, np.int64),
            np.frombuffer(total, np.float64),
        )
    return score_in_python(pairs, shingle_counts, limit)


def score_in_python(
    pairs: Sequence[tuple[Array, Array]], shingle_counts: Array, limit: int
) -> tuple[Array, Array, npt.NDArray[Any]]:
    """:func:`score` in numpy (the compiled kernel's twin)."""
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
    total = total.astype(np.float64, copy=False)  # (none at all: bincount gives ints)
    rows, ids = unique >> 32, unique & 0xFFFFFFFF
    # The pairs come sorted by row, then id, and lexsort is stable: ties stay in id order
    # (a third key, the ids, made the sort ten times slower).
    order: Array = np.lexsort((-total, rows))
    rows, ids, total = rows[order], ids[order], total[order]
    keep = first_of(rows, limit)
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
        if speedups is not None and values.dtype == np.uint32:  # compiled: one walk
            found = speedups.inner_pairs(
                rows.astype(np.int64, copy=False),
                values,
                counts.astype(np.int64, copy=False),
                np.ascontiguousarray(keepable, dtype=bool),
                cap,
            )
            busy_rows, groups, rooms, later, earlier = (np.frombuffer(f, np.int64) for f in found)
            crowded.append((busy_rows, groups, rooms))
            pairs.append((later, earlier))
            continue
        partner = keepable[rows]
        rank = ranks(values)
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
        first = np.arange(len(rows)) - ranks(group)  # where each row's group starts
        which, at = expand(before[first], before)
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
