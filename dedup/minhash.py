"""MinHash signatures for a batch of shingle sets at once, equal to datasketch's.

The values equal ``datasketch.MinHash(num_perm, seed, scheme="affine32",
hashfunc=dedup.shingles.shingle_hash)`` updated with the same shingles: the input hash is
pre-mixed with the MurmurHash3 finalizer, then each permutation is ``a * h + b`` modulo
2**32. Here that is one broadcast multiply-add over a batch and ``np.minimum.reduceat``,
never a Python call per shingle per permutation.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dedup.shingles import ShingleSet

Signature = npt.NDArray[np.uint32]
EMPTY = np.uint32(0xFFFFFFFF)

# Shingles per chunk: (num_perm x chunk) uint32 stays within the CPU cache.
_CHUNK = 4096


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[Signature, Signature]:
    """The ``(a, b)`` of datasketch's affine32 permutations for ``num_perm`` and ``seed``.

    Drawn exactly as ``datasketch.MinHash._init_permutations`` draws them, without
    importing datasketch (which costs half a second of start-up).
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b


def _fmix32(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signatures(sets: Sequence[ShingleSet], num_perm: int, seed: int) -> npt.NDArray[np.uint32]:
    """A ``(len(sets), num_perm)`` array of MinHash values; an empty set gets all ``EMPTY``."""
    sizes = np.array([s.size for s in sets], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    values = np.concatenate(sets) if len(sets) else np.empty(0, dtype=np.uint32)
    return signature_rows(values.astype(np.uint32), offsets, num_perm, seed)


def signature_rows(
    values: ShingleSet, offsets: npt.NDArray[np.int64], num_perm: int, seed: int
) -> npt.NDArray[np.uint32]:
    """:func:`signatures` of sets given as one array and offsets (row ``i`` is
    ``values[offsets[i]:offsets[i + 1]]``)."""
    a, b = permutations(num_perm, seed)
    rows = len(offsets) - 1
    out = np.full((rows, num_perm), EMPTY, dtype=np.uint32)
    filled = np.flatnonzero(offsets[1:] > offsets[:-1])
    hashed = _fmix32(values)
    start = 0
    while start < len(filled):
        # Whole rows up to about _CHUNK shingles: (num_perm x chunk) stays in the cache.
        base = offsets[filled[start]]
        stop = int(np.searchsorted(offsets[filled + 1], base + _CHUNK, side="right"))
        stop = max(stop, start + 1)
        chunk = filled[start:stop]
        end = offsets[chunk[-1] + 1]
        # Permutations down, shingles across: each row's shingles are a contiguous run
        # of every line that reduceat takes the minimum of.
        permuted = a[:, None] * hashed[None, base:end] + b[:, None]
        out[chunk] = np.minimum.reduceat(permuted, offsets[chunk] - base, axis=1).T
        start = stop
    return out
