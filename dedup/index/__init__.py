"""Where kept paragraphs are remembered, behind one small interface (:class:`Index`):
:mod:`~dedup.index.base` holds the protocol and what every backend shares,
:mod:`~dedup.index.memory` the in-process index.
"""

from __future__ import annotations

from dedup.index.base import (
    MAX_BUCKET,
    MAX_CANDIDATES,
    Entry,
    Index,
    Inner,
    Matches,
    Ref,
    batch_pairs,
    check_settings,
    raw_counts,
    score,
)
from dedup.index.memory import MemoryIndex, Postings

__all__ = [
    "MAX_BUCKET",
    "MAX_CANDIDATES",
    "Entry",
    "Index",
    "Inner",
    "Matches",
    "MemoryIndex",
    "Postings",
    "Ref",
    "batch_pairs",
    "check_settings",
    "raw_counts",
    "score",
]
