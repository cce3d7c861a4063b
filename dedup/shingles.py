"""Shingles: overlapping token k-grams, hashed to stable 32-bit values.

Every token is hashed once with xxh3 (stable across machines and ``PYTHONHASHSEED``);
a k-gram's hash combines its tokens' hashes in numpy. :func:`shingle_hash` computes the
same value for one shingle in plain Python, for use as ``datasketch.MinHash(hashfunc=...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash

from dedup.native import speedups
from dedup.normalize import ASCII, LATIN, SEPARATOR, group_tokens, text_groups, token_groups

_MULT = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1
_SHIFT = np.uint64(32)

ShingleSet = npt.NDArray[np.uint32]


def distinct(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The distinct ``values`` (numbers, one axis), ascending: ``np.unique(values)``, by a
    sort. Since numpy 2.3, ``np.unique`` without ``return_*`` hashes integers instead, 25x
    slower than sorting for 100,000 of them on this machine (and as fast below a hundred).

    >>> distinct(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def token_hashes(tokens: Sequence[str]) -> npt.NDArray[np.uint64]:
    """The 64-bit xxh3 hash of each token's UTF-8 bytes."""
    intdigest = xxhash.xxh3_64_intdigest
    return np.fromiter(
        (intdigest(token.encode("utf-8", "surrogatepass")) for token in tokens),
        dtype=np.uint64,
        count=len(tokens),
    )


class TokenHasher(dict[str, int]):
    """``token_hashes`` with a cache: a corpus uses few distinct words many times, and a
    dict lookup is cheaper than hashing. ``SEPARATOR`` (between texts) hashes to 0.
    The cache is emptied when it holds ``limit`` tokens, so memory stays bounded.
    """

    def __init__(self, limit: int = 1 << 18) -> None:
        super().__init__({SEPARATOR: 0})
        self.limit = limit

    def __missing__(self, token: str) -> int:
        if len(self) >= self.limit:
            self.clear()
            self[SEPARATOR] = 0
        value = self[token] = xxhash.xxh3_64_intdigest(token.encode("utf-8", "surrogatepass"))
        return value

    def hashes(self, tokens: Sequence[str]) -> npt.NDArray[np.uint64]:
        return np.fromiter(map(self.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def token_hash_groups(
    normalized: Sequence[str], hasher: TokenHasher
) -> list[tuple[list[int], npt.NDArray[np.uint64]]]:
    """``hasher.hashes`` of each group of :func:`~dedup.normalize.token_groups`: the ASCII
    texts' and the Latin texts' hashed by the compiled kernels where they are built,
    without a ``str`` a token."""
    if speedups is None or any(SEPARATOR in text for text in normalized):
        return [(rows, hasher.hashes(tokens)) for rows, tokens in token_groups(normalized)]
    kernels = {ASCII: speedups.ascii_token_hashes, LATIN: speedups.latin_token_hashes}
    return [
        (
            rows,
            np.frombuffer(kernels[kind](text), np.uint64)
            if kind in kernels
            else hasher.hashes(group_tokens(kind, text)),
        )
        for kind, rows, text in text_groups(normalized)
    ]


def kgram_hashes(hashes: npt.NDArray[np.uint64], k: int) -> npt.NDArray[np.uint32]:
    """The hash of the k-gram starting at each position (``len(hashes) - k + 1`` of them)."""
    count = len(hashes) - k + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint32)
    combined = hashes[:count].copy()
    for offset in range(1, k):
        combined *= _MULT
        combined += hashes[offset : offset + count]
    combined *= _MULT
    return (combined >> _SHIFT).astype(np.uint32)


def shingle_rows(
    hashes: npt.NDArray[np.uint64],
    starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    k: int,
    wanted: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Shingle sets of many texts at once, as one array and offsets (row ``i`` is
    ``values[offsets[i]:offsets[i + 1]]``, sorted and distinct, as :func:`shingle_set`).

    Text ``i`` has ``counts[i]`` tokens at ``hashes[starts[i]:]``; texts not ``wanted``
    get no shingles.
    """
    rows = len(counts)
    grams = kgram_hashes(hashes, k)
    per_row = np.where(wanted, np.maximum(counts - k + 1, 0), 0)
    row_of = np.repeat(np.arange(rows, dtype=np.uint64), per_row)
    within = np.arange(int(per_row.sum())) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    position = np.repeat(starts, per_row) + within
    # Sorted and distinct: np.sort and a mask, several times faster here than np.unique
    # (the keys come nearly sorted, by row).
    keys = np.sort((row_of << _SHIFT) | grams[position].astype(np.uint64))
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
    values = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    offsets = np.searchsorted(keys >> _SHIFT, np.arange(rows + 1, dtype=np.uint64))
    return values, offsets.astype(np.int64)


def shingle_set(tokens: Sequence[str], k: int) -> ShingleSet:
    """The sorted, distinct hashes of the token k-grams of ``tokens``.

    Empty when there are fewer than ``k`` tokens.

    >>> shingle_set("a b c d".split(), 3).size
    2
    >>> repeated = shingle_set("a b c a b c".split(), 3)
    >>> bool((repeated == shingle_set("a b c a b c a".split(), 3)).all())
    True
    """
    return distinct(kgram_hashes(token_hashes(tokens), k))


def shingle_hash(shingle: Sequence[str]) -> int:
    """The hash :func:`shingle_set` gives the k-gram ``shingle``, computed one at a time.

    >>> shingle_hash(("a", "b", "c")) == int(shingle_set(["a", "b", "c"], 3)[0])
    True
    """
    value = 0
    mult = int(_MULT)
    for position, token in enumerate(shingle):
        if position:
            value = (value * mult) & _MASK64
        value = (value + xxhash.xxh3_64_intdigest(token.encode("utf-8", "surrogatepass"))) & _MASK64
    return ((value * mult) & _MASK64) >> 32


def shared(a: ShingleSet, b: ShingleSet) -> int:
    """How many shingles two sets share (Python sets beat numpy on a few dozen values)."""
    return len(set(a.tolist()).intersection(b.tolist()))


def shared_counts(
    known: ShingleSet,
    known_offsets: npt.NDArray[np.int64],
    asked: ShingleSet,
    asked_offsets: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """:func:`shared` for many pairs at once: pair ``i`` is the sorted sets
    ``known[known_offsets[i]:known_offsets[i + 1]]`` and the same of ``asked``."""
    if speedups is not None:  # one merge a pair
        return np.frombuffer(
            speedups.shared_counts(known, known_offsets, asked, asked_offsets), np.int64
        )
    # With the pair number in the high bits, all the sets are one sorted array, searched
    # at once.
    count = len(asked_offsets) - 1
    known_sizes, asked_sizes = np.diff(known_offsets), np.diff(asked_offsets)
    pair = np.arange(count, dtype=np.uint64)
    keys = (np.repeat(pair, known_sizes) << _SHIFT) | known
    wanted = (np.repeat(pair, asked_sizes) << _SHIFT) | asked
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = keys[at] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.bincount(np.repeat(np.arange(count), asked_sizes)[found], minlength=count)
