"""Many documents in one run: each alone (scope ``document``) or all against one index
(scope ``corpus``: a paragraph repeated from an earlier document is removed too, first seen
wins in input order). :func:`clean_documents` is what ``dedup clean`` and ``dedup check``
run; they differ only in where the cleaned text goes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from dedup.config import Config, SplitMode
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError
from dedup.index import Index
from dedup.result import CloseCall, Removal
from dedup.sources import Document

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
    Yields one :class:`Outcome` per document, after its text was written.

    With an ``index`` (scope ``corpus`` only), documents are cleaned against what it holds
    too, and what they keep is added to it, uncommitted: the caller commits it once the
    documents were delivered (:meth:`~dedup.index.Index.commit`)."""
    if index is not None and scope != "corpus":
        raise ConfigError("an index holds paragraphs across documents: it goes with scope corpus")
    shared = Deduplicator(config, jobs=jobs, index=index)
    try:
        seen = 0
        for document in documents:
            if scope == "corpus":
                outcome = _clean(
                    document, shared, writer, events, progress, keep_removals, seen, texts, kinds
                )
            else:
                with Deduplicator(config, jobs=jobs) as alone:
                    outcome = _clean(
                        document, alone, writer, events, progress, keep_removals, seen, texts, kinds
                    )
            seen += outcome.paragraphs
            yield outcome
    finally:
        shared.close()  # no commit: delivering is the caller's


def _clean(
    document: Document,
    deduplicator: Deduplicator,
    writer: Callable[[Document], Callable[[str], None]],
    events: Callable[[Document, list[Removal | CloseCall]], None] | None,
    progress: Callable[[int, int], None],
    keep_removals: bool,
    seen: int,
    texts: Callable[[Document, int, list[str]], None] | None,
    kinds: bool,
) -> Outcome:
    wanted = events is not None or keep_removals
    cleaner = deduplicator.cleaner(
        document.name,
        writer(document),
        events=wanted,
        texts=None if texts is None else lambda first, found: texts(document, first, found),
        kinds=kinds,
    )
    kept: list[Removal] = []

    def handle(found: list[Removal | CloseCall]) -> None:
        if keep_removals:
            kept.extend(e for e in found if isinstance(e, Removal))
        if found and events is not None:
            events(document, found)

    for text, done in document.chunks:
        handle(cleaner.feed(text))
        progress(done, seen + cleaner.paragraphs)
    handle(cleaner.close())
    assert cleaner.split is not None
    return Outcome(document, cleaner.split, cleaner.paragraphs, cleaner.removed, kept)
