"""Inject realistic repeats into real articles and check that ``dedup`` removes exactly them.

Each article (a ``main`` page of ``../shared/data/pages.jsonl.gz`` on which ``dedup`` removes
nothing by itself) gets copies of its own paragraphs put back later in the text, each copy
changed the way scraped text changes a repeat: typography, whitespace, case, invisible
characters, HTML entities, a cut with "…", one word added or dropped, an agency tag. The
cleaned text must be the article again, byte for byte.

    python -m benchmarks.inject [--pages N] [--seed S]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import regex

import dedup

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")

Change = Callable[[str, random.Random], str]


def _typography(p: str, rng: random.Random) -> str:
    table = {'"': "\u201c", "'": "\u2019", " - ": " \u2013 ", "...": "\u2026"}
    for old, new in table.items():
        p = p.replace(old, new)
    return p.replace("\u201c", "\u201d", p.count("\u201c") // 2) if rng.random() < 0.5 else p


def _whitespace(p: str, rng: random.Random) -> str:
    words = p.split(" ")
    for _ in range(max(1, len(words) // 5)):
        k = rng.randrange(len(words))
        words[k] = words[k] + rng.choice(["  ", "\u00a0", "\t"])
    return " ".join(words) + "  "


def _case(p: str, rng: random.Random) -> str:
    return rng.choice([str.upper, str.lower])(p)


def _invisible(p: str, rng: random.Random) -> str:
    chars = list(p)
    for _ in range(max(1, len(chars) // 30)):
        chars.insert(
            rng.randrange(1, len(chars)), rng.choice(["\u200b", "\u00ad", "\u200d", "\ufeff"])
        )
    return "".join(chars)


def _entities(p: str, rng: random.Random) -> str:
    p = p.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&quot;")
    return p.replace(" ", "&nbsp;", 2)


def _cut(p: str, rng: random.Random) -> str:
    at = int(len(p) * rng.uniform(0.55, 0.85))
    return p[:at].rstrip() + rng.choice(["\u2026", "...", " [\u2026]"])


def _word_dropped(p: str, rng: random.Random) -> str:
    if _UNSPACED.search(p):
        at = rng.randrange(1, len(p) - 1)
        return p[:at] + p[at + 1 :]
    words = p.split(" ")
    del words[rng.randrange(1, len(words))]
    return " ".join(words)


def _word_added(p: str, rng: random.Random) -> str:
    if _UNSPACED.search(p):
        at = rng.randrange(1, len(p) - 1)
        return p[:at] + rng.choice("的是了也") + p[at:]
    words = p.split(" ")
    words.insert(rng.randrange(1, len(words)), rng.choice(words))
    return " ".join(words)


def _tag(p: str, rng: random.Random) -> str:
    return rng.choice(["(dpa) ", "(AFP) ", "AP \u2014 ", "[Reuters] "]) + p


CHANGES: dict[str, Change] = {
    "exact": lambda p, rng: p,
    "typography": _typography,
    "whitespace": _whitespace,
    "case": _case,
    "invisible": _invisible,
    "entities": _entities,
    "cut": _cut,
    "word dropped": _word_dropped,
    "word added": _word_added,
    "tag": _tag,
}


def pages(limit_per_lang: int, path: Path = DATA / "pages.jsonl.gz") -> Iterator[dict[str, str]]:
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
            yield page


def _words(p: str) -> int:
    return len(_UNSPACED.findall(p)) // 2 + len(p.split())


def run(limit_per_lang: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    by_size: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[tuple[str, str, str]] = []
    extra = 0
    skipped = 0
    articles = 0
    langs: Counter[str] = Counter()
    for page in pages(limit_per_lang):
        article = page["text"]
        if dedup.clean(article).removed:
            skipped += 1  # repeats of its own: not a clean base to inject into
            continue
        lines = article.split("\n")
        articles += 1
        langs[page["lang"] or "?"] += 1
        sources = [k for k, line in enumerate(lines) if _words(line) >= 3]
        if not sources:
            continue
        for name, change in CHANGES.items():
            source = rng.choice(sources)
            copy = change(lines[source], rng)
            at = rng.randrange(source + 1, len(lines) + 1)
            injected = [*lines[:at], copy, *lines[at:]]
            result = dedup.clean("\n".join(injected))
            size = "short" if _words(lines[source]) < 8 else "long"
            total[name] += 1
            by_size[size]["total"] += 1
            if result.text == article and [r.index for r in result.removed] == [at]:
                found[name] += 1
                by_size[size]["found"] += 1
            else:
                removed_other = [r.index for r in result.removed if r.index != at]
                extra += bool(removed_other)
                misses.append((name, lines[source][:90], copy[:90]))
    return {
        "articles": articles,
        "skipped": skipped,
        "languages": dict(langs),
        "found": found,
        "total": total,
        "by_size": by_size,
        "extra": extra,
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40, help="pages per language [40]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    stats = run(args.pages, args.seed)
    found, total = stats["found"], stats["total"]
    assert isinstance(found, Counter) and isinstance(total, Counter)
    print(f"articles: {stats['articles']} (skipped {stats['skipped']} with repeats of their own)")
    print(f"languages: {stats['languages']}")
    print("| change | removed | injected | rate |\n|---|---:|---:|---:|")
    for name in CHANGES:
        print(f"| {name} | {found[name]} | {total[name]} | {found[name] / total[name]:.1%} |")
    all_found, all_total = sum(found.values()), sum(total.values())
    print(f"| **all** | {all_found} | {all_total} | {all_found / all_total:.1%} |")
    for size, counts in sorted(stats["by_size"].items()):  # type: ignore[attr-defined]
        print(f"{size} paragraphs: {counts['found']}/{counts['total']}")
    print(f"runs where another paragraph was removed: {stats['extra']}")
    if args.misses:
        for name, source, copy in stats["misses"]:  # type: ignore[attr-defined]
            print(f"- {name}: {source!r}\n    -> {copy!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
