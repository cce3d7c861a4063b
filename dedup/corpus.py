"""Many documents in one run: each alone (scope ``document``) or all against one index
(scope ``corpus``: a paragraph repeated from an earlier document is removed too, first seen
wins in input order). :func:`clean_documents` is what ``dedup clean`` and ``dedup check``
run; they differ only in where the cleaned text goes.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from dedup.config import Config, SplitMode
from dedup.decision import Decided, Pending, Places
from dedup.deduplicator import Deduplicator, interrupting
from dedup.errors import ConfigError
from dedup.fingerprint import Batch
from dedup.index import Index
from dedup.paragraphs import Wrapping, wrapped_lines
from dedup.result import CloseCall, Removal
from dedup.sources import Document
from dedup.stream import BATCH, line_breaks

Scope = Literal["document", "corpus"]
SCOPES: tuple[Scope, ...] = ("document", "corpus")


@dataclass
class Outcome:
    """What cleaning one document did: its paragraphs, removals by kind, and (when kept)
    the removals themselves."""

    document: Document
    split: SplitMode
    paragraphs: int
    kinds: Counter[str]
    removals: list[Removal] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return sum(self.kinds.values())


def clean_documents(
    documents: Iterable[Document],
    config: Config,
    *,
    scope: Scope = "document",
    jobs: int = 1,
    writer: Callable[[Document], Callable[[str], None]],
    events: Callable[[Document, list[Removal | CloseCall]], None] | None = None,
    progress: Callable[[int, int], None] = lambda done, paragraphs: None,
    keep_removals: bool = False,
    index: Index | None = None,
    texts: Callable[[Document, int, list[str]], None] | None = None,
    kinds: bool = True,
) -> Iterator[Outcome]:
    """Clean ``documents`` in order; ``writer(document)`` gives where its cleaned text goes,
    ``events`` (when given) gets removals and close calls as they are decided,
    ``progress`` the bytes read in the current file and the paragraphs seen in all,
    ``texts`` (when given) every paragraph's text, a batch at a time (its first index).
    Without ``kinds`` (and no ``events`` or kept removals), the outcomes count near and
    contained removals as one (see :class:`~dedup.stream.Cleaner`), a little faster.
    Yields one :class:`Outcome` per document, after its text was written; ``writer`` is
    asked for a document's output once the documents before it were yielded.

    With an ``index`` (scope ``corpus`` only), documents are cleaned against what it holds
    too, and what they keep is added to it, uncommitted: the caller commits it once the
    documents were delivered (:meth:`~dedup.index.Index.commit`).

    In scope ``corpus``, short documents (read in one piece, fewer lines than a batch:
    JSONL records, most pages) are gathered until their paragraphs fill a batch, and
    decided together (:meth:`~dedup.deduplicator.Deduplicator.decide_groups`), as each
    would be alone, one after another: the same removals, a batch's lookups and inserts
    paid once for many documents."""
    if index is not None and scope != "corpus":
        raise ConfigError("an index holds paragraphs across documents: it goes with scope corpus")
    run = _Run(writer, events, progress, keep_removals, texts, kinds)
    if scope == "document":
        counted = 0
        for document in documents:
            with Deduplicator(config, jobs=jobs) as alone:
                opened = _Open(document, alone, run, counted)
                opened.feed(document.chunks)
                outcome = opened.close()
            counted += outcome.paragraphs
            yield outcome
        return
    shared = Deduplicator(config, jobs=jobs, index=index)
    try:
        yield from _corpus(iter(documents), shared, run)
    except BaseException as error:
        shared.close(wait=not interrupting(type(error)))
        raise
    shared.close()  # no commit: delivering is the caller's


def _corpus(
    documents: Iterator[Document], deduplicator: Deduplicator, run: _Run
) -> Iterator[Outcome]:
    """Scope corpus: every document against one ``deduplicator``, short ones decided in
    groups (see :func:`clean_documents`). A group's paragraphs are fingerprinted (by the
    worker processes, with ``jobs``) while the group before it is decided."""
    filling = _Group()  # short documents read, their paragraphs not decided yet
    ready: _Group | None = None  # a full group, being fingerprinted
    counted = 0  # paragraphs cut so far, in the documents read
    while True:
        try:
            document = next(documents, None)
            if document is None:
                break
            chunks = iter(document.chunks)
            first = next(chunks, None)
            second = next(chunks, None) if first is not None else None
            # One piece of fewer lines than a batch: cutting it decides nothing.
            short = second is None and (first is None or line_breaks(first[0]) < BATCH)
            if short:
                opened = _Open(document, deduplicator, run, counted, later=True)
                opened.feed([first])
                opened.end()
                counted += opened.cleaner.paragraphs
                filling.add(opened)
        except Exception:
            # Reading the next document failed: the ones read before it are done first.
            yield from _outcomes((ready, filling), deduplicator)
            raise
        if short:
            if filling.rows >= BATCH:
                filling.start(deduplicator)
                if ready is not None:
                    yield from ready.outcomes(deduplicator)
                ready, filling = filling, _Group()
            continue
        yield from _outcomes((ready, filling), deduplicator)
        ready, filling = None, _Group()
        opened = _Open(document, deduplicator, run, counted)
        opened.feed(itertools.chain([first, second], chunks))
        outcome = opened.close()
        counted += outcome.paragraphs
        yield outcome
    yield from _outcomes((ready, filling), deduplicator)


def _outcomes(groups: Iterable[_Group | None], deduplicator: Deduplicator) -> Iterator[Outcome]:
    """The outcomes of ``groups`` (None: no group), in order."""
    for group in groups:
        if group is not None:
            yield from group.outcomes(deduplicator)


class _Group:
    """Short documents whose paragraphs are decided as one batch, in order."""

    def __init__(self) -> None:
        self.documents: list[_Open] = []
        self.rows = 0  # their paragraphs
        self._parts: list[tuple[_Open, tuple[list[str], Wrapping | None, int]]] = []
        self._batch: Pending[Batch] | None = None

    def add(self, opened: _Open) -> None:
        self.documents.append(opened)
        held = opened.cleaner.held
        if held is not None:
            self._parts.append((opened, held))
            self.rows += len(held[0])

    def start(self, deduplicator: Deduplicator) -> None:
        """Hand the paragraphs to be fingerprinted (by a worker process, with ``jobs``)."""
        texts = [text for _, (written, _, _) in self._parts for text in written]
        self._batch = deduplicator.fingerprints(texts, wait=False)

    def outcomes(self, deduplicator: Deduplicator) -> Iterator[Outcome]:
        """Decide the paragraphs, then close the documents in order."""
        decided: dict[int, Decided] = {}
        parts = self._parts
        if parts:
            if self._batch is None:
                self.start(deduplicator)
            assert self._batch is not None
            batch = self._batch.result()
            if any(wrapping is not None for _, (_, wrapping, _) in parts):
                # The lines of wrapped sentences, each document's among its own lines.
                wrapped: list[str] = []
                for _, (written, wrapping, _) in parts:
                    wrapped += wrapped_lines(written, wrapping) if wrapping else [""] * len(written)
                batch = dataclasses.replace(batch, wrapped=wrapped)
            starts = np.cumsum([0] + [len(written) for _, (written, _, _) in parts]).tolist()
            places = Places(
                [opened.cleaner.document for opened, _ in parts],
                [first for _, (_, _, first) in parts],
                starts,
            )
            cleaner = parts[0][0].cleaner  # the documents' cleaners are alike
            found = deduplicator.decide_groups(batch, places, cleaner.explains, cleaner.refs)
            decided = {id(opened): got for (opened, _), got in zip(parts, found, strict=True)}
        for opened in self.documents:
            yield opened.close(decided.get(id(opened)))


@dataclass(frozen=True)
class _Run:
    """What every document of a run reports to (see :func:`clean_documents`)."""

    writer: Callable[[Document], Callable[[str], None]]
    events: Callable[[Document, list[Removal | CloseCall]], None] | None
    progress: Callable[[int, int], None]
    keep_removals: bool
    texts: Callable[[Document, int, list[str]], None] | None
    kinds: bool


class _Open:
    """A document being cleaned. One decided in a group (``later``) asks for its output
    and tells its events only when it is closed, after the documents before it."""

    def __init__(
        self,
        document: Document,
        deduplicator: Deduplicator,
        run: _Run,
        counted: int,
        later: bool = False,
    ) -> None:
        self.document = document
        self._run = run
        self._counted = counted  # paragraphs cut in the documents before it
        self._write = None if later else run.writer(document)
        self._held: list[Removal | CloseCall] = []
        self._removals: list[Removal] = []
        texts = run.texts
        self.cleaner = deduplicator.cleaner(
            document.name,
            self._written,
            events=run.events is not None or run.keep_removals,
            texts=None if texts is None else lambda first, found: texts(document, first, found),
            kinds=run.kinds,
        )

    def _written(self, text: str) -> None:
        assert self._write is not None, "a document of a group wrote before it was closed"
        self._write(text)

    def feed(self, chunks: Iterable[tuple[str, int] | None]) -> None:
        for chunk in chunks:
            if chunk is not None:
                text, done = chunk
                self._handle(self.cleaner.feed(text))
                self._run.progress(done, self._counted + self.cleaner.paragraphs)

    def end(self) -> None:
        """Its text is all there: its paragraphs are held back to be decided in a group."""
        self._handle(self.cleaner.end(hold=True))

    def close(self, decided: Decided | None = None) -> Outcome:
        """Decide the rest (the paragraphs held back as ``decided`` says) and write it."""
        if self._write is None:
            self._write = self._run.writer(self.document)
        held, self._held = self._held, []
        self._handle(held)
        self._handle(self.cleaner.close(decided))
        cleaner = self.cleaner
        assert cleaner.split is not None
        return Outcome(
            self.document, cleaner.split, cleaner.paragraphs, cleaner.removed, self._removals
        )

    def _handle(self, found: list[Removal | CloseCall]) -> None:
        if self._write is None:  # told once its output is asked for
            self._held += found
            return
        if self._run.keep_removals:
            self._removals.extend(e for e in found if isinstance(e, Removal))
        if found and self._run.events is not None:
            self._run.events(self.document, found)
