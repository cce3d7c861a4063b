"""A paragraph's fingerprint: what the index stores and verification compares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import regex
import xxhash

from dedup.config import Config
from dedup.lsh import band_keys, lsh_params
from dedup.minhash import signatures
from dedup.normalize import normalize, tokenize
from dedup.shingles import ShingleSet, shingle_set

# A paragraph that ends in an ellipsis (after normalization "…" is "..."), maybe bracketed.
_TRUNCATED = regex.compile(r"(?:\.\.\.|\[\.\.\.\]|\(\.\.\.\))\W*$")
# Code, where symbols carry meaning: braces, brackets, operators, calls, prompts.
_CODE = regex.compile(r"[{}\[\];=<>|\\^~]|\w\(|^(?:\$|>>>|#!) ")
_ELLIPSIS = regex.compile(r"\[\.\.\.\]")
_LIST_MARKER = regex.compile(r"^(?:[-*•·>]+|\d+[.)])\s+")


def edges(tokens: tuple[str, ...]) -> tuple[int, ...]:
    """Hashes of the first two and the last two tokens, which a copy with one word added or
    dropped inside, a tag in front or a cut at the end mostly keeps; a short paragraph is
    found by them. Empty below three tokens.
    """
    if len(tokens) < 3:
        return ()
    head = xxhash.xxh3_64_intdigest("\x00".join(("^", *tokens[:2])).encode())
    tail = xxhash.xxh3_64_intdigest("\x00".join((*tokens[-2:], "$")).encode())
    return head, tail


def code_form(normalized: str) -> str | None:
    """A code-looking paragraph without list marker, whitespace and final period; else None.

    Tokens ignore punctuation, so ``[x, x**2]`` and ``[(x, x**2)]`` have the same ones: in
    code the symbols are the meaning, and two code lines repeat only when these forms match.

    >>> code_form("- { a: 1 }."), code_form("plain words, no code")
    ('{a:1}', None)
    """
    if not _CODE.search(_ELLIPSIS.sub("", normalized)):
        return None
    return "".join(_LIST_MARKER.sub("", normalized).split()).rstrip(".")


@dataclass(frozen=True, slots=True, eq=False)
class Fingerprint:
    """Normalized tokens, a digest of the normalized text, shingles, the LSH band keys of
    its MinHash signature, whether it ends in an ellipsis, and its code form (if it is code).
    The signature itself is not kept: the index needs only its bands.

    A paragraph with fewer than ``min_tokens`` tokens is *short*: it has no shingles and no
    bands (see :mod:`dedup.verify` for how short paragraphs compare).
    """

    digest: int
    tokens: tuple[str, ...]
    shingles: ShingleSet
    bands: tuple[int, ...] | None = None
    edges: tuple[int, ...] = ()
    truncated: bool = False
    code: str | None = None

    @property
    def short(self) -> bool:
        return self.bands is None

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
    keys = band_keys(sigs, *lsh_params(config.lsh_threshold, config.num_perm)).tolist()
    return [
        Fingerprint(
            digest=xxhash.xxh3_128_intdigest(norm.encode("utf-8", "surrogatepass")),
            tokens=toks,
            shingles=shingles,
            bands=tuple(bands) if shingles.size else None,
            edges=edges(toks),
            truncated=_TRUNCATED.search(norm) is not None,
            code=code_form(norm),
        )
        for norm, toks, shingles, bands in zip(normalized, tokens, sets, keys, strict=True)
    ]
