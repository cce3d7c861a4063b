"""Cleaning a document as it arrives: pieces of text in, cleaned text and removals out.

A :class:`Cleaner` takes a document in pieces of any size (``feed``), cuts it into
paragraphs as soon as their lines are complete, decides them a batch at a time against the
deduplicator's index and writes the cleaned text as soon as it is known, so a document is
never held whole: only the text from the end of what was written to the end of what was
received (the paragraphs waiting for a decision, and a run of removed ones waiting to know
whether a kept paragraph follows them, which decides the line breaks that go with them).

Let a document be ``g0 L0 g1 L1 ... Ln-1 gn``: ``Li`` the lines of paragraph ``i``, ``gi``
the line breaks and blank lines between them. A removed paragraph takes ``Li`` and
``gi+1`` when a kept paragraph follows it, else ``gi`` and ``Li`` (only ``L0`` for the
first). So ``g0`` and ``gn`` always stay, and a kept paragraph is written with the gap
before the run of removed paragraphs that precedes it (or its own).

Paragraphs travel as arrays (:class:`~dedup.paragraphs.Spans`), never one object each:
what is written for a batch is one join of the text between the cuts.
"""

from __future__ import annotations

import bisect
from collections import Counter, deque
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from dedup.config import SplitMode
from dedup.decision import Decided, Decider, Decision, Pending
from dedup.fingerprint import Batch
from dedup.paragraphs import Paragraph, Spans, Wrapping, auto_mode, auto_ready, lines, spans
from dedup.result import CloseCall, Removal

#: Paragraphs decided together: their keys are looked up in the index at once, and the
#: ones kept are added to it at once (within the batch, the pairs are found by sorting).
BATCH = 4096

#: What :attr:`Cleaner.removed` counts near and contained repeats under when nobody reads
#: their kinds.
REPEAT = "repeat"

#: A paragraph longer than this (in characters: a data blob, a minified script, a whole
#: book on one line) is kept whole and compared with nothing: signing it would take memory
#: in proportion to its length times the permutations.
MAX_COMPARED = 1 << 20

#: How many lines above and below a batch's lines are looked at for the sentences they are
#: part of, when those are wrapped over lines (:func:`~dedup.paragraphs.wrapped_lines`): the
#: lines of a longer one further away are not seen.
LOOKAROUND = 16

Event = Removal | CloseCall


def _safe_end(text: str, start: int = 0) -> int:
    """Where ``text`` can be cut after a whole line (not inside a CRLF), looking from
    ``start`` on (without copying the text); ``start`` if nowhere."""
    return max(text.rfind("\n", start), text.rfind("\r", start, len(text) - 1), start - 1) + 1


def line_breaks(text: str) -> int:
    """Line breaks in ``text`` (a CRLF is one)."""
    breaks = text.count("\n")
    if "\r" in text:  # most text has none: one pass then, not three
        breaks += text.count("\r") - text.count("\r\n")
    return breaks


class _Removed(NamedTuple):
    """A removed paragraph waiting for what follows its run (offsets in the document):
    the end of the lines before it (None for the first paragraph), the start of the lines
    after it (None until known) and the decision."""

    paragraph: Paragraph
    line: int
    previous_end: int | None
    next_start: int | None
    decision: Decision


def checked_text(text: object) -> str:
    """``text``, which must be a str (a document's text, or a piece of it): anything else
    is refused before it is taken for one."""
    if not isinstance(text, str):
        raise TypeError(f"the text of a document is a str, not {type(text).__name__}")
    return text


class Cleaner:
    """Cleans one document given in pieces; see the module's docstring.

    ``write`` receives the cleaned text in order; ``feed`` and ``close`` return the
    removals (once final) and close calls decided meanwhile, unless ``events`` is False
    (then only the text is written). ``texts``, when given, receives every paragraph as
    written ('' for one too long to compare), a batch at a time once it is decided: the
    index of the batch's first paragraph and their texts (what a report shows beside a
    later copy). After ``close``, ``split``
    is the split mode used, ``paragraphs`` how many there were and ``removed`` the removals
    by kind; with neither ``events`` nor ``kinds``, the near and contained ones are counted
    as one, under ``"repeat"`` (nobody reads their kinds: each removed paragraph's search
    for the kept ones it repeats then ends at the first, fewer pairs verified).

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
        deduplicator: Decider,
        document: str,
        write: Callable[[str], None],
        record: bool = False,
        events: bool = True,
        texts: Callable[[int, list[str]], None] | None = None,
        kinds: bool = True,
    ) -> None:
        self._dedup = deduplicator
        self.document = document
        self._write = write
        self._events = events
        # Removals told apart by kind (whose best verdict takes every candidate verified),
        # or, when nobody reads that, only counted (the search for a removed paragraph's
        # repeats ends at the first one found).
        self._kinds = kinds or events
        self._texts_to = texts
        mode = deduplicator.config.split
        self.split: SplitMode | None = None if mode == "auto" else mode
        self._scanned = 0  # "auto": where the line breaks were counted up to, and how many
        self._breaks_seen = 0
        # The document's text from _written on, as pieces (offset, text) in the order they
        # came, that may overlap: a piece fed is joined to what was not cut of the last
        # one, not to everything held, which would be copied at every piece (with text
        # in several character widths, widened too: 1M lines, 5 ms a piece). The last
        # piece holds everything from _cut on, so a paragraph lies within one piece.
        # Those from _first on are held (a document fed a line at a time makes many).
        self._parts: list[tuple[int, str]] = [(0, "")]
        self._starts = [0]  # where each piece starts
        self._first = 0
        self._written = 0  # offset up to which the cleaned text is written (or cut)
        self._cut = 0  # offset up to which the text is cut into paragraphs
        self._lines = 0  # line breaks before _cut
        self._waiting: list[Spans] = []  # paragraphs not yet in a batch
        self._count = 0  # of the paragraphs waiting
        # Batches being fingerprinted (by worker processes, with jobs > 1), oldest first.
        self._queue: deque[tuple[Spans, int, Pending[Batch]]] = deque()
        # The last lines sent to be decided ("lines"), as written, and their numbers.
        self._above: tuple[list[str], list[int]] = ([], [])
        # The run of removed paragraphs at the end of what was decided: its first lines'
        # start, whether it starts the document, and (for the events) the paragraphs.
        self._run_start: int | None = None
        self._run_first = False
        self._run: list[_Removed] = []
        self._last_end = 0  # the end of the lines of the last paragraph decided
        self.paragraphs = 0
        self.removed: Counter[str] = Counter()
        #: Every paragraph, when asked to ``record`` them (for a :class:`CleanResult`).
        self.recorded: list[Paragraph] | None = [] if record else None
        self._closed = False  # ended: no more text
        self._done = False  # closed: decided and written
        self._held: tuple[Spans, int, list[str], Wrapping | None] | None = None

    def feed(self, text: str) -> list[Event]:
        """Take the next piece of the document."""
        if self._closed:
            raise ValueError("feed() after close()")
        text = checked_text(text)
        start, last = self._parts[-1]
        at = self._cut - start
        if text and 2 * at >= len(last):  # most of the last piece was cut: a new one
            self._parts.append((self._cut, last[at:] + text))
            self._starts.append(self._cut)
        else:  # (an empty read adds nothing)
            self._parts[-1] = (start, last + text)
        if self.split is None and not self._resolve(final=False):
            return []
        return self._advance(final=False)

    def end(self, hold: bool = False) -> list[Event]:
        """The document is complete: cut the rest into paragraphs and hand them to be
        fingerprinted (deciding only the full batches before them); :meth:`close` decides
        and writes the rest. With ``hold``, the paragraphs of a document that fills no
        batch are held back instead (:attr:`held`), for the caller to decide with other
        documents' (:meth:`~dedup.deduplicator.Deduplicator.decide_groups`) and give
        :meth:`close` what was decided."""
        if self._closed:
            return []
        self._closed = True
        if self.split is None:
            self._resolve(final=True)
        events = self._advance(final=True)
        if self._count and hold and not self._queue:
            self._held = self._take(self._count)
        elif self._count:
            # To the workers while this process decides the batches still queued; here
            # when there are none (a short document needs no worker process).
            self._submit(self._count, wait=not self._queue)
        return events

    @property
    def held(self) -> tuple[list[str], Wrapping | None, int] | None:
        """The paragraphs :meth:`end` held back: as written, the lines around them (split
        ``"lines"``) and the index of the first; None when there are none."""
        if self._held is None:
            return None
        _, first, texts, wrapping = self._held
        return texts, wrapping, first

    def close(self, decided: Decided | None = None) -> list[Event]:
        """The document is complete: decide and write the rest (the paragraphs held back
        by :meth:`end` as ``decided`` says, or here when not given)."""
        if self._done:
            return []
        self._done = True
        events = self.end()
        if self._held is not None:
            spans, first, texts, wrapping = self._held
            self._held = None
            if decided is not None:
                events += self._apply(spans, first, decided)
            else:
                self._queue.append((spans, first, self._dedup.fingerprints(texts, True, wrapping)))
        while self._queue:
            events += self._decide(*self._queue.popleft())
        start, last = self._parts[-1]
        end = start + len(last)
        if self._run_start is not None:  # a run of removed paragraphs ends the document
            start = self._run_start if self._run_first else self._written
            events += self._flush(closed=False)
            self._emit([self._written, start, self._last_end, end])
        else:
            self._emit([self._written, end])
        return events

    def _resolve(self, final: bool) -> bool:
        """Settle ``"auto"`` once the beginning it is decided on has arrived (see
        :func:`~dedup.paragraphs.auto_mode`); nothing is cut or written before."""
        start, text = self._parts[-1]  # the whole document so far: nothing was cut yet
        assert start == 0
        end = len(text) if final else _safe_end(text)
        if end > self._scanned:
            self._breaks_seen += line_breaks(text[self._scanned : end])
            self._scanned = end
        if final or auto_ready(len(text), self._breaks_seen):
            self.split = auto_mode(text)
        return self.split is not None

    def _advance(self, final: bool) -> list[Event]:
        """Cut the complete lines received into paragraphs, and decide full batches."""
        assert self.split is not None
        start, text = self._parts[-1]
        at = self._cut - start
        end = len(text) if final else _safe_end(text, at)
        piece = text[at:end]
        piece_lines = lines(piece, start_of_text=self._cut == 0)
        found = spans(piece_lines, self.split)
        # The last block may go on in the next piece unless a blank line follows it.
        if (
            len(found)
            and not final
            and self.split == "blank"
            and found.line_end[-1] == piece_lines.line_end[-1]
        ):
            end = at + int(found.line_start[-1])
            piece = text[at:end]
            found = Spans(*(a[:-1] for a in found))
        shift = self._cut
        found = Spans(
            found.start + shift,
            found.end + shift,
            found.line_start + shift,
            found.line_end + shift,
            found.line + self._lines + 1,
        )
        if self.recorded is not None:
            self.recorded += found.paragraphs(self.paragraphs)
        self.paragraphs += len(found)
        self._lines += line_breaks(piece)
        self._cut += len(piece)
        if len(found):
            self._waiting.append(found)
            self._count += len(found)
        events: list[Event] = []
        while self._count > BATCH + LOOKAROUND:  # a batch's last lines see the next ones
            self._submit(BATCH, wait=False)
            # Keep the workers busy: decide the oldest batch once each has one to do.
            while len(self._queue) > (self._dedup.jobs if self._dedup.jobs > 1 else 0):
                events += self._decide(*self._queue.popleft())
        return events

    def _submit(self, count: int, wait: bool) -> None:
        """Send the first ``count`` waiting paragraphs to be fingerprinted, as a batch."""
        batch, first, texts, wrapping = self._take(count)
        self._queue.append((batch, first, self._dedup.fingerprints(texts, wait, wrapping)))

    def _take(self, count: int) -> tuple[Spans, int, list[str], Wrapping | None]:
        """The first ``count`` waiting paragraphs as a batch: where they are, the index of
        the first, their texts as written and the lines around them (split ``"lines"``)."""
        waiting = Spans(*(np.concatenate(arrays) for arrays in zip(*self._waiting, strict=True)))
        batch = Spans(*(a[:count] for a in waiting))
        rest = Spans(*(a[count:] for a in waiting))
        self._waiting = [rest] if len(rest) else []
        self._count = len(rest)
        texts = self._texts(batch)
        first = self.paragraphs - self._count - len(batch)
        wrapping = self._wrapping(batch, rest, texts) if self.split == "lines" else None
        return batch, first, texts, wrapping

    def _texts(self, found: Spans) -> list[str]:
        """The paragraphs ``found`` as written ('' for one too long to compare)."""
        out = []
        base, text = self._parts[-1]
        for start, end in zip(found.start.tolist(), found.end.tolist(), strict=True):
            if end - start > MAX_COMPARED:
                out.append("")
                continue
            if start < base or end > base + len(text):  # in an earlier piece
                base, text = self._parts[self._part(start)]
            held = end <= base + len(text)  # (a paragraph lies within one piece)
            out.append(text[start - base : end - base] if held else self._slice(start, end))
        return out

    def _part(self, offset: int) -> int:
        """The piece that holds the text at ``offset`` (held: at or after _written), and
        the paragraph cut there: the last one that starts at or before it."""
        return bisect.bisect_right(self._starts, offset, self._first) - 1

    def _slice(self, start: int, end: int) -> str:
        """The document's text from ``start`` to ``end`` (held: from _written on), across
        pieces."""
        out = []
        while start < end:
            base, text = self._parts[self._part(start)]
            stop = min(end, base + len(text))
            if stop <= start:  # (never: only what was written is let go)
                raise RuntimeError(f"offset {start} of the document is no longer held")
            out.append(text[start - base : stop - base])
            start = stop
        return "".join(out)

    def _wrapping(self, batch: Spans, rest: Spans, texts: list[str]) -> Wrapping:
        """The lines around ``batch`` (``texts``, as written) that tell which of its lines
        are lines of a sentence wrapped over lines, up to :data:`LOOKAROUND` lines away:
        worked out with the fingerprints (:func:`~dedup.paragraphs.wrapped_lines`, by a
        worker process with ``--jobs``). ``rest`` holds the lines that follow the batch
        (none: the document ends)."""
        above, above_numbers = self._above
        below = self._texts(Spans(*(a[:LOOKAROUND] for a in rest)))
        numbers = batch.line.tolist()
        self._above = (texts[-LOOKAROUND:], numbers[-LOOKAROUND:])
        return Wrapping(above, below, [*above_numbers, *numbers, *rest.line[:LOOKAROUND].tolist()])

    def _emit(self, bounds: list[int]) -> None:
        """Write the text between ``bounds[0]`` and ``bounds[1]``, ``bounds[2]`` and
        ``bounds[3]``, and so on (offsets in the document); the last bound is written up
        to, and what is before it is no longer needed: the pieces wholly before it are let
        go (the last one stays: the next piece fed joins what was not cut of it)."""
        pairs = zip(bounds[::2], bounds[1::2], strict=True)
        out = "".join(self._slice(a, b) for a, b in pairs)
        if out:
            self._write(out)
        self._written = bounds[-1]
        parts, first = self._parts, self._first
        while first < len(parts) - 1 and parts[first][0] + len(parts[first][1]) <= self._written:
            parts[first] = (parts[first][0], "")
            first += 1
        if 2 * first > len(parts):  # the pieces let go are most: forget them
            del parts[:first], self._starts[:first]
            first = 0
        self._first = first

    @property
    def explains(self) -> bool:
        """Whether decisions on exact repeats are wanted too (see ``Deduplicator.decide``)."""
        return self._events

    @property
    def refs(self) -> bool:
        """Whether removals name every kept paragraph they repeat (see ``Deduplicator.decide``)."""
        return self._kinds

    def _decide(self, batch: Spans, first: int, fingerprints: Pending[Batch]) -> list[Event]:
        found = fingerprints.result()
        decided = self._dedup.decide(
            found, self.document, first, explain=self._events, refs=self._kinds
        )
        return self._apply(batch, first, decided)

    def _apply(self, batch: Spans, first: int, decided: Decided) -> list[Event]:
        """Write what was decided for the paragraphs ``batch`` (``first`` the index of the
        first), and return its events."""
        if self._texts_to is not None:  # the batch's text is held until _emit below
            self._texts_to(first, self._texts(batch))
        removed, exact, decisions = decided
        chosen: dict[int, Decision] = {}
        events: list[Event] = []
        if not self._events:
            self.removed["exact"] += exact
        for decision in decisions:
            if decision.repeat:  # an exact repeat is one whatever else is verified
                kind = decision.verdict.kind or ""
                self.removed[kind if self._kinds or kind == "exact" else REPEAT] += 1
            elif self._events:
                events.append(decision.close_call())
            chosen[decision.index - first] = decision
        if self._run and self._run[-1].next_start is None:
            self._run[-1] = self._run[-1]._replace(next_start=int(batch.line_start[0]))
        # Runs of removed paragraphs: each one followed by a kept paragraph is cut from
        # its first lines' start to that paragraph's lines' start.
        before = np.empty(len(batch), dtype=bool)
        before[0] = self._run_start is not None
        before[1:] = removed[:-1]
        starts = batch.line_start[removed & ~before].tolist()
        if self._run_start is not None:
            starts.insert(0, self._run_start)
        ends = batch.line_start[~removed & before].tolist()
        kept = np.flatnonzero(~removed)
        if len(kept):
            last_kept = int(kept[-1])
            bounds = [self._written]
            for start, end in zip(starts, ends, strict=False):
                bounds += [start, end]
            bounds.append(int(batch.line_end[last_kept]))
            if self._events:
                self._collect(batch, first, np.flatnonzero(removed[:last_kept]).tolist(), chosen)
                events += self._flush(closed=True)
            self._emit(bounds)
            self._run_start, self._run_first = None, False
        if removed[-1]:  # a run goes on to the end of the batch: what follows decides
            open_from = int(kept[-1]) + 1 if len(kept) else 0
            if self._run_start is None:
                self._run_start = int(batch.line_start[open_from])
                self._run_first = first + open_from == 0
            if self._events:
                self._collect(batch, first, list(range(open_from, len(batch))), chosen)
        self._last_end = int(batch.line_end[-1])
        return events

    def _collect(
        self, batch: Spans, first: int, rows: list[int], chosen: dict[int, Decision]
    ) -> None:
        """Hold the removed ``rows`` of ``batch`` until their events can be made."""
        for row in rows:
            index = first + row
            if index == 0:
                previous_end = None
            elif row:
                previous_end = int(batch.line_end[row - 1])
            else:
                previous_end = self._last_end
            paragraph = Paragraph(
                index,
                int(batch.start[row]),
                int(batch.end[row]),
                int(batch.line_start[row]),
                int(batch.line_end[row]),
            )
            following = int(batch.line_start[row + 1]) if row + 1 < len(batch) else None
            self._run.append(
                _Removed(paragraph, int(batch.line[row]), previous_end, following, chosen[row])
            )

    def _flush(self, closed: bool) -> list[Event]:
        """Removal events for the held paragraphs: each one takes its lines and the line
        break after them when a kept paragraph follows its run (``closed``), else the one
        before them (only its lines for the first paragraph)."""
        events: list[Event] = []
        text = self._slice
        for p, line, previous_end, next_start, decision in self._run:
            if closed:
                assert next_start is not None
                cut_start, cut_end = p.line_start, next_start
            elif previous_end is None:
                cut_start, cut_end = p.line_start, p.line_end
            else:
                cut_start, cut_end = previous_end, p.line_end
            events.append(
                decision.removal(
                    text(p.start, p.end),
                    p,
                    text(cut_start, p.start),
                    text(p.end, cut_end),
                    cut_start,
                    line,
                )
            )
        self._run = []
        return events
