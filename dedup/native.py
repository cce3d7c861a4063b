"""The compiled kernels, when they were built, else their pure-Python twins.

``dedup/_speedups.c`` is built by ``pip install`` where a C compiler and the Python headers
are at hand, and skipped elsewhere; every kernel in it has a twin in Python that gives the
same answer, byte for byte, so the output never depends on which ran (the tests run
against both). ``DEDUP_PURE_PYTHON=1`` in the environment turns the compiled ones off.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dedup.compiled import pure


def _load() -> ModuleType | None:
    if pure():
        return None
    try:
        return importlib.import_module("dedup._speedups")
    except ImportError:
        return None


speedups = _load()
#: Whether the compiled kernels run (``dedup --version`` says).
COMPILED = speedups is not None
