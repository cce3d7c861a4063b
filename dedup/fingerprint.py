"""A paragraph's fingerprint: what the index stores and verification compares."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import xxhash

from dedup.config import Config
from dedup.lazy import lazy_regex
from dedup.lsh import band_keys, lsh_params
from dedup.minhash import signature_rows
from dedup.native import speedups
from dedup.normalize import normalize_batch, tokenize, word_count
from dedup.paragraphs import Wrapping, wrapped_lines
from dedup.shingles import ShingleSet, TokenHasher, shingle_rows, shingle_set, token_hash_groups

_MULT = np.uint64(0x9E3779B97F4A7C15)

# A paragraph that ends in an ellipsis (after normalization "…" is "..."), maybe bracketed.
_TRUNCATED = lazy_regex(r"(?:\.\.\.|\[\.\.\.\]|\(\.\.\.\))\W*$")


class Fingerprint(NamedTuple):
    """What verification compares: the normalized text and its tokens, its shingles and
    whether it ends in an ellipsis (its code form is worked out if a rule needs it). A
    named tuple, not a frozen dataclass: two are made for a verified pair, and a frozen
    dataclass sets each field through ``object.__setattr__`` (2.4 µs more a fingerprint).

    A paragraph with fewer than ``min_tokens`` tokens is *short*: it has no shingles (see
    :mod:`dedup.verify` for how short paragraphs compare).
    """

    normalized: str
    tokens: tuple[str, ...]
    shingles: ShingleSet
    truncated: bool = False
    #: Tokens counted as words: two characters of an unspaced script make about one.
    words: float = 0.0
    #: The paragraph as written ('' when not known: a kept one read from an index), for
    #: what normalizing folds away, such as capitals (:func:`dedup.shapes.titled`).
    raw: str = ""
    #: For a line of a sentence wrapped over lines, the other lines of that sentence as
    #: written, one a line (:func:`~dedup.paragraphs.wrapped_lines`); else ''.
    wrapped: str = ""

    @property
    def short(self) -> bool:
        return not self.shingles.size

    @property
    def empty(self) -> bool:
        """No word at all (a rule like ``* * *``): never compared, never removed."""
        return not self.tokens


def fingerprint(
    normalized: str,
    config: Config,
    shingles: ShingleSet | None = None,
    raw: str = "",
    wrapped: str = "",
) -> Fingerprint:
    """The fingerprint of one normalized paragraph (``shingles`` when already known; ``raw``
    the paragraph as written, when known; ``wrapped`` as :class:`Fingerprint` has it)."""
    tokens = tuple(tokenize(normalized))
    if shingles is None:
        shingles = (
            shingle_set(tokens, config.shingle_size)
            if len(tokens) >= config.min_tokens
            else np.empty(0, dtype=np.uint32)
        )
    return Fingerprint(
        normalized=normalized,
        tokens=tokens,
        shingles=shingles,
        truncated="..." in normalized and _TRUNCATED.search(normalized) is not None,
        words=len(tokens) if normalized.isascii() else word_count(tokens),
        raw=raw,
        wrapped=wrapped,
    )


def _mix(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    return (a * _MULT + b) * _MULT


_HEAD = np.uint64(0x2545F4914F6CDD1D)
_TAIL = np.uint64(0x6A09E667F3BCC909)


class Sketches(NamedTuple):
    """What :func:`dedup.verify.far_pairs` compares of a list of paragraphs: the shingles
    of paragraph ``i`` are ``shingles[offsets[i]:offsets[i + 1]]`` (sorted; none when
    short), its token Bloom filter ``blooms[i]`` and its distinct tokens ``distinct[i]``."""

    shingles: ShingleSet
    offsets: npt.NDArray[np.int64]
    blooms: npt.NDArray[np.uint64]
    distinct: npt.NDArray[np.uint8]


def gather(
    values: npt.NDArray[Any], offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """The slices ``values[offsets[r]:offsets[r + 1]]`` of ``rows``, one after another,
    and where each starts (with the end last)."""
    if speedups is not None and values.flags.c_contiguous:  # compiled: a copy a slice
        found, starts = speedups.gather(
            values,
            np.ascontiguousarray(offsets, dtype=np.int64),
            np.ascontiguousarray(rows, dtype=np.int64),
        )
        return np.frombuffer(found, values.dtype), np.frombuffer(starts, np.int64)
    starts, ends = offsets[rows], offsets[rows + 1]
    sizes = ends - starts
    out = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out[1:])
    positions = np.arange(int(out[-1])) + np.repeat(starts - out[:-1], sizes)
    return values[positions], out


def stable_order(keys: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """``np.argsort(keys, kind="stable")``. Keys of 32 bits or fewer are sorted with their
    positions below them in one 64-bit value, which numpy's SIMD sort takes about three
    times faster than a stable argsort (the positions break ties as stability does).

    >>> stable_order(np.array([3, 1, 3, 1], dtype=np.uint32)).tolist()
    [1, 3, 0, 2]
    """
    if keys.dtype.kind == "u" and keys.dtype.itemsize <= 4 and len(keys) < 1 << 32:
        packed = (keys.astype(np.uint64) << np.uint64(32)) | np.arange(len(keys), dtype=np.uint64)
        packed.sort()
        return (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return np.argsort(keys, kind="stable")


def token_sketches(
    hashes: npt.NDArray[np.uint64],
    starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    few: int,
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint8]]:
    """Each text's 128-bit Bloom filter of its tokens (one bit a token, from its hash) and,
    for texts of fewer than ``few`` tokens, its number of distinct tokens (255, "unknown",
    for the others). Text ``i`` has ``counts[i]`` tokens at ``hashes[starts[i]:]``."""
    rows = len(counts)
    firsts = np.cumsum(counts) - counts  # where each text's tokens start in ``values``
    values = hashes[np.arange(int(counts.sum())) + np.repeat(starts - firsts, counts)]
    bits = values & np.uint64(127)
    ones = np.uint64(1) << (bits & np.uint64(63))
    high = bits >= 64
    blooms = np.zeros((rows, 2), dtype=np.uint64)
    filled = counts > 0
    if filled.any():
        at = firsts[filled]
        blooms[filled, 0] = np.bitwise_or.reduceat(np.where(high, np.uint64(0), ones), at)
        blooms[filled, 1] = np.bitwise_or.reduceat(np.where(high, ones, np.uint64(0)), at)
    distinct = np.full(rows, 255, dtype=np.uint8)
    row_of = np.repeat(np.arange(rows), counts)
    short = (counts < few)[row_of]
    values, row_of = values[short], row_of[short]
    order = np.lexsort((values, row_of))
    values, row_of = values[order], row_of[order]
    new = np.ones(len(values), dtype=bool)
    new[1:] = (values[1:] != values[:-1]) | (row_of[1:] != row_of[:-1])
    distinct[counts < few] = np.bincount(row_of[new], minlength=rows)[counts < few]
    return blooms, distinct


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """The index keys of many paragraphs, as arrays: what finding candidates needs.

    Row ``i`` has its normalized text ``normalized[i]``, a 64-bit ``digests[i]`` of it,
    ``tokens[i]`` tokens, the shingles ``shingles[offsets[i]:offsets[i + 1]]`` (none when
    short), the LSH band keys ``bands[i]`` (meaningless when short) and ``edges[i]``, the
    hashes of its first and last two tokens (0 below three tokens): a copy with one word
    added or dropped inside, a tag in front or a cut at the end mostly keeps one of them,
    and a paragraph too short for shingles is found by them.
    """

    normalized: list[str]
    #: The normalized texts in UTF-8, one after another: row ``i`` is
    #: ``utf8[utf8_offsets[i]:utf8_offsets[i + 1]]``.
    utf8: bytes
    utf8_offsets: npt.NDArray[np.int64]
    digests: npt.NDArray[np.uint64]
    tokens: npt.NDArray[np.int64]
    shingles: ShingleSet
    offsets: npt.NDArray[np.int64]
    bands: npt.NDArray[np.uint32]
    edges: npt.NDArray[np.uint64]
    #: A 128-bit Bloom filter of each row's tokens, how many distinct tokens a short row
    #: has (255 for a long one) and whether it ends in an ellipsis: enough to tell most
    #: pairs with a short paragraph apart without their tokens (:func:`~dedup.verify.far_pairs`).
    blooms: npt.NDArray[np.uint64]
    distinct: npt.NDArray[np.uint8]
    truncated: npt.NDArray[np.bool_]
    #: For each family of :func:`batch_keys`, the order that sorts its keys (stably):
    #: sorted here, in the worker process, not where the batch is decided.
    key_orders: tuple[npt.NDArray[np.int32], ...]
    #: The paragraphs as written (empty where not carried: from a worker process, which
    #: does not send them back; the process that sent them adds them).
    texts: Sequence[str] = ()
    #: What :attr:`Fingerprint.wrapped` has, by row (empty where not known: the lines
    #: around the batch were not given, :func:`fingerprint_batch`).
    wrapped: Sequence[str] = ()

    def __len__(self) -> int:
        return len(self.normalized)

    def seen(self, row: int) -> tuple[str, str, str]:
        """What a verdict on ``row`` depends on: its normalized text, the text as written
        ('' when not carried) and the lines it is wrapped with."""
        raw = self.texts[row] if self.texts else ""
        return self.normalized[row], raw, self.wrapped[row] if self.wrapped else ""

    def sketches(self, rows: npt.NDArray[np.int64]) -> Sketches:
        """The :class:`Sketches` of ``rows`` (a row may come more than once)."""
        shingles, offsets = gather(self.shingles, self.offsets, rows)
        return Sketches(shingles, offsets, self.blooms[rows], self.distinct[rows])

    def fingerprint(self, row: int, config: Config, as_written: bool = True) -> Fingerprint:
        """Row ``row``'s fingerprint; not ``as_written``: as the index has it once kept
        (its normalized text and shingles only)."""
        shingles = self.shingles[self.offsets[row] : self.offsets[row + 1]]
        normalized, raw, wrapped = self.seen(row)
        if not as_written:
            return fingerprint(normalized, config, shingles)
        return fingerprint(normalized, config, shingles, raw, wrapped)


class Keys(NamedTuple):
    """The keys a batch's rows post, flat, with the row each belongs to."""

    bands: tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]
    shingles: tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]
    edges: tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]


def batch_keys(batch: Batch, config: Config) -> Keys:
    """The band, shingle and edge keys of every row (none for the bands of short rows), in
    row order: ``batch.key_orders`` sorts each family's keys (stably)."""
    return _batch_keys(batch, config.min_tokens)


# Deciding a batch asks for its keys three times (to look them up, to pair its rows, to
# insert the kept ones): about 0.3 s of 1M lines' deciding process. A batch is hashed by
# identity (``eq=False``) and never changed.
@functools.lru_cache(maxsize=2)
def _batch_keys(batch: Batch, min_tokens: int) -> Keys:
    return _keys(batch.tokens, batch.shingles, batch.offsets, batch.bands, batch.edges, min_tokens)


def _keys(
    tokens: npt.NDArray[np.int64],
    shingles: ShingleSet,
    offsets: npt.NDArray[np.int64],
    bands: npt.NDArray[np.uint32],
    edges: npt.NDArray[np.uint64],
    min_tokens: int,
) -> Keys:
    rows = np.arange(len(tokens))
    long = tokens >= min_tokens
    edged = tokens >= 3
    return Keys(
        bands=(np.repeat(rows[long], bands.shape[1]), bands[long].ravel()),
        shingles=(np.repeat(rows, np.diff(offsets)), shingles),
        edges=(
            np.repeat(rows[edged], 2),
            (edges[edged].ravel() >> np.uint64(32)).astype(np.uint32),
        ),
    )


class Shingled(NamedTuple):
    """Texts normalized, their token hashes (``flat``, texts ``starts[i]:ends[i]``) and
    shingle sets: what :func:`sign_batch` signs, and all that verifying a pair needs of
    its paragraphs' texts but their sketches (:func:`token_sketches`)."""

    normalized: list[str]
    flat: npt.NDArray[np.uint64]
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    shingles: ShingleSet
    offsets: npt.NDArray[np.int64]


class _Signed(NamedTuple):
    """:class:`Shingled` texts with their MinHash signatures."""

    shingled: Shingled
    signatures: npt.NDArray[np.uint32]


def shingle_batch(
    texts: Sequence[str], config: Config, hasher: TokenHasher | None = None
) -> Shingled:
    """Normalize, tokenize and shingle many texts with one call per step."""
    hasher = hasher if hasher is not None else TokenHasher()
    normalized = normalize_batch(texts)
    # Each group's token hashes, one after another; a row's tokens are together, from
    # ``starts[row]`` (between rows, the separator hashes to 0).
    parts = []
    starts = np.zeros(len(normalized), dtype=np.int64)
    ends = np.zeros(len(normalized), dtype=np.int64)
    at = 0
    for rows, hashes in token_hash_groups(normalized, hasher):
        separators = np.flatnonzero(hashes == 0)
        starts[rows] = at + np.concatenate(([0], separators + 1))
        ends[rows] = at + np.append(separators, len(hashes))
        parts.append(hashes)
        at += len(hashes)
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    counts = ends - starts
    values, offsets = shingle_rows(
        flat, starts, counts, config.shingle_size, counts >= config.min_tokens
    )
    return Shingled(normalized, flat, starts, ends, values, offsets)


def sign_batch(texts: Sequence[str], config: Config, hasher: TokenHasher | None = None) -> _Signed:
    """Normalize, tokenize, shingle and sign many texts with one call per step: the
    signatures of :func:`fingerprint_batch` (what ``benchmarks/speed.py`` times against
    datasketch's loop, which does the same work)."""
    shingled = shingle_batch(texts, config, hasher)
    sigs = signature_rows(shingled.shingles, shingled.offsets, config.num_perm, config.seed)
    return _Signed(shingled, sigs)


def truncated_rows(normalized: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Which normalized texts end cut off with an ellipsis
    (:attr:`Fingerprint.truncated`)."""
    return np.fromiter(
        ("..." in n and _TRUNCATED.search(n) is not None for n in normalized),
        dtype=bool,
        count=len(normalized),
    )


def fingerprint_batch(
    texts: Sequence[str],
    config: Config,
    hasher: TokenHasher | None = None,
    wrapping: Wrapping | None = None,
) -> Batch:
    """The :class:`Batch` of many paragraphs, computed with one call per step, not one
    per paragraph (``hasher`` caches token hashes from one batch to the next); given the
    lines around them (``wrapping``), the lines of sentences wrapped over lines too."""
    (normalized, flat, starts, ends, values, offsets), sigs = sign_batch(texts, config, hasher)
    counts = ends - starts
    bands = band_keys(sigs, *lsh_params(config.lsh_threshold, config.num_perm))
    has_edges = counts >= 3
    first = np.where(has_edges, starts, 0)
    last = np.where(has_edges, ends - 1, 0)
    padded = np.append(flat, np.zeros(2, dtype=np.uint64))  # rows below three tokens
    head = _mix(_mix(np.full(len(counts), _HEAD), padded[first]), padded[first + 1])
    tail = _mix(_mix(np.full(len(counts), _TAIL), padded[last]), padded[last - 1])
    edges = np.where(has_edges[:, None], np.stack((head, tail), axis=1), np.uint64(0))
    blooms, distinct = token_sketches(flat, starts, counts, min(config.min_tokens, 255))
    # The key's last step adds a band value: multiply once more so that its top half,
    # which the index keeps, depends on all of it.
    band_keys32 = ((bands * _MULT) >> np.uint64(32)).astype(np.uint32)
    keys = _keys(counts, values, offsets, band_keys32, edges, config.min_tokens)
    encoded = [n.encode("utf-8", "surrogatepass") for n in normalized]
    utf8_offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=utf8_offsets[1:])
    return Batch(
        texts=texts,
        normalized=normalized,
        utf8=b"".join(encoded),
        utf8_offsets=utf8_offsets,
        digests=np.fromiter(map(xxhash.xxh3_64_intdigest, encoded), np.uint64, len(encoded)),
        tokens=counts,
        shingles=values,
        offsets=offsets,
        bands=band_keys32,
        edges=edges,
        blooms=blooms,
        distinct=distinct,
        key_orders=tuple(stable_order(v).astype(np.int32) for _, v in keys),
        truncated=truncated_rows(normalized),
        wrapped=wrapped_lines(texts, wrapping) if wrapping is not None else (),
    )
