"""Where kept paragraphs are remembered, behind a small interface.

An index answers, for a batch of fingerprints, which kept paragraphs may repeat each one
(candidates, verified afterwards on their tokens), and takes kept paragraphs in. It records
the settings it was built with and refuses to be used with others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from dedup.config import Config
from dedup.errors import IndexMismatchError
from dedup.fingerprint import Fingerprint

#: A bucket (an LSH band value, a shingle, a paragraph's first or last two tokens) holds at
#: most this many paragraphs: the first ones seen. Templated text ("Page 1 of 20", product
#: grids) would otherwise make every paragraph a candidate of every other, which is
#: quadratic; a paragraph is still found through its other buckets, and exact repeats
#: always are (their digests are not capped).
MAX_BUCKET = 32

#: Candidates verified for one paragraph, the most similar first (exact repeats always).
MAX_CANDIDATES = 8


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
        """For each fingerprint, the kept paragraphs that may repeat it, best first."""

    def insert(self, items: Sequence[tuple[Ref, Fingerprint]]) -> None:
        """Remember kept paragraphs, in the order given."""


def check_settings(index: Index, config: Config) -> None:
    """Refuse an index built with other settings than ``config``."""
    if index.settings != config.index_name():
        raise IndexMismatchError(
            f"the index was built with '{index.settings}', but the settings in force are "
            f"'{config.index_name()}'; use the same settings or build a new index"
        )


class MemoryIndex:
    """An in-process index with four kinds of buckets:

    * exact digests of the normalized text;
    * LSH bands of the MinHash signature (datasketch's ``MinHashLSH`` banding, see
      :mod:`dedup.lsh`), for near copies;
    * shingles, for excerpts and pull-quotes, too small a part of the paragraph they come
      from for an LSH tuned to Jaccard to find;
    * the first and the last two tokens, for paragraphs too short to have shingles.

    Candidates are ranked by how much they share with the query (bands hit, share of its
    shingles found, edges), and the best ``MAX_CANDIDATES`` are returned.
    """

    def __init__(self, config: Config) -> None:
        self._settings = config.index_name()
        self._seq: dict[Ref, int] = {}
        self._entries: list[tuple[Ref, Fingerprint]] = []
        self._exact: dict[int, int] = {}
        self._bands: dict[int, list[int]] = {}
        self._shingles: dict[int, list[int]] = {}
        self._edges: dict[int, list[int]] = {}

    @property
    def settings(self) -> str:
        return self._settings

    def __len__(self) -> int:
        return len(self._entries)

    def query(self, fingerprints: Sequence[Fingerprint]) -> list[list[Candidate]]:
        return [self._query_one(fp) for fp in fingerprints]

    def _query_one(self, fp: Fingerprint) -> list[Candidate]:
        score: dict[int, float] = {}
        if fp.bands is not None:
            for key in fp.bands:
                for seq in self._bands.get(key, ()):
                    score[seq] = score.get(seq, 0.0) + 1
        if fp.shingles.size:
            shared: Counter[int] = Counter()
            for shingle in fp.shingles.tolist():
                shared.update(self._shingles.get(shingle, ()))
            # Half of the query's shingles found: possibly an excerpt, worth a look.
            floor = fp.shingles.size / 2
            for seq, count in shared.items():
                if count >= floor:
                    score[seq] = score.get(seq, 0.0) + 2 * count / fp.shingles.size
        for key in fp.edges:
            for seq in self._edges.get(key, ()):
                score[seq] = score.get(seq, 0.0) + 1
        best = sorted(score, key=lambda seq: (-score[seq], seq))[:MAX_CANDIDATES]
        exact = self._exact.get(fp.digest)
        if exact is not None and exact not in best:
            best.insert(0, exact)
        return [Candidate(*self._entries[seq]) for seq in best]

    def insert(self, items: Sequence[tuple[Ref, Fingerprint]]) -> None:
        for ref, fp in items:
            if ref in self._seq:
                continue
            seq = len(self._entries)
            self._seq[ref] = seq
            self._entries.append((ref, fp))
            self._exact.setdefault(fp.digest, seq)
            _post(self._edges, fp.edges, seq)
            if fp.bands is not None:
                _post(self._bands, fp.bands, seq)
            _post(self._shingles, fp.shingles.tolist(), seq)


def _post(buckets: dict[int, list[int]], keys: Iterable[int], seq: int) -> None:
    for key in keys:
        bucket = buckets.setdefault(key, [])
        if len(bucket) < MAX_BUCKET:
            bucket.append(seq)
