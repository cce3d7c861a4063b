"""What a cleaning run gives back: the cleaned text, every removal with its reason, a
unified diff, a JSON-ready report, and :func:`restore`, which undoes it all.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from dedup.config import Config, SplitMode
from dedup.errors import ReportError
from dedup.files import Writable
from dedup.lazy import lazy_re
from dedup.paragraphs import Paragraph
from dedup.verify import Kind

REPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Removal:
    """One removed paragraph and the kept paragraph it repeats.

    ``start``/``end`` is the paragraph's span in the original text. It left the text with
    the whitespace around it on its lines and one line break (see :mod:`dedup.stream`):
    ``cut_start``/``cut_end`` is the span of all that, and ``before``/``after`` the
    whitespace on either side of the paragraph within it.
    """

    index: int
    text: str
    start: int
    end: int
    duplicate_of: int
    duplicate_of_document: str | None
    kind: Kind
    similarity: float
    reason: str
    also_repeats: tuple[tuple[str | None, int], ...]
    cut_start: int
    cut_end: int
    before: str
    after: str
    #: The line the paragraph starts on, counting from 1 (line breaks are LF, CRLF or CR).
    line: int = 0

    def __reduce__(self) -> tuple[type[Removal], tuple[Any, ...]]:
        # Pickled as its fields, as a Verdict is: the slots' __getstate__ lists the
        # dataclass's fields each time (a sixth of the time the Spark job took to pass
        # a million lines' cuts on, session 50).
        return Removal, _REMOVAL_FIELDS(self)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "line": self.line,
            "duplicate_of": self.duplicate_of,
            "kind": self.kind,
            "similarity": round(self.similarity, 4),
            "reason": self.reason,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "cut_start": self.cut_start,
            "cut_end": self.cut_end,
            "before": self.before,
            "after": self.after,
        }
        if self.duplicate_of_document is not None:
            out["duplicate_of_document"] = self.duplicate_of_document
        if self.also_repeats:
            out["also_repeats"] = [
                {"index": index} if document is None else {"document": document, "index": index}
                for document, index in self.also_repeats
            ]
        return out


@dataclass(frozen=True, slots=True)
class CloseCall:
    """A kept paragraph that resembles a kept earlier one, and why it is not a repeat."""

    index: int
    candidate: int
    candidate_document: str | None
    similarity: float
    reason: str

    def __reduce__(self) -> tuple[type[CloseCall], tuple[Any, ...]]:
        return CloseCall, _CLOSE_CALL_FIELDS(self)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "candidate": self.candidate,
            "similarity": round(self.similarity, 4),
            "reason": self.reason,
        }
        if self.candidate_document is not None:
            out["candidate_document"] = self.candidate_document
        return out


#: A :class:`Removal`'s and a :class:`CloseCall`'s fields, in order, as a tuple.
_REMOVAL_FIELDS = operator.attrgetter(*(f.name for f in fields(Removal)))
_CLOSE_CALL_FIELDS = operator.attrgetter(*(f.name for f in fields(CloseCall)))


@dataclass(frozen=True)
class CleanResult:
    """The outcome of cleaning one document.

    ``split`` is the split mode used: ``"auto"`` resolved to ``"lines"`` or ``"blank"``.
    Cleaning ``text`` again with that mode removes nothing more. ``close`` lists the kept
    paragraphs that came close to repeating an earlier one, with the reason they stayed.
    """

    original: str
    text: str
    paragraphs: tuple[Paragraph, ...]
    removed: tuple[Removal, ...]
    split: SplitMode
    close: tuple[CloseCall, ...] = ()
    document: str | None = None

    def diff(self, context: int = 1) -> str:
        """A unified diff of the lines removed ("" when nothing changed).

        Lines are compared without their line endings, so a removed last paragraph does not
        show the one before it as changed for losing its newline.
        """
        return unified_diff(self.original, self.text, self.document or "text", context)

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        """The report entry of this document; with ``explain``, the close calls too."""
        out = {
            "path": self.document,
            "split": self.split,
            "paragraphs": len(self.paragraphs),
            "removed": [removal.to_dict() for removal in self.removed],
        }
        if explain:
            out["kept_close"] = [call.to_dict() for call in self.close]
        return out


_LINE_BREAK = lazy_re(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """The lines of ``text`` without their breaks, counted as the report counts them: at
    LF, CRLF and CR only (``str.splitlines`` also breaks at ``\\v``, ``\\f``, U+2028, ...).

    >>> text_lines("a\\vb\\r\\nc\\rd\\n")
    ['a\\x0bb', 'c', 'd']
    """
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def unified_diff(original: str, cleaned: str, name: str, context: int = 1) -> str:
    """See :meth:`CleanResult.diff`."""
    lines = difflib.unified_diff(
        text_lines(original),
        text_lines(cleaned),
        fromfile=name,
        tofile=f"{name} (cleaned)",
        n=context,
        lineterm="",
    )
    return "".join(line + "\n" for line in lines)


def report(results: Iterable[CleanResult], config: Config, explain: bool = False) -> dict[str, Any]:
    """The JSON report of a run: its version, the settings in force, every document."""
    return {
        "version": REPORT_VERSION,
        "settings": config.as_dict(),
        "documents": [result.to_dict(explain=explain) for result in results],
    }


class ReportWriter:
    """Writes the JSON report of :func:`report` while documents are cleaned, one removal
    at a time, so that a report of millions of removals is never held in memory (close
    calls, listed with ``explain``, are held until their document ends).

    The JSON has the same content as ``report()``; one removal a line.
    """

    def __init__(self, handle: Writable, config: Config, explain: bool = False) -> None:
        import json  # only when a report is written (~3 ms of a start)

        self._dumps = json.dumps
        self._handle = handle
        self._explain = explain
        self._documents = 0
        self._removals = 0
        self._close: list[CloseCall] = []
        head = self._dumps({"version": REPORT_VERSION, "settings": config.as_dict()})
        self._put(head[:-1] + ', "documents": [')

    def _put(self, text: str) -> None:
        # A lone surrogate (a file name's byte that is not UTF-8, as Python holds it): a
        # JSON \u escape, which json.loads reads back as the same str.
        self._handle.write(text.encode("utf-8", "backslashreplace"))

    def start(self, path: str | None) -> None:
        """A document begins."""
        self._put(("," if self._documents else "") + "\n  {")
        self._put(f'"path": {self._dumps(path, ensure_ascii=False)}, "removed": [')
        self._documents += 1
        self._removals = 0
        self._close = []

    def add(self, events: Iterable[Removal | CloseCall]) -> None:
        for event in events:
            if isinstance(event, CloseCall):
                self._close.append(event)
                continue
            entry = self._dumps(event.to_dict(), ensure_ascii=False)
            self._put(("," if self._removals else "") + "\n    " + entry)
            self._removals += 1

    def end(self, split: SplitMode, paragraphs: int) -> None:
        """The document ended, with ``paragraphs`` paragraphs cut in ``split`` mode."""
        self._put("\n  ]" if self._removals else "]")
        self._put(f', "split": {self._dumps(split)}, "paragraphs": {paragraphs}')
        if self._explain:
            calls = self._dumps([c.to_dict() for c in self._close], ensure_ascii=False)
            self._put(f', "kept_close": {calls}')
        self._put("}")

    def close(self) -> None:
        self._put("\n]}\n")


def restore(cleaned: str, removed: Iterable[Removal | Mapping[str, Any]]) -> str:
    """Rebuild the original text from the cleaned text and its removals (or report entries).

    >>> from dedup import clean
    >>> result = clean("Same words here.\\nOther.\\nSame words here.\\n")
    >>> result.text
    'Same words here.\\nOther.\\n'
    >>> restore(result.text, result.removed) == result.original
    True
    """
    entries = [r.to_dict() if isinstance(r, Removal) else dict(r) for r in removed]
    entries.sort(key=lambda r: int(r["cut_start"]))
    pieces = []
    position = 0  # in the cleaned text
    shift = 0  # characters removed before ``position``
    for entry in entries:
        piece = str(entry["before"]) + str(entry["text"]) + str(entry["after"])
        cut_start, cut_end = int(entry["cut_start"]), int(entry["cut_end"])
        at = cut_start - shift
        if cut_end - cut_start != len(piece) or not position <= at <= len(cleaned):
            raise ReportError(
                f"removal of paragraph {entry.get('index')} at {cut_start}-{cut_end} "
                "does not fit the cleaned text"
            )
        pieces.append(cleaned[position:at])
        pieces.append(piece)
        position = at
        shift += len(piece)
    pieces.append(cleaned[position:])
    return "".join(pieces)
