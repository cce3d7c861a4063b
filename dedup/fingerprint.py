"""A paragraph's fingerprint: what the index stores and verification compares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from dedup.config import Config
from dedup.minhash import Signature, signatures
from dedup.normalize import normalize, tokenize
from dedup.shingles import ShingleSet, shingle_set


@dataclass(frozen=True, slots=True, eq=False)
class Fingerprint:
    """Normalized tokens, a digest of the normalized text, shingles and MinHash signature.

    A paragraph with fewer than ``min_tokens`` tokens is *short*: it has no shingles and no
    signature, and only its digest (exact equality after normalization) is compared.
    """

    digest: int
    tokens: tuple[str, ...]
    shingles: ShingleSet
    signature: Signature | None

    @property
    def short(self) -> bool:
        return self.signature is None

    @property
    def empty(self) -> bool:
        """No word at all (a rule like ``* * *``): never compared, never removed."""
        return not self.tokens


def fingerprint_batch(texts: Sequence[str], config: Config) -> list[Fingerprint]:
    """Fingerprint many paragraphs at once (signatures are computed as one batch)."""
    normalized = [normalize(text) for text in texts]
    tokens = [tuple(tokenize(text)) for text in normalized]
    sets = [
        shingle_set(toks, config.shingle_size)
        if len(toks) >= config.min_tokens
        else np.empty(0, dtype=np.uint32)
        for toks in tokens
    ]
    sigs = signatures(sets, config.num_perm, config.seed)
    return [
        Fingerprint(
            digest=xxhash.xxh3_128_intdigest(norm.encode("utf-8", "surrogatepass")),
            tokens=toks,
            shingles=shingles,
            signature=sig if shingles.size else None,
        )
        for norm, toks, shingles, sig in zip(normalized, tokens, sets, sigs, strict=True)
    ]
