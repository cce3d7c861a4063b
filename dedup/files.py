"""Reading a user's files as text, and writing outputs without ever losing one.

Every problem is an :class:`~dedup.errors.InputError` naming the file and what is wrong.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
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


def decode(data: bytes, source: str, encoding: str = "utf-8") -> str:
    """Decode ``data`` read from ``source``, refusing binary data and undecodable bytes.

    Line endings and a BOM are kept as they are: the text round-trips byte for byte.

    >>> decode(b"caf\\xe9", "menu.txt")
    Traceback (most recent call last):
    ...
    dedup.errors.InputError: menu.txt: not valid UTF-8 (byte 0xe9 at offset 3, line 1); \
if it is Latin-1, try --encoding latin-1
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(source, f"unknown encoding {encoding!r}") from None
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputError(source, f"looks like {what}, not text")
    wide = encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32"))
    if b"\x00" in data[:_SNIFF] and not wide:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError(source, "looks like UTF-16 text; try --encoding utf-16")
        raise InputError(source, "looks like a binary file (it has NUL bytes), not text")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        hint = (
            "; if it is Latin-1, try --encoding latin-1"
            if encoding.lower().replace("-", "").replace("_", "") in {"utf8", "utf8sig"}
            else ""
        )
        name = codecs.lookup(encoding).name.upper()
        raise InputError(
            source,
            f"not valid {name} (byte 0x{data[error.start]:02x} at offset {error.start}, "
            f"line {line}){hint}",
        ) from None


def read_text(path: str | os.PathLike[str], encoding: str = "utf-8") -> str:
    """Read the file at ``path`` as text; see :func:`decode`."""
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except FileNotFoundError:
        raise InputError(source, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(source, "permission denied") from None
    except OSError as error:
        raise InputError(source, error.strerror or str(error)) from None
    return decode(data, source, encoding)


def read_stream(stream: BinaryIO, encoding: str = "utf-8") -> str:
    """Read standard input (or any binary stream) as text; see :func:`decode`."""
    return decode(stream.read(), "<stdin>", encoding)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths name one existing file (so writing one would overwrite the other)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is either wholly written or untouched.

    The bytes go to a temporary file in the same folder, are flushed to disk, and only
    then replace ``path``; on any error the temporary file is removed.
    """
    target = Path(os.fspath(path))
    folder = target.parent
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(str(target), f"cannot write here: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
