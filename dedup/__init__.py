"""Find and remove repeated paragraphs in scraped text, losslessly, saying why.

>>> import dedup
>>> result = dedup.clean("Read also: our top stories of the week, every week.\\n"
...                      "The story.\\n"
...                      "READ ALSO: our top stories of the week, every week.")
>>> result.text
'Read also: our top stories of the week, every week.\\nThe story.'
>>> dedup.restore(result.text, result.removed) == result.original
True
"""

from __future__ import annotations

from dedup.config import Config
from dedup.deduplicator import Deduplicator, clean
from dedup.errors import (
    ConfigError,
    DedupError,
    IndexAccessError,
    IndexMismatchError,
    InputError,
    ReportError,
    WorkerError,
)
from dedup.index import DiskIndex, Index, MemoryIndex, open_index
from dedup.result import CleanResult, CloseCall, Removal, report, restore

__all__ = [
    "CleanResult",
    "CloseCall",
    "Config",
    "ConfigError",
    "DedupError",
    "Deduplicator",
    "DiskIndex",
    "Index",
    "IndexAccessError",
    "IndexMismatchError",
    "InputError",
    "MemoryIndex",
    "Removal",
    "ReportError",
    "WorkerError",
    "clean",
    "open_index",
    "report",
    "restore",
]

__version__ = "0.1.0"
