"""The banding finds what datasketch's MinHashLSH finds, with its parameters."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from dedup.lsh import KNOWN, _gauss_legendre, band_keys, lsh_params, search


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
@pytest.mark.parametrize("threshold", [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
def test_parameters_equal_datasketch(threshold: float, num_perm: int) -> None:
    assert search(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)
    assert lsh_params(threshold, num_perm) == search(threshold, num_perm)


@pytest.mark.parametrize("known", sorted(KNOWN))
def test_known_parameters_are_the_searched_ones(known: tuple[float, int]) -> None:
    assert KNOWN[known] == search(*known) == _optimal_param(*known, 0.5, 0.5)


@pytest.mark.parametrize("n", [2, 3, 9, 65, 129])
def test_quadrature_equals_numpy(n: int) -> None:
    nodes, weights = _gauss_legendre(n)
    expected_nodes, expected_weights = np.polynomial.legendre.leggauss(n)
    assert np.allclose(nodes, expected_nodes, rtol=0, atol=1e-14)
    assert np.allclose(weights, expected_weights, rtol=0, atol=1e-14)


def test_same_candidates_as_minhashlsh() -> None:
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**32, (60, 128), dtype=np.uint32)
    # Near copies: each a base signature with some values changed.
    copies = base[rng.integers(0, 60, 300)].copy()
    mask = rng.random(copies.shape) < rng.random((300, 1))
    copies[mask] = rng.integers(0, 2**32, int(mask.sum()), dtype=np.uint32)
    signatures = np.vstack([base, copies])

    bands, rows = lsh_params(0.5, 128)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    ours: dict[int, set[int]] = {}
    keys = band_keys(signatures, bands, rows)
    for i, sig in enumerate(signatures):
        lsh.insert(i, MinHash(128, hashvalues=sig, scheme="affine32"), check_duplication=False)
        for key in keys[i].tolist():
            ours.setdefault(key, set()).add(i)
    for i, sig in enumerate(signatures):
        expected = set(lsh.query(MinHash(128, hashvalues=sig, scheme="affine32")))
        found = set().union(*(ours[key] for key in keys[i].tolist()))
        assert found == expected
