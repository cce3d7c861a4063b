"""Read what ``dedup`` removes where no label says whether it should: seeded samples.

``dedup`` cleans every page of ``../shared/data/pages.jsonl.gz`` (both variants, ``main``
and ``full``, as ``dedup clean --split lines``). Each near or contained removal whose pair of
lines no label covers is a candidate (exact repeats are left out: they are right by
construction, and would fill the sample). Each candidate is ranked by a hash of its page,
variant, lines and a seed (:data:`SEEDS`), and the first ``--sample`` of each seed (of those
no earlier seed took) are read by a person, who writes a
verdict for each into :data:`VERDICTS`: ``right`` (the removed line repeats the kept one:
nothing a reader needs is lost) or ``wrong``, with why. The ranking does not depend on the
other candidates, so a sample drawn from another version of the code holds the same
removals wherever both versions make them, and their verdicts carry over.

The verdict file holds page ids, line numbers, a hash of the two lines and the reader's
words, never the licensed text itself.

    python -m benchmarks.audit                # counts, from the verdicts so far
    python -m benchmarks.audit --show         # print the sampled removals not yet read
    python -m benchmarks.audit --write        # the audit section of RESULTS.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dedup
from benchmarks.quality import DATA, _line_numbers, links, load_labels, load_pages
from benchmarks.results import write_section

VERDICTS = Path(__file__).resolve().parent / "audit_verdicts.jsonl"
SAMPLE = 200
#: Samples, each of removals in none of the ones before, read in turn: seed 12 before the
#: rules it led to were written (and after, to check them); seed 13 after those, which led
#: to a few more; seed 14 once those were final (it led to two more); seed 15 with the rules
#: of session 11 (it led to three more); seed 16 once those were final; seed 17 with session
#: 12's rules, the out-of-sample check (two rules came after it: see BEFORE); seed 18 with
#: session 13's (two more came after it); seed 19 with those (three more came after it);
#: seed 20 with session 14's (two more came after it, and two in session 17); seed 21 with
#: session 17's first two (three more came after it); seed 22 with those (two more came
#: after it); seed 23 with those (two more came after it); seed 24 with those (five more
#: came after it, in session 18); seed 25 with those (three more came after it); seeds 26
#: and 27 with the rules final.
SEEDS = (12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28)
BEFORE = (
    "Before the rules these samples led to (commit 706944c), seed 12's sample had 16 wrong "
    "removals of 200 (8.0%): numbers cut short taken for stubs, a prefix taken for a label or "
    "a spelling ('Disadvantages'), '&' and '-' taken for separators, rating stars, code and "
    "code output ('&'a mut', '[4, 2, 0, 2, 4]', a diff's '-' line), an ingredient added to a "
    "list, a heading inside a sentence. Seed 13 was read next, with the rules from seed 12 "
    "(9 wrong of 200 as first drawn, 4.5%), and led to the dash and hyphen rules; seed 14 was "
    "read last, with the rules final: 7 wrong of 200 (3.5%) is the out-of-sample figure. The "
    "two rules it led to (another first letter is another word, a small word in capitals is "
    "a model's letters) came after, so its count below is no longer out of sample. Session "
    "11 changed the rules (edges, replies, names in front, small words left out), then read "
    "seed 15 with them: 8 wrong of 200 (4.0%), which led to three more (a number left out, "
    "a run of a currency sign, an item added inside brackets); seed 16, read last with the "
    "rules final, was then the out-of-sample figure: 7 wrong of 200 (3.5%). Session 12 "
    "changed the rules again (words written apart or together, wrappers at opposite ends, "
    "list items cut in front, teasers cut further, determiners left out), removing the "
    "Vermont / Colorado '• Homes for sale' lines as it went (two of seed 17's draw, seen "
    "before the rest was read); seed 17 was read with those rules: 7 wrong of 200 (3.5%), "
    "the out-of-sample figure. One rule came after it (a small word capitalized inside a "
    "line is a name's: 'SpeedFrame Pro Mips'), so seed 17's count below is one lower and no "
    "longer out of sample. Session 13 changed the rules (a content word inside a line of 8 "
    "to 11 words, with function words listed per language; a word in brackets at the end; "
    "brackets of other kinds; a cut copy aligned at the cut) and read seed 18 with them: 4 "
    "wrong of 200 (2.0%). Two rules came after it (a name's last letter is no word a label "
    "is glued to; words added to code make other code); seed 19, read with those, is the "
    "out-of-sample figure: 5 wrong of 200 (2.5%). Three rules came after it (an "
    "identifier's first part is no label; another prefix is no respelling; a small word in "
    "capitals is a model's letters or an operator in a line of any length), so seeds 18 "
    "and 19's counts below are lower and no longer out of sample. Session 14 gave the "
    "verifier the lines around a line (a line of a sentence wrapped over lines is an "
    "excerpt only with the rest of its sentence) and read seed 20 with it, the "
    "out-of-sample figure: 8 wrong of 200 (4.0%): two wrapped lines whose next line starts "
    "with a name (one of them loses a field's name), a table row without its 'X', another "
    "product's description ('sofa chaise'), another commenter's thanks, a course menu's "
    "'Test: <lesson>', the general form of ORDER BY found inside another synopsis, a "
    "team's name against the league table's row '17. <team>' (a class seed 17 found). Two "
    "rules came after it (a line that ends in a word a sentence cannot stop on goes on in "
    "the next whatever that starts with; a single letter at the edge of a row of numbers "
    "is a table's mark), so seed 20's count below is lower and no longer out of sample. "
    "Session 17 added two rules for seed 20's wrong removals (a word that ends a sentence "
    "before an excerpt is no tag: 'ManyToManyField. You use it ...'; a word added or left "
    "out at every mention fills a template in for another thing: 'sofa chaise'; two broader "
    "ones, a rank in front of one short line only and a one-word label with a colon, were "
    "dropped: each took over a hundred removals that were right) and read seed 21 with "
    "them, the out-of-sample figure: 7 wrong of 200 (3.5%): a course menu's 'Test: "
    "<lesson>' twice (seed 20's class), three lines of code (java against javac, '?' against "
    "'.expect(...)', 'Field(..., ...)' against 'Field(...)'), a subsection's heading taken "
    "for an excerpt of the section's, another course's description that adds 'essay "
    "writing'. Three rules came after it (an excerpt of code whose symbols are no piece of "
    "the kept code's; an item added to a list beside a small word changed; a capitalized "
    "word with two letters or more changed inside is another name: 'Austrian' / "
    "'Australian', a removal that came into the sample as the first rule took others out), "
    "so seed 21's count below is lower and no longer out of sample. Seed 22, read with "
    "those three, had 7 wrong of 200 (3.5%): a menu that adds an item, a league table's "
    "row against a fixture's team, a heading named inside a sentence, another shell's "
    "quoting, the kids' model of a helmet, a line of code against the string it builds, a "
    "table row without its marks. Two rules came after it (crosses inside a row of numbers "
    "are a table's marks; a call chained from the line above is code), so its count below "
    "is lower. Seed 23, read with those, had 6 wrong of 200 (3.0%): a product named in "
    "front of a category heading in capitals ('ADT - ...'), another day's row of a "
    "timetable, a kept headline cut off before the word the removed one ends with, another "
    "commenter's copy of a comment, a table row with another value, a config file's line "
    "against a Python call. Two rules came after it (a name in capitals before a heading is "
    "no dateline; a copy that goes on where the kept one is cut off says more), so its "
    "count below is lower. Seed 24, read with the rules final, is the out-of-sample figure "
    "of the code as it stands: 6 wrong of 200 (3.0%): another rule's description, 'Expert "
    "Q&A: <topic>' against the topic (as 'Test: <lesson>'), 'async function*' against "
    "'async function', 'login_required' against 'login_not_required' (an identifier taken "
    "for a respelling), a copy that answers the question ('Yes. But'), a diagram with "
    "primes (rebased commits) against the one without. Session 18 wrote five rules for "
    "classes the audit had read (an identifier's parts are never respelt; quotes of both "
    "kinds swapped make another string; other cells of marks or a timetable's row at the "
    "same time are another row; a line's own words again are a run of them; a word naming "
    "a model, 'Pro', 'Kids', names another product), so seed 24's count below is lower, "
    "then read seed 25 with them: 6 wrong of 200 (3.0%): a table of contents' 'FAQ: "
    "<section>', a ranking's winner against a heat's row, a Pro model (taken by the model "
    "rule just before the sample was drawn, the sample then holding one removal more, read "
    "right), a sentence-case title inside the sentence that names it, a clinic whose name "
    "is inside another's, and a course menu's 'Test: <lesson>' (read right by an earlier "
    "reader in the same menu as seeds 20 and 24's, set to wrong for consistency). Two rules "
    "came after it (a label naming a kind of page, a test, a quiz, an FAQ, in front of a "
    "heading names another page; a sentence-case heading named inside a sentence, "
    "capitalized there, is no excerpt), so its count below is lower. Seeds 26 and 27 were "
    "read with those (commit 895eeee; 3951fe2 and 20f0762 after it narrow two rules and "
    "make the same removals on these pages): 2 wrong of 200 each: a grammar's general form "
    "found inside another synopsis, a sentence-case heading that ends the sentence naming "
    "it, a menu written without commas that adds an item, a table's title with 'New' added "
    "inside. One rule came after seed 26 (such a heading is no excerpt at the end of the "
    "sentence either; a heading has no comma), so its count below is lower; seed 27's "
    "removals are the same under it. Seed 28, read with the rules final (b77ac98), had 2 "
    "wrong of 200: a high jump table's row with another pass mark, a footer's link found at "
    "the end of an acknowledgement's list of affiliations. The out-of-sample figure of the "
    "code as it stands is seeds 27 and 28, 4 wrong of 400 (1.0%; a 95% Wilson interval of "
    "0.4% to 2.5%); seeds 26 to 28, each read before any rule it led to, 6 of 600 (1.0%; "
    "0.5% to 2.2%)."
)


@dataclass(frozen=True)
class Removal:
    page: str
    variant: str
    lang: str
    kept: int  # line numbers in the page's text
    removed: int
    kind: str
    reason: str
    kept_text: str
    removed_text: str

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.page, self.variant, self.kept, self.removed)

    @property
    def digest(self) -> str:
        """A hash of the two lines: a verdict is for these words, not for line numbers."""
        both = f"{self.kept_text}\n{self.removed_text}".encode()
        return hashlib.sha256(both).hexdigest()[:16]


def candidates(pages: Iterable[dict[str, Any]], labels: list[dict[str, Any]]) -> list[Removal]:
    """Every near or contained removal on ``pages`` whose pair no label covers."""
    covered = {(p["doc_id"], p["variant"], p["i"], p["j"]) for p in labels}
    found = []
    for page in pages:
        lines = page["text"].split("\n")
        _, result = links(page["text"], {})
        line = _line_numbers(page["text"], result)
        for r in result.removed:
            kept, removed = line[r.duplicate_of], line[r.index]
            if r.kind == "exact" or (page["id"], page["variant"], kept, removed) in covered:
                continue
            found.append(
                Removal(
                    page["id"],
                    page["variant"],
                    page["lang"] or "?",
                    kept,
                    removed,
                    r.kind,
                    r.reason,
                    lines[kept],
                    lines[removed],
                )
            )
    return found


def _rank(removal: Removal, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{removal.key}".encode()).hexdigest()


def samples(found: list[Removal], size: int = SAMPLE) -> list[list[Removal]]:
    """For each of :data:`SEEDS`, the first ``size`` removals it ranks among those that no
    earlier seed took."""
    out = []
    for seed in SEEDS:
        taken = {r.key for drawn in out for r in drawn}
        rest = [r for r in found if r.key not in taken]
        out.append(sorted(rest, key=lambda r: _rank(r, seed))[:size])
    return out


def load_verdicts(path: Path = VERDICTS) -> dict[str, dict[str, Any]]:
    """Verdicts by the digest of the two lines they judge."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        entries = [json.loads(line) for line in handle if line.strip()]
    return {entry["digest"]: entry for entry in entries}


@dataclass
class Audit:
    name: str
    candidates: int
    sampled: list[Removal]
    verdicts: dict[str, dict[str, Any]]

    @property
    def read(self) -> list[tuple[Removal, dict[str, Any]]]:
        return [(r, self.verdicts[r.digest]) for r in self.sampled if r.digest in self.verdicts]

    @property
    def unread(self) -> list[Removal]:
        return [r for r in self.sampled if r.digest not in self.verdicts]

    @property
    def wrong(self) -> list[tuple[Removal, dict[str, Any]]]:
        return [(r, v) for r, v in self.read if v["verdict"] == "wrong"]


def run(size: int = SAMPLE) -> list[Audit]:
    """One audit for each of :data:`SEEDS`."""
    found = candidates(load_pages(), load_labels())
    verdicts = load_verdicts()
    return [
        Audit(f"seed {seed}", len(found), drawn, verdicts)
        for seed, drawn in zip(SEEDS, samples(found, size), strict=True)
    ]


def report(audit: Audit) -> str:
    read, wrong = len(audit.read), len(audit.wrong)
    share = f"{wrong / read:.1%}" if read else "-"
    lines = [
        f"**Sample {audit.name}**: {len(audit.sampled)} of {audit.candidates} near or "
        f"contained removals that no label covers; {read} read, {wrong} wrong ({share}), "
        f"{len(audit.unread)} not read.",
    ]
    kinds = Counter(r.kind for r in audit.sampled)
    langs = Counter(r.lang for r in audit.sampled)
    lines.append(
        "Sampled by kind: "
        + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
        + "; by language: "
        + ", ".join(f"{k} {n}" for k, n in langs.most_common())
        + "."
    )
    if audit.wrong:
        lines += ["", "The wrong ones (page, variant, kept line, removed line: why):", ""]
        for r, verdict in audit.wrong:
            lines.append(f"- `{r.page}` {r.variant} {r.kept}->{r.removed}: {verdict['why']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=SAMPLE)
    parser.add_argument("--show", action="store_true", help="print the removals not yet read")
    parser.add_argument("--write", action="store_true", help="write RESULTS.md's section")
    args = parser.parse_args(argv)
    if not (DATA / "pages.jsonl.gz").exists():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    audits = run(args.sample)
    if args.show:
        for r in [r for audit in audits for r in audit.unread]:
            record = {
                "page": r.page,
                "variant": r.variant,
                "kept": r.kept,
                "removed": r.removed,
                "digest": r.digest,
                "lang": r.lang,
                "kind": r.kind,
                "reason": r.reason,
                "kept_text": r.kept_text,
                "removed_text": r.removed_text,
            }
            print(json.dumps(record, ensure_ascii=False))
        return 0
    text = "\n\n".join(map(report, audits))
    print(text)
    if args.write:
        write_section(
            "audit",
            "## Removals no label covers, read by hand (issue 12)\n\n"
            f"`python -m benchmarks.audit --write`, {time.strftime('%Y-%m-%d')}, dedup "
            f"{dedup.__version__}: the final code, with the verdicts in "
            "`benchmarks/audit_verdicts.jsonl`.\n\n"
            f"{BEFORE}\n\n{text}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
