"""What deciding a batch gives the stream: which rows went, and each removal or close call
with what it repeats. Between the deciding (:mod:`dedup.deduplicator`) and the stream that
feeds it (:mod:`dedup.stream`), so that neither imports the other's module: the stream
needs only a :class:`Decider`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.fingerprint import Batch
from dedup.index import Ref
from dedup.paragraphs import Paragraph, Wrapping
from dedup.result import CloseCall, Removal
from dedup.verify import Verdict

_T = TypeVar("_T", covariant=True)


class Pending(Protocol[_T]):
    """A result that may still be being worked out (a ``concurrent.futures.Future``)."""

    def result(self) -> _T: ...


class Decider(Protocol):
    """What a :class:`~dedup.stream.Cleaner` needs of whoever decides: the settings, how
    many worker processes fingerprint, the fingerprints of a batch (with the lines of
    wrapped sentences, given the lines around it), and its decisions (a
    :class:`~dedup.deduplicator.Deduplicator`)."""

    config: Config
    jobs: int

    def fingerprints(
        self, texts: list[str], wait: bool, wrapping: Wrapping | None = None
    ) -> Pending[Batch]: ...

    def decide(
        self, batch: Batch, document: str, first: int, explain: bool = True, refs: bool = True
    ) -> Decided: ...


class Places:
    """Where the rows of a batch stand: the rows from ``starts[g]`` up to ``starts[g + 1]``
    are paragraphs ``firsts[g]``, ``firsts[g] + 1``, ... of ``documents[g]``. A group is
    what one document's cleaner cut as one batch; several are decided as one batch (many
    short documents) as each would be alone, one after another: a paragraph's text as
    written is read beside later paragraphs of its own group only, and a kept paragraph
    of an earlier group counts as the index's do (see
    :meth:`~dedup.deduplicator.Deduplicator.decide_groups`)."""

    __slots__ = ("_groups", "documents", "firsts", "starts")

    def __init__(self, documents: list[str], firsts: list[int], starts: list[int]) -> None:
        self.documents = documents
        self.firsts = firsts
        self.starts = starts
        self._groups: list[int] | None = None

    @classmethod
    def one(cls, document: str, first: int, count: int) -> Places:
        """A batch of one document's paragraphs ``first`` to ``first + count - 1``."""
        return cls([document], [first], [0, count])

    @property
    def single(self) -> bool:
        return len(self.documents) == 1

    def group(self, row: int) -> int:
        if self.single:
            return 0
        if self._groups is None:
            sizes = np.diff(self.starts)
            self._groups = np.repeat(np.arange(len(sizes)), sizes).tolist()
        return self._groups[row]

    def document(self, row: int) -> str:
        return self.documents[self.group(row)]

    def index(self, row: int) -> int:
        """Row ``row``'s index in its document."""
        group = self.group(row)
        return self.firsts[group] + row - self.starts[group]

    def ref(self, row: int) -> Ref:
        return Ref(self.document(row), self.index(row))

    def groups(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The group of each of ``rows``."""
        if self.single:
            return np.zeros(len(rows), dtype=np.int64)
        return np.searchsorted(np.asarray(self.starts), rows, side="right") - 1

    def of_rows(
        self, rows: Sequence[int] | npt.NDArray[np.int64]
    ) -> tuple[list[str], npt.NDArray[np.int64]]:
        """The document of each of ``rows``, and their indexes there."""
        at = np.asarray(rows, dtype=np.int64)
        if self.single:
            return [self.documents[0]] * len(rows), self.firsts[0] + at
        groups = self.groups(at)
        shift = np.asarray(self.firsts, dtype=np.int64) - np.asarray(self.starts[:-1])
        return [self.documents[g] for g in groups.tolist()], at + shift[groups]

    def rows(self, group: int) -> slice:
        return slice(self.starts[group], self.starts[group + 1])


class Decided(NamedTuple):
    """What :meth:`Deduplicator.decide` decided for a batch: which rows were ``removed``,
    how many of them as exact repeats of paragraphs kept before the batch (``exact``, not
    in ``decisions`` unless explained), and the decisions."""

    removed: npt.NDArray[np.bool_]
    exact: int
    decisions: list[Decision]


@dataclass(frozen=True, slots=True)
class Decision:
    """A paragraph of a batch that was removed (``verdict.repeat``) or kept though close to
    ``ref``; ``index`` is its index in its document."""

    index: int
    document: str
    ref: Ref
    verdict: Verdict
    also: tuple[Ref, ...]

    @property
    def repeat(self) -> bool:
        return self.verdict.repeat

    def close_call(self) -> CloseCall:
        return CloseCall(
            index=self.index,
            candidate=self.ref.paragraph,
            candidate_document=_other(self.ref, self.document),
            similarity=self.verdict.similarity,
            reason=self.verdict.reason,
        )

    def removal(
        self, text: str, paragraph: Paragraph, before: str, after: str, cut_start: int, line: int
    ) -> Removal:
        """The report entry: ``text`` went from ``cut_start`` with ``before`` and ``after``
        it (see :mod:`dedup.stream`)."""
        assert self.verdict.kind is not None
        document = self.document
        return Removal(
            index=self.index,
            text=text,
            start=paragraph.start,
            end=paragraph.end,
            duplicate_of=self.ref.paragraph,
            duplicate_of_document=_other(self.ref, document),
            kind=self.verdict.kind,
            similarity=self.verdict.similarity,
            reason=self.verdict.reason,
            also_repeats=tuple((_other(r, document), r.paragraph) for r in self.also),
            cut_start=cut_start,
            cut_end=cut_start + len(before) + len(text) + len(after),
            before=before,
            after=after,
            line=line,
        )


def _other(ref: Ref, document: str) -> str | None:
    """The document of ``ref``, or None when it is ``document`` itself."""
    return None if ref.document == document else ref.document
