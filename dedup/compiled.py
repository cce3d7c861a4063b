"""Which of dedup's own modules run compiled, and a guard that never runs a stale build.

``pip install`` compiles the modules of the pipeline's hot stages with Cython where Cython
and a C compiler are at hand (``setup.py`` lists them), each from its unchanged ``.py``
(no annotation is trusted: the compiled module does what the source does, with the
interpreter's dispatch compiled away), and writes ``dedup/_compiled.txt``: each module
compiled, with a checksum of the source it was compiled from. Python imports a compiled
module before its source; a finder installed by ``import dedup`` turns that around for a
module whose source is no longer the one compiled (edited since the install), and for
every one when ``DEDUP_PURE_PYTHON=1`` asks for pure Python (as for the kernels of
:mod:`dedup.native`), so that neither an edit nor the pure-Python test run ever runs
what a build left behind.
"""

from __future__ import annotations

import os
import sys
import zlib
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec, SourceFileLoader
from importlib.util import spec_from_file_location
from types import ModuleType

#: The list ``setup.py`` writes: ``<module> <crc32 of its source>`` a line.
MANIFEST = "_compiled.txt"

_HERE = os.path.dirname(os.path.abspath(__file__))


def pure() -> bool:
    """Whether ``DEDUP_PURE_PYTHON`` asks for pure Python."""
    return os.environ.get("DEDUP_PURE_PYTHON", "") not in ("", "0")


def source_sum(path: str) -> int:
    """The checksum the manifest holds of a module's source."""
    with open(path, "rb") as handle:
        return zlib.crc32(handle.read())


def source_path(name: str) -> str:
    """The source file of module ``name`` (``dedup.index.memory``, say)."""
    return os.path.join(_HERE, *name.split(".")[1:]) + ".py"


def built() -> list[str]:
    """The modules the install compiled (when it could: see :func:`running`)."""
    return sorted(_manifest())


def _manifest() -> dict[str, int]:
    try:
        with open(os.path.join(_HERE, MANIFEST), encoding="ascii") as handle:
            lines = handle.read().split("\n")
    except OSError:  # not built, or built without Cython
        return {}
    built = {}
    for line in lines:
        name, _, crc = line.partition(" ")
        if name and crc.isdigit():
            built[name] = int(crc)
    return built


class _SourceFirst:
    """A finder on ``sys.meta_path``: the source of a compiled module, where the compiled
    one must not run (see the module); else nothing, and the usual finders go on."""

    def __init__(self, built: dict[str, int]) -> None:
        self.built = built
        self.decided: dict[str, bool] = {}  # module -> runs compiled

    def source(self, name: str) -> str | None:
        """The path of ``name``'s source when its compiled build must not run, else None."""
        if name not in self.built:
            return None
        path = source_path(name)
        if not os.path.exists(path):  # a build without its source: the build or nothing
            self.decided[name] = _has_build(path)
            return None
        stale = pure() or source_sum(path) != self.built[name]
        self.decided[name] = not stale and _has_build(path)
        return path if stale else None

    def find_spec(
        self, name: str, path: object = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        source = self.source(name)
        if source is None:
            return None
        return spec_from_file_location(name, source, loader=SourceFileLoader(name, source))


def _has_build(source: str) -> bool:
    stem = source[: -len(".py")]
    return any(os.path.exists(stem + suffix) for suffix in EXTENSION_SUFFIXES)


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once), if anything was compiled."""
    if any(isinstance(finder, _SourceFirst) for finder in sys.meta_path):
        return
    built = _manifest()
    if built:
        sys.meta_path.insert(0, _SourceFirst(built))


def running() -> list[str]:
    """The modules that run compiled (or would, once imported)."""
    finder = next((f for f in sys.meta_path if isinstance(f, _SourceFirst)), None)
    if finder is None:
        return []
    return [name for name in sorted(finder.built) if _runs_compiled(finder, name)]


def _runs_compiled(finder: _SourceFirst, name: str) -> bool:
    module = sys.modules.get(name)
    if module is not None:
        return not (getattr(module, "__file__", None) or "").endswith(".py")
    if name not in finder.decided:
        finder.source(name)
    return finder.decided[name]
