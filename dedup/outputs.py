"""Where cleaned text goes, written so that no user's file is ever lost.

:class:`Outputs` takes the sources of a run and where their cleaned text goes (standard
output, one ``-o`` file, a mirrored tree under ``--output-dir``, or each file ``--in-place``)
and its reports (JSON, HTML), and before anything is written it refuses every plan that
could lose a file: an output or a report that is an input or another output (compared by identity,
device and inode, and by resolved path, never by spelling), the same file named twice for
``--in-place``, two inputs whose outputs would land on one path, a backup that exists.

Every file is staged: written in full to a temporary file beside it
(``.NAME.dedup-PID@HOST.tmp``) while the run goes on; when the whole run succeeded, the report
is put in place first, then every output, so a run that fails anywhere, on any file, leaves
every file as it was. ``--in-place`` takes a hard link to each input (``.NAME.dedup-PID@HOST.bak``)
before reading it, under an exclusive lock: the backup is what was read, a concurrent
``dedup`` run on the same file is refused, and a file changed by anyone while it was cleaned
is not replaced. Should putting the files in place fail midway, every file already
replaced (a report, an output, an input: each kept under a hard link until the whole run is
in place) is put back, and a file the run made is removed. A device, a FIFO or a socket
cannot be replaced: it is written through, and what cannot be written there (a full disk,
a closed pipe) is an error.

``-`` names standard output, for any output or report (as it names standard input for an
input). Two of them going to standard output (by ``-``, ``/dev/stdout`` or the file it is
redirected to) is refused: text and JSON in one stream would be neither.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dedup.errors import ConfigError, InputError
from dedup.files import (
    Staged,
    Writable,
    fsync_folder,
    is_regular_or_missing,
    remove_stale,
    temporary_path,
)
from dedup.lazy import lazy_re
from dedup.sources import Document, Source

if TYPE_CHECKING:
    import gzip

Identity = tuple[int, int]


def identity(path: str | os.PathLike[str]) -> Identity | None:
    """The file ``path`` names (device and inode, links followed), or None if none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def is_regular(path: str | os.PathLike[str]) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


#: How each report and baseline dedup writes begins: the JSON reports of ``clean`` and
#: ``check`` and the baseline (``dedup.result.ReportWriter``, ``dedup.check``), the HTML
#: reports (``dedup.report.html``, titled by the CLI), GitHub annotations (``dedup.cli``).
_OURS = lazy_re(
    r'\A(?:\{\s*"version": 1,\s*"(?:settings|passed|repeats)"'
    r"|<!DOCTYPE html>.{0,4000}?<title>dedup report: "
    r"|::error [^\n]*title=dedup)",
    re.S,
)


def written_by_dedup(path: str) -> bool:
    """Whether the file at ``path`` is empty or holds a report or a baseline as dedup
    writes them: a run that names it may take it for its own, skip it as a document and
    replace it, losing nothing a user wrote (a file of other content stays an input, which
    no run writes over). Only a regular file is read (opening a FIFO would wait for a
    writer)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as handle:
            head = handle.read(1 << 13)
    except OSError:
        return False
    return not head or _OURS.match(head.decode("latin-1")) is not None


def refuse_inputs(path: str, role: str, sources: Sequence[Source]) -> None:
    """Refuse to write ``path`` when it is one of the inputs, under any name."""
    found = identity(path)
    for source in sources:
        if found is not None and source.path is not None and identity(source.path) == found:
            raise InputError(path, f"refusing to write {role} over the input {source.name}")


#: What a backup's suffix cannot hold: it would name a file elsewhere, or none.
_NOT_IN_NAMES = {"\0", os.sep, os.altsep or os.sep}

_BACKUP_EXISTS = (
    "exists already; dedup never overwrites a backup (move it away, or choose another --backup)"
)

#: The name of standard output for an output, as of standard input for an input.
STDOUT = "-"


def _fd_identity(fd: int) -> Identity | None:
    try:
        info = os.fstat(fd)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


class _Stream:
    """A target that is one of this process's own streams (``-o /dev/stdout``)."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self.handle, self.name = handle, name

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise InputError(self.name, f"cannot write: {error.strerror or error}") from None

    def finish(self) -> None:
        self.handle.flush()

    def commit(self) -> None:
        self.finish()

    def discard(self) -> None:
        pass


Target = Staged | _Stream


@dataclass
class _InPlace:
    """An input being rewritten: what it was when read, and the link that keeps it."""

    path: str  # the real path (links followed)
    seen: os.stat_result
    keep: str  # hard link (or copy) of what was read
    name: str  # the path as the user gave it


class Outputs:
    """The files a run writes; see the module's docstring. Use it as a context manager:
    leaving the block without an error commits everything, with one discards everything.

    ``writer(document)`` gives the function that takes the document's cleaned text;
    ``sink(source)`` the byte stream of its source's output (JSONL records); ``report``
    and ``html`` the JSON and the HTML report's streams (or None).
    """

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        output: str | None = None,
        output_dir: str | None = None,
        in_place: bool = False,
        backup: str | None = None,
        report: str | None = None,
        html: str | None = None,
        stdout: BinaryIO,
        stdin_fd: int | None = 0,
    ) -> None:
        if backup is not None and (not backup or any(c in backup for c in _NOT_IN_NAMES)):
            raise ConfigError(
                f"--backup {backup!r}: a suffix added to the file's name, not empty and "
                "without '/' or NUL"
            )
        if output_dir is not None and os.path.exists(output_dir) and not os.path.isdir(output_dir):
            raise InputError(output_dir, "a file, where --output-dir names a folder")
        self._sources = sources
        output = None if output == STDOUT else output  # standard output, the default
        self._output, self._dir, self._in_place, self._backup = output, output_dir, in_place, backup
        self._stdout = stdout
        self._current: Source | None = None
        self._target: Target | None = None
        self._zipped: gzip.GzipFile | None = None
        self._sink: Writable = stdout
        self._staged: list[tuple[Target, _InPlace | None]] = []
        self._kept: dict[str, _InPlace] = {}
        self._lock: int | None = None  # the input being read, locked
        self._report_path, self._html_path = report, html
        self._plan(stdin_fd)
        self.report: Target | None = self._open(report, report) if report else None
        self.html: Target | None = self._open(html, html) if html else None

    # -- planning: refuse, before anything is written, what could lose a file --

    def _plan(self, stdin_fd: int | None) -> None:
        inputs: dict[Identity, str] = {}
        for source in self._sources:
            if source.path is None:
                found = _fd_identity(stdin_fd) if stdin_fd is not None else None
            else:
                found = identity(source.path)
                if self._in_place and not is_regular(source.path):
                    raise InputError(source.name, "--in-place rewrites regular files only")
                if self._in_place and source.extract is not None:
                    raise InputError(
                        source.name,
                        "--in-place would replace the page with its text; write the text "
                        "with --output-dir DIR (or --extract none to clean the file as text)",
                    )
            if found is None:
                continue
            if found in inputs and self._in_place:
                raise InputError(
                    source.name, f"the same file as {inputs[found]}, named twice for --in-place"
                )
            inputs.setdefault(found, source.name)
        self._stdout_identity = _fd_identity(_fileno(self._stdout))
        self._refuse_sharing_stdout()
        written: dict[str, str] = {}  # resolved path -> what writes it
        written_ids: dict[Identity, str] = {}

        def claim(path: str, role: str, *, own_input: bool = False) -> None:
            if path == STDOUT or not is_regular_or_missing(path):
                return  # written through: a device or a FIFO can take several writers
            found = identity(path)
            if found is not None and found in inputs and not own_input:
                raise InputError(path, f"refusing to write {role} over the input {inputs[found]}")
            key = os.path.realpath(path)
            earlier = written.get(key) or (written_ids.get(found) if found else None)
            if earlier is not None:
                raise InputError(path, f"{earlier} and {role} would both be written here")
            written[key] = role
            if found is not None:
                written_ids[found] = role

        if self._report_path:
            claim(self._report_path, "the report")
        if self._html_path:
            claim(self._html_path, "the HTML report")
        if self._output:
            claim(self._output, "the output")
        for source in self._sources:
            if self._dir:
                claim(str(Path(self._dir) / source.relative), f"the output of {source.name}")
            elif self._in_place and source.path is not None:
                claim(str(source.path), f"the output of {source.name}", own_input=True)
                if self._backup:
                    backup = os.path.realpath(source.path) + self._backup
                    if os.path.lexists(backup):
                        raise InputError(_shown(str(source.path), self._backup), _BACKUP_EXISTS)
                    claim(backup, f"the backup of {source.name}")

    def _refuse_sharing_stdout(self) -> None:
        """Refuse two outputs on standard output, under any name: ``-``, a name of the
        stream (``/dev/stdout``, ``/dev/fd/1``) or of the file it was redirected to."""
        try:
            stream = os.fstat(_fileno(self._stdout))
        except OSError:
            stream = None
        if stream is not None and (stream.st_dev, stream.st_ino) == identity(os.devnull):
            return  # what nobody reads is not mixed

        def is_stdout(path: str) -> bool:
            if path == STDOUT:
                return True
            return stream is not None and identity(path) == (stream.st_dev, stream.st_ino)

        text = None if self._dir or self._in_place else self._output or STDOUT
        roles = [
            role
            for role, path in (
                ("the cleaned text", text),
                ("the report", self._report_path),
                ("the HTML report", self._html_path),
            )
            if path and is_stdout(path)
        ]
        if len(roles) > 1:
            raise InputError(
                STDOUT,
                f"{roles[0]} and {roles[1]} would both go to standard output: "
                "name a file for one of them",
            )

    # -- writing --

    def _open(self, path: str, name: str) -> Target:
        if path == STDOUT:
            return _Stream(self._stdout, "standard output")
        if self._stdout_identity is not None and identity(path) == self._stdout_identity:
            target: Target = _Stream(self._stdout, name)
        else:
            target = Staged(path, name)
        return target

    def writer(self, document: Document) -> Callable[[str], None]:
        """Where ``document``'s cleaned text goes, encoded as its input was."""
        sink = self.sink(document.source)
        encoder: list[Callable[[str], bytes]] = []

        def write(text: str) -> None:
            if not encoder:  # the document's codec is known once its first bytes were read
                encoder.append(codecs.getincrementalencoder(document.encoding)().encode)
            try:
                data = encoder[0](text)
            except UnicodeEncodeError as error:
                raise InputError(
                    document.name, f"cannot write it as {document.encoding}: {error.reason}"
                ) from None
            sink.write(data)

        return write

    def sink(self, source: Source) -> Writable:
        """The byte stream of ``source``'s output (the one before it is then complete)."""
        if source is self._current or (self._output and self._target is not None):
            return self._sink
        self._finish()
        self._current = source
        if self._output:
            path = self._output
        elif self._in_place:
            assert source.path is not None
            path = self._keep(source)
        elif self._dir:
            target = Path(self._dir) / source.relative
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise InputError(str(target.parent), error.strerror or str(error)) from None
            path = str(target)
        else:
            self._sink = self._stdout
            return self._sink
        self._target = self._open(path, path if not self._in_place else source.name)
        self._staged.append((self._target, self._kept.get(path)))
        self._sink = self._target
        if source.gzipped and not self._output:  # a .gz file stays one
            import gzip  # here, not at the top, as shutil below: a short run needs neither

            self._zipped = gzip.GzipFile(fileobj=self._target, mode="wb", mtime=0)  # type: ignore[call-overload]
            self._sink = self._zipped
        return self._sink

    def _keep(self, source: Source) -> str:
        """Lock the input, and keep what is about to be read under a hard link (a copy
        where links cannot be made); the real path to replace."""
        assert source.path is not None
        real = os.path.realpath(source.path)
        remove_stale(os.path.dirname(real))
        try:
            fd = os.open(real, os.O_RDONLY)
        except OSError as error:
            raise InputError(source.name, error.strerror or str(error)) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(
                    source.name, "another dedup run is rewriting it; try again once it ended"
                ) from None
            keep = temporary_path(real, "bak")
            try:
                os.link(real, keep)
            except OSError:
                import shutil

                with open(keep, "xb") as copy, open(fd, "rb", closefd=False) as original:
                    shutil.copyfileobj(original, copy)
            self._kept[real] = _InPlace(real, os.fstat(fd), keep, str(source.path))
        except BaseException as error:
            os.close(fd)
            if isinstance(error, OSError):
                raise InputError(source.name, f"cannot keep a backup: {error.strerror}") from None
            raise
        self._lock = fd  # held while the file is read; commit() takes it again
        return real

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _finish(self) -> None:
        """The current output is complete: flush it (it is not put in place yet)."""
        if self._zipped is not None:
            self._zipped.close()  # writes the gzip trailer
            self._zipped = None
        if self._target is not None and not isinstance(self._target, _Stream):
            self._target.finish()
        self._target = None
        self._unlock()

    # -- the end: everything, or nothing --

    def commit(self) -> None:
        """Put the reports, then every output, in place (see the module's docstring)."""
        self._finish()
        for _, kept in self._staged:
            if kept is not None:
                self._check_unchanged(kept)
        done: list[_InPlace] = []
        replaced: list[tuple[Target, str | None]] = []
        backups: list[str] = []
        try:
            for report in (self.report, self.html):
                if report is not None:
                    _replace(report, replaced)
            if self._backup:  # before any input is replaced: a backup that fails costs none
                for kept in self._kept.values():
                    backups.append(self._back_up(kept, self._backup))
            for target, kept in self._staged:
                if kept is None:
                    _replace(target, replaced)
                    continue
                with _locked(kept.path) as fd:
                    self._check_unchanged(kept, fd)
                    target.commit()
                done.append(kept)
        except BaseException as error:
            stranded = self._put_back(done) + _restore(replaced)
            for backup in backups:
                with contextlib.suppress(OSError):
                    os.unlink(backup)
            if stranded:
                why = (
                    f"cleaning {error.source} then failed ({error.problem})"
                    if isinstance(error, InputError)
                    else f"the run then failed ({type(error).__name__})"
                )
                raise InputError(
                    ", ".join(name for name, _ in stranded),
                    f"replaced, and {why}; the original could not be put back: it is kept at "
                    + ", ".join(keep for _, keep in stranded),
                ) from error
            raise
        self._staged = []
        for _, old in replaced:
            if old is not None:
                with contextlib.suppress(OSError):
                    os.unlink(old)
        for kept in self._kept.values():
            with contextlib.suppress(OSError):
                os.unlink(kept.keep)
            if self._backup:
                fsync_folder(os.path.dirname(kept.path))
        self._kept = {}

    def _put_back(self, replaced: list[_InPlace]) -> list[tuple[str, str]]:
        """Put the originals of the ``replaced`` inputs back; the ones that could not be,
        whose originals stay where they were kept (no longer the run's to remove), as
        ``(name, where it is kept)``."""
        stranded = []
        for kept in replaced:
            try:
                os.replace(kept.keep, kept.path)
            except OSError:
                stranded.append((kept.name, kept.keep))
                del self._kept[kept.path]
        return stranded

    @staticmethod
    def _back_up(kept: _InPlace, suffix: str) -> str:
        """Make the input's path with ``suffix`` a hard link to (or a copy of) what was
        read, never over a file that exists (one made since the plan was checked
        included); its path."""
        backup = kept.path + suffix
        try:
            _link_or_copy(kept.keep, backup)
        except FileExistsError:
            raise InputError(_shown(kept.name, suffix), _BACKUP_EXISTS) from None
        except OSError as error:
            problem = f"cannot write the backup: {error.strerror}"
            raise InputError(_shown(kept.name, suffix), problem) from None
        return backup

    def _check_unchanged(self, kept: _InPlace, fd: int | None = None) -> None:
        """Refuse to replace an input that is no longer the file that was read."""

        def state(info: os.stat_result) -> tuple[int, int, int, int]:
            return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns

        try:
            now = {state(os.stat(kept.path)), state(os.fstat(fd) if fd is not None else kept.seen)}
        except OSError:
            now = set()
        if now != {state(kept.seen)}:
            raise InputError(
                kept.path, "changed while it was cleaned (another program wrote it); left as it is"
            )

    def discard(self) -> None:
        """Leave every file as it was and remove the temporary files."""
        with contextlib.suppress(Exception):
            if self._zipped is not None:
                self._zipped.close()
        self._zipped = None
        self._unlock()
        for target, _ in self._staged:
            target.discard()
        for report in (self.report, self.html):
            if report is not None:
                report.discard()
        for kept in self._kept.values():
            with contextlib.suppress(OSError):
                os.unlink(kept.keep)
        self._staged, self._kept = [], {}

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()


def _replace(target: Target, replaced: list[tuple[Target, str | None]]) -> None:
    """Put an output or a report in place, the file it replaces (if any) kept under a hard
    link (or a copy) until the whole run is in place; add it to ``replaced`` with that
    link (None: there was no file). A file that can be neither linked nor read (another
    user's, in a folder of one's own, with ``protected_hardlinks`` on) is moved aside under
    that name instead, and back if it cannot be replaced: for that moment its name is
    free."""
    if not (isinstance(target, Staged) and target.temp and os.path.isfile(target.target)):
        target.commit()  # nothing replaced
        replaced.append((target, None))
        return
    old = temporary_path(target.target, "bak")
    moved = False
    try:
        _link_or_copy(target.target, old)
    except OSError as error:
        try:
            os.rename(target.target, old)
        except OSError:
            problem = f"cannot keep the file it replaces: {error.strerror or error}"
            raise InputError(target.name, problem) from None
        moved = True
    try:
        target.commit(like=old if moved else None)
    except BaseException:
        if moved:  # put back with the others (or named where it is kept)
            replaced.append((target, old))
        else:
            with contextlib.suppress(OSError):
                os.unlink(old)
        raise
    replaced.append((target, old))


def _restore(replaced: list[tuple[Target, str | None]]) -> list[tuple[str, str]]:
    """Put back the files that the outputs and reports ``replaced`` replaced, and remove
    the ones they made; the ones that could not be put back, as ``(name, where it is
    kept)``."""
    stranded = []
    for target, old in replaced:
        if not isinstance(target, Staged) or target.through:
            continue  # written through (a device, a FIFO): nothing was replaced
        try:
            if old is None:
                os.unlink(target.target)
            else:
                os.replace(old, target.target)
        except OSError:
            if old is not None:
                stranded.append((target.name, old))
    return stranded


def _shown(given: str, suffix: str) -> str:
    """The backup of the input named ``given``, as the user would name it: the one of a
    symbolic link lies beside the file the link points to, not beside the link."""
    return os.path.realpath(given) + suffix if os.path.islink(given) else given + suffix


def _link_or_copy(source: str, target: str) -> None:
    """Make ``target``, which must not exist, a hard link to ``source``, or a copy of it
    (flushed to disk) where links cannot be made; a copy that fails is removed."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        raise
    except OSError:  # no hard links here
        pass
    import shutil

    with open(source, "rb") as original, open(target, "xb") as copy:
        try:
            shutil.copyfileobj(original, copy)
            copy.flush()
            os.fsync(copy.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise


@contextlib.contextmanager
def _locked(path: str) -> Any:
    """An exclusive lock on the file at ``path`` (waits for a run that reads it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise InputError(path, f"changed while it was cleaned: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _fileno(handle: BinaryIO) -> int:
    try:
        return handle.fileno()
    except (OSError, ValueError, AttributeError):
        return -1
