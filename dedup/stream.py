"""Cleaning a document as it arrives: pieces of text in, cleaned text and removals out.

A :class:`Cleaner` takes a document in pieces of any size (``feed``), cuts it into
paragraphs as soon as their lines are complete, decides them a batch at a time against the
deduplicator's index and writes the cleaned text as soon as it is known, so a document is
never held whole: only the paragraphs waiting for a decision, and a run of removed ones
waiting to know whether a kept paragraph follows them (that decides which line break goes
with them, see :mod:`dedup.stream`).

Let a document be ``g0 L0 g1 L1 ... Ln-1 gn``: ``Li`` the lines of paragraph ``i``, ``gi``
the line breaks and blank lines between them. A removed paragraph takes ``Li`` and
``gi+1`` when a kept paragraph follows it, else ``gi`` and ``Li`` (only ``L0`` for the
first). So ``g0`` and ``gn`` always stay, and a kept paragraph is written with the gap
before the run of removed paragraphs that precedes it (or its own).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

import regex

from dedup.config import SplitMode
from dedup.fingerprint import Batch
from dedup.paragraphs import BlankBlocks, Paragraph, split_resolved
from dedup.result import CloseCall, Removal

if TYPE_CHECKING:
    from dedup.deduplicator import Decision, Deduplicator

_BREAK = regex.compile(r"\r\n|\n|\r")

#: Paragraphs decided together: their keys are looked up in the index at once, and the
#: ones kept are added to it at once (within the batch, the pairs are found by sorting).
BATCH = 4096

Event = Removal | CloseCall


@dataclass(frozen=True, slots=True)
class _Unit:
    """A paragraph on its way: where it stands, its lines and the gap before them."""

    paragraph: Paragraph
    lines: str
    gap: str
    line: int

    @property
    def text(self) -> str:
        p = self.paragraph
        return self.lines[p.start - p.line_start : p.end - p.line_start]


def _breaks(text: str, start: int, end: int) -> int:
    """Line breaks in ``text[start:end]`` (a CRLF is one; a piece never ends inside one)."""
    return (
        text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    )


def _safe_end(text: str) -> int:
    """Where ``text`` can be cut after a whole line (not inside a CRLF); 0 if nowhere."""
    return max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1


class Cleaner:
    """Cleans one document given in pieces; see the module's docstring.

    ``write`` receives the cleaned text in order; ``feed`` and ``close`` return the
    removals (once final) and close calls decided meanwhile. After ``close``, ``split``
    is the split mode used, ``paragraphs`` how many there were and ``removed`` the
    removals by kind.

    >>> from dedup import Deduplicator
    >>> out = []
    >>> cleaner = Deduplicator().cleaner("doc", out.append)
    >>> cleaner.feed("A line that is long enough to count here.\\nOther")
    []
    >>> events = cleaner.feed(" line.\\nA line that is long enough to count here!\\n")
    >>> [(e.index, e.duplicate_of, e.kind) for e in cleaner.close()]
    [(2, 0, 'near')]
    >>> "".join(out)
    'A line that is long enough to count here.\\nOther line.\\n'
    """

    def __init__(
        self,
        deduplicator: Deduplicator,
        document: str,
        write: Callable[[str], None],
        record: bool = False,
    ) -> None:
        self._dedup = deduplicator
        self.document = document
        self._write = write
        mode = deduplicator.config.split
        self.split: SplitMode | None = None if mode == "auto" else mode
        self._detector = BlankBlocks()
        self._scanned = 0  # of the buffer, by the detector
        self._buffer: list[str] = []  # text received and not yet cut into paragraphs
        self._offset = 0  # of the buffer in the document
        self._gap = ""  # text after the last paragraph cut, up to the buffer
        self._units: list[_Unit] = []  # paragraphs not yet in a batch
        # Batches being fingerprinted (by worker processes, with jobs > 1), oldest first.
        self._queue: deque[tuple[list[_Unit], Future[Batch]]] = deque()
        self._run: list[tuple[_Unit, Decision]] = []  # removed, waiting for what follows
        self._kept_any = False
        self._started = False  # g0 is written
        self.paragraphs = 0
        self._breaks = 0  # line breaks before the buffer
        self.removed: Counter[str] = Counter()
        #: Every paragraph, when asked to ``record`` them (for a :class:`CleanResult`).
        self.recorded: list[Paragraph] | None = [] if record else None
        self._closed = False

    def feed(self, text: str) -> list[Event]:
        """Take the next piece of the document."""
        if self._closed:
            raise ValueError("feed() after close()")
        self._buffer.append(text)
        if self.split is None and not self._resolve(final=False):
            return []
        return self._advance(final=False)

    def close(self) -> list[Event]:
        """The document is complete: decide and write the rest."""
        if self._closed:
            return []
        self._closed = True
        if self.split is None:
            self._resolve(final=True)
        events = self._advance(final=True)
        if self._units:
            units, self._units = self._units, []
            self._queue.append((units, self._dedup.fingerprints(self._texts(units), wait=True)))
        while self._queue:
            events += self._decide(*self._queue.popleft())
        if not self._started and self._run:  # no kept paragraph came to write g0
            self._write(self._run[0][0].gap)
        events += self._flush_run(kept_after=None)
        self._write(self._gap)
        return events

    def _resolve(self, final: bool) -> bool:
        """Settle ``"auto"``: blank blocks seen in the lines so far, or none in the whole."""
        text = "".join(self._buffer)
        self._buffer = [text]
        end = len(text) if final else _safe_end(text)
        if end > self._scanned and self._detector.feed(text[self._scanned : end]):
            self.split = "blank"
        elif final:
            self.split = "lines"
        self._scanned = max(self._scanned, end)
        return self.split is not None

    def _advance(self, final: bool) -> list[Event]:
        text = "".join(self._buffer)
        end = len(text) if final else _safe_end(text)
        assert self.split is not None
        _, paragraphs = split_resolved(text[:end], self.split, start_of_text=self._offset == 0)
        if paragraphs and not final and self.split == "blank":
            # The last block may go on in the next piece unless a blank line follows it.
            last = paragraphs[-1]
            if len(_BREAK.findall(text, last.line_end, end)) < 2:
                paragraphs.pop()
                end = last.line_start
        position = 0
        for p in paragraphs:
            self._breaks += _breaks(text, position, p.line_start)
            gap = self._gap + text[position : p.line_start]
            self._gap = ""
            position = p.line_end
            at = self._offset
            paragraph = Paragraph(
                self.paragraphs,
                p.start + at,
                p.end + at,
                p.line_start + at,
                p.line_end + at,
            )
            self.paragraphs += 1
            if self.recorded is not None:
                self.recorded.append(paragraph)
            self._units.append(
                _Unit(paragraph, text[p.line_start : p.line_end], gap, self._breaks + 1)
            )
            self._breaks += _breaks(text, p.line_start, p.line_end)
        self._breaks += _breaks(text, position, end)
        self._gap += text[position:end]
        self._buffer = [text[end:]]
        self._offset += end
        self._scanned = max(0, self._scanned - end)
        events: list[Event] = []
        while len(self._units) >= BATCH:
            units = self._units[:BATCH]
            del self._units[:BATCH]
            self._queue.append((units, self._dedup.fingerprints(self._texts(units), wait=False)))
            # Keep the workers busy: decide the oldest batch once each has one to do.
            while len(self._queue) > (self._dedup.jobs if self._dedup.jobs > 1 else 0):
                events += self._decide(*self._queue.popleft())
        return events

    @staticmethod
    def _texts(units: list[_Unit]) -> list[str]:
        return [unit.text for unit in units]

    def _decide(self, units: list[_Unit], fingerprints: Future[Batch]) -> list[Event]:
        batch = fingerprints.result()
        first = units[0].paragraph.index
        decisions = {d.index: d for d in self._dedup.decide(batch, self.document, first)}
        events: list[Event] = []
        for unit in units:
            decision = decisions.get(unit.paragraph.index)
            if decision is not None and decision.repeat:
                self._run.append((unit, decision))
                continue
            if decision is not None:
                events.append(decision.close_call())
            events += self._flush_run(kept_after=unit)
            self._write(self._run_gap(unit) + unit.lines)
            self._started = True
            self._run = []
        return events

    def _run_gap(self, unit: _Unit) -> str:
        """The gap written before a kept paragraph: the one before the removed run."""
        return self._run[0][0].gap if self._run else unit.gap

    def _flush_run(self, kept_after: _Unit | None) -> list[Event]:
        """The removals of the run, now that what follows it is known."""
        events: list[Event] = []
        for position, (unit, decision) in enumerate(self._run):
            p = unit.paragraph
            indent = unit.lines[: p.start - p.line_start]
            trail = unit.lines[p.end - p.line_start :]
            if kept_after is not None:
                following = (
                    self._run[position + 1][0] if position + 1 < len(self._run) else kept_after
                )
                before, after = indent, trail + following.gap
                cut_start = p.line_start
            elif p.index == 0:
                before, after, cut_start = indent, trail, p.line_start
            else:
                before, after = unit.gap + indent, trail
                cut_start = p.line_start - len(unit.gap)
            events.append(decision.removal(unit.text, p, before, after, cut_start, unit.line))
            self.removed[decision.verdict.kind or ""] += 1
        return events
