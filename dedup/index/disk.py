"""An index in a folder on disk, so that what was kept yesterday is a repeat today.

The folder holds the memory index's own sorted runs as immutable *segment* folders, one
``.npy`` file per array, and ``manifest.json``, which lists the segments that make up the
index, the settings that built it, the format, the ``dedup`` version and when it was made.
Opening maps the postings of every segment into memory where they lie (nothing is read until
a lookup touches it) and copies the paragraphs' columns (texts, shingles, sketches): a
million paragraphs open in well under a second. :meth:`DiskIndex.commit` writes what was
kept since the last commit as a new segment (each file flushed to disk), then replaces the
manifest atomically; past ``MAX_SEGMENTS`` segments it writes one segment of everything
instead. A process killed at any moment leaves the last manifest, and so exactly the
committed paragraphs; segments no manifest names are removed on the next open.

Why not SQLite: a lookup here is a batch of ~200,000 keys, which ``searchsorted`` over a
mapped run answers in milliseconds, where a B-tree answers one key at a time; and the
files are the arrays the memory index already has, so both indexes decide alike.

One process writes an index at a time: it holds a lock on the folder while open.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.errors import IndexAccessError
from dedup.files import fsync_folder
from dedup.index.memory import MemoryIndex

#: The format this version writes and the newest it reads.
FORMAT = 1
MANIFEST = "manifest.json"
#: Past this many segments, a commit writes one segment of everything.
MAX_SEGMENTS = 8
_POSTINGS = {f"{family}_{part}" for family in MemoryIndex.FAMILIES for part in ("keys", "ids")}


class DiskIndex(MemoryIndex):
    """The index in the folder ``path`` (made on first use unless not ``create``); see the
    module's docstring. Built with ``config``'s settings, or refused by the deduplicator when
    they differ. Opened not ``writable``, several processes can read it at once (none writes
    meanwhile), and what it is given is never committed."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        config: Config,
        create: bool = True,
        writable: bool = True,
    ) -> None:
        super().__init__(config)
        self.path = Path(path)
        self.writable = writable
        if not (create and writable) and not (self.path / MANIFEST).exists():
            raise self._error("no dedup index here")
        self._lock = self._take_lock()
        try:
            manifest = self._read_manifest()
            if manifest is None:
                manifest = {
                    "format": FORMAT,
                    "dedup": _version(),
                    "settings": config.index_name(),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "segments": [],
                    "paragraphs": 0,
                    "documents": 0,
                }
            self._manifest = manifest
            self._settings = str(manifest["settings"])
            for name in manifest["segments"]:
                arrays, names = self._read_segment(self.path / name)
                self.load(arrays, names)
            self._committed = len(self)
            self._keep_recent()
            if writable:
                self._remove_unlisted()
        except BaseException:
            self.close()
            raise

    # -- opening --

    def _error(self, problem: str) -> IndexAccessError:
        return IndexAccessError(str(self.path), problem)

    def _take_lock(self) -> int:
        if self.path.exists() and not self.path.is_dir():
            raise self._error("not a dedup index (a file, not a folder)")
        if self.path.is_dir() and not (self.path / MANIFEST).exists() and self._foreign():
            raise IndexAccessError(
                str(self.path), "not a dedup index (a folder without a manifest)"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise self._error(error.strerror or str(error)) from None
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if self.writable else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._error("in use by another dedup process") from None
        return fd

    def _foreign(self) -> bool:
        """True when the folder holds what the index did not write (a user's folder), not
        only what an index being made holds before its first commit (its lock, segments
        of a commit that was killed)."""
        return any(
            entry.name not in _OWN_FILES and not _SEGMENT.fullmatch(entry.name)
            for entry in self.path.iterdir()
        )

    def _read_manifest(self) -> dict[str, Any] | None:
        import json  # only with an index on disk

        try:
            manifest = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise IndexAccessError(
                str(self.path), f"its manifest cannot be read: {error}"
            ) from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
            raise self._error("not a dedup index (its manifest has no format)")
        if manifest["format"] > FORMAT:
            raise IndexAccessError(
                str(self.path),
                f"written by a newer dedup ({manifest.get('dedup')}, format "
                f"{manifest['format']}); this one ({_version()}) reads format {FORMAT}: "
                "upgrade dedup to use it",
            )
        return manifest

    def _read_segment(self, folder: Path) -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
        import json

        try:
            arrays = {
                file.stem: np.load(file, mmap_mode="r" if _mapped(file) else None)
                for file in folder.glob("*.npy")
            }
            names = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexAccessError(str(folder), f"a segment cannot be read: {error}") from None
        return arrays, names

    def _remove_unlisted(self) -> None:
        """Segments that no manifest names (a commit killed before its manifest)."""
        listed = set(self._manifest["segments"])
        for entry in self.path.iterdir():
            if entry.name in listed:
                continue
            if _SEGMENT.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
                _remove_segment(entry)
            elif entry.name == f".{MANIFEST}.tmp" and _is_file(entry):
                entry.unlink()

    # -- committing --

    def commit(self) -> None:
        """Make the paragraphs kept since the last commit part of the index on disk."""
        import json

        if len(self) == self._committed:
            return
        if not self.writable:
            raise self._error("opened for reading only: nothing is added to it")
        if self._lock < 0:  # another process may be writing it now
            raise self._error("closed: nothing is added to it (open it again)")
        segments = list(self._manifest["segments"])
        whole = len(segments) + 1 > MAX_SEGMENTS
        first = 0 if whole else self._committed
        name = f"seg-{self._next_number(segments):06d}"
        self._write_segment(name, *self.arrays(first))
        manifest = dict(self._manifest)
        manifest["segments"] = [name] if whole else [*segments, name]
        manifest["paragraphs"] = len(self)
        manifest["documents"] = len(set(self._documents))
        manifest["dedup"] = _version()
        temporary = self.path / f".{MANIFEST}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path / MANIFEST)
        fsync_folder(self.path)
        self._manifest, self._committed = manifest, len(self)
        self._settle()
        if whole:
            for old in segments:
                _remove_segment(self.path / old)

    def _next_number(self, segments: list[str]) -> int:
        numbers = [int(name.split("-")[1]) for name in segments]
        return max(numbers, default=0) + 1

    def _write_segment(
        self, name: str, arrays: dict[str, npt.NDArray[Any]], names: list[str]
    ) -> None:
        import json

        building = self.path / f".{name}"
        if building.is_dir():  # left by a commit that was killed
            _remove_segment(building)
        building.mkdir(exist_ok=True)
        for key, array in arrays.items():
            with open(building / f"{key}.npy", "wb") as handle:
                np.save(handle, np.ascontiguousarray(array))
                handle.flush()
                os.fsync(handle.fileno())
        with open(building / "documents.json", "w", encoding="utf-8") as handle:
            json.dump(names, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_folder(building)
        os.replace(building, self.path / name)
        fsync_folder(self.path)

    # -- about it --

    def info(self) -> dict[str, Any]:
        """Its settings, paragraphs and documents (committed), size in bytes, when made."""
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return {
            "index": str(self.path),
            "settings": self._manifest["settings"],
            "paragraphs": self._manifest["paragraphs"],
            "documents": self._manifest["documents"],
            "bytes": size,
            "created": self._manifest["created"],
            "format": self._manifest["format"],
            "dedup": self._manifest["dedup"],
        }

    def refresh(self) -> None:
        """Nothing to do: one process writes it at a time, and holds it."""

    def drop(self) -> list[str]:
        """Delete the index: the files it wrote, then its folder if nothing else is in it
        (what it did not write stays where it is, and is listed). It stays locked until its
        lock is the last of them: a run that opened it meanwhile would read segments as
        they went."""
        left = []
        for entry in sorted(self.path.iterdir()):
            if _SEGMENT.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
                left += [f"{entry.name}/{name}" for name in _remove_segment(entry)]
            elif entry.name in _OWN_FILES and _is_file(entry):
                if entry.name != "lock":  # (last)
                    entry.unlink()
            else:
                left.append(entry.name)
        if _is_file(self.path / "lock"):
            (self.path / "lock").unlink()
        self.close()
        if not left:
            self.path.rmdir()
        return left

    def close(self) -> None:
        """Let another process open it (what was not committed is not in it)."""
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def _mapped(file: Path) -> bool:
    """Postings are mapped where they lie (an empty or small file is just read)."""
    return file.stem in _POSTINGS and file.stat().st_size > 1 << 16


#: The entries the index writes in its folder: nothing else there is ever deleted.
_SEGMENT = re.compile(r"\.?seg-[0-9]{6,}")
_OWN_FILES = {MANIFEST, f".{MANIFEST}.tmp", "lock"}


def is_index(folder: Path) -> bool:
    """Whether ``folder`` holds a dedup index: its lock, and a manifest written for an
    index's settings (``Config.index_name``). A walk of a corpus skips it."""
    if not _is_file(folder / "lock"):
        return False
    try:
        with open(folder / MANIFEST, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b'"settings": "dedup-index ' in head


def _is_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _remove_segment(folder: Path) -> list[str]:
    """Delete a segment's arrays and names, then the segment if nothing else is in it;
    what else is (never written by the index), by name."""
    left = []
    for entry in sorted(folder.iterdir()):
        if (entry.suffix == ".npy" or entry.name == "documents.json") and _is_file(entry):
            entry.unlink()
        else:
            left.append(entry.name)
    if not left:
        folder.rmdir()
    return left


def _version() -> str:
    from dedup import __version__

    return __version__
