"""Documents in: files, folders, standard input, gzip files, HTML pages and JSON Lines
records.

:func:`documents` turns what a user names on the command line into documents, in a
deterministic order: the paths as given, a folder's files sorted by their path within it,
and a JSONL file's records in line order. Hidden files and folders (a name starting with
".") and binary files met inside a folder are skipped, each with a note; a file named
explicitly that cannot be read is an :class:`~dedup.errors.InputError`.

HTML files (``.html``, ``.htm``, ``.xhtml``, gzip or not) are documents of their text, as
:mod:`dedup.extract` finds it (unless ``extract`` is ``"none"``); so are the HTML fields of
JSONL records with ``html_field``.

A dedup index on disk met in a folder is skipped too, named or not: its files are no
documents.

Symbolic links: a path named on the command line is followed, whatever it is; a link met
inside a folder is skipped with a note (as ``grep -r`` does), so a walk never leaves the
folder it was given, never reads a file twice through two names and never loops.
"""

from __future__ import annotations

import codecs
import functools
import io
import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dedup.errors import ConfigError, InputError
from dedup.extract import MAX_HTML, Extract, is_html, page_text, text_name
from dedup.files import is_temporary, looks_binary, open_input, read_chunks, stream_encoding
from dedup.index.disk import is_index

if TYPE_CHECKING:
    from dedup.jsonl import Record

STDIN = "-"
_GZIP = b"\x1f\x8b"


@dataclass(frozen=True)
class Source:
    """A file to read (or standard input): ``name`` as reports show it, ``path`` to open
    (None for standard input) and ``relative``, where ``--output-dir`` puts its output
    (its path within the folder it was found in; ``.txt`` for an HTML page). ``extract``:
    how an HTML page's text is taken (None: the file is text)."""

    name: str
    path: Path | None
    relative: Path
    extract: Extract | None = None

    @property
    def gzipped(self) -> bool:
        """A gzip file (read, and written by ``--output-dir`` and ``--in-place``, as such)."""
        if self.path is None:
            return False
        try:
            with self.path.open("rb") as handle:
                return handle.read(2) == _GZIP
        except OSError:
            return False


@dataclass
class Document:
    """One document: its ``name`` (unique in a run), where it came from, and its text,
    as pieces (``chunks``, with the bytes read so far) or, for a JSONL record, whole along
    with the ``record`` it was in and the record's ``line``. ``encoding`` is the codec that
    writes its cleaned text back byte for byte (see :func:`~dedup.files.stream_encoding`)."""

    name: str
    source: Source
    chunks: Iterator[tuple[str, int]]
    record: Record | None = None
    line: int = 1
    encoding: str = "utf-8"

    def found_encoding(self, encoding: str) -> None:
        self.encoding = encoding


def find(
    paths: Sequence[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    note: Callable[[str], None] = lambda message: None,
    skip_suffix: str | None = None,
    extract: Extract = "main",
    stdin_page: bool = False,
    once: bool | dict[str, str] = True,
    own: Mapping[str, str] = {},
) -> Iterator[Source]:
    """The files named by ``paths``: files as given, folders walked recursively in sorted
    order. Within a folder, a file is taken when its path (relative to the folder) or its
    name matches one of ``include`` (if any) and none of ``exclude``; files ending in
    ``skip_suffix`` (the backups of ``--backup``) are skipped with a note, and so are
    symbolic links (see the module's docstring). HTML files are read with ``extract``, and
    so is standard input when it is a page (``stdin_page``: it has no name to tell).

    A file reached again (``a.txt ./a.txt``, a file and its folder) is skipped with a note,
    ``once``: it is one document, not a repeat of itself (a hard link is another name of
    the corpus, read as such). ``once`` may be the files taken before (real path -> name),
    which the ones taken now are added to, for several calls that make one list.

    ``own`` names the run's own files and folders (path -> what it is: "this run's
    report (--report)"): met in a folder walked, they are skipped with a note, so that a
    run again does not read what the one before wrote (``clean docs --output-dir
    docs/clean``); named, they are inputs like any other file."""
    read: dict[str, str] = once if isinstance(once, dict) else {}
    skip = {os.path.realpath(path): what for path, what in own.items()}

    def first(name: str, real: str) -> bool:
        earlier = read.get(real) if once is not False else None
        if earlier is not None:
            note(f"{name}: skipped, the same file as {earlier}")
            return False
        read[real] = name
        return True

    def source(name: str, path: Path, relative: Path) -> Source:
        if extract == "none" or not is_html(path.name):
            return Source(name, path, relative)
        return Source(name, path, relative.with_name(text_name(relative.name)), extract)

    for given in paths:
        if given == STDIN:
            page = stdin_page and extract != "none"
            if first("<stdin>", STDIN):  # (read once, it is empty the second time)
                yield Source("<stdin>", None, Path("stdin"), extract if page else None)
            continue
        path = Path(given)
        if not path.is_dir():
            if not path.exists():
                raise InputError(given, "no such file")
            if first(given, os.path.realpath(path)):
                yield source(given, path, Path(path.name))
            continue
        taken = 0
        real = os.path.realpath(path)  # (links inside are skipped: a file's is real / relative)
        for file in _walk(path, note, set(), skip, real):
            relative = file.relative_to(path)
            if skip_suffix and file.name.endswith(skip_suffix):
                note(f"{file}: skipped, a backup ({skip_suffix})")
                continue
            if include and not _matches(relative, include):
                continue
            if _matches(relative, exclude):
                continue
            if looks_binary(file):
                note(f"{file}: skipped, binary")
                continue
            taken += 1
            if first(str(file), os.path.join(real, relative)):
                yield source(str(file), file, relative)
        if not taken:  # a check of a corpus that is not there passes: say so
            chosen = " that --include/--exclude choose" if include or exclude else ""
            note(f"{given}: no file to read in it{chosen}")


def _walk(
    folder: Path,
    note: Callable[[str], None],
    seen: set[tuple[int, int]],
    skip: Mapping[str, str],
    real: str,
) -> Iterator[Path]:
    """The files in ``folder`` (whose real path is ``real``: links inside are not
    followed), but the run's own (``skip``, by real path)."""
    try:
        info = folder.stat()
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as error:
        raise InputError(str(folder), error.strerror or str(error)) from None
    if (info.st_dev, info.st_ino) in seen:  # a bind mount of a folder above: once only
        note(f"{folder}: skipped, a folder already walked")
        return
    seen.add((info.st_dev, info.st_ino))
    for entry in entries:
        if is_temporary(entry.name):
            continue  # a dedup run's temporary file: never a document
        own = skip.get(os.path.join(real, entry.name)) if skip else None
        if entry.name.startswith("."):
            note(f"{entry}: skipped, hidden")
        elif own is not None:
            note(f"{entry}: skipped, {own}")
        elif entry.is_symlink():
            note(f"{entry}: skipped, a symbolic link (name its target to clean it)")
        elif entry.is_dir() and is_index(entry):  # (one named is the run's own, above)
            note(f"{entry}: skipped, a dedup index (--index names it)")
        elif entry.is_dir():
            yield from _walk(entry, note, seen, skip, os.path.join(real, entry.name))
        elif entry.is_file():
            yield entry


def _matches(relative: Path, patterns: Sequence[str]) -> bool:
    """Whether the file at ``relative`` (its path within the folder walked), or a folder it
    is in, matches one of ``patterns``, read as ``.gitignore`` reads them: a pattern
    without ``/`` matches a name at any depth, one with ``/`` the path from the folder
    walked; ``*`` and ``?`` stop at ``/``, ``**/`` is any number of folders (none
    included), a ``/`` at the end matches folders only; a folder's match takes every file
    in it."""
    parts = relative.parts
    for pattern in patterns:
        folders_only = pattern.endswith("/")
        body = pattern.rstrip("/")
        anchored = "/" in body
        regex = _glob(body.lstrip("/"))
        for depth in range(len(parts) - 1 if folders_only else len(parts)):
            text = "/".join(parts[: depth + 1]) if anchored else parts[depth]
            if regex.match(text):
                return True
    return False


@functools.lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    """A glob (see :func:`_matches`) as a regular expression."""
    out, at = [], 0
    while at < len(pattern):
        if pattern.startswith("**/", at):
            out.append("(?:.*/)?")
            at += 3
        elif pattern.startswith("**", at):
            out.append(".*")
            at += 2
        elif pattern[at] == "*":
            out.append("[^/]*")
            at += 1
        elif pattern[at] == "?":
            out.append("[^/]")
            at += 1
        elif pattern[at] == "[" and (end := _class_end(pattern, at)) > 0:
            inside = pattern[at + 1 : end].replace("\\", "\\\\")
            if inside.startswith("!"):  # as fnmatch: [!...] is the class's complement
                inside = "^" + inside[1:]
            elif inside.startswith("^"):  # and ^ a character like any other
                inside = "\\" + inside
            out.append(f"[{inside}]")
            at = end + 1
        else:
            out.append(re.escape(pattern[at]))
            at += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _class_end(pattern: str, start: int) -> int:
    """Where the ``[...]`` class that opens at ``start`` closes; -1 if it does not."""
    at = start + 1
    if pattern[at : at + 1] == "!":
        at += 1
    if pattern[at : at + 1] == "]":
        at += 1
    return pattern.find("]", at)


def _open(source: Source, stdin: BinaryIO | None) -> tuple[BinaryIO, BinaryIO]:
    """The stream to read (decompressing a gzip file on the way) and the raw one."""
    if source.path is None:
        raw = stdin if stdin is not None else io.BytesIO()
        if raw.closed:
            raise InputError(source.name, "standard input is closed")
    else:
        raw = open_input(str(source.path))
    try:
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    except OSError as error:
        raise InputError(source.name, error.strerror or str(error)) from None
    if head == _GZIP:
        import gzip  # here, not at the top: most input is not compressed

        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]
    return raw, raw


@contextmanager
def _reading(source: Source, stdin: BinaryIO | None) -> Iterator[BinaryIO]:
    """The stream of ``source`` to read (see :func:`_open`), closed after; an error while
    reading becomes an :class:`InputError` that names the source."""
    stream, raw = _open(source, stdin)
    try:
        yield stream
    except (OSError, EOFError, zlib.error) as error:
        if stream is raw:
            raise InputError(source.name, getattr(error, "strerror", None) or str(error)) from None
        detail = str(error) or "it ends too soon"
        raise InputError(source.name, f"cannot read the gzip data: {detail}") from None
    finally:
        if stream is not raw:
            stream.close()
        if source.path is not None:
            raw.close()


def chunks(
    source: Source,
    encoding: str,
    stdin: BinaryIO | None = None,
    found: Callable[[str], None] = lambda encoding: None,
) -> Iterator[tuple[str, int]]:
    """The text of ``source`` a piece at a time (gzip files decompressed on the way).
    Before the first piece, ``found`` gets the codec that writes the text back byte for
    byte (see :func:`~dedup.files.stream_encoding`)."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(source.name, f"unknown encoding {encoding!r}") from None
    with _reading(source, stdin) as stream:
        head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
        concrete = stream_encoding(encoding, head)
        found(concrete)
        yield from read_chunks(None, concrete, stream=stream, name=source.name)


def page(source: Source, stdin: BinaryIO | None = None) -> Iterator[tuple[str, int]]:
    """The text of the HTML page ``source`` (read whole), as one piece."""
    assert source.extract is not None and source.extract != "none"
    with _reading(source, stdin) as stream:
        data = stream.read(MAX_HTML + 1)
    if len(data) > MAX_HTML:
        raise InputError(
            source.name,
            f"an HTML page larger than {MAX_HTML:,} bytes, too large to extract "
            "(--extract none cleans it as text)",
        )
    yield page_text(data, source.extract), len(data)


def documents(
    sources: Iterator[Source],
    encoding: str = "utf-8",
    jsonl: bool = False,
    text_field: str = "text",
    id_field: str | None = "id",
    stdin: BinaryIO | None = None,
    html_field: str | None = None,
    extract: Extract = "main",
) -> Iterator[Document]:
    """The documents of ``sources``: one a file (an HTML page's text), or one a JSONL
    record (with ``html_field``, the text of the page it holds there, taken with
    ``extract``)."""
    ids: set[str] = set()
    for source in sources:
        if source.extract is not None and not jsonl:
            yield Document(source.name, source, page(source, stdin))
            continue
        if not jsonl:
            document = Document(source.name, source, iter(()))
            document.chunks = chunks(source, encoding, stdin, document.found_encoding)
            yield document
            continue
        pieces = chunks(source, encoding, stdin)
        for number, line in enumerate(_lines(pieces), start=1):
            if blank(line):
                continue
            where = f"{source.name}:{number}"
            if html_field is None:
                name, text, record = jsonl_document(line, where, text_field, id_field)
            else:
                name, html, record = jsonl_document(
                    line, where, html_field, id_field, "--html-field"
                )
                if extract == "none":
                    raise ConfigError("extract 'none' reads no HTML: name the field as text_field")
                text = page_text(html, extract)
            if name in ids:
                raise InputError(
                    where,
                    f"id {name!r} names an earlier document too; ids must be unique (--id-field)",
                )
            ids.add(name)
            yield Document(name, source, iter([(text, 0)]), record=record, line=number)


def blank(line: str) -> bool:
    """True for a JSONL line that holds no record: blank, or a byte order mark alone."""
    return not line.strip().lstrip("\ufeff")


def jsonl_document(
    line: str,
    where: str,
    text_field: str = "text",
    id_field: str | None = "id",
    option: str = "--text-field",
) -> tuple[str, str, Record]:
    """The document on JSONL ``line`` (at ``where``: file and line number): its name (its
    id, else ``where``), text and record; an :class:`~dedup.errors.InputError` naming
    ``where`` when the line is no JSON object with a string text field."""
    from dedup.jsonl import NotJSON, parse_record  # with json: only for JSONL

    try:
        record = parse_record(line)
    except NotJSON as error:
        raise InputError(where, str(error)) from None
    text = record.value(text_field) if text_field in record else None
    if not isinstance(text, str):
        problem = "has no" if text_field not in record else "has a non-string"
        raise InputError(where, f"{problem} {text_field!r} field ({option})")
    key = record.value(id_field) if id_field and id_field in record else None
    return (where if key is None else str(key)), text, record


def _lines(pieces: Iterator[tuple[str, int]]) -> Iterator[str]:
    """Lines of a text given in pieces (JSON Lines: one record a line)."""
    held: list[str] = []  # the start of a line that goes on in the next piece
    for text, _ in pieces:
        if "\n" not in text:
            held.append(text)
            continue
        first, *lines, rest = text.split("\n")
        yield "".join([*held, first])
        yield from lines
        held = [rest]
    if any(held):
        yield "".join(held)
