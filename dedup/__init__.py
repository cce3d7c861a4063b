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

import importlib
from typing import TYPE_CHECKING, Any

from dedup import compiled

compiled.install()  # before any module that may have been compiled is imported

if TYPE_CHECKING:
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

#: The module each public name comes from. They are imported when first asked for, so that
#: ``import dedup`` costs no numpy, and the command sets up the process first (see
#: :mod:`dedup.__main__`).
_HOMES = {
    **dict.fromkeys(["Config"], "dedup.config"),
    **dict.fromkeys(["Deduplicator", "clean"], "dedup.deduplicator"),
    **dict.fromkeys(
        [
            "ConfigError",
            "DedupError",
            "IndexAccessError",
            "IndexMismatchError",
            "InputError",
            "ReportError",
            "WorkerError",
        ],
        "dedup.errors",
    ),
    **dict.fromkeys(["DiskIndex", "Index", "MemoryIndex", "open_index"], "dedup.index"),
    **dict.fromkeys(["CleanResult", "CloseCall", "Removal", "report", "restore"], "dedup.result"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dedup' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # asked for once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
