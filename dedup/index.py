"""Where kept paragraphs are remembered, behind a small interface.

An index answers, for a batch of fingerprints, which kept paragraphs may repeat each one
(candidates, verified later on their real shingle sets), and takes kept paragraphs in. It
records the settings it was built with and refuses to be used with others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

import numpy as np

from dedup.config import Config
from dedup.errors import IndexMismatchError
from dedup.fingerprint import Fingerprint

# A shingle shared by more kept paragraphs than this finds no more of them as candidates:
# such shingles are boilerplate ("one of the"), and the LSH finds near copies anyway.
MAX_POSTINGS = 32


class Ref(NamedTuple):
    """Where a paragraph stands: its document's id and its index in that document."""

    document: str
    paragraph: int


class Candidate(NamedTuple):
    """A kept paragraph that may repeat the one asked about, with its fingerprint."""

    ref: Ref
    fingerprint: Fingerprint


class Index(Protocol):
    """What the pipeline needs of an index; memory today, on disk or Redis tomorrow."""

    @property
    def settings(self) -> str:
        """The ``Config.index_name()`` of the settings the index was built with."""

    def query(self, fingerprints: Sequence[Fingerprint]) -> list[list[Candidate]]:
        """For each fingerprint, the kept paragraphs that may repeat it, first kept first."""

    def insert(self, items: Sequence[tuple[Ref, Fingerprint]]) -> None:
        """Remember kept paragraphs, in the order given."""


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """The ``(bands, rows)`` datasketch's ``MinHashLSH`` chooses for these settings."""
    from datasketch.lsh import _optimal_param

    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


class _Sketch:
    """The little of a ``datasketch.MinHash`` that ``MinHashLSH`` reads."""

    __slots__ = ("hashvalues",)
    scheme = "affine32"

    def __init__(self, hashvalues: np.ndarray[Any, Any]) -> None:
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)


class MemoryIndex:
    """An in-process index: exact digests, a ``datasketch.MinHashLSH`` for near copies,
    shingle postings for excerpts (which are too small a part of the paragraph they come
    from for Jaccard-tuned LSH to find), and edge postings (first and last two tokens) for
    paragraphs too short to have shingles.
    """

    def __init__(self, config: Config, settings: str | None = None) -> None:
        if settings is not None and settings != config.index_name():
            raise IndexMismatchError(
                f"index was built with '{settings}', but the settings in force are "
                f"'{config.index_name()}'; use the same settings or build a new index"
            )
        self._config = config
        self._settings = config.index_name()
        self._entries: dict[Ref, tuple[int, Fingerprint]] = {}
        self._exact: dict[int, Ref] = {}
        self._postings: dict[int, list[Ref]] = {}
        self._edges: dict[int, list[Ref]] = {}
        self._lsh: Any = None

    @property
    def settings(self) -> str:
        return self._settings

    def __len__(self) -> int:
        return len(self._entries)

    def _new_lsh(self) -> Any:
        from datasketch import MinHashLSH

        params = lsh_params(self._config.lsh_threshold, self._config.num_perm)
        return MinHashLSH(
            threshold=self._config.lsh_threshold, num_perm=self._config.num_perm, params=params
        )

    def query(self, fingerprints: Sequence[Fingerprint]) -> list[list[Candidate]]:
        return [self._query_one(fp) for fp in fingerprints]

    def _query_one(self, fp: Fingerprint) -> list[Candidate]:
        refs: set[Ref] = set()
        exact = self._exact.get(fp.digest)
        if exact is not None:
            refs.add(exact)
        for edge in fp.edges() or ():
            refs.update(self._edges.get(edge, ()))
        if fp.signature is not None:
            if self._lsh is not None:
                refs.update(self._lsh.query(_Sketch(fp.signature)))
            shared: Counter[Ref] = Counter()
            for shingle in fp.shingles.tolist():
                shared.update(self._postings.get(shingle, ()))
            floor = self._config.lsh_threshold * fp.shingles.size
            refs.update(ref for ref, count in shared.items() if count >= floor)
        ordered = sorted(refs, key=lambda ref: self._entries[ref][0])
        return [Candidate(ref, self._entries[ref][1]) for ref in ordered]

    def insert(self, items: Sequence[tuple[Ref, Fingerprint]]) -> None:
        for ref, fp in items:
            if ref in self._entries:
                continue
            self._entries[ref] = (len(self._entries), fp)
            self._exact.setdefault(fp.digest, ref)
            _post(self._edges, fp.edges() or (), ref)
            if fp.signature is None:
                continue
            if self._lsh is None:
                self._lsh = self._new_lsh()
            self._lsh.insert(ref, _Sketch(fp.signature), check_duplication=False)
            _post(self._postings, fp.shingles.tolist(), ref)


def _post(postings: dict[int, list[Ref]], keys: Iterable[int], ref: Ref) -> None:
    for key in keys:
        posting = postings.setdefault(key, [])
        if len(posting) < MAX_POSTINGS:
            posting.append(ref)
