"""Reading a user's files as text, and writing outputs without ever losing one.

Every problem is an :class:`~dedup.errors.InputError` naming the file and what is wrong.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dedup.errors import InputError

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
    the input, after ``lines`` line breaks."""
    line = lines + data.count(b"\n", 0, error.start) + 1
    hint = (
        "; if it is Latin-1, try --encoding latin-1"
        if encoding.lower().replace("-", "").replace("_", "") in {"utf8", "utf8sig"}
        else ""
    )
    name = codecs.lookup(encoding).name.upper()
    return InputError(
        source,
        f"not valid {name} (byte 0x{data[error.start]:02x} at offset {offset + error.start}, "
        f"line {line}){hint}",
    )


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


def _open(source: str) -> BinaryIO:
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
    with _open(source) as handle:
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
    handle = stream if stream is not None else _open(os.fspath(path or source))
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


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths name one existing file (so writing one would overwrite the other)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is either wholly written or untouched."""
    with atomic_writer(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` with, so that it is either wholly written or
    untouched: the bytes go to a temporary file in the same folder, are flushed to disk
    when the block ends without error, and only then replace ``path``; on any error the
    temporary file is removed.
    """
    target = Path(os.fspath(path))
    folder = target.parent
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(str(target), f"cannot write here: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(temp, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise InputError(str(target), f"cannot write: {error.strerror or error}") from None
        raise
