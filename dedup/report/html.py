"""The HTML report: one self-contained file that shows every removal beside the kept
paragraph it repeats, the differences marked word by word, with a summary, filters, a
search box and links that can be shared.

The file asks for nothing over the network. Scraped text is data, never markup: the
summary is escaped where it is written, everything else travels as JSON in
``<script type="application/json">`` blocks (``<``, ``>`` and ``&`` escaped, so no text can
close them) and reaches the page through ``textContent`` only. A Content-Security-Policy
allows the file's own script and style alone, by their hashes, so that even a missed escape
could not run anything.

A run's paragraphs are spilled to a temporary file as they are decided (8 bytes of memory a
paragraph), so that the kept paragraph a removal repeats can be shown even when it was
decided long before; removals are held as small records. The browser parses the texts a
chunk at a time, when a page of results needs them, and works out the word differences
of the items it shows only: a report of 100,000 removals opens as fast as one of ten.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import mmap
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate
from typing import Any, NamedTuple

from dedup import __version__
from dedup.config import Config
from dedup.files import Writable
from dedup.result import CleanResult, CloseCall, Removal
from dedup.verify import KINDS

#: Items (removals and close calls) whose texts travel in one JSON block; the browser
#: parses a block when a page of results needs one of its items.
CHUNK = 500

#: The kind given to a kept paragraph close to an earlier one (shown with ``explain``).
CLOSE = "close call"

#: Bins of the similarity chart, over 0..1.
BINS = 20


class _Item(NamedTuple):
    document: int
    paragraph: int
    line: int
    kind: str
    similarity: float
    reason: str
    of_document: int  # -1: not in this run (a paragraph kept in a persistent index)
    of_name: str | None
    of_index: int


@dataclass
class _Document:
    name: str
    first: int  # the number of its first paragraph in the run
    items: int  # the number of its first item (removal or close call)
    paragraphs: int = 0
    removed: int = 0


class HtmlReport:
    """Collects a run for the HTML report, then writes it (:meth:`write`).

    Feed it in order: :meth:`start` a document, its paragraphs' texts (:meth:`texts`, as
    :class:`~dedup.stream.Cleaner` gives them) and its removals and close calls
    (:meth:`add`), then :meth:`end` it.
    """

    def __init__(self, config: Config, title: str = "dedup report") -> None:
        self._config = config
        self._title = title
        self._store = tempfile.TemporaryFile(prefix="dedup-report-")  # noqa: SIM115 (close())
        self._size = 0
        self._offsets = array("q")  # where each paragraph of the run starts in the store
        self._documents: list[_Document] = []
        self._by_name: dict[str, int] = {}
        self._items: list[_Item] = []

    # -- collecting --

    def start(self, name: str | None) -> None:
        """A document begins (``name`` None: the only one, from stdin)."""
        name = "-" if name is None else name
        self._by_name[name] = len(self._documents)
        self._documents.append(_Document(name, len(self._offsets), len(self._items)))

    def texts(self, first: int, texts: Sequence[str]) -> None:
        """The texts of the current document's paragraphs ``first``, ``first + 1``, ..."""
        document = self._documents[-1]
        if document.first + first != len(self._offsets):
            raise ValueError("paragraph texts must come in order, each once")
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        ends = list(accumulate(map(len, encoded), initial=self._size))
        self._offsets.extend(ends[:-1])
        self._store.write(b"".join(encoded))
        self._size = ends[-1]

    def add(self, events: Iterable[Removal | CloseCall]) -> None:
        """Removals and close calls of the current document."""
        number = len(self._documents) - 1
        document = self._documents[number]
        for event in events:
            if isinstance(event, Removal):
                other, index = event.duplicate_of_document, event.duplicate_of
                item = _Item(
                    number, event.index, event.line, event.kind, event.similarity, event.reason,
                    *self._where(number, other), index,
                )  # fmt: skip
                document.removed += 1
            else:
                other, index = event.candidate_document, event.candidate
                item = _Item(
                    number, event.index, 0, CLOSE, event.similarity, event.reason,
                    *self._where(number, other), index,
                )  # fmt: skip
            self._items.append(item)

    def _where(self, number: int, other: str | None) -> tuple[int, str | None]:
        """The document a kept paragraph is in (-1 and its name when not in this run)."""
        if other is None:
            return number, None
        found = self._by_name.get(other)
        return (found, None) if found is not None else (-1, other)

    def end(self, paragraphs: int) -> None:
        """The current document ended, with ``paragraphs`` paragraphs."""
        document = self._documents[-1]
        document.paragraphs = paragraphs
        # Close calls come as they are decided, removals once their run of removed
        # paragraphs ended: in paragraph order here.
        first = document.items
        self._items[first:] = sorted(self._items[first:], key=lambda item: item.paragraph)

    def result(self, result: CleanResult) -> None:
        """One document cleaned by the library (:func:`dedup.clean`, a
        :class:`~dedup.Deduplicator`), whole: its removals, and its close calls if it has
        them. Name the documents (``document=``) for a removal to show the kept paragraph
        of another document.

        >>> import io
        >>> from dedup import Config, Deduplicator
        >>> line = "A line that is long enough to be compared here."
        >>> with Deduplicator() as dedup, HtmlReport(Config(), "Two pages") as report:
        ...     for name, text in [("a", f"{line}\\nOther."), ("b", f"New.\\n{line}")]:
        ...         report.result(dedup.clean(text, document=name))
        ...     page = io.BytesIO()
        ...     report.write(page)
        >>> data = embedded(page.getvalue().decode())
        >>> data["texts"] == [[line, line]], data["items"]["of_document"]
        (True, [0])
        """
        self.start(result.document)
        original = result.original
        self.texts(0, [original[p.start : p.end] for p in result.paragraphs])
        self.add(sorted([*result.removed, *result.close], key=lambda event: event.index))
        self.end(len(result.paragraphs))

    # -- writing --

    def write(self, handle: Writable, verdict: Sequence[str] | None = None) -> None:
        """Write the report; ``verdict``: a check's failures ([] when it passed). The
        texts are written a block at a time, never held all at once."""

        def put(text: str) -> None:
            handle.write(
                text.encode("utf-8", "backslashreplace")
            )  # a lone surrogate: a JSON \u escape

        style = _asset("report.css")
        script = _asset("report.js")
        policy = (
            "default-src 'none'; "
            f"script-src '{_hash(script)}'; style-src '{_hash(style)}'; "
            "img-src 'none'; base-uri 'none'; form-action 'none'"
        )
        self._store.flush()
        with _view(self._store, self._size) as view:
            put(
                '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
                '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                '<meta name="referrer" content="no-referrer">\n'
                f"<title>{_text(self._title)}</title>\n<style>{style}</style>\n</head>\n"
                f"<body>\n{self._summary(view, verdict)}{_BROWSER}"
                f'<script type="application/json" id="dedup-data">{_json(self._data())}'
                "</script>\n"
            )
            for number, first in enumerate(range(0, len(self._items), CHUNK)):
                pairs = [
                    [self._paragraph(view, i.document, i.paragraph),
                     self._paragraph(view, i.of_document, i.of_index)]
                    for i in self._items[first : first + CHUNK]
                ]  # fmt: skip
                put(
                    f'<script type="application/json" class="dedup-texts" data-chunk="{number}">'
                    f"{_json(pairs)}</script>\n"
                )
        put(f"<script>{script}</script>\n</body>\n</html>\n")

    def close(self) -> None:
        """Let go of the spilled texts."""
        self._store.close()

    def __enter__(self) -> HtmlReport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _paragraph(self, view: Any, document: int, index: int) -> str | None:
        """The text of a paragraph of the run (None: not in this run)."""
        if document < 0:
            return None
        number = self._documents[document].first + index
        if number >= len(self._offsets):
            return None
        start = self._offsets[number]
        end = self._offsets[number + 1] if number + 1 < len(self._offsets) else self._size
        return str(view[start:end], "utf-8", "surrogatepass")

    def _data(self) -> dict[str, Any]:
        """What the page's script needs besides the texts: the documents, and the items
        as columns (a kind and a reason are numbers into their lists)."""
        kinds = sorted({i.kind for i in self._items})
        reasons = [reason for reason, _ in Counter(i.reason for i in self._items).most_common()]
        kind_of = {kind: n for n, kind in enumerate(kinds)}
        reason_of = {reason: n for n, reason in enumerate(reasons)}
        items = self._items
        return {
            "version": 1,
            "dedup": __version__,
            "settings": self._config.as_dict(),
            "chunk": CHUNK,
            "documents": [[d.name, d.paragraphs, d.removed] for d in self._documents],
            "kinds": kinds,
            "reasons": reasons,
            "items": {
                "document": [i.document for i in items],
                "index": [i.paragraph for i in items],
                "line": [i.line for i in items],
                "kind": [kind_of[i.kind] for i in items],
                "similarity": [round(i.similarity, 4) for i in items],
                "reason": [reason_of[i.reason] for i in items],
                "of_document": [i.of_document for i in items],
                "of_index": [i.of_index for i in items],
                "of_name": {str(n): i.of_name for n, i in enumerate(items) if i.of_name},
            },
        }

    def _summary(self, view: Any, verdict: Sequence[str] | None) -> str:
        """The top of the page, written here (it shows without the script, and prints)."""
        documents = self._documents
        paragraphs = sum(d.paragraphs for d in documents)
        removals = [i for i in self._items if i.kind != CLOSE]
        kinds = Counter(i.kind for i in removals)
        close = len(self._items) - len(removals)
        ratio = len(removals) / paragraphs if paragraphs else 0.0
        out = [f"<header>\n<h1>{_text(self._title)}</h1>\n"]
        out.append(f'<p class="meta">dedup {_text(__version__)}; {_settings(self._config)}</p>\n')
        if verdict is not None:
            if verdict:
                lines = "".join(f"<li>{_text(line)}</li>" for line in verdict)
                out.append(
                    f'<div class="verdict failed"><p>Check failed</p><ul>{lines}</ul></div>\n'
                )
            else:
                out.append('<div class="verdict passed"><p>Check passed</p></div>\n')
        out.append('</header>\n<main>\n<section id="summary" aria-labelledby="summary-h">\n')
        out.append('<h2 id="summary-h">Summary</h2>\n<dl class="figures">\n')
        figures = [
            ("Documents", f"{len(documents):,}"),
            ("Paragraphs", f"{paragraphs:,}"),
            ("Removed", f"{len(removals):,}"),
            ("Duplicate ratio", f"{ratio:.2%}"),
            *((f"Removed, {kind}", f"{kinds[kind]:,}") for kind in KINDS if kinds[kind]),
        ]
        if close:
            figures.append(("Kept, close calls", f"{close:,}"))
        for name, value in figures:
            out.append(f"<div><dt>{_text(name)}</dt><dd>{value}</dd></div>\n")
        out.append("</dl>\n")
        out.append(_chart(self._items))
        out.append(self._worst())
        out.append(self._most_repeated(view))
        out.append("</section>\n")
        return "".join(out)

    def _worst(self) -> str:
        ranked = [(n, d) for n, d in enumerate(self._documents) if d.removed]
        ranked.sort(key=lambda nd: (-nd[1].removed / max(nd[1].paragraphs, 1), -nd[1].removed))
        if not ranked:
            return ""
        rows = "".join(
            f'<tr><td><a href="#{_hash_link(d.name)}">{_text(d.name)}</a></td>'
            f"<td>{d.removed:,}</td><td>{d.paragraphs:,}</td>"
            f"<td>{d.removed / max(d.paragraphs, 1):.1%}</td></tr>\n"
            for _, d in ranked[:10]
        )
        return (
            '<h3 id="worst-h">The most repeated documents</h3>\n'
            '<table aria-labelledby="worst-h"><thead><tr><th scope="col">Document</th>'
            '<th scope="col">Removed</th><th scope="col">Paragraphs</th>'
            f'<th scope="col">Ratio</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n'
        )

    def _most_repeated(self, view: Any) -> str:
        groups = Counter(
            (i.of_document, i.of_name, i.of_index) for i in self._items if i.kind != CLOSE
        )
        if not groups:
            return ""
        ranked = sorted(groups.items(), key=lambda item: (-item[1], item[0][0], item[0][2]))[:10]
        rows = []
        for (document, name, index), count in ranked:
            text = self._paragraph(view, document, index)
            shown = "" if text is None else text if len(text) <= 300 else text[:300] + "…"
            where = self._documents[document].name if document >= 0 else name or "?"
            rows.append(
                f"<tr><td>{count:,}</td><td>{_text(where)}, paragraph {index}</td>"
                f"<td>{_text(shown)}</td></tr>\n"
            )
        return (
            '<h3 id="most-h">The most repeated paragraphs</h3>\n'
            '<table aria-labelledby="most-h"><thead><tr><th scope="col">Copies removed</th>'
            '<th scope="col">Kept in</th><th scope="col">Text</th></tr></thead>\n'
            f"<tbody>\n{''.join(rows)}</tbody></table>\n"
        )


class _view:
    """A read-only view of the spilled texts (an empty one for an empty file)."""

    def __init__(self, store: Any, size: int) -> None:
        self._map = mmap.mmap(store.fileno(), 0, access=mmap.ACCESS_READ) if size else None

    def __enter__(self) -> Any:
        return self._map if self._map is not None else b""

    def __exit__(self, *exc: object) -> None:
        if self._map is not None:
            self._map.close()


def _chart(items: Sequence[_Item]) -> str:
    """Bars of the similarities of removals and close calls, side by side, on a log scale
    (exact repeats would else flatten the rest), each with its count (inline SVG)."""
    if not items:
        return ""
    series = {"removed": [0] * BINS, "close": [0] * BINS}
    for item in items:
        series["close" if item.kind == CLOSE else "removed"][
            min(int(item.similarity * BINS), BINS - 1)
        ] += 1
    if not any(series["close"]):
        del series["close"]
    scale = math.log1p(max(max(counts) for counts in series.values()))
    width, height, step = 600, 170, 600 // BINS
    bar = (step - 2) / len(series)
    shapes = []
    for b in range(BINS):
        for n, (kind, counts) in enumerate(series.items()):
            if not counts[b]:
                continue
            h = math.log1p(counts[b]) / scale * (height - 40)
            x, y = b * step + 1 + n * bar, height - 20 - h
            what = "removed" if kind == "removed" else "close calls kept"
            shapes.append(
                f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"><title>{counts[b]:,} {what}, similarity '
                f"{b / BINS:.2f} to {(b + 1) / BINS:.2f}</title></rect>"
                f'<text class="count" x="{x + bar / 2:.1f}" y="{y - 3:.1f}">{counts[b]:,}</text>'
            )
    ticks = "".join(
        f'<text x="{b * step}" y="{height - 4}">{b / BINS:.1f}</text>'
        for b in range(0, BINS + 1, 4)
    )
    close = "close" in series
    also = ' and <span class="key close">close calls kept</span>' if close else ""
    return (
        '<figure class="chart">\n'
        f'<svg viewBox="0 0 {width + 20} {height}" role="img" aria-labelledby="chart-t">'
        f'<title id="chart-t">Similarities of the removed paragraphs'
        f"{' and close calls' if close else ''} to the paragraph they repeat</title>"
        f"{''.join(shapes)}{ticks}</svg>\n"
        "<figcaption>Similarity to the kept paragraph: "
        '<span class="key removed">removed</span>'
        f"{also}"
        " (paragraphs, log scale)</figcaption>\n</figure>\n"
    )


_BLOCK = r'<script type="application/json"{}>(.*?)</script>'


def embedded(page: str) -> dict[str, Any]:
    """The data a report written by :meth:`HtmlReport.write` carries: the documents, the
    items (removals and close calls) as columns, and under ``"texts"`` each item's text and
    its kept paragraph's (None when not in the run). For tests and for tools that read a
    report back."""
    import re

    found = re.search(_BLOCK.format(' id="dedup-data"'), page, re.DOTALL)
    if found is None:
        raise ValueError("not a dedup HTML report: its data block is missing")
    data: dict[str, Any] = json.loads(found.group(1))
    blocks = re.findall(_BLOCK.format(' class="dedup-texts" data-chunk="\\d+"'), page, re.DOTALL)
    data["texts"] = [pair for block in blocks for pair in json.loads(block)]
    return data


def _settings(config: Config) -> str:
    shown = config.as_dict()
    return ", ".join(f"{_text(k)} {_text(str(v))}" for k, v in shown.items())


def _hash_link(document: str) -> str:
    from urllib.parse import quote

    # A lone surrogate (a file name's byte that is not UTF-8) as the browser's own
    # URLSearchParams writes it: U+FFFD.
    wellformed = document.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "doc=" + html.escape(quote(wellformed, safe=""), quote=True)


def _text(value: str) -> str:
    """``value`` as HTML text (or an attribute value)."""
    return html.escape(value, quote=True)


def _json(value: Any) -> str:
    """``value`` as JSON that can sit inside a ``<script>`` element: no ``<`` (so no
    ``</script>``, no ``<!--``), no ``>`` or ``&``, and no line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _asset(name: str) -> str:
    return resources.files("dedup.report").joinpath(name).read_text("utf-8")


#: The part of the page the script fills: controls, the list, the pages.
_BROWSER = """<section id="removals" aria-labelledby="removals-h">
<h2 id="removals-h">Removed paragraphs</h2>
<noscript><p>The list of removals needs JavaScript.</p></noscript>
<form id="filters" class="filters" role="search" hidden>
<label>Kind <select id="f-kind"><option value="">all</option></select></label>
<label>Reason <select id="f-reason"><option value="">all</option></select></label>
<label>Document <input id="f-doc" type="search" list="f-docs" autocomplete="off"></label>
<datalist id="f-docs"></datalist>
<label>Search <input id="f-q" type="search" placeholder="words in either paragraph"></label>
</form>
<p id="status" role="status" aria-live="polite"></p>
<p class="legend" hidden>In the removed copy, <ins>words added</ins>; in the kept paragraph,
<del>words the copy dropped</del>; <mark class="changed">words changed</mark> on both sides;
<mark class="typo">typography only</mark> (quotes, dashes, spaces, case).</p>
<div id="list"></div>
<nav id="pages" aria-label="Pages of results" hidden>
<button type="button" id="prev">Previous page</button>
<span id="page"></span>
<button type="button" id="next">Next page</button>
</nav>
</section>
</main>
"""
