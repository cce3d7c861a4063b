"""Reading a user's files as text, and writing outputs without ever losing one.

Every problem is an :class:`~dedup.errors.InputError` naming the file and what is wrong.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import itertools
import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

from dedup.errors import InputError
from dedup.lazy import lazy_re

_SNIFF = 8192
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "gzip-compressed",
    b"\x7fELF": "an executable",
}


def _check_encoding(source: str, encoding: str) -> codecs.CodecInfo:
    try:
        return codecs.lookup(encoding)
    except LookupError:
        raise InputError(source, f"unknown encoding {encoding!r}") from None


def _sniff(head: bytes, source: str, encoding: str) -> None:
    """Refuse what the first bytes show is not text in ``encoding``."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(source, f"looks like {what}, not text")
    wide = encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32"))
    if b"\x00" in head[:_SNIFF] and not wide:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError(source, "looks like UTF-16 text; try --encoding utf-16")
        raise InputError(source, "looks like a binary file (it has NUL bytes), not text")


def _undecodable(
    error: UnicodeDecodeError, data: bytes, source: str, encoding: str, offset: int, lines: int
) -> InputError:
    """The error for a byte that does not decode; ``data`` starts ``offset`` bytes into
    the input, after ``lines`` line breaks (the decoder may hold a few bytes from before
    ``data``: the start of a character)."""
    decoded = bytes(error.object)
    held = len(decoded) - len(data)
    line = lines - decoded.count(b"\n", 0, held) + decoded.count(b"\n", 0, error.start) + 1
    hint = (
        "; if it is Latin-1, try --encoding latin-1"
        if encoding.lower().replace("-", "").replace("_", "") in {"utf8", "utf8sig"}
        else ""
    )
    name = codecs.lookup(encoding).name.upper()
    where = (
        f"byte 0x{decoded[error.start]:02x} at offset {offset - held + error.start}, line {line}"
    )
    if not data and error.end >= len(decoded):
        return InputError(source, f"not valid {name}: it ends inside a character ({where})")
    return InputError(source, f"not valid {name} ({where}){hint}")


def decode(data: bytes, source: str, encoding: str = "utf-8") -> str:
    """Decode ``data`` read from ``source``, refusing binary data and undecodable bytes.

    Line endings and a BOM are kept as they are: the text round-trips byte for byte.

    >>> decode(b"caf\\xe9", "menu.txt")
    Traceback (most recent call last):
    ...
    dedup.errors.InputError: menu.txt: not valid UTF-8 (byte 0xe9 at offset 3, line 1); \
if it is Latin-1, try --encoding latin-1
    """
    _check_encoding(source, encoding)
    _sniff(data, source, encoding)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise _undecodable(error, data, source, encoding, 0, 0) from None


def open_input(source: str) -> BinaryIO:
    try:
        return open(source, "rb")
    except FileNotFoundError:
        raise InputError(source, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(source, "permission denied") from None
    except OSError as error:
        raise InputError(source, error.strerror or str(error)) from None


def read_text(path: str | os.PathLike[str], encoding: str = "utf-8") -> str:
    """Read the file at ``path`` as text; see :func:`decode`."""
    source = os.fspath(path)
    with open_input(source) as handle:
        try:
            data = handle.read()
        except OSError as error:
            raise InputError(source, error.strerror or str(error)) from None
    return decode(data, source, encoding)


def read_chunks(
    path: str | os.PathLike[str] | None,
    encoding: str = "utf-8",
    size: int = 1 << 20,
    stream: BinaryIO | None = None,
    name: str | None = None,
) -> Iterator[tuple[str, int]]:
    """Read a file (or ``stream``: standard input, a decompressing reader) as text, a
    piece of about ``size`` bytes at a time: ``(text, bytes read so far)``. The same checks
    and errors as :func:`decode`, naming ``name`` (default: the path), raised when the bad
    bytes are reached (a binary file's first bytes are looked at before any text is given
    out)."""
    source = name or ("<stdin>" if path is None else os.fspath(path))
    _check_encoding(source, encoding)
    handle = stream if stream is not None else open_input(os.fspath(path or source))
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = lines = 0
    first = True
    try:
        while True:
            try:
                data = handle.read(size)
            except OSError as error:
                raise InputError(source, error.strerror or str(error)) from None
            if first:
                _sniff(data, source, encoding)
                first = False
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as error:
                raise _undecodable(error, data, source, encoding, offset, lines) from None
            offset += len(data)
            lines += data.count(b"\n")
            if text or not data:
                yield text, offset
            if not data:
                return
    finally:
        if stream is None:
            handle.close()


def looks_binary(path: str | os.PathLike[str]) -> bool:
    """True when the file's first bytes show it is not text (a NUL byte, an image, ...),
    and it is not gzip (read transparently). Unreadable files are not binary: reading
    them says what is wrong."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF)
    except OSError:
        return False
    if head.startswith(b"\x1f\x8b"):
        return False
    try:
        _sniff(head, os.fspath(path), "utf-8")
    except InputError:
        return True
    return False


class Writable(Protocol):
    """Where bytes can be written: a file, a staged file, a gzip stream."""

    def write(self, data: bytes, /) -> int: ...


#: What marks dedup's temporary files: ``.NAME.dedup-PID@HOST.tmp`` beside the file they
#: become (``.NAME.dedup-PID.tmp`` before the host was in them: read as this host's).
TEMP_MARK = ".dedup-"
_TEMP = lazy_re(
    r"^\.(?P<name>.+)\.dedup-(?P<pid>\d+)(?:-\d+)?(?:@(?P<host>[\w.-]+))?\.(?P<kind>tmp|bak)$",
    re.ASCII,
)
_SHORTENED = lazy_re(r"~[0-9a-f]{12}$")  # a name cut short by _fitting
_cleaned: set[str] = set()
_made_in: set[str] = set()  # the folders where this process named temporary files


def is_temporary(name: str) -> bool:
    """True for the name of one of dedup's temporary files."""
    return _TEMP.match(name) is not None


def remove_stale(folder: str | os.PathLike[str]) -> None:
    """Remove the temporary files that an ended dedup run (killed, say) left in ``folder``;
    a run still alive keeps its own. Looked at once per folder and process.

    A ``.bak`` is what an ``--in-place`` run read; it goes only while its input is still
    that file (a link to it, or a copy of the same bytes): a run killed while it put files
    in place leaves the only copy of an original it replaced there, and it stays.
    """
    key = os.path.realpath(folder)
    if key in _cleaned:
        return
    _cleaned.add(key)
    _remove_temporary(key, lambda pid, host: host in (None, _host()) and not _alive(pid))


def remove_own() -> list[str]:
    """Remove the temporary files this process made, as :func:`remove_stale` does those of
    an ended run, for a run that must end at once, however far it got; the ``.bak`` files
    left (each the only copy of an input it replaced)."""
    here = os.getpid(), _host()
    left: list[str] = []
    for folder in list(_made_in):
        left += _remove_temporary(folder, lambda pid, host: (pid, host) == here)
    return left


def _remove_temporary(folder: str, ended: Callable[[int, str | None], bool]) -> list[str]:
    """Remove the temporary files in ``folder`` of the runs that ``ended(pid, host)``
    names; the ``.bak`` files of theirs left, whose inputs are no longer what they read."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    left = []
    for name in names:
        match = _TEMP.match(name)
        if match is None or not ended(int(match["pid"]), match["host"]):
            continue  # another machine's (its pid says nothing here), or a live run's
        path = os.path.join(folder, name)
        if match["kind"] == "bak" and not _same_file(
            path, _input_of(folder, names, name, match["name"])
        ):
            left.append(path)
            continue
        with contextlib.suppress(OSError):
            os.unlink(path)
    return left


def _input_of(folder: str, names: list[str], name: str, stem: str) -> str:
    """The path of the input whose ``.bak`` is ``name``, ``.STEM.dedup-PID@HOST.bak``: STEM is
    the input's name, or its start and a digest where :func:`_fitting` cut it short."""
    tail = name[1 + len(stem) :]
    for candidate in names if _SHORTENED.search(stem) else ():
        if _fitting(folder, candidate, tail) == stem:
            return os.path.join(folder, candidate)
    return os.path.join(folder, stem)


def _same_file(one: str, other: str) -> bool:
    """True when ``one`` and ``other`` are one file, or hold the same bytes."""
    import filecmp

    try:
        return os.path.samefile(one, other) or filecmp.cmp(one, other, shallow=False)
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


@functools.lru_cache(maxsize=1)
def _host() -> str:
    """This machine's name as temporary files carry it: a run on another machine, or in
    another container, that shares a folder is not judged by its pid here."""
    return re.sub(r"[^\w.-]", "_", os.uname().nodename, flags=re.ASCII)[:64] or "_"


def temporary_path(target: str | os.PathLike[str], kind: str = "tmp") -> str:
    """A new, unused name for a temporary file beside ``target`` (the run's pid and the
    machine's name in it)."""
    folder, name = os.path.split(os.fspath(target))
    _made_in.add(os.path.realpath(folder or "."))
    for number in itertools.count():
        tail = f"{TEMP_MARK}{os.getpid()}{f'-{number}' if number else ''}@{_host()}.{kind}"
        path = os.path.join(folder, f".{_fitting(folder, name, tail)}{tail}")
        if not os.path.lexists(path):
            return path
    raise AssertionError("unreachable")  # pragma: no cover


def _fitting(folder: str, name: str, tail: str) -> str:
    """``name``, or where ``.NAME`` and ``tail`` would pass the folder's limit on a name
    (255 bytes on most file systems; a name a scraper made from a URL can be near it), its
    start and a digest of all of it."""
    try:
        limit = os.pathconf(folder or ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    room = limit - 1 - len(os.fsencode(tail))
    if len(os.fsencode(name)) <= room:
        return name
    import hashlib

    digest = "~" + hashlib.blake2b(os.fsencode(name), digest_size=6).hexdigest()  # _SHORTENED
    short = name
    while short and len(os.fsencode(short + digest)) > room:
        short = short[:-1]
    return short + digest


def is_regular_or_missing(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` (its symbolic links followed) is a regular file or does not exist:
    what can be replaced atomically. A device, a FIFO or a socket is written through."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return True  # writing there will say what is wrong


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries to disk, so that a rename in it survives a crash."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(target: str, error: OSError) -> InputError:
    return InputError(target, f"cannot write: {error.strerror or error}")


class Staged:
    """A file that is written in full to a temporary file beside its target and replaces
    the target only at :meth:`commit`; :meth:`discard` (or any error) leaves the target as
    it was and removes the temporary file. The target's symbolic links are followed: the
    file they point to is replaced, and the links stay. A target that is not a regular
    file (a device, a FIFO) cannot be replaced: it is written through as the bytes come.
    """

    def __init__(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        self.name = name or os.fspath(path)
        self.through = not is_regular_or_missing(path)
        self.target = os.path.realpath(path)
        self.temp: str | None = None
        try:
            if self.through:  # as named: /dev/stdout is no path once resolved
                self.handle: BinaryIO = open(path, "wb")  # noqa: SIM115
            else:
                folder = os.path.dirname(self.target)
                remove_stale(folder)
                self.temp = temporary_path(self.target)
                fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                self.handle = os.fdopen(fd, "wb")
        except OSError as error:
            raise InputError(self.name, f"cannot write here: {error.strerror or error}") from None

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as error:
            raise _write_error(self.name, error) from None

    def finish(self) -> None:
        """All bytes are written: flush them to disk (the target is not replaced yet)."""
        try:
            self.handle.flush()
            if not self.through:
                os.fsync(self.handle.fileno())
            self.handle.close()
        except OSError as error:
            raise _write_error(self.name, error) from None

    def commit(self, like: str | None = None) -> None:
        """Replace the target with what was written (flushing it first if need be), with
        the owner and mode of the file it replaces (or of the file ``like``: the one it
        replaces, moved away)."""
        if not self.handle.closed:
            self.finish()
        if self.temp is None:
            return
        try:
            try:
                info = os.stat(like or self.target)
            except FileNotFoundError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            else:  # the file replaced keeps its owner, group (where allowed, as sed -i) and mode
                mode = info.st_mode & 0o7777
                with contextlib.suppress(OSError):
                    os.chown(self.temp, info.st_uid, info.st_gid)
            os.chmod(self.temp, mode)
            os.replace(self.temp, self.target)
        except OSError as error:
            self.discard()
            raise _write_error(self.name, error) from None
        self.temp = None
        fsync_folder(os.path.dirname(self.target))

    def discard(self) -> None:
        """Leave the target untouched and remove the temporary file."""
        with contextlib.suppress(OSError):
            self.handle.close()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is either wholly written or untouched."""
    with atomic_writer(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[Staged]:
    """A binary file to write ``path`` with, so that it is either wholly written or
    untouched (see :class:`Staged`): the target is replaced when the block ends without
    error; on any error the temporary file is removed.
    """
    staged = Staged(path)
    try:
        yield staged
        staged.commit()
    except BaseException:
        staged.discard()
        raise


def stream_encoding(encoding: str, head: bytes) -> str:
    """The codec that reads and writes a text in ``encoding`` byte for byte, given its first
    bytes: a byte order mark is kept as the text's first character (U+FEFF) instead of being
    consumed on reading and written again at every write. ``utf-8-sig`` is read as UTF-8,
    ``utf-16`` and ``utf-32`` in the byte order their mark (or its absence) says.

    >>> stream_encoding("utf-16", b"\\xfe\\xff\\x00a"), stream_encoding("UTF-8-sig", b"a")
    ('utf-16-be', 'utf-8')
    """
    name = codecs.lookup(encoding).name
    if name == "utf-8-sig":
        return "utf-8"
    if name == "utf-16":
        return "utf-16-be" if head.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
    if name == "utf-32":
        return "utf-32-be" if head.startswith(codecs.BOM_UTF32_BE) else "utf-32-le"
    return name
