"""The batch MinHash path gives exactly datasketch's values, independent of hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.minhash import EMPTY, permutations, signatures
from dedup.shingles import shingle_hash, shingle_set
from tests.test_cases import CASES

WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1)


@pytest.mark.parametrize(
    ("num_perm", "seed"), [(128, 1), (64, 42), (256, 0), (9, 7), (3, 2**32 - 1), (1000, 123456789)]
)
def test_permutations_equal_datasketch(num_perm: int, seed: int) -> None:
    a, b = permutations(num_perm, seed)
    reference = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert np.array_equal(a, reference[0])
    assert np.array_equal(b, reference[1])


@settings(max_examples=60, deadline=None)
@given(
    paragraphs=st.lists(st.lists(WORDS, min_size=0, max_size=40), min_size=1, max_size=12),
    k=st.integers(1, 4),
    num_perm=st.sampled_from([16, 128]),
    seed=st.integers(0, 2**16),
)
def test_signatures_equal_datasketch_update(
    paragraphs: list[list[str]], k: int, num_perm: int, seed: int
) -> None:
    sets = [shingle_set(tokens, k) for tokens in paragraphs]
    got = signatures(sets, num_perm, seed)
    for tokens, row in zip(paragraphs, got, strict=True):
        reference = MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=shingle_hash)
        shingles = [tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]
        if shingles:
            reference.update_batch(shingles)
            assert np.array_equal(row, reference.hashvalues)
        else:
            assert (row == EMPTY).all()


def test_shingle_hash_matches_batch_hash() -> None:
    tokens = ["über", "东", "京", "naïve", "co-op", "12,5", "€"]
    batch = set(shingle_set(tokens, 3).tolist())
    single = {shingle_hash(tuple(tokens[i : i + 3])) for i in range(len(tokens) - 2)}
    assert batch == single


def test_large_batch_spans_several_chunks() -> None:
    rng = np.random.default_rng(3)
    sets = [np.unique(rng.integers(0, 2**32, 700, dtype=np.uint32)) for _ in range(20)]
    whole = signatures(sets, 128, 1)
    one_by_one = np.vstack([signatures([s], 128, 1) for s in sets])
    assert np.array_equal(whole, one_by_one)


def test_results_do_not_depend_on_pythonhashseed() -> None:
    code = (
        "import dedup, json, pathlib\n"
        f"for path in sorted(pathlib.Path({str(CASES)!r}).glob('*.json')):\n"
        "    for case in json.loads(path.read_text(encoding='utf-8')):\n"
        "        print(json.dumps(dedup.clean(case['original']).to_dict(), sort_keys=True))\n"
    )
    outputs = set()
    for hashseed in ("0", "1", "12345"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hashseed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
