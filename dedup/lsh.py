"""LSH banding as datasketch's ``MinHashLSH`` does it, over numpy arrays.

The parameters (bands, rows) are the ones ``MinHashLSH(threshold, num_perm)`` chooses, and
two signatures share a band key exactly when they share that band's values, so an index
keyed by these bands finds the same candidates as ``MinHashLSH`` (up to the bucket caps
the index applies), without importing datasketch and scipy at start-up.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

_MULT = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` minimizing false positives plus false negatives, equally weighted.

    The same search as ``datasketch.lsh._optimal_param``; the integrals of the collision
    probability are polynomials of degree at most ``num_perm``, which Gauss-Legendre
    quadrature with ``num_perm // 2 + 1`` nodes integrates exactly.

    >>> lsh_params(0.8, 128), lsh_params(0.5, 128)
    ((9, 13), (25, 5))
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def integrate(f: object, low: float, high: float) -> npt.NDArray[np.float64]:
        s = (high - low) / 2 * nodes + (high + low) / 2
        return (high - low) / 2 * (f(s[:, None]) * weights[:, None]).sum(axis=0)  # type: ignore[operator, no-any-return]

    best, error = (0, 0), float("inf")
    for bands in range(1, num_perm + 1):
        rows = np.arange(1, num_perm // bands + 1, dtype=np.float64)

        def false_positive(s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return 1 - (1 - s**rows) ** bands  # noqa: B023

        def false_negative(s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return (1 - s**rows) ** bands  # noqa: B023

        errors = 0.5 * integrate(false_positive, 0.0, threshold) + 0.5 * integrate(
            false_negative, threshold, 1.0
        )
        for r, candidate in enumerate(errors.tolist(), start=1):
            if candidate < error:
                best, error = (bands, r), candidate
    return best


def band_keys(signatures: npt.NDArray[np.uint32], bands: int, rows: int) -> npt.NDArray[np.uint64]:
    """A 64-bit key for each band of each signature: ``(len(signatures), bands)``.

    The band's position is part of its key, so one dict can hold every band's buckets.
    """
    values = signatures[:, : bands * rows].reshape(len(signatures), bands, rows).astype(np.uint64)
    keys = np.tile(np.arange(1, bands + 1, dtype=np.uint64), (len(signatures), 1))
    for row in range(rows):
        keys *= _MULT
        keys += values[:, :, row] + np.uint64(1)
    return keys
