"""The decision: first seen wins. Paragraphs are taken in document order, then document
order across documents; each is removed when it repeats a paragraph already kept, and
kept (and remembered) otherwise.
"""

from __future__ import annotations

from typing import Any

from dedup.config import Config
from dedup.errors import DedupError
from dedup.fingerprint import fingerprint_batch
from dedup.index import Index, MemoryIndex, Ref, check_settings
from dedup.paragraphs import split_resolved
from dedup.result import CleanResult, CloseCall, Removal, apply_cuts, cut
from dedup.verify import KINDS, Kind, Verdict, compare

#: A kept paragraph whose closest candidate is at least this similar is a close call,
#: listed with the reason it was kept (``CleanResult.close``, ``dedup clean --explain``).
CLOSE = 0.5


def _rank(verdict: Verdict) -> tuple[int, float]:
    return (-KINDS.index(verdict.kind) if verdict.kind else -99, verdict.similarity)


class Deduplicator:
    """Cleans documents one after another against one index, so that a paragraph
    repeated from an earlier document is removed too (scope: corpus).

    >>> d = Deduplicator()
    >>> d.clean("Subscribe to our newsletter for the latest news and offers.\\nOne.", "a").text
    'Subscribe to our newsletter for the latest news and offers.\\nOne.'
    >>> r = d.clean("Two.\\nSubscribe to our newsletter for the latest news and offers!", "b")
    >>> r.text, r.removed[0].duplicate_of_document, r.removed[0].duplicate_of
    ('Two.', 'a', 0)
    """

    def __init__(
        self, config: Config | None = None, *, index: Index | None = None, **options: Any
    ) -> None:
        self.config = Config.make(config, **options)
        self.index: Index = index if index is not None else MemoryIndex(self.config)
        check_settings(self.index, self.config)
        self._documents: set[str] = set()

    def clean(self, text: str, document: str | None = None) -> CleanResult:
        """Clean one document; ``document`` names it in reports (default: its ordinal)."""
        name = document if document is not None else f"#{len(self._documents) + 1}"
        if name in self._documents:
            raise DedupError(f"document {name!r} was already cleaned by this deduplicator")
        self._documents.add(name)

        mode, paragraphs = split_resolved(text, self.config.split)
        fingerprints = fingerprint_batch([text[p.start : p.end] for p in paragraphs], self.config)
        found: dict[int, tuple[Ref, Kind, Verdict, list[Ref]]] = {}
        close: list[CloseCall] = []
        for paragraph, fp in zip(paragraphs, fingerprints, strict=True):
            if fp.empty:
                continue
            best: tuple[Ref, Verdict] | None = None
            repeats: list[Ref] = []
            for candidate in self.index.query([fp])[0]:
                verdict = compare(candidate.fingerprint, fp, self.config)
                if verdict.repeat:
                    repeats.append(candidate.ref)
                if best is None or _rank(verdict) > _rank(best[1]):
                    best = (candidate.ref, verdict)
            if best is not None and best[1].kind is not None:
                also = sorted(ref for ref in repeats if ref != best[0])
                found[paragraph.index] = (best[0], best[1].kind, best[1], also)
                continue
            self.index.insert([(Ref(name, paragraph.index), fp)])
            if best is not None and best[1].similarity >= CLOSE:
                ref, verdict = best
                close.append(
                    CloseCall(
                        index=paragraph.index,
                        candidate=ref.paragraph,
                        candidate_document=None if ref.document == name else ref.document,
                        similarity=verdict.similarity,
                        reason=verdict.reason,
                    )
                )

        spans = cut(text, paragraphs, found)
        removed = []
        for (cut_start, cut_end), index in zip(spans, sorted(found), strict=True):
            p = paragraphs[index]
            ref, kind, verdict, also = found[index]
            removed.append(
                Removal(
                    index=index,
                    text=text[p.start : p.end],
                    start=p.start,
                    end=p.end,
                    duplicate_of=ref.paragraph,
                    duplicate_of_document=None if ref.document == name else ref.document,
                    kind=kind,
                    similarity=verdict.similarity,
                    reason=verdict.reason,
                    also_repeats=tuple(
                        (None if r.document == name else r.document, r.paragraph) for r in also
                    ),
                    cut_start=cut_start,
                    cut_end=cut_end,
                    before=text[cut_start : p.start],
                    after=text[p.end : cut_end],
                )
            )
        return CleanResult(
            original=text,
            text=apply_cuts(text, spans),
            paragraphs=tuple(paragraphs),
            removed=tuple(removed),
            close=tuple(close),
            split=mode,
            document=document,
        )


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
