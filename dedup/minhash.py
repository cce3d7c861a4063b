"""MinHash signatures for a batch of shingle sets at once, equal to datasketch's.

The values equal ``datasketch.MinHash(num_perm, seed, scheme="affine32",
hashfunc=dedup.shingles.shingle_hash)`` updated with the same shingles: the input hash is
pre-mixed with the MurmurHash3 finalizer, then each permutation is ``a * h + b`` modulo
2**32. Here that is one broadcast multiply-add over a batch and ``np.minimum.reduceat``,
never a Python call per shingle per permutation.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dedup.native import speedups
from dedup.shingles import ShingleSet

Signature = npt.NDArray[np.uint32]
EMPTY = np.uint32(0xFFFFFFFF)

# Shingles per chunk: (num_perm x chunk) uint32 stays within the CPU cache.
_CHUNK = 4096


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[Signature, Signature]:
    """The ``(a, b)`` of datasketch's affine32 permutations for ``num_perm`` and ``seed``.

    Drawn exactly as ``datasketch.MinHash._init_permutations`` draws them, from numpy's
    legacy ``RandomState(seed)``: the same Mersenne Twister, seeded the same way, through
    the stdlib's ``random`` (importing ``numpy.random`` took some 15 ms of a short run;
    datasketch itself half a second). ``randint(0, 2**31, dtype=uint32)`` is one
    32-bit draw with its top bit masked off, ``randint(0, 2**32)`` one draw as it is.
    """
    if not 0 <= seed < 1 << 32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    draws = _mersenne_twister(seed)
    a = [(draws.getrandbits(32) & 0x7FFFFFFF) * 2 + 1 for _ in range(num_perm)]
    b = [draws.getrandbits(32) for _ in range(num_perm)]
    arrays = np.array(a, dtype=np.uint32), np.array(b, dtype=np.uint32)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _mersenne_twister(seed: int) -> random.Random:
    """MT19937 seeded as numpy's ``RandomState(seed)`` (``init_genrand``), not as
    ``random.seed`` seeds it (``init_by_array``)."""
    state = [seed]
    for i in range(1, 624):
        previous = state[-1]
        state.append((1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF)
    draws = random.Random()
    draws.setstate((3, (*state, 624), None))
    return draws


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
    if speedups is not None:  # one pass a row, all permutations at once
        sigs = speedups.minhash_rows(values, offsets, a, b)
        return np.frombuffer(sigs, np.uint32).reshape(rows, num_perm)
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
