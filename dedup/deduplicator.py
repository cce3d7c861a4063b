"""The decision: first seen wins. Paragraphs are taken in document order, then document
order across documents; each is removed when it repeats a paragraph already kept, and
kept (and remembered) otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import signal
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, Generic, NamedTuple, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.decision import Decided, Decision, Pending, Places
from dedup.errors import ConfigError, DedupError, WorkerError
from dedup.fingerprint import (
    Batch,
    Fingerprint,
    batch_keys,
    fingerprint,
    fingerprint_batch,
    gather,
)
from dedup.index import (
    MAX_CANDIDATES,
    Index,
    Matches,
    Ref,
    batch_pairs,
    check_settings,
    first_of,
    open_index,
    raw_counts,
)
from dedup.malloc import keep_freed_memory
from dedup.paragraphs import Wrapping
from dedup.result import CleanResult, CloseCall, Removal
from dedup.shingles import ShingleSet, TokenHasher, distinct
from dedup.stream import BATCH, Cleaner, checked_text
from dedup.verify import (
    EXACT,
    KINDS,
    Verdict,
    compare,
    far_pairs,
    rules_off,
    rules_turned_off,
)

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

#: A kept paragraph whose closest candidate is at least this similar is a close call,
#: listed with the reason it was kept (``CleanResult.close``, ``dedup clean --explain``).
CLOSE = 0.5


def _rank(verdict: Verdict) -> tuple[int, float]:
    return (-KINDS.index(verdict.kind) if verdict.kind else -99, verdict.similarity)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _serial(
    method: Callable[Concatenate[Deduplicator, _P], _R],
) -> Callable[Concatenate[Deduplicator, _P], _R]:
    """``method`` run by one thread at a time (see :class:`Deduplicator`), and refused once
    the deduplicator is closed."""

    @functools.wraps(method)
    def serial(self: Deduplicator, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            if self._closed:
                raise DedupError("this deduplicator is closed (its index with it)")
            return method(self, *args, **kwargs)

    return serial


#: The lock of each index in use, shared by the deduplicators given it (see _lock_of).
_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_HELD = threading.Lock()


def _lock_of(index: Index) -> threading.RLock:
    """The lock that a deduplicator on ``index`` holds while it uses it: one an index, so
    that deduplicators in several threads given one index object take turns with it as
    threads sharing one deduplicator do (an index that cannot be weakly referred to, a
    third party's, gets a lock of its own)."""
    with _LOCKS_HELD:
        try:
            return _LOCKS.setdefault(index, threading.RLock())
        except TypeError:
            return threading.RLock()


class Deduplicator:
    """Cleans documents one after another against one index, so that a paragraph
    repeated from an earlier document is removed too (scope: corpus).

    Threads may share one (a scraper's, say): :meth:`clean` decides a document whole
    while the others wait; the pieces of documents fed to cleaners (:meth:`cleaner`) by
    several threads are decided a batch at a time, in the order they come. Deduplicators
    given one index object share its lock the same way.

    >>> d = Deduplicator()
    >>> d.clean("Subscribe to our newsletter for the latest news and offers.\\nOne.", "a").text
    'Subscribe to our newsletter for the latest news and offers.\\nOne.'
    >>> r = d.clean("Two.\\nSubscribe to our newsletter for the latest news and offers!", "b")
    >>> r.text, r.removed[0].duplicate_of_document, r.removed[0].duplicate_of
    ('Two.', 'a', 0)
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        index: Index | str | os.PathLike[str] | None = None,
        jobs: int = 1,
        **options: Any,
    ) -> None:
        self.config = Config.make(config, **options)
        most = 4 * (os.cpu_count() or 1)  # past that, only memory and start-up are spent
        if not 1 <= jobs <= most:
            raise ConfigError(f"jobs must be from 1 to {most} (4 a core here), not {jobs}")
        #: Processes that fingerprint paragraphs while this one decides: with ``jobs`` > 1,
        #: a document of more than one batch is fingerprinted by a pool of ``jobs`` worker
        #: processes. Decisions stay in this process, in order: the output is the same.
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        #: The index: one given, or opened from a URL or path (see
        #: :func:`~dedup.index.open_index`; closed by :meth:`close`).
        self.index: Index = (
            index
            if index is not None and not isinstance(index, (str, os.PathLike))
            else open_index(index, self.config)
        )
        self._owns_index = self.index is not index
        try:
            check_settings(self.index, self.config)
        except DedupError:
            if self._owns_index:
                self.index.close()
            raise
        self._documents: set[str] = set()
        #: Paragraphs the index held before this deduplicator: a persistent index's.
        self._start = len(self.index)
        self.hasher = TokenHasher()
        # Recent fingerprints of kept paragraphs, and verdicts on (kept id, later text
        # normalized and as written, which decide the verdict): a paragraph that recurs
        # many times meets the same candidates each time.
        self._kept = _Recent(BATCH)
        self._verdicts: dict[tuple[int, str, str, str], Verdict] = {}
        # Batches to fingerprint that wait for the verifying of a batch to end (see _Held).
        self._held: deque[_Held] = deque()
        self._decided = False
        self._lock = _lock_of(self.index)
        self._closed = False

    @_serial
    def fingerprints(
        self, texts: list[str], wait: bool, wrapping: Wrapping | None = None
    ) -> Pending[Batch]:
        """The fingerprints of ``texts`` (with the lines of wrapped sentences, given the
        lines around them), computed by the worker pool when there is one and the caller
        does not ``wait`` for them; else here and now."""
        if self.jobs > 1 and not wait:
            if self._pool is None:
                import multiprocessing  # only when a pool is needed: it costs start-up time
                from concurrent.futures import ProcessPoolExecutor

                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context("fork" if "fork" in methods else None)
                self._pool = ProcessPoolExecutor(
                    self.jobs,
                    mp_context=context,
                    initializer=_worker_start,
                    initargs=(os.getpid(),),
                )
                _widen_pipes(self._pool)
            job = _Held(self, texts, wrapping)
            if self._decided:  # handed to the workers when deciding leaves them a core
                self._held.append(job)
            else:
                job.start()
            return job
        return _Done(fingerprint_batch(texts, self.config, self.hasher, wrapping))

    def _submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """``function(*args)`` in the pool; a worker process that died is a
        :class:`WorkerError`."""
        from concurrent.futures import BrokenExecutor

        assert self._pool is not None
        try:
            with _signals_held():
                future = self._pool.submit(function, *args)
        except BrokenExecutor as error:
            raise _worker_lost(error) from error
        future.__class__ = _takeable_future()
        return future

    @_serial
    def commit(self) -> None:
        """Make the paragraphs kept so far part of a persistent index for good. Call it once
        the documents that keep them were delivered: what was not committed is not in the
        index when the process ends, so no paragraph is ever a repeat of a copy that was
        never delivered. (The memory index needs no commit.)"""
        self.index.commit()

    def close(self, *, wait: bool = True) -> None:
        """Stop the worker processes, if any were started, and close an index opened from
        a URL or path (uncommitted paragraphs are not in it). A closed deduplicator cleans
        no more: an index on disk is another process's to write once it let go of it.

        Without ``wait``, the worker processes are told to stop and left to it: for a run
        that an interrupt ends (:meth:`__exit__` does so for one). Ctrl-C or a signal's
        exception can land while this thread holds a lock of the pool's (a future's, as
        its result is waited for); the pool's own thread then waits for that lock for
        good, and so would a close that waited for the pool (seen under load: SIGTERM to
        ``dedup clean --jobs 2``, 1 run in ~100)."""
        with self._lock:
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=wait, cancel_futures=True)
                self._pool = None
            if self._owns_index:
                self.index.close()

    def __enter__(self) -> Deduplicator:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        """Leaving the block without an error commits (see :meth:`commit`), then closes
        (unless it was closed in the block: it then committed what it was told to); left
        by an interrupt, it closes without waiting for the worker processes."""
        try:
            if kind is None and not self._closed:
                self.commit()
        finally:
            self.close(wait=not interrupting(kind))

    @_serial
    def _begin(self, document: str | None) -> str:
        """A document begins: its name, checked; a shared index takes in meanwhile."""
        name = self._name(document)
        self.index.refresh()
        return name

    def _name(self, document: str | None) -> str:
        if document is not None and not isinstance(document, str):
            raise TypeError(f"the name of a document is a str, not {type(document).__name__}")
        name = document if document is not None else f"#{len(self._documents) + 1}"
        if name in self._documents:
            raise DedupError(f"document {name!r} was already cleaned by this deduplicator")
        self._documents.add(name)
        return name

    @_serial
    def clean(self, text: str, document: str | None = None) -> CleanResult:
        """Clean one document; ``document`` names it in reports (default: its ordinal)."""
        text = checked_text(text)
        out: list[str] = []
        cleaner = Cleaner(self, self._begin(document), out.append, record=True)
        events = cleaner.feed(text) + cleaner.close()
        assert cleaner.split is not None and cleaner.recorded is not None
        return CleanResult(
            original=text,
            text="".join(out),
            paragraphs=tuple(cleaner.recorded),
            removed=tuple(e for e in events if isinstance(e, Removal)),
            close=tuple(e for e in events if isinstance(e, CloseCall)),
            split=cleaner.split,
            document=document,
        )

    def cleaner(
        self,
        document: str | None,
        write: Callable[[str], None],
        events: bool = True,
        texts: Callable[[int, list[str]], None] | None = None,
        kinds: bool = True,
    ) -> Cleaner:
        """A :class:`~dedup.stream.Cleaner` for a document that comes in pieces (a file too
        large to hold, a network stream): it writes the cleaned text with ``write``, and
        returns removals and close calls unless ``events`` is False; ``texts`` (when
        given) receives every paragraph's text as its batch is decided. Without ``events``
        and ``kinds``, the removals are counted, not told apart (see the Cleaner)."""
        return Cleaner(self, self._begin(document), write, events=events, texts=texts, kinds=kinds)

    @staticmethod
    def _keep(row: int, base: int, kept: dict[int, int], crowded: _Crowded) -> None:
        """Keep ``row``: it joins the crowded buckets of its keys that have room left."""
        kept[row] = base + row
        crowded.join(row)

    def _remember(self, key: tuple[int, str, str, str], value: Verdict) -> None:
        if len(self._verdicts) >= 16 * BATCH:
            self._verdicts.clear()
        self._verdicts[key] = value

    @_serial
    def decide(
        self, batch: Batch, document: str, first: int, explain: bool = True, refs: bool = True
    ) -> Decided:
        """Decide the paragraphs of ``batch`` (paragraphs ``first, first + 1, ...`` of
        ``document``) in order, add the kept ones to the index, and say which were removed,
        with the decisions (removals and close calls; for exact repeats of paragraphs kept
        before the batch only when asked to ``explain``).

        Without ``refs`` only which rows go is read: a removal then names the first kept
        paragraph found that it repeats, not the best one and every other (the candidates
        after that one, and the kept paragraphs past the deciding few, are not verified);
        the rows removed are the same either way."""
        return self._decide(batch, Places.one(document, first, len(batch)), explain, refs)[0]

    @_serial
    def decide_groups(
        self, batch: Batch, places: Places, explain: bool = True, refs: bool = True
    ) -> list[Decided]:
        """Decide the groups of ``batch`` (each one document's batch, see :class:`Places`;
        one group a document) as one batch: what :meth:`decide` decides for each group,
        one after another, in a single pass (many short documents cost a batch's lookups
        and inserts once, not once each)."""
        if len(set(places.documents)) != len(places.documents):
            raise ValueError("decide_groups takes one group a document")
        decided, repeated = self._decide(batch, places, explain, refs)
        by_group: list[list[Decision]] = [[] for _ in places.documents]
        group = {document: at for at, document in enumerate(places.documents)}
        for decision in decided.decisions:
            by_group[group[decision.document]].append(decision)
        rows = [places.rows(at) for at in range(len(places.documents))]
        return [
            Decided(decided.removed[part], int(repeated[part].sum()), found)
            for part, found in zip(rows, by_group, strict=True)
        ]

    def _decide(
        self, batch: Batch, places: Places, explain: bool, refs: bool
    ) -> tuple[Decided, npt.NDArray[np.bool_]]:
        """:meth:`decide` for the groups of rows ``places`` tells (one group: one
        document's batch), and which rows repeat a paragraph kept before the batch
        exactly."""
        config = self.config
        matches = self._not_its_own(self.index.query(batch), places)
        count = len(batch)
        # The best few candidates decide; the others are looked at for repeats only.
        deciding = first_of(matches.rows, DECIDING)
        if deciding is not None:
            past = ~deciding
            more = _Past.of(matches.rows[past], matches.ids[past], matches.scores[past], count)
            matches = matches._replace(
                rows=matches.rows[deciding],
                ids=matches.ids[deciding],
                scores=matches.scores[deciding],
            )
        else:
            more = _Past([0] * (count + 1), np.empty(0, np.int64), np.empty(0, np.float64))
        base = len(self.index)  # ids the rows kept now will have follow the index's ids
        far_outer = far_pairs(
            self.index.sketches(matches.ids),
            batch.sketches(matches.rows),
            batch.truncated[matches.rows],
            config,
            CLOSE,
        )
        # The workers verify the rest at once, while this process finds the pairs within
        # the batch: every row with a candidate not far apart is decided in the loop below
        # (it has a pair open, and no exact copy kept: its keys were looked up).
        sent = self._ahead(batch, matches.rows[~far_outer], matches.ids[~far_outer], base, places)
        same, twins = _copies(batch.digests, places)
        firsts = same == np.arange(count)
        keepable = firsts & (matches.exact < 0)
        if twins:  # a copy in an earlier group: kept or not, the loop tells
            firsts[list(twins)] = False
        inner = batch_pairs(batch_keys(batch, config), batch.key_orders, matches.held, keepable)
        inner_rows, inner_earlier, counts = raw_counts(inner.pairs)
        settled, far_inner, repeated, quiet = self._triage(
            batch, matches, far_outer, inner.crowded, inner_rows, inner_earlier, firsts, base
        )
        kept = {row: base + row for row in np.flatnonzero(quiet).tolist()}  # row -> its id
        removed = repeated.copy()
        exact_rows, exact_ids = np.flatnonzero(repeated), matches.exact[repeated]
        out: list[Decision] = []
        if explain:
            documents, indexes = places.of_rows(exact_rows)
            out = [
                Decision(at, document, ref, EXACT, ())
                for at, document, ref in zip(
                    indexes.tolist(), documents, self.index.refs(exact_ids), strict=True
                )
            ]
        live = (batch.tokens > 0) & ~quiet & ~repeated
        sizes = np.diff(batch.offsets).tolist()
        within: dict[int, dict[int, list[int]]] = {}
        wanted = live[inner_rows]
        for row, j, shared in zip(
            *(a[wanted].tolist() for a in (inner_rows, inner_earlier, counts)), strict=True
        ):
            within.setdefault(row, {})[j] = shared
        crowded = _Crowded(inner.crowded, live)
        # Each row's deciding candidates in the index, the best first: row ``r``'s are
        # ``outer_ids[bounds[r]:bounds[r + 1]]``.
        wanted = live[matches.rows]
        outer_ids, outer_scores = matches.ids[wanted].tolist(), matches.scores[wanted].tolist()
        outer = (outer_ids, outer_scores)
        bounds = np.searchsorted(matches.rows[wanted], np.arange(count + 1)).tolist()
        same_row = same.tolist()
        exact = matches.exact.tolist()
        own: dict[int, Fingerprint] = {}
        live_rows = np.flatnonzero(live).tolist()
        pairs = live[inner_rows] & ~far_inner
        ahead = sent.joined(
            self._ahead(batch, inner_rows[pairs], base + inner_earlier[pairs], base, places)
        )
        later: list[tuple[int, int, list[int]]] = []  # (decision, row, other candidates)
        for row in live_rows:
            lo, hi = bounds[row], bounds[row + 1]
            partners = crowded.meet(row, within.get(row, {}))
            more_ids: list[int] | None = None  # the index's candidates past the deciding
            if partners and not places.single:
                ids, passed, more_ids = self._ranked_in_groups(
                    row, partners, kept, places, base, sizes[row], lo, hi, outer, more
                )
            elif partners:  # the kept ones rank among the candidates
                ranked = [(-outer_scores[k], outer_ids[k]) for k in range(lo, hi)]
                ranked += [
                    (-_score(counts, sizes[row]), base + j)
                    for j, counts in partners.items()
                    if j in kept
                ]
                ranked.sort()
                ids = [id for _, id in ranked[:DECIDING]]
                passed = [id for _, id in ranked[DECIDING:]]
            else:
                ids, passed = outer_ids[lo : min(hi, lo + DECIDING)], outer_ids[lo + DECIDING : hi]
            top = exact[row]
            if top < 0 and row in twins:  # a copy kept in an earlier group: the index's
                top = next((kept[j] for j in twins[row] if j in kept), -1)
            if top < 0 and same_row[row] in kept:  # an exact repeat earlier in the batch
                top = kept[same_row[row]]
            if top >= 0:
                # An exact repeat is removed as a copy of the paragraph it equals, which
                # outranks any other candidate: those are not verified (the costliest part
                # of a corpus full of copies), so its removal lists no also_repeats.
                ids = [top]
            if not ids:
                self._keep(row, base, kept, crowded)
                continue
            best, repeats = self._verify(
                batch, row, ids, base, places, settled, own, ahead, enough=not refs
            )
            if repeats and top < 0 and refs:  # which other kept paragraphs does it repeat?
                if more_ids is None:
                    more_ids = more.ids[more.bounds[row] : more.bounds[row + 1]].tolist()
                others = passed + more_ids
                if others:  # worked out after the loop: the row is removed either way
                    later.append((len(out), row, others[: MAX_CANDIDATES - len(ids)]))
            if best is None:
                self._keep(row, base, kept, crowded)
                continue
            ref, verdict = best
            if verdict.kind is not None:
                also = tuple(sorted(r for r in repeats if r != ref))
                out.append(Decision(places.index(row), places.document(row), ref, verdict, also))
                removed[row] = True
                continue
            self._keep(row, base, kept, crowded)
            if verdict.similarity >= CLOSE:
                out.append(Decision(places.index(row), places.document(row), ref, verdict, ()))
        ahead.finish()
        self._decided = True
        if self._held:
            self._held.popleft().start()
        if later:
            self._others(batch, later, out, base, places, settled, own)
        stay = sorted(kept)
        self.index.insert(batch, stay, *places.of_rows(stay))
        return Decided(removed, int(repeated.sum()), out), repeated

    @staticmethod
    def _ranked_in_groups(
        row: int,
        partners: dict[int, list[int]],
        kept: dict[int, int],
        places: Places,
        base: int,
        size: int,
        lo: int,
        hi: int,
        outer: tuple[list[int], list[float]],
        more: _Past,
    ) -> tuple[list[int], list[int], list[int]]:
        """``row``'s deciding candidates, the others passed over, and the index's past the
        deciding, when the batch holds several groups: a partner kept in an earlier group
        is one of the index's candidates (scored and capped as :func:`dedup.index.score`
        does, among the index's ``outer`` deciding ones, ``lo:hi``, and ``more``), as it
        would be were the groups decided one after another; partners of its own group
        rank among the deciding ones, as in a batch of one group."""
        group = places.group(row)
        ids, scores = outer
        index = [(-scores[k], ids[k]) for k in range(lo, hi)]
        first, end = more.bounds[row], more.bounds[row + 1]
        index += zip((-more.scores[first:end]).tolist(), more.ids[first:end].tolist(), strict=True)
        own = []
        for j, counts in partners.items():
            if j not in kept:
                continue
            if places.group(j) == group:
                own.append((-_score(counts, size), base + j))
                continue
            score = _index_score(counts, size)
            if score is not None:
                index.append((-score, base + j))
        index.sort()
        index = index[:MAX_CANDIDATES]
        deciding, past = index[:DECIDING], index[DECIDING:]
        ranked = sorted(deciding + own) if own else deciding
        return (
            [id for _, id in ranked[:DECIDING]],
            [id for _, id in ranked[DECIDING:]],
            [id for _, id in past],
        )

    def _triage(
        self,
        batch: Batch,
        matches: Matches,
        far_outer: npt.NDArray[np.bool_],
        crowded: Sequence[tuple[npt.NDArray[np.int64], ...]],
        inner_rows: npt.NDArray[np.int64],
        inner_earlier: npt.NDArray[np.int64],
        firsts: npt.NDArray[np.bool_],
        base: int,
    ) -> tuple[set[int], npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """What a batch's rows need no loop for: the candidate pairs (``row << 32 | id``)
        that sketches alone show to be neither repeats nor close calls (most of them, settled
        at once), given which they are among the candidates in the index (``far_outer``),
        and which they are in the batch; the rows that repeat a kept paragraph exactly
        (removed whatever else happens in the batch); and the rows with no pair left to
        verify, no crowded key and no exact copy before them in the batch (kept; ``firsts``
        are the rows without one)."""
        count = len(batch)
        far_inner = far_pairs(
            batch.sketches(inner_earlier),
            batch.sketches(inner_rows),
            batch.truncated[inner_rows],
            self.config,
            CLOSE,
        )
        settled = set(((matches.rows << 32) | matches.ids)[far_outer].tolist())
        settled.update(((inner_rows << 32) | (base + inner_earlier))[far_inner].tolist())
        words = batch.tokens > 0
        open_pairs = np.bincount(matches.rows[~far_outer], minlength=count) > 0
        open_pairs |= np.bincount(inner_rows[~far_inner], minlength=count) > 0
        for rows, *_ in crowded:
            open_pairs[rows] = True
        repeated = words & (matches.exact >= 0)
        quiet = words & ~repeated & ~open_pairs & firsts
        unequal = self._unequal(batch, np.flatnonzero(repeated), matches.exact[repeated])
        repeated[unequal] = False  # another text with the same digest: look closer
        return settled, far_inner, repeated, quiet

    def _not_its_own(self, matches: Matches, places: Places) -> Matches:
        """A document cleaned again (a page crawled anew, an archive added before) does not
        repeat what it kept itself in an earlier run: those candidates are dropped."""
        start = self._start
        if not start:
            return matches
        exact = matches.exact.copy()
        old = np.flatnonzero((exact >= 0) & (exact < start))
        own = np.array(
            [
                d == places.document(row)
                for d, row in zip(self.index.documents(exact[old]), old.tolist(), strict=True)
            ],
            dtype=bool,
        )
        exact[old[own]] = -1
        old = np.flatnonzero(matches.ids < start)
        own = np.array(
            [
                d == places.document(row)
                for d, row in zip(
                    self.index.documents(matches.ids[old]), matches.rows[old].tolist(), strict=True
                )
            ],
            dtype=bool,
        )
        keep = np.ones(len(matches.ids), dtype=bool)
        keep[old[own]] = False
        return Matches(
            exact, matches.rows[keep], matches.ids[keep], matches.scores[keep], matches.held
        )

    def _verify(
        self,
        batch: Batch,
        row: int,
        ids: list[int],
        base: int,
        places: Places,
        settled: set[int],
        own: dict[int, Fingerprint],
        ahead: _Ahead,
        enough: bool = False,
    ) -> tuple[tuple[Ref, Verdict] | None, list[Ref]]:
        """The best verdict on ``row``'s candidates ``ids`` (kept paragraphs: of the index
        below ``base``, else rows of the batch, paragraphs ``first + id - base`` of
        ``document``) with the paragraph it is on, and the paragraphs the row repeats. A
        pair ``settled`` far apart cannot be the best and is passed over; ``own`` keeps the
        fingerprints of the batch's rows; ``ahead`` holds verdicts worked out before (see
        :meth:`_ahead`), by pair (``row << 32 | id``). With ``enough``, the first repeat
        found ends the search: it is the verdict, and the only paragraph repeated."""
        seen = batch.seen(row)
        best: tuple[int, Verdict] | None = None
        repeats: list[int] = []
        for id in ids:
            if (row << 32 | id) in settled:
                continue
            verdict = self._verdicts.get((id, *seen)) if id < base else None
            if verdict is None:
                verdict = ahead.get(row << 32 | id)
                if verdict is None:
                    verdict = self._verdict_now(batch, row, id, base, own, places)
                if id < base:
                    self._remember((id, *seen), verdict)
            if verdict.repeat:
                repeats.append(id)
            if best is None or _rank(verdict) > _rank(best[1]):
                best = (id, verdict)
            if enough and verdict.repeat:
                break

        def ref(id: int) -> Ref:
            return places.ref(id - base) if id >= base else self.index.ref(id)

        return (None if best is None else (ref(best[0]), best[1])), [ref(id) for id in repeats]

    def _verdict_now(
        self,
        batch: Batch,
        row: int,
        id: int,
        base: int,
        own: dict[int, Fingerprint],
        places: Places,
    ) -> Verdict:
        """The verdict on ``row`` of ``batch`` against kept paragraph ``id`` (from ``base``
        on, a row of the batch), worked out here; ``own`` keeps the batch's fingerprints
        (a row of an earlier group's as the index has it under ``~row``)."""
        config = self.config
        text = batch.normalized[row]
        if id >= base:
            j = id - base
            if batch.normalized[j] == text:
                return EXACT
            at = j if places.group(j) == places.group(row) else ~j
            if at not in own:
                own[at] = batch.fingerprint(j, config, as_written=at == j)
            earlier = own[at]
        else:
            earlier = self._kept.get(id, lambda: self.index.entry(id)[1:], config)
            if earlier.normalized == text:
                return EXACT
        if row not in own:
            own[row] = batch.fingerprint(row, config)
        return compare(earlier, own[row], config, brief_below=CLOSE)

    def _ahead(
        self,
        batch: Batch,
        rows: npt.NDArray[np.int64],
        ids: npt.NDArray[np.int64],
        base: int,
        places: Places,
    ) -> _Ahead:
        """Verdicts on pairs that deciding the rows in order will most likely verify (the
        ``rows``' candidates ``ids``, in row order: kept paragraphs in the index, and rows
        of the batch from ``base`` on), but for verdicts remembered, by pair (``row << 32 |
        id``), worked out at once by the worker processes and this one: a verdict is a pure
        function of the two paragraphs, so only the order-dependent part of deciding
        (which earlier rows are kept) stays serial. Nothing without worker processes, or
        for a handful of pairs: the loop then verifies what it needs as it goes."""
        if self._pool is None:
            return _Ahead([], [])
        if self._verdicts:
            unknown = np.array(
                [
                    id >= base or (id, *batch.seen(row)) not in self._verdicts
                    for row, id in zip(rows.tolist(), ids.tolist(), strict=True)
                ],
                dtype=bool,
            )
            rows, ids = rows[unknown], ids[unknown]
        return self._send(batch, (rows << 32) | ids, base, places)

    def _unknown(
        self, batch: Batch, row: int, ids: list[int], base: int, settled: set[int]
    ) -> list[int]:
        """The pairs (``row << 32 | id``) of ``row`` and kept paragraphs ``ids`` whose
        verdict is not known: neither settled far apart nor remembered."""
        seen = batch.seen(row)
        return [
            row << 32 | id
            for id in ids
            if (row << 32 | id) not in settled and (id >= base or (id, *seen) not in self._verdicts)
        ]

    def _others(
        self,
        batch: Batch,
        later: list[tuple[int, int, list[int]]],
        out: list[Decision],
        base: int,
        places: Places,
        settled: set[int],
        own: dict[int, Fingerprint],
    ) -> None:
        """The other kept paragraphs that removed rows repeat, for their decisions in
        ``out``: ``later`` lists each one's position there, its row and the candidates not
        verified yet. They decide nothing (the row is removed whatever they are), so they
        are verified after the batch's loop, by the worker processes too (see
        :meth:`_send`); a better one replaces the paragraph the row is a copy of."""
        pairs = [
            code for _, row, ids in later for code in self._unknown(batch, row, ids, base, settled)
        ]
        ahead = self._send(batch, pairs, base, places)
        for at, row, ids in later:
            decision = out[at]
            better, found = self._verify(batch, row, ids, base, places, settled, own, ahead)
            best = (decision.ref, decision.verdict)
            if better is not None and _rank(better[1]) > _rank(best[1]):
                best = better
            repeats = [decision.ref, *decision.also, *found]
            also = tuple(sorted(r for r in repeats if r != best[0]))
            out[at] = Decision(decision.index, decision.document, best[0], best[1], also)
        ahead.finish()

    def _send(
        self,
        batch: Batch,
        pairs: list[int] | npt.NDArray[np.int64],
        base: int,
        places: Places,
    ) -> _Ahead:
        """The verdicts on ``pairs`` (``row << 32 | id``, in row order) worked out by the
        worker processes and this one, in pieces; none for a handful of pairs, or without
        worker processes: they are then verified as they are needed."""
        if self._pool is None or len(pairs) < AHEAD_AT_LEAST:
            return _Ahead([], [])
        # Pieces for the workers; this process verifies one only when deciding reaches
        # it before a worker has started it (_Ahead). Taking back every piece not started
        # at once, from the last, kept three processes busy on two cores, the deciding one
        # among them: 1M shuffled lines, --jobs 2, 38.0-39.1 s against 36.6-36.7 s now.
        share = -(-len(pairs) // min(4 * (self.jobs + 1), -(-len(pairs) // AHEAD_AT_LEAST)))
        codes = np.asarray(pairs, dtype=np.int64)
        off = rules_turned_off()
        jobs = [
            _Pairs.of(codes[at : at + share], batch, base, self.index, off, places)
            for at in range(0, len(pairs), share)
        ]
        pieces: list[list[Verdict] | Future[list[tuple[Any, ...]]]] = [
            self._submit(_verify_sent, job, self.config) for job in jobs
        ]
        return _Ahead(
            [codes[at : at + share].tolist() for at in range(0, len(pairs), share)],
            pieces,
            self._pool,
            [functools.partial(_verify_pairs, job, self.config, self._kept) for job in jobs],
        )

    def _unequal(
        self, batch: Batch, rows: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """The ``rows`` of ``batch`` whose text differs from the kept paragraph ``ids``
        with the same digest (none, but for a 64-bit collision)."""
        theirs, their_offsets = self.index.texts(ids)
        ours, our_offsets = gather(np.frombuffer(batch.utf8, np.uint8), batch.utf8_offsets, rows)
        if np.array_equal(their_offsets, our_offsets) and np.array_equal(theirs, ours):
            return np.empty(0, dtype=np.int64)
        return rows[
            [
                batch.normalized[row] != self.index.entry(id).normalized
                for row, id in zip(rows.tolist(), ids.tolist(), strict=True)
            ]
        ]


class _Crowded:
    """The crowded buckets of a batch's live rows (see :class:`~dedup.index.base.Inner`):
    each takes the first rows kept, as many as the index leaves it room for, and a row
    meets the ones it holds when its turn comes. Held as arrays by row (``_bounds``), a
    bucket numbered across the key families: most rows are in none, some in many."""

    def __init__(
        self, crowded: Sequence[tuple[npt.NDArray[np.int64], ...]], live: npt.NDArray[np.bool_]
    ) -> None:
        columns = [(np.empty(0, dtype=np.int64),) * 4]
        numbered = 0
        for family, (rows, groups, rooms) in enumerate(crowded):
            wanted = live[rows]  # the other rows are settled: never kept here
            family_of = np.full(int(wanted.sum()), family, dtype=np.int64)
            columns.append((rows[wanted], family_of, groups[wanted] + numbered, rooms[wanted]))
            numbered += int(groups.max()) + 1 if len(groups) else 0
        every, families, buckets, room = (np.concatenate(c) for c in zip(*columns, strict=True))
        order = np.argsort(every, kind="stable")  # a row's buckets in family order
        self._bounds = np.searchsorted(every[order], np.arange(len(live) + 1)).tolist()
        self._families = families[order].tolist()
        self._buckets = buckets[order].tolist()
        self._rooms = room[order].tolist()
        self._members: dict[int, list[int]] = {}

    def meet(self, row: int, partners: dict[int, list[int]]) -> dict[int, list[int]]:
        """``partners`` (earlier rows, by the keys shared in each family) with the rows
        that ``row``'s crowded buckets hold counted in."""
        for k in range(self._bounds[row], self._bounds[row + 1]):
            family = self._families[k]
            for j in self._members.get(self._buckets[k], ()):
                partners.setdefault(j, [0, 0, 0])[family] += 1
        return partners

    def join(self, row: int) -> None:
        """``row`` is kept: it joins its crowded buckets that have room left."""
        for k in range(self._bounds[row], self._bounds[row + 1]):
            bucket = self._members.setdefault(self._buckets[k], [])
            if len(bucket) < self._rooms[k]:
                bucket.append(row)


class _Held:
    """A batch to fingerprint in a worker process, handed to the pool when the verifying of
    the batch being decided is over (:meth:`Deduplicator.decide`), or when its fingerprints
    are asked for. The deciding process's own work (looking up candidates before the
    verifying, keeping rows after it) leaves a core free: a batch handed over then runs on
    it, where one handed over as soon as it was cut ran during the verifying and held up
    a worker that the verifying waited for (100k distinct lines: ~4% of the time)."""

    def __init__(self, dedup: Deduplicator, texts: list[str], wrapping: Wrapping | None) -> None:
        self._dedup = dedup
        self._texts = texts
        self._wrapping = wrapping
        self._future: Future[Batch] | None = None

    def start(self) -> None:
        dedup = self._dedup
        self._future = _with_texts(
            dedup._submit(_fingerprint_batch, self._texts, dedup.config, self._wrapping),
            self._texts,
        )

    def result(self) -> Batch:
        with self._dedup._lock:
            if self._future is None:
                if self in self._dedup._held:
                    self._dedup._held.remove(self)
                self.start()
        assert self._future is not None
        return _result(self._future, self._dedup._pool)  # type: ignore[no-any-return]


class _Ahead:
    """Verdicts worked out ahead (:meth:`Deduplicator._send`), by pair (``row << 32 |
    id``), in pieces of consecutive pairs in row order, each a list of verdicts or the
    future of one: a piece is waited for only when deciding reaches its first row, so the
    loop decides the rows of finished pieces while the workers finish later ones (and
    verifies a piece ``here`` that no worker has started by then)."""

    def __init__(
        self,
        codes: list[list[int]],
        pieces: list[list[Verdict] | Future[list[tuple[Any, ...]]]],
        pool: ProcessPoolExecutor | None = None,
        here: Sequence[Callable[[], list[Verdict]] | None] = (),
    ) -> None:
        self._codes = codes
        self._pieces = pieces
        self._pool = pool
        self._here = here or [None] * len(pieces)  # each piece's verifying in this process
        self._firsts = [piece[0] >> 32 for piece in codes]
        self._next = 0  # the first piece not taken in yet
        self._verdicts: dict[int, Verdict] = {}

    def __len__(self) -> int:
        """How many pairs were sent ahead."""
        return sum(map(len, self._codes))

    def get(self, code: int) -> Verdict | None:
        """The verdict on pair ``code`` if it was worked out ahead; rows are asked for in
        increasing order."""
        row = code >> 32
        while self._next < len(self._pieces) and self._firsts[self._next] <= row:
            self._take()
        return self._verdicts.get(code)

    def finish(self) -> None:
        """Take in the pieces no row asked for (a worker that died says so here)."""
        while self._next < len(self._pieces):
            self._take()

    def joined(self, other: _Ahead) -> _Ahead:
        """These verdicts and ``other``'s, none taken in yet, as one: the pieces in the
        order of their first rows (a row's pairs may lie in pieces of both)."""
        assert not self._next and not other._next
        if not other._pieces:
            return self
        pieces = sorted(
            zip(
                [*self._firsts, *other._firsts],
                [*self._codes, *other._codes],
                [*self._pieces, *other._pieces],
                [*self._here, *other._here],
                strict=True,
            ),
            key=lambda piece: piece[0],
        )
        return _Ahead(
            [codes for _, codes, _, _ in pieces],
            [piece for _, _, piece, _ in pieces],
            self._pool or other._pool,
            [here for *_, here in pieces],
        )

    def _take(self) -> None:
        piece = self._pieces[self._next]
        if isinstance(piece, list):
            verdicts = piece
        elif (here := self._here[self._next]) is not None and piece.cancel():
            verdicts = here()  # no worker had started it
        else:  # from a worker process, as fields (see _verify_sent)
            verdicts = [Verdict(*fields) for fields in _result(piece, self._pool)]
        self._verdicts.update(zip(self._codes[self._next], verdicts, strict=True))
        self._next += 1


class _Recent:
    """The fingerprints of the ``size`` kept paragraphs compared last, by id (the least
    recently compared forgotten first): a kept paragraph meets many later ones, a paragraph
    that recurs the same candidates each time. (Forgetting all at once when full rebuilt
    14% more of them on 200k distinct lines: 38,373 of 52,508 lookups against 33,086.)"""

    def __init__(self, size: int) -> None:
        self._prints: OrderedDict[int, Fingerprint] = OrderedDict()
        self._size = size

    def get(
        self, id: int, entry: Callable[[], tuple[str, ShingleSet]], config: Config
    ) -> Fingerprint:
        """Kept paragraph ``id``'s fingerprint (``entry`` gives its normalized text and its
        shingles, asked for only when it is not held)."""
        prints = self._prints
        fp = prints.get(id)
        if fp is not None:
            prints.move_to_end(id)
            return fp
        if len(prints) >= self._size:
            prints.popitem(last=False)
        normalized, shingles = entry()
        fp = prints[id] = fingerprint(normalized, config, shingles)
        return fp


#: Candidates that decide whether a paragraph is kept (the best ranked). A repeat of one of
#: them is then verified against the others too (up to ``MAX_CANDIDATES`` in all), so that
#: its removal names every kept paragraph it repeats (an FAQ's question asked under many
#: headings). Deciding on all of them costs more time and changes no decision on the
#: labelled pages.
DECIDING = 8

#: Fewer pairs than this to verify in a batch are verified as deciding needs them, not
#: sent to the worker processes ahead (see :meth:`Deduplicator._ahead`).
AHEAD_AT_LEAST = 64

_WORKER_HASHER = TokenHasher()
_WORKER_KEPT = _Recent(8 * BATCH)


class _Past(NamedTuple):
    """The index's candidates past the deciding ones, by row: row ``r``'s are ``ids[
    bounds[r]:bounds[r + 1]]``, scored ``scores[...]`` (rows are asked for one at a time:
    the bounds are worked out once for all)."""

    bounds: list[int]
    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]

    @classmethod
    def of(
        cls,
        rows: npt.NDArray[np.int64],
        ids: npt.NDArray[np.int64],
        scores: npt.NDArray[np.float64],
        count: int,
    ) -> _Past:
        """From candidates by row (``rows`` increasing) of a batch of ``count`` rows."""
        return cls(np.searchsorted(rows, np.arange(count + 1)).tolist(), ids, scores)


class _Pairs(NamedTuple):
    """Candidate pairs to verify in another process, and what it needs of them: the
    batch's rows they hold (normalized, as written, the other lines of a wrapped sentence)
    and the kept paragraphs (their ids, and their normalized texts in UTF-8 one after
    another), the shingles of both one after another (the rows first), the pairs as
    positions ``(earlier, later)`` among the rows then the kept paragraphs, each row's
    group (:class:`~dedup.decision.Places`), and the rules turned off
    (:func:`~dedup.verify.rules_off`). A kept paragraph has no text as written, as in the
    process that decides, nor has a row beside a later group's."""

    normalized: list[str]
    raw: list[str]
    wrapped: list[str]
    kept_ids: list[int]
    kept: bytes
    kept_offsets: npt.NDArray[np.int64]
    shingles: ShingleSet
    offsets: npt.NDArray[np.int64]
    earlier: npt.NDArray[np.int64]
    later: npt.NDArray[np.int64]
    groups: npt.NDArray[np.int64]
    off: tuple[str, ...]

    @classmethod
    def of(
        cls,
        codes: npt.NDArray[np.int64],
        batch: Batch,
        base: int,
        index: Index,
        off: tuple[str, ...],
        places: Places,
    ) -> _Pairs:
        """The pairs ``row << 32 | id`` of ``batch`` (ids from ``base`` on are its rows,
        the others paragraphs kept in ``index``), gathered with a few array operations."""
        later_rows, ids = codes >> 32, codes & 0xFFFFFFFF
        inner = ids >= base
        rows = distinct(np.concatenate((later_rows, ids[inner] - base)))
        kept = distinct(ids[~inner])
        texts, text_offsets = index.texts(kept)
        row_sets, row_offsets = gather(batch.shingles, batch.offsets, rows)
        kept_sets = index.sketches(kept)
        earlier = np.searchsorted(rows, ids - base)
        earlier[~inner] = len(rows) + np.searchsorted(kept, ids[~inner])
        listed = rows.tolist()
        written = batch.texts
        return cls(
            normalized=[batch.normalized[row] for row in listed],
            raw=[written[row] for row in listed] if written else [""] * len(listed),
            wrapped=[batch.wrapped[row] for row in listed] if batch.wrapped else [""] * len(listed),
            kept_ids=kept.tolist(),
            kept=texts.tobytes(),
            kept_offsets=text_offsets,
            shingles=np.concatenate((row_sets, kept_sets.shingles)),
            offsets=np.concatenate((row_offsets, row_offsets[-1] + kept_sets.offsets[1:])),
            earlier=earlier,
            later=np.searchsorted(rows, later_rows),
            groups=places.groups(rows),
            off=off,
        )

    def kept_text(self, at: int) -> str:
        """The normalized text of kept paragraph ``at`` (counted after the rows)."""
        at -= len(self.normalized)
        start, end = self.kept_offsets[at], self.kept_offsets[at + 1]
        return self.kept[start:end].decode("utf-8", "surrogatepass")


def _verify_pairs(job: _Pairs, config: Config, kept: _Recent | None = None) -> list[Verdict]:
    """The verdicts on ``job``'s pairs, as :meth:`Deduplicator._verify` reaches them (the
    fingerprints of kept paragraphs from ``kept``, by default the worker process's)."""
    recent = _WORKER_KEPT if kept is None else kept
    rows: dict[int, Fingerprint] = {}
    count = len(job.normalized)

    groups = job.groups.tolist()

    def shingles(at: int) -> ShingleSet:
        return job.shingles[job.offsets[at] : job.offsets[at + 1]]

    def of(at: int, written: bool = True) -> Fingerprint:
        # (Held fingerprints are most: their shingles are sliced only for one made.)
        if at >= count:
            id = job.kept_ids[at - count]
            return recent.get(id, lambda: (job.kept_text(at), shingles(at)), config)
        key = at if written else ~at  # a row of an earlier group: as the index has it
        fp = rows.get(key)
        if fp is None:
            raw, wrapped = (job.raw[at], job.wrapped[at]) if written else ("", "")
            fp = rows[key] = fingerprint(job.normalized[at], config, shingles(at), raw, wrapped)
        return fp

    out = []
    with rules_off(*job.off):
        for earlier, later in zip(job.earlier.tolist(), job.later.tolist(), strict=True):
            written = earlier >= count or groups[earlier] == groups[later]
            old, new = of(earlier, written), of(later)
            same = old.normalized == new.normalized
            out.append(EXACT if same else compare(old, new, config, brief_below=CLOSE))
    return out


def _verify_sent(job: _Pairs, config: Config) -> list[tuple[Any, ...]]:
    """:func:`_verify_pairs` in a worker process: the verdicts go back as their fields,
    sent and rebuilt ~4x faster than the dataclass pickles (its slots' ``__getstate__``
    and ``__setstate__`` are Python: 20k verdicts, 126 ms against 27 ms)."""
    return [(v.kind, v.similarity, v.reason) for v in _verify_pairs(job, config)]


def interrupting(kind: type[BaseException] | None) -> bool:
    """Whether an exception of ``kind`` ends the run at once: Ctrl-C, ``sys.exit``, a signal
    handler's own (not an error, and not a generator closed early)."""
    return kind is not None and not issubclass(kind, (Exception, GeneratorExit))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is over, then act as usual. The first
    submission starts the pool (forks the workers, starts its manager thread): stopped
    halfway, the pool could not be shut down ("cannot join thread before it is started",
    seen in CI) and the interpreter's exit hung on it."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no such thing
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


def _worker_start(parent: int) -> None:
    """A worker process leaves interrupts to its parent (Ctrl-C reaches the whole process
    group: the parent stops the pool) and ends when its parent ends, however it ends (a
    parent killed with SIGKILL leaves no worker behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked while its parent held them
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _INTERRUPTS)
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # elsewhere: look every second
        import threading

        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)
    keep_freed_memory()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _fingerprint_batch(texts: list[str], config: Config, wrapping: Wrapping | None) -> Batch:
    """:func:`fingerprint_batch` in a worker process, with the worker's token cache; the
    texts are not sent back (:func:`_with_texts` puts them in again)."""
    batch = fingerprint_batch(texts, config, _WORKER_HASHER, wrapping)
    return dataclasses.replace(batch, texts=())


def _worker_lost(error: BaseException) -> WorkerError:
    return WorkerError(
        f"a worker process ended before its work was done (killed, or out of memory?): {error}"
    )


def _result(future: Future[Any], pool: ProcessPoolExecutor | None = None) -> Any:
    """What ``future`` gives; a worker process that died is a :class:`WorkerError`.

    A worker killed while it sends its result leaves part of a message in the pool's
    result pipe, and the pool's own thread then waits for the rest for good (CPython's
    ``concurrent.futures``: the other workers and this process hold the pipe open), so no
    future ever fails. A worker of ``pool`` found dead while the future stays undone, twice
    in a row (the pool's thread has had time to see it), is taken for that: the pool is
    broken here (:func:`_break`), and its futures fail as they should."""
    from concurrent.futures import BrokenExecutor
    from concurrent.futures import TimeoutError as Pending  # TimeoutError only from 3.11

    dead = 0
    while True:
        try:
            return future.result(timeout=_PATIENCE)
        except Pending:
            if pool is None or not _lost_worker(pool):
                dead = 0
                continue
            dead += 1
            if dead == 2:
                _break(pool)
        except BrokenExecutor as error:
            raise _worker_lost(error) from error


@functools.cache
def _takeable_future() -> type[Future[Any]]:
    """The class given to the pool's futures, which this process may take back (cancel:
    :meth:`Deduplicator._send`) while they wait for a worker.

    When a worker dies, the pool's thread fails every future still pending, cancelled ones
    too; CPython before 3.12 then raised ``InvalidStateError`` in that thread at the first
    cancelled one (a traceback on stderr), left the futures after it unfailed and the other
    workers running, and the interpreter's exit hung. Failing a cancelled future does
    nothing here, as it does from 3.12 on."""
    from concurrent.futures import Future, InvalidStateError

    class Takeable(Future[Any]):
        def set_exception(self, exception: BaseException | None) -> None:
            try:
                super().set_exception(exception)
            except InvalidStateError:
                if not self.cancelled():
                    raise

    return Takeable


#: Seconds between looks at the worker processes while a result is waited for.
_PATIENCE = 1.0


def _lost_worker(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker process of ``pool`` has ended (they run until the pool shuts down)."""
    processes = getattr(pool, "_processes", None) or {}
    return any(process.exitcode is not None for process in list(processes.values()))


def _break(pool: ProcessPoolExecutor) -> None:
    """Unblock a pool whose thread waits for the rest of a dead worker's message: the other
    workers are killed and this process closes its end of the result pipe, so that the
    thread reads the end of it and fails the pool's futures (``BrokenProcessPool``)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.exitcode is None:
            process.kill()
    queue = getattr(pool, "_result_queue", None)
    writer = getattr(queue, "_writer", None)
    if writer is not None:
        writer.close()


#: Bytes a pipe of the pool holds (Linux's most for a process without privileges): a
#: batch's fingerprints (~2.6 MB for 4,096 lines) then cross in three pipefuls, not
#: forty of 64 KB, each a wake-up of the other end (1M shuffled lines, --jobs 2: 35.8-36.0 s
#: against 36.4-36.8 s). The two pipes count 512 pages against the user's pipe budget
#: (``pipe-user-pages-soft``, 16,384 by default) while the pool lives; past the budget
#: Linux refuses, and the pipes stay as they were.
PIPE_BYTES = 1 << 20


def _widen_pipes(pool: ProcessPoolExecutor) -> None:
    """Give the pipes that carry ``pool``'s jobs and results :data:`PIPE_BYTES` (where the
    system can: Linux; a pool without these pipes, or a refusal, leaves them as they are)."""
    try:
        import fcntl
    except ImportError:  # Windows
        return
    wider = getattr(fcntl, "F_SETPIPE_SZ", None)
    for queue in ("_call_queue", "_result_queue"):
        reader = getattr(getattr(pool, queue, None), "_reader", None)
        if wider is not None and reader is not None:
            with contextlib.suppress(OSError):
                fcntl.fcntl(reader.fileno(), wider, PIPE_BYTES)


_T = TypeVar("_T")


class _Done(Generic[_T]):
    """A result worked out already (``concurrent.futures`` is imported only with worker
    processes: it takes ``logging`` in, ~10 ms of a start)."""

    __slots__ = ("_value",)

    def __init__(self, value: _T) -> None:
        self._value = value

    def result(self) -> _T:
        return self._value


def _with_texts(future: Future[Batch], texts: list[str]) -> Future[Batch]:
    """The batch ``future`` gives, with ``texts`` in it again."""
    from concurrent.futures import BrokenExecutor, Future

    out: Future[Batch] = Future()

    def done(source: Future[Batch]) -> None:
        if source.cancelled():
            out.cancel()
            return
        error = source.exception()
        if isinstance(error, BrokenExecutor):
            out.set_exception(_worker_lost(error))
        elif error is not None:
            out.set_exception(error)
        else:
            out.set_result(dataclasses.replace(source.result(), texts=texts))

    future.add_done_callback(done)
    return out


def _score(counts: list[int], shingles: int) -> float:
    """As :func:`dedup.index.score` scores a pair: bands, shingles if half shared, edges."""
    bands, shared, edges = counts
    value = float(bands)
    if shared and shared * 2 >= shingles:
        value += 2 * shared / shingles
    return value + edges


def _copies(
    digests: npt.NDArray[np.uint64], places: Places
) -> tuple[npt.NDArray[np.int64], dict[int, list[int]]]:
    """For each row, the first row of its group with the same digest (itself, when it is
    the first); and for the rows whose digest earlier groups hold too, those rows, in
    order: to the row they are kept paragraphs of the index (see :class:`Places`)."""
    count = len(digests)
    if places.single:
        _, first_row, inverse = np.unique(digests, return_index=True, return_inverse=True)
        return first_row[inverse], {}
    rows = np.arange(count)
    groups = places.groups(rows)
    order = np.lexsort((rows, groups, digests))  # by digest, then group, then row
    d, g = digests[order], groups[order]
    new_digest = np.ones(count, dtype=bool)
    new_digest[1:] = d[1:] != d[:-1]
    new_run = new_digest.copy()
    new_run[1:] |= g[1:] != g[:-1]
    same = np.empty(count, dtype=np.int64)
    same[order] = order[np.flatnonzero(new_run)][np.cumsum(new_run) - 1]
    twins: dict[int, list[int]] = {}
    digest_start = np.flatnonzero(new_digest)[np.cumsum(new_digest) - 1]  # by sorted place
    for at in np.flatnonzero(new_run & ~new_digest).tolist():  # a later group's first
        earlier = order[digest_start[at] : at].tolist()
        end = at + 1
        while end < count and not new_run[end]:
            end += 1
        for row in order[at:end].tolist():
            twins[row] = earlier
    return same, twins


def _index_score(counts: list[int], shingles: int) -> float | None:
    """As :func:`dedup.index.score` scores a pair found in the index, summed in its order
    (bands, then the shingles' share if half shared, then edges); None for a pair sharing
    only a few shingles, which the index gives as no candidate."""
    bands, shared, edges = counts
    enough = shared > 0 and shared * 2 >= shingles
    if not (bands or edges or enough):
        return None
    total = 0.0
    for _ in range(bands):
        total += 1.0
    if enough:
        total += 2 * shared / shingles
    for _ in range(edges):
        total += 1.0
    return total


def clean(text: str, config: Config | None = None, **options: Any) -> CleanResult:
    """Remove the paragraphs of ``text`` that repeat an earlier one; say which and why.

    ``options`` are the :class:`~dedup.config.Config` fields (``split``, ``threshold``,
    ``containment``, ``shingle_size``, ``min_tokens``, ``num_perm``, ``seed``).

    >>> result = clean("A pull quote worth printing twice, says the editor.\\n"
    ...                "Body text.\\n"
    ...                "\\u201cA pull quote worth printing twice,\\u201d says the editor.\\n")
    >>> print(result.text)
    A pull quote worth printing twice, says the editor.
    Body text.
    <BLANKLINE>
    >>> [(r.index, r.duplicate_of, r.kind) for r in result.removed]
    [(2, 0, 'near')]
    """
    return Deduplicator(config, **options).clean(text)
