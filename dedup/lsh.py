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


#: :func:`search`'s answers for the parameters every preset runs with (the index is tuned
#: to a Jaccard of 0.5 unless the threshold is lower: ``Config.lsh_threshold``), so that a
#: run does not search again: the search took 8 ms of a 190 ms run on the seed article. A
#: test holds each to the search and to datasketch.
KNOWN: dict[tuple[float, int], tuple[int, int]] = {(0.5, 128): (25, 5)}


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` minimizing false positives plus false negatives, equally weighted,
    as datasketch's ``MinHashLSH`` chooses them: :data:`KNOWN`, else :func:`search`.

    >>> lsh_params(0.8, 128), lsh_params(0.5, 128)
    ((9, 13), (25, 5))
    """
    return KNOWN.get((threshold, num_perm)) or search(threshold, num_perm)


@lru_cache(maxsize=32)
def search(threshold: float, num_perm: int) -> tuple[int, int]:
    """:func:`lsh_params`, worked out.

    The same search as ``datasketch.lsh._optimal_param``; the integrals of the collision
    probability are polynomials of degree at most ``num_perm``, which Gauss-Legendre
    quadrature with ``num_perm // 2 + 1`` nodes integrates exactly.
    """
    nodes, weights = _gauss_legendre(num_perm // 2 + 1)
    # Every (bands, rows) with bands * rows <= num_perm, in the order datasketch tries
    # them (bands, then rows, ascending): the first with the least error wins.
    tried = np.arange(1, num_perm + 1)
    counts = num_perm // tried
    bands = np.repeat(tried, counts)
    rows = np.arange(len(bands)) - np.repeat(np.cumsum(counts) - counts, counts) + 1

    def integrate(low: float, high: float, negative: bool) -> npt.NDArray[np.float64]:
        s = (high - low) / 2 * nodes[:, None] + (high + low) / 2
        # (1 - s**rows) ** bands, through exp and log: a third faster than powers
        missed = np.exp(bands * np.log1p(-np.exp(rows * np.log(s))))
        values = missed if negative else 1 - missed
        return (high - low) / 2 * (values * weights[:, None]).sum(axis=0)  # type: ignore[no-any-return]

    errors = 0.5 * integrate(0.0, threshold, False) + 0.5 * integrate(threshold, 1.0, True)
    best = int(np.argmin(errors))
    return int(bands[best]), int(rows[best])


def _gauss_legendre(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Nodes and weights of ``n``-point Gauss-Legendre quadrature on [-1, 1], as
    ``numpy.polynomial.legendre.leggauss`` gives them (importing ``numpy.polynomial`` took
    5 ms of a short run): the roots of the Legendre polynomial by Newton's method from
    their asymptotic places. Not as the eigenvalues of the Jacobi matrix: LAPACK started
    OpenBLAS's threads in each process that chose the parameters (each ``--jobs`` worker
    too), and they spin for ~0.1 s of CPU after a call."""
    nodes = -np.cos(np.pi * (np.arange(1, n + 1) - 0.25) / (n + 0.5))  # ascending

    def legendre(x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
        """P_n(x) and its derivative, by the three-term recurrence."""
        before, value = np.ones_like(x), x
        for j in range(2, n + 1):
            before, value = value, ((2 * j - 1) * x * value - (j - 1) * before) / j
        return value, n * (x * value - before) / (x * x - 1)

    for _ in range(100):  # quadratic convergence: a handful of steps
        value, slope = legendre(nodes)
        step = value / slope
        nodes = nodes - step
        if np.abs(step).max() < 1e-15:
            break
    _, slope = legendre(nodes)
    return nodes, 2 / ((1 - nodes * nodes) * slope * slope)


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
