"""Quality on 1,200 labelled pairs of similar paragraphs from real web pages.

Every labelled page is cleaned as a whole document, the way ``dedup clean --split lines``
does it (the data holds one paragraph a line; a few pages have lines of only a no-break
space, which ``auto`` would take for blank lines between blocks). A
``repeat`` pair is *found* when the report links its two paragraphs (one removed as a
repeat of the other, directly or through the same kept paragraph); a ``distinct`` pair is
*violated* when it links them. ``unsure`` pairs are left out. Scores are given pair-weighted
and page-weighted (each page's pairs share one unit of weight, so that a calendar page and
two eBay pages do not dominate), per source, variant, kind and set, next to two baselines.

    python -m benchmarks.quality                 # the defaults, printed
    python -m benchmarks.quality --threshold 0.9 # any Config option
    python -m benchmarks.quality --grid --write  # alternatives too; writes RESULTS.md

The data is ``../shared/data`` (licensed, read where it lies; see its README).
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dedup
import dedup.config
from benchmarks.results import write_section
from dedup import verify
from dedup.normalize import is_unspaced, normalize, tokenize

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

Page = tuple[str, str]  # (doc_id, variant)

#: How the pages are split: one paragraph a line, as the data defines them.
SPLIT = {"split": "lines"}


@dataclass
class Score:
    """Weighted counts of true and false positives and of misses."""

    tp: float = 0.0
    fp: float = 0.0
    fn: float = 0.0
    tn: float = 0.0

    def add(self, label: str, linked: bool, weight: float = 1.0) -> None:
        if label == "repeat":
            if linked:
                self.tp += weight
            else:
                self.fn += weight
        elif linked:
            self.fp += weight
        else:
            self.tn += weight

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def pairs(self) -> float:
        return self.tp + self.fp + self.fn + self.tn


@dataclass
class Evaluation:
    """Scores of one decision rule, overall and by group."""

    pairs: Score = field(default_factory=Score)
    pages: Score = field(default_factory=Score)
    groups: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    errors: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)


def load_labels(path: Path = DATA / "labels.jsonl") -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_pages(
    wanted: set[Page] | None = None, path: Path = DATA / "pages.jsonl.gz"
) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            page = json.loads(line)
            if wanted is None or (page["id"], page["variant"]) in wanted:
                yield page


def _root(removed: dict[int, int], index: int) -> int:
    while index in removed:
        index = removed[index]
    return index


def links(text: str, options: dict[str, Any]) -> tuple[dict[int, int], dedup.CleanResult]:
    """Clean ``text`` as the CLI does; map each removed line to the line it repeats.

    Paragraph ``k`` of a page is line ``k`` of its text, except where a line holds only
    whitespace (a no-break space): that is no paragraph, so indexes are mapped to lines.
    """
    result = dedup.clean(text, **{**SPLIT, **options})
    line = _line_numbers(text, result)
    return {line[r.index]: line[r.duplicate_of] for r in result.removed}, result


def also_links(text: str, result: dedup.CleanResult) -> set[tuple[int, int]]:
    """(kept line, removed line) for every other kept paragraph a removed one repeats."""
    line = _line_numbers(text, result)
    return {
        (line[index], line[r.index])
        for r in result.removed
        for document, index in r.also_repeats
        if document is None
    }


def _line_numbers(text: str, result: dedup.CleanResult) -> list[int]:
    """The line number of each paragraph of ``result``."""
    numbers = []
    line, position = 0, 0
    for paragraph in result.paragraphs:
        line += text.count("\n", position, paragraph.start)
        position = paragraph.start
        numbers.append(line)
    return numbers


def score(labels: list[dict[str, Any]], decide: Callable[[dict[str, Any]], bool]) -> Evaluation:
    """Score a decision ``decide(pair) -> linked`` on the decided labels."""
    decided = [pair for pair in labels if pair["label"] != "unsure"]
    per_page: dict[Page, int] = defaultdict(int)
    for pair in decided:
        per_page[(pair["doc_id"], pair["variant"])] += 1
    out = Evaluation()
    for pair in decided:
        linked = decide(pair)
        weight = 1 / per_page[(pair["doc_id"], pair["variant"])]
        out.pairs.add(pair["label"], linked)
        out.pages.add(pair["label"], linked, weight)
        out.groups[f"pages, set {pair['set']}"].add(pair["label"], linked, weight)
        for group in (
            f"source {pair['source']}",
            f"variant {pair['variant']}",
            f"kind {pair['kind'] or '(set B: unscreened kind)'}",
            f"set {pair['set']}",
        ):
            out.groups[group].add(pair["label"], linked)
        if linked != (pair["label"] == "repeat"):
            out.errors.append(("FP" if linked else "FN", pair, ""))
    return out


def labelled_pages(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pages the labelled pairs come from (read once, evaluated many times)."""
    return list(load_pages({(pair["doc_id"], pair["variant"]) for pair in labels}))


def evaluate(
    labels: list[dict[str, Any]],
    options: dict[str, Any],
    pages: list[dict[str, Any]] | None = None,
) -> tuple[Evaluation, dict[Page, Any]]:
    """Run ``dedup`` on every labelled page (``pages`` if already read) with ``options``
    and score it."""
    removed: dict[Page, dict[int, int]] = {}
    also: dict[Page, set[tuple[int, int]]] = {}
    results: dict[Page, Any] = {}
    for page in pages if pages is not None else labelled_pages(labels):
        key = (page["id"], page["variant"])
        removed[key], results[key] = links(page["text"], options)
        also[key] = also_links(page["text"], results[key])

    def decide(pair: dict[str, Any]) -> bool:
        key = (pair["doc_id"], pair["variant"])
        rm = removed[key]
        linked = _root(rm, pair["i"]) == _root(rm, pair["j"])
        return linked or (pair["i"], pair["j"]) in also[key]

    evaluation = score(labels, decide)
    reasons = {}
    for _, pair, _ in evaluation.errors:
        result = results[(pair["doc_id"], pair["variant"])]
        by_index = {r.index: r for r in result.removed}
        removal = by_index.get(pair["j"]) or by_index.get(pair["i"])
        reasons[id(pair)] = f"{removal.kind}: {removal.reason}" if removal else "kept"
    evaluation.errors = [(k, p, reasons[id(p)]) for k, p, _ in evaluation.errors]
    return evaluation, results


# -- out of sample --------------------------------------------------------------------------

#: The choices a set's scores can pick from: every setting a user (or a tuning session) can
#: turn, on a grid around the defaults. Rules are principles, not numbers, and are kept only
#: when they help on the set they were not tuned on (RESULTS.md says which and where).
CHOICES: list[dict[str, Any]] = [
    {"threshold": t, "containment": c} for t in (0.8, 0.7, 0.9) for c in (0.8, 0.7, 0.9)
]  # the defaults first: among equals, the first wins
#: A choice must keep this precision on the set it is chosen on (the issue's target);
#: among those, the highest F1 wins. When none does, the most precise one.
PRECISION_BAR = 0.97
SETS = ("A", "B")


@dataclass
class OutOfSample:
    """Each set scored with the choice made on the other set alone."""

    chosen: dict[str, dict[str, Any]]  # set -> the options chosen on it
    scores: dict[str, Score]  # set -> its pair-weighted score with the other set's choice
    pages: dict[str, Score]  # the same, page-weighted
    runs: list[tuple[dict[str, Any], Evaluation]]


def choose(runs: list[tuple[dict[str, Any], Evaluation]], on: str) -> dict[str, Any]:
    """The options whose scores on set ``on`` are best (see :data:`PRECISION_BAR`)."""

    def rank(run: tuple[dict[str, Any], Evaluation]) -> tuple[bool, float, float]:
        s = run[1].groups[f"set {on}"]
        precise = s.precision >= PRECISION_BAR
        return (precise, s.f1 if precise else s.precision, s.f1)

    return max(runs, key=rank)[0]


def evaluate_many(
    labels: list[dict[str, Any]],
    pages: list[dict[str, Any]],
    runs: list[tuple[dict[str, Any], tuple[str, ...]]],
) -> list[Evaluation]:
    """:func:`evaluate` with each ``(options, rules turned off)`` of ``runs``, on as many
    processes as there are cores (forked: the pages are read once)."""
    global _SHARED
    _SHARED = (labels, pages)
    try:
        if len(runs) < 2 or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
            return [_evaluate_run(run) for run in runs]
        with ProcessPoolExecutor(os.cpu_count(), mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(_evaluate_run, runs))
    finally:
        _SHARED = None


_SHARED: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None


def _evaluate_run(run: tuple[dict[str, Any], tuple[str, ...]]) -> Evaluation:
    assert _SHARED is not None
    (labels, pages), (options, off) = _SHARED, run
    with verify.rules_off(*off):
        return evaluate(labels, options, pages)[0]


def out_of_sample(labels: list[dict[str, Any]], pages: list[dict[str, Any]]) -> OutOfSample:
    """Run every choice once on all pages; score A with B's choice and B with A's."""
    evaluations = evaluate_many(labels, pages, [(options, ()) for options in CHOICES])
    runs = list(zip(CHOICES, evaluations, strict=True))
    chosen = {name: choose(runs, name) for name in SETS}
    scores, weighted = {}, {}
    for name, other in zip(SETS, reversed(SETS), strict=True):
        evaluation = next(e for o, e in runs if o == chosen[other])
        scores[name] = evaluation.groups[f"set {name}"]
        weighted[name] = evaluation.groups[f"pages, set {name}"]
    return OutOfSample(chosen, scores, weighted, runs)


def out_of_sample_table(oos: OutOfSample) -> str:
    rows = [
        "| set | scored with the choice made on | chosen there | precision | recall | F1 "
        "| page-weighted F1 |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, other in zip(SETS, reversed(SETS), strict=True):
        s, w = oos.scores[name], oos.pages[name]
        rows.append(
            f"| {name} | {other} | {_fmt_options(oos.chosen[other])} | {s.precision:.3f} "
            f"| {s.recall:.3f} | {s.f1:.3f} | {w.f1:.3f} |"
        )
    return "\n".join(rows)


def rule_effects(
    labels: list[dict[str, Any]], pages: list[dict[str, Any]], ours: Evaluation
) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    """Each rule of :data:`dedup.verify.RULES` on its own: the pairs it gets right that go
    wrong without it (gained), and the reverse (lost), per set; the others stay on."""
    wrong = {_key(pair) for _, pair, _ in ours.errors}
    sets = {_key(pair): pair["set"] for pair in labels}
    off = evaluate_many(labels, pages, [({}, (rule,)) for rule in verify.RULES])
    out = []
    for rule, evaluation in zip(verify.RULES, off, strict=True):
        without = {_key(pair) for _, pair, _ in evaluation.errors}
        counts = {
            name: (
                sum(sets[k] == name for k in without - wrong),
                sum(sets[k] == name for k in wrong - without),
            )
            for name in SETS
        }
        out.append((rule, counts))
    return out


def _key(pair: dict[str, Any]) -> tuple[str, str, int, int]:
    return pair["doc_id"], pair["variant"], pair["i"], pair["j"]


def rule_table(effects: list[tuple[str, dict[str, tuple[int, int]]]]) -> str:
    rows = [
        "| rule | set A: pairs gained | set A: pairs lost | set B: pairs gained "
        "| set B: pairs lost |",
        "|---|---:|---:|---:|---:|",
    ]
    for rule, counts in effects:
        (ga, la), (gb, lb) = counts["A"], counts["B"]
        rows.append(f"| {rule} | {ga} | {la} | {gb} | {lb} |")
    return "\n".join(rows)


def baselines(labels: list[dict[str, Any]]) -> dict[str, Evaluation]:
    """The two rules the issue measured, from the labels' own similarity fields."""
    return {
        "baseline: Jaccard >= 0.8": score(labels, lambda p: p["jaccard"] >= 0.8),
        "baseline: Jaccard >= 0.8 or shorter and contained >= 0.8": score(
            labels,
            lambda p: (
                p["jaccard"] >= 0.8 or (p["containment"] >= 0.8 and len(p["b"]) <= len(p["a"]))
            ),
        ),
    }


def _substantive(paragraph: str, tokens: list[str]) -> bool:
    unspaced = sum(1 for token in tokens if is_unspaced(token))
    return len(tokens) - unspaced >= 8 or (unspaced and len(paragraph) >= 25)


def exact_recall(pages: Iterable[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    """Substantive paragraphs equal to an earlier one after normalization: how many go.

    Also counts the short exact repeats removed (the documented short-paragraph policy).
    """
    substantive = removed_substantive = short = removed_short = 0
    missed: list[str] = []
    for page in pages:
        lines = page["text"].split("\n")
        gone = set(links(page["text"], options)[0])
        seen: set[str] = set()
        for index, line in enumerate(lines):
            norm = normalize(line)
            tokens = tokenize(norm)
            if norm in seen and tokens:
                if _substantive(line, tokens):
                    substantive += 1
                    removed_substantive += index in gone
                    if index not in gone:
                        missed.append(line)
                else:
                    short += 1
                    removed_short += index in gone
            seen.add(norm)
    return {
        "substantive": substantive,
        "substantive_removed": removed_substantive,
        "short": short,
        "short_removed": removed_short,
        "missed": missed[:10],
    }


# -- reporting ------------------------------------------------------------------------------


def _row(name: str, s: Score) -> str:
    return f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.pairs:.0f} |"


def table(rows: Iterable[tuple[str, Score]], weighted: bool = False) -> str:
    head = "| rule | precision | recall | F1 | pairs |\n|---|---:|---:|---:|---:|"
    if weighted:
        head = "| rule | precision | recall | F1 | pages' weight |\n|---|---:|---:|---:|---:|"
    return "\n".join([head, *(_row(name, s) for name, s in rows)])


ALTERNATIVES: list[dict[str, Any]] = [
    *({"threshold": t} for t in (0.6, 0.7, 0.9)),
    *({"containment": c} for c in (0.6, 0.7, 0.9)),
    *({"shingle_size": k, "min_tokens": max(8, k)} for k in (2, 4, 5)),
    *({"min_tokens": m} for m in (5, 6, 10, 12)),
]


def _fmt_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"


def write_results(labels: list[dict[str, Any]]) -> str:
    """Run the whole evaluation and write it as the quality section of RESULTS.md."""
    pages = labelled_pages(labels)
    ours, _ = evaluate(labels, {}, pages)
    oos = out_of_sample(labels, pages)
    lines = [
        "## Quality on labelled real pages",
        "",
        f"Written by `python -m benchmarks.quality --write` on {time.strftime('%Y-%m-%d')}, "
        f"dedup {dedup.__version__}, Python {sys.version.split()[0]}.",
        "Data: `../shared/data/labels.jsonl` (1,200 pairs; 11 `unsure` left out) and the "
        "pages they come from. A pair is found when the report links its two paragraphs.",
        "",
        "### Out of sample: each set scored with the choice made on the other alone",
        "",
        "Set A is aeb, trafilatura_eval and readability; set B is wcxb. Every choice in "
        f"`CHOICES` ({len(CHOICES)} settings: threshold by containment) is run once; on each set "
        f"the one with the best F1 among those with precision ≥ {PRECISION_BAR} (else the most "
        "precise) is chosen, and the other set is scored with it. The rules themselves were "
        "written reading the errors of both sets; each is measured on its own below, per set.",
        "",
        out_of_sample_table(oos),
        "",
        "### Each rule on its own (`dedup.verify.RULES`)",
        "",
        "Each rule turned off alone, the others on: the pairs it gets right that go wrong "
        "without it (gained) and the reverse (lost), per set. `wrappers`: a label in front, a "
        "list number, a trailer ('Read more', a count, a site's name after a pipe, its own words "
        "again) taken off before a second look, past a label both lines share, or a trailer on "
        "one and a label on the other ('You are here: <title>' / '<title> | <site>'), but "
        "not an identifier's first part ('source_ transfer') nor a name's last letter ('josh "
        "langenthal on' / 'L on'); a name set off in front of a long paragraph ('Black Cumin "
        "(Ancient panacea) - ...'); a "
        "reply's subject ('Re: ...') is another message; `names`: a URL, path or identifier "
        "repeats only exactly; `code`: code needs braces, calls, two-character operators, type "
        "parameters, command options, '//' comments or a statement-ending semicolon (not pipes "
        "or brackets), code against prose is no repeat, and words edited in or added to code "
        "make other code; `signs`: '>50' is not '50', '$$$' is not '$ - $$', '[1, 2]' is not "
        "'(1, 2)'; `excerpts`: a title inside a sentence is no excerpt, an excerpt "
        "adds no untagged word, and a line of a sentence wrapped over lines is one only when "
        "the other lines of that sentence are in the kept paragraph too; `edges`: a single "
        "letter at the edge of a row of numbers is a table's mark ('... 132-134 X'); words a "
        "line adds at an edge of a line under 12 words "
        "(or of a title) must be tags set off by punctuation, one inside a line too short for "
        "shingles (or a title) a small word or one it already has, none may be part of an "
        "identifier; inside a line of 8 to 11 words a content word (not in dedup/lexicon.py's "
        "function words) makes another thing ('cheap'); a content word in brackets at the end "
        "says which one ('(film)'); a small word in capitals is a model's letters or an "
        "operator at any length ('II', 'OR'); a long paragraph may leave out two small words "
        "or articles ('this is'); "
        "a bulleted item without its first words is another item; a word set off by a bullet "
        "in front of a short heading names which ('Vermont • Homes for sale'); a small word "
        "capitalized in a line whose small words are not is a name's ('SpeedFrame Pro'). Not "
        "rules one can turn off: a number added or left out, an item added to a list (in "
        "brackets too), a negation added or left out, words written apart or as one ('e-mail' "
        "/ 'email'), a teaser cut a few words further.",
        "",
        rule_table(rule_effects(labels, pages, ours)),
        "",
        "### Defaults against the baselines (pair-weighted)",
        "",
        table(
            [("dedup (defaults)", ours.pairs)]
            + [(name, e.pairs) for name, e in baselines(labels).items()]
        ),
        "",
        "### Page-weighted (each page's pairs share one unit of weight)",
        "",
        table(
            [("dedup (defaults)", ours.pages)]
            + [(name, e.pages) for name, e in baselines(labels).items()],
            weighted=True,
        ),
        "",
        "### By source, variant, kind and set (defaults, pair-weighted)",
        "",
        table(sorted(ours.groups.items())),
        "",
        "### Presets and alternatives (pair-weighted; page-weighted F1 last)",
        "",
        "| settings | precision | recall | F1 | page F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    runs = [("preset strict", dedup.config.PRESETS["strict"]), ("defaults", {})]
    runs += [("preset lenient", dedup.config.PRESETS["lenient"])]
    runs += [(_fmt_options(options), options) for options in ALTERNATIVES]
    for name, options in runs:
        e = ours if not options else evaluate(labels, options, pages)[0]
        lines.append(
            f"| {name} | {e.pairs.precision:.3f} | {e.pairs.recall:.3f} | {e.pairs.f1:.3f} "
            f"| {e.pages.f1:.3f} |"
        )
    exact = exact_recall(load_pages(), {})
    lines += [
        "",
        "### Exact repeats on every page (all 5,532 pages, both variants)",
        "",
        "A substantive paragraph (8 words or more, or 25 characters or more in scripts "
        "without spaces) equal to an earlier one after normalization is removed: "
        f"{exact['substantive_removed']} of {exact['substantive']}. Short exact repeats "
        '("Share", "Advertisement", table rules with words) are removed too, by policy: '
        f"{exact['short_removed']} of {exact['short']}. Paragraphs with no word at all "
        "(rules of symbols) are never removed.",
    ]
    lines += [
        "",
        "Removals that no label covers are read by hand in samples: see the audit section "
        "(`python -m benchmarks.audit`).",
    ]
    text = "\n".join(lines) + "\n"
    write_section("quality", text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("threshold", "containment"):
        parser.add_argument(f"--{name}", type=float)
    for name in ("shingle-size", "min-tokens"):
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--errors", action="store_true", help="list every wrong pair")
    parser.add_argument(
        "--oos", action="store_true", help="also score each set with the other's choice"
    )
    parser.add_argument(
        "--write", action="store_true", help="run everything and write it to RESULTS.md"
    )
    args = parser.parse_args(argv)
    if not (DATA / "labels.jsonl").exists():
        print(f"no evaluation data at {DATA}", file=sys.stderr)
        return 2
    options = {
        key: value
        for key, value in vars(args).items()
        if key in {"threshold", "containment", "shingle_size", "min_tokens"} and value is not None
    }
    labels = load_labels()
    if args.write:
        print(write_results(labels))
        return 0
    started = time.perf_counter()
    ours, _ = evaluate(labels, options)
    elapsed = time.perf_counter() - started
    rows = [(f"dedup {options or 'defaults'}", ours.pairs)]
    rows += [(name, e.pairs) for name, e in baselines(labels).items()]
    print(table(rows))
    print()
    print(table([(f"dedup {options or 'defaults'}", ours.pages)], weighted=True))
    print()
    print(table(sorted(ours.groups.items())))
    print(f"\n{elapsed:.1f} s")
    if args.oos:
        pages = labelled_pages(labels)
        print()
        print(out_of_sample_table(out_of_sample(labels, pages)))
        print()
        print(rule_table(rule_effects(labels, pages, ours)))
    if args.errors:
        for kind, pair, why in ours.errors:
            where = f"{pair['source']} {pair['variant']} J={pair['jaccard']:.2f}"
            print(f"\n{kind} [{where}] {pair['reason']}")
            print(f"   a: {pair['a'][:200]!r}\n   b: {pair['b'][:200]!r}\n   -> {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
