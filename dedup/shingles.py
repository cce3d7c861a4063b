"""Shingles: overlapping token k-grams, hashed to stable 32-bit values.

Every token is hashed once with xxh3 (stable across machines and ``PYTHONHASHSEED``);
a k-gram's hash combines its tokens' hashes in numpy. :func:`shingle_hash` computes the
same value for one shingle in plain Python, for use as ``datasketch.MinHash(hashfunc=...)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import xxhash

_MULT = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1
_SHIFT = np.uint64(32)

ShingleSet = npt.NDArray[np.uint32]


def token_hashes(tokens: Sequence[str]) -> npt.NDArray[np.uint64]:
    """The 64-bit xxh3 hash of each token's UTF-8 bytes."""
    intdigest = xxhash.xxh3_64_intdigest
    return np.fromiter(
        (intdigest(token.encode("utf-8", "surrogatepass")) for token in tokens),
        dtype=np.uint64,
        count=len(tokens),
    )


def shingle_set(tokens: Sequence[str], k: int) -> ShingleSet:
    """The sorted, distinct hashes of the token k-grams of ``tokens``.

    Empty when there are fewer than ``k`` tokens.

    >>> shingle_set("a b c d".split(), 3).size
    2
    >>> repeated = shingle_set("a b c a b c".split(), 3)
    >>> bool((repeated == shingle_set("a b c a b c a".split(), 3)).all())
    True
    """
    count = len(tokens) - k + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint32)
    hashes = token_hashes(tokens)
    combined = hashes[:count].copy()
    for offset in range(1, k):
        combined *= _MULT
        combined += hashes[offset : offset + count]
    combined *= _MULT
    return np.unique((combined >> _SHIFT).astype(np.uint32))


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


def jaccard(a: ShingleSet, b: ShingleSet) -> float:
    """Jaccard similarity of two shingle sets (0 when both are empty)."""
    if not a.size or not b.size:
        return 0.0
    shared = np.intersect1d(a, b, assume_unique=True).size
    return shared / (a.size + b.size - shared)


def containment(part: ShingleSet, whole: ShingleSet) -> float:
    """Share of ``part``'s shingles found in ``whole`` (0 when ``part`` is empty)."""
    if not part.size:
        return 0.0
    return np.intersect1d(part, whole, assume_unique=True).size / part.size
