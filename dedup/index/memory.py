"""The in-process index: every key in sorted numpy runs merged as they grow, about 8 bytes
per key of a paragraph plus its normalized text, so a million paragraphs fit in a few
hundred megabytes. The default; it forgets everything when its process ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.fingerprint import Batch, Sketches, batch_keys, gather, stable_order
from dedup.index.base import (
    MAX_BUCKET,
    MAX_CANDIDATES,
    Array,
    Entry,
    Matches,
    Ref,
    expand,
    first_of,
    score,
)
from dedup.native import speedups

#: The smallest filter a :class:`Postings` keeps: 2 ** 16 bits (8 kB).
_FILTER_SIZE = 16


class Postings:
    """Keys, each with the ids of the first ``cap`` paragraphs posted under it.

    Held as sorted runs of ``(key, id)`` pairs, merged when the run before the newest is at
    most four times as large (a log-structured merge): adding is a sort of the new pairs
    and a few merges, a lookup a ``searchsorted`` in each of a logarithmic number of runs.
    Ids are added in increasing order, and a key's ids stay in that order.

    With the compiled kernels, 32-bit keys also set bits of a filter (one bit a key, the
    key's top bits its place; keys are hashes) that a lookup reads first: most needles are
    held by no run (74% of the lookups of 1M shuffled lines), and each would otherwise be
    searched for in every run. The filter has four to sixteen bits a key held (each key
    counted as often as it is posted), doubled as the runs grow: a needle no run holds
    finds its bit set one time in sixteen to one in four, at a byte or two a posting (eight
    in the runs). Postings that :meth:`load` a run (a file's) keep no filter.
    """

    def __init__(self, cap: int, dtype: npt.DTypeLike) -> None:
        self.cap = cap
        self.dtype = dtype
        self._runs: list[tuple[npt.NDArray[Any], npt.NDArray[np.int32]]] = []
        self._filtered = speedups is not None and np.dtype(dtype) == np.uint32
        self._filter = np.zeros(0, dtype=np.uint64)
        self._shift = 32  # of each key, for its bit: 2 ** (32 - shift) bits
        self._marked = 0  # keys that set a bit, counted with repeats
        # What was added since ``_recent_from`` (kept only by a persistent index, which
        # writes it at each commit; None: not kept).
        self._recent: list[tuple[npt.NDArray[Any], npt.NDArray[np.int32]]] | None = None
        self._recent_from = 0

    def keep_recent(self, since: int) -> None:
        """From now on, remember what is added (ids from ``since`` on) until :meth:`since`
        is asked for it and :meth:`settle` forgets it."""
        self._recent, self._recent_from = [], since

    def settle(self, upto: int) -> None:
        """What was added so far is written: forget it (ids below ``upto``)."""
        if self._recent is not None:
            self._recent, self._recent_from = [], upto

    def add(
        self,
        keys: npt.NDArray[np.generic],
        ids: Array,
        order: npt.NDArray[np.integer[Any]] | None = None,
    ) -> None:
        """Post ``ids`` under ``keys``, the ones at ``order`` if given (which sorts them
        stably), else all."""
        if order is None:
            order = stable_order(keys)
        if len(order):
            run = self._capped(keys[order].astype(self.dtype), ids[order].astype(np.int32))
            self._runs.append(run)
            self._mark(run[0])
            if self._recent is not None:
                self._recent.append(run)
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 4 * len(self._runs[-1][0]):
            (k1, i1), (k2, i2) = self._runs[-2:]
            del self._runs[-2:]
            self._runs.append(self._merged(k1, i1, k2, i2))

    def _merged(
        self,
        k1: npt.NDArray[Any],
        i1: npt.NDArray[np.int32],
        k2: npt.NDArray[Any],
        i2: npt.NDArray[np.int32],
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.int32]]:
        """Two sorted runs as one, the newer one's pairs after the older one's equal keys,
        capped."""
        if speedups is not None and k1.dtype == np.uint32:  # compiled: one walk, no masks
            # In place: the older run grows by the newer one's length (realloc moves pages,
            # it copies none) and the two are merged from their ends into it. A merge then
            # holds the merged run and the newer one, not the merged run and both: the
            # largest merges are where a whole clean's memory peaks.
            if not (self._growable(k1) and self._growable(i1)):
                k1, i1 = k1.copy(), i1.copy()
            used = len(k1)
            k1.resize(used + len(k2), refcheck=False)
            i1.resize(used + len(k2), refcheck=False)
            used = speedups.merge_runs(k1, i1, used, k2, i2, self.cap)
            k1.resize(used, refcheck=False)
            i1.resize(used, refcheck=False)
            return k1, i1
        # Place one into the other: no sort.
        at = np.searchsorted(k1, k2, side="right") + np.arange(len(k2))
        older = np.ones(len(k1) + len(k2), dtype=bool)
        older[at] = False
        keys, merged = np.empty(len(older), dtype=k1.dtype), np.empty(len(older), np.int32)
        keys[at], merged[at] = k2, i2
        keys[older], merged[older] = k1, i1
        return self._capped(keys, merged)

    def _growable(self, run: npt.NDArray[Any]) -> bool:
        """Whether ``run`` may be resized in place: its own memory, seen through no view
        (runs are read where they lie and copied out, never viewed), and not also held as
        a run added lately (which must stay as it was added)."""
        recent = self._recent or ()
        return bool(run.flags.owndata and run.flags.writeable) and all(
            run is not k and run is not i for k, i in recent
        )

    def since(self, first: int) -> tuple[npt.NDArray[Any], npt.NDArray[np.int32]]:
        """The ``(key, id)`` pairs with ids from ``first`` on, as one sorted run, at most
        ``cap`` a key (from what was added lately when that is kept, else from every run)."""
        if self._recent is not None and first == self._recent_from:
            keys = [k for k, _ in self._recent]
            ids = [i for _, i in self._recent]
        else:
            keys = [k[i >= first] for k, i in self._runs]
            ids = [i[i >= first] for _, i in self._runs]
        if not keys:
            return np.empty(0, dtype=self.dtype), np.empty(0, dtype=np.int32)
        # Older runs first: a stable sort by key keeps each key's ids in increasing order.
        all_keys, all_ids = np.concatenate(keys), np.concatenate(ids)
        order = stable_order(all_keys)
        return self._capped(all_keys[order], all_ids[order])

    def load(self, keys: npt.NDArray[Any], ids: npt.NDArray[np.int32]) -> None:
        """Add a run that is already sorted and capped (read from a file, say): it is
        looked up where it lies and not merged until newer runs grow as large."""
        if len(keys):
            self._runs.append((keys, ids))
            # No filter then: marking its keys would read every page of a file mapped in
            # memory at opening (an index on disk is opened in a fraction of a second and
            # read only where it is looked up), and take a byte or two a posting more.
            self._filtered = False
            self._filter = np.zeros(0, dtype=np.uint64)

    def _mark(self, keys: npt.NDArray[Any]) -> None:
        """Set the filter's bits of ``keys``, newly held; at fewer than four bits a key
        marked, a filter of eight to sixteen bits a key held instead."""
        if not self._filtered:
            return
        assert speedups is not None
        self._marked += len(keys)
        if 4 * self._marked > 64 * len(self._filter):
            held = sum(len(run_keys) for run_keys, _ in self._runs)
            size = min(max((8 * held - 1).bit_length(), _FILTER_SIZE), 32)  # 2 ** size bits
            self._shift = 32 - size
            self._filter = np.zeros((1 << size) // 64, dtype=np.uint64)
            for run_keys, _ in self._runs:
                speedups.mark_keys(self._filter, run_keys, self._shift)
            self._marked = held
        else:
            speedups.mark_keys(self._filter, keys, self._shift)

    def _capped(
        self, keys: npt.NDArray[Any], ids: npt.NDArray[np.int32]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.int32]]:
        """Sorted ``keys`` and their ``ids``, without the ids past a key's first ``cap``."""
        keep = first_of(keys, self.cap)
        return (keys, ids) if keep is None else (keys[keep], ids[keep])

    def lookup(
        self, keys: npt.NDArray[np.generic], order: npt.NDArray[np.integer[Any]] | None = None
    ) -> tuple[Array, Array]:
        """``(which, ids)``: the ids posted under ``keys[which]``, the first ``cap`` of each,
        for the keys at ``order`` (all by default), which sorts them."""
        # Sorted needles walk each run in order (far fewer cache misses), and only the
        # ones found there are looked up a second time, for the end of their range.
        if order is None:
            order = stable_order(keys)
        needles = keys[order].astype(self.dtype, copy=False)
        if speedups is not None and needles.dtype == np.uint32:
            # Compiled: each run walked once by galloping, the cap met as ids are found
            # (only the needles whose bit the filter has set, when there is one).
            filtered = (self._filter, self._shift) if len(self._filter) else ()
            found = speedups.lookup_runs(needles, self._runs, self.cap, *filtered)
            which = order[np.frombuffer(found[0], np.int64)].astype(np.int64, copy=False)
            return which, np.frombuffer(found[1], np.int64)
        found_which, found_ids = [], []
        for run_keys, run_ids in self._runs:
            lo = np.searchsorted(run_keys, needles, side="left")
            hit = np.flatnonzero(run_keys[np.minimum(lo, len(run_keys) - 1)] == needles)
            hi = np.searchsorted(run_keys, needles[hit], side="right")
            which, at = expand(lo[hit], hi)
            found_which.append(order[hit[which]])
            found_ids.append(run_ids[at].astype(np.int64))
        if not found_which:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        which, ids = np.concatenate(found_which), np.concatenate(found_ids)
        if len(self._runs) > 1:  # older runs come first: the first ids stay
            order = np.argsort(which, kind="stable")
            which, ids = which[order], ids[order]
            keep = first_of(which, self.cap)
            if keep is not None:
                which, ids = which[keep], ids[keep]
        return which, ids


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

    def insert(
        self, batch: Batch, rows: Sequence[int], documents: Sequence[str], paragraphs: Array
    ) -> None:
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
        # The texts by slices of the batch's bytes: a row's bytes are many, rows few.
        utf8, starts, ends = batch.utf8, batch.utf8_offsets[chosen], batch.utf8_offsets[chosen + 1]
        self._text_offsets.extend(len(self._texts) + np.cumsum(ends - starts))
        pieces = zip(starts.tolist(), ends.tolist(), strict=True)
        self._texts += b"".join([utf8[start:end] for start, end in pieces])
        shingles, offsets = gather(batch.shingles, batch.offsets, chosen)
        self._documents += documents
        self._paragraphs.extend(np.asarray(paragraphs, dtype=np.int64))
        self._set_offsets.extend(self._sets.size + offsets[1:])
        self._sets.extend(shingles)
        self._blooms.extend(batch.blooms[chosen])
        self._distinct.extend(batch.distinct[chosen])
        self._size += len(chosen)

    #: What :meth:`arrays` gives and :meth:`load` takes: the postings of each key family,
    #: then each paragraph's columns.
    FAMILIES = ("exact", "bands", "shingles", "edges")

    def _postings(self) -> tuple[Postings, ...]:
        return self._exact, self._bands, self._shingles, self._edges

    def arrays(self, first: int = 0) -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
        """Everything the index holds about paragraphs ``first`` and after, as arrays (and
        the documents' names, which ``documents`` indexes): what a file stores."""
        out: dict[str, npt.NDArray[Any]] = {}
        for name, postings in zip(self.FAMILIES, self._postings(), strict=True):
            out[f"{name}_keys"], out[f"{name}_ids"] = postings.since(first)
        texts, sets = self._text_offsets.view, self._set_offsets.view
        names = list(dict.fromkeys(self._documents[first:]))
        number = {name: i for i, name in enumerate(names)}
        out["documents"] = np.array([number[d] for d in self._documents[first:]], np.int32)
        out["paragraphs"] = self._paragraphs.view[first:].copy()
        out["texts"] = np.frombuffer(self._texts, np.uint8)[texts[first] :].copy()
        out["text_offsets"] = texts[first:] - texts[first]
        out["sets"] = self._sets.view[sets[first] :].copy()
        out["set_offsets"] = sets[first:] - sets[first]
        out["blooms"] = self._blooms.view[first:].copy()
        out["distinct"] = self._distinct.view[first:].copy()
        return out, names

    @classmethod
    def cut(
        cls, arrays: dict[str, npt.NDArray[Any]], names: Sequence[str], start: int, stop: int
    ) -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
        """Paragraphs ``start`` to ``stop`` of what :meth:`arrays` gave (its ids counted from
        0), in the same form, ids counted from ``start``: taken in, one after another, the
        pieces of a cut are what the whole is."""
        out: dict[str, npt.NDArray[Any]] = {}
        for family in cls.FAMILIES:
            keys, ids = arrays[f"{family}_keys"], arrays[f"{family}_ids"]
            chosen = (ids >= start) & (ids < stop)
            out[f"{family}_keys"], out[f"{family}_ids"] = keys[chosen], ids[chosen] - start
        documents = arrays["documents"][start:stop]
        used, numbers = np.unique(documents, return_inverse=True)
        out["documents"] = numbers.astype(np.int32)
        for name in ("paragraphs", "blooms", "distinct"):
            out[name] = arrays[name][start:stop]
        for name, at in (("texts", "text_offsets"), ("sets", "set_offsets")):
            offsets = arrays[at][start : stop + 1]
            out[name] = arrays[name][offsets[0] : offsets[-1]]
            out[at] = offsets - offsets[0]
        return out, [names[i] for i in used.tolist()]

    def load(self, arrays: dict[str, npt.NDArray[Any]], names: Sequence[str]) -> None:
        """Take in what :meth:`arrays` gave, its ids following the ones held. The postings
        stay where they lie (a file mapped in memory); the columns are copied."""
        for name, postings in zip(self.FAMILIES, self._postings(), strict=True):
            postings.load(arrays[f"{name}_keys"], arrays[f"{name}_ids"])
        self._extend(arrays, names)

    def absorb(self, pieces: Sequence[tuple[dict[str, npt.NDArray[Any]], Sequence[str]]]) -> None:
        """Take in many small pieces of what :meth:`arrays` gave (other processes' commits),
        each one's ids counted from its start: their postings are merged with the runs held,
        one sort a key family for all of them."""
        keys: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in self.FAMILIES}
        ids: dict[str, list[npt.NDArray[np.int64]]] = {name: [] for name in self.FAMILIES}
        for arrays, names in pieces:
            for name in self.FAMILIES:
                keys[name].append(arrays[f"{name}_keys"])
                ids[name].append(arrays[f"{name}_ids"].astype(np.int64) + self._size)
            self._extend(arrays, names)
        if pieces:
            for name, postings in zip(self.FAMILIES, self._postings(), strict=True):
                postings.add(np.concatenate(keys[name]), np.concatenate(ids[name]))

    def _extend(self, arrays: dict[str, npt.NDArray[Any]], names: Sequence[str]) -> None:
        """Append the paragraphs' columns of what :meth:`arrays` gave."""
        self._documents += [names[i] for i in arrays["documents"].tolist()]
        self._paragraphs.extend(arrays["paragraphs"])
        self._text_offsets.extend(len(self._texts) + arrays["text_offsets"][1:])
        self._texts += arrays["texts"].tobytes()
        self._set_offsets.extend(self._sets.size + arrays["set_offsets"][1:])
        self._sets.extend(arrays["sets"])
        self._blooms.extend(arrays["blooms"])
        self._distinct.extend(arrays["distinct"])
        self._size += len(arrays["paragraphs"])

    def documents(self, ids: Array) -> list[str]:
        return [self._documents[i] for i in ids.tolist()]

    def refresh(self) -> None:
        """Nothing to do: nobody else adds to it."""

    def _keep_recent(self) -> None:
        """Remember what is inserted from now on, for :meth:`arrays` from this point: a
        persistent index writes it at each commit without looking through every run."""
        for postings in self._postings():
            postings.keep_recent(self._size)

    def _settle(self) -> None:
        """What was inserted so far is written (see :meth:`_keep_recent`)."""
        for postings in self._postings():
            postings.settle(self._size)

    def commit(self) -> None:
        """Nothing to do: the memory index lives and dies with its process."""

    def close(self) -> None:
        """Nothing to do."""

    def info(self) -> dict[str, Any]:
        return {
            "index": "memory",
            "settings": self._settings,
            "paragraphs": self._size,
            "documents": len(set(self._documents)),
            "bytes": len(self._texts) + self._sets.size * 4,
        }

    def drop(self) -> list[str]:
        """Nothing to keep: it goes with its process."""
        return []

    def ref(self, id: int) -> Ref:
        return Ref(self._documents[id], int(self._paragraphs.view[id]))

    def refs(self, ids: Array) -> list[Ref]:
        documents = self._documents
        paragraphs = self._paragraphs.view[ids].tolist()
        return [Ref(documents[id], at) for id, at in zip(ids.tolist(), paragraphs, strict=True)]

    def entry(self, id: int) -> Entry:
        texts, shingles = self._text_offsets.view, self._set_offsets.view
        return Entry(
            self.ref(id),
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
