"""Where kept paragraphs are remembered, behind one small interface (:class:`Index`):
:mod:`~dedup.index.base` holds the protocol and what every backend shares,
:mod:`~dedup.index.memory` the in-process index, :mod:`~dedup.index.disk` the index in a
folder on disk. :func:`open_index` opens the one a URL names.
"""

from __future__ import annotations

import os

from dedup.config import Config
from dedup.errors import ConfigError
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
    first_of,
    raw_counts,
    score,
)
from dedup.index.disk import DiskIndex
from dedup.index.memory import MemoryIndex, Postings


def open_index(
    url: str | os.PathLike[str] | None,
    config: Config,
    writable: bool = True,
    create: bool = True,
) -> Index:
    """The index ``url`` names: none (or ``""``) for a new one in memory, a path for the
    index in that folder on disk, a ``redis://`` or ``rediss://`` URL for an index shared
    through Redis (see :mod:`dedup.index.redis`). A persistent index is made on first use,
    unless not ``create``; not ``writable``, it must exist and is only read.

    >>> open_index(None, Config()).__class__.__name__
    'MemoryIndex'
    """
    if url is None or os.fspath(url) == "":
        return MemoryIndex(config)
    text = os.fspath(url)
    scheme, found, _ = text.partition("://")
    if found and scheme in ("redis", "rediss"):
        from dedup.index.redis import RedisIndex  # imports redis-py, an extra

        return RedisIndex(text, config, writable=writable, create=create)
    if found and scheme.isalnum():
        raise ConfigError(
            f"index {scheme}://...: no such kind of index (a path for an index on disk, "
            "redis:// or rediss:// for one shared through Redis)"
        )
    return DiskIndex(text, config, create=create, writable=writable)


__all__ = [
    "MAX_BUCKET",
    "MAX_CANDIDATES",
    "DiskIndex",
    "Entry",
    "Index",
    "Inner",
    "Matches",
    "MemoryIndex",
    "Postings",
    "Ref",
    "batch_pairs",
    "check_settings",
    "first_of",
    "open_index",
    "raw_counts",
    "score",
]
