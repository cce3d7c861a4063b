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

# Shingles per chunk: (chunk x num_perm) uint32 stays within the CPU cache.
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
    a, b = permutations(num_perm, seed)
    out = np.full((len(sets), num_perm), EMPTY, dtype=np.uint32)
    rows = [i for i, s in enumerate(sets) if s.size]
    start = 0
    while start < len(rows):
        stop, total = start, 0
        while stop < len(rows) and (stop == start or total + sets[rows[stop]].size <= _CHUNK):
            total += sets[rows[stop]].size
            stop += 1
        chunk = rows[start:stop]
        hashed = _fmix32(np.concatenate([sets[i] for i in chunk]))
        permuted = hashed[:, None] * a[None, :] + b[None, :]
        offsets = np.cumsum([0] + [sets[i].size for i in chunk[:-1]])
        out[chunk] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return out
