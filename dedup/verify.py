"""Verification: does a later paragraph repeat an earlier kept one, and why (or why not)?

A candidate pair is judged on its real shingle sets and on what differs between the two
token sequences:

* **exact**: equal after normalization.
* **near**: Jaccard of the shingle sets at or above ``threshold``; or, below it, the two
  differ by one added or dropped word and nothing else (a short paragraph with one word
  dropped has a Jaccard near 0.5).
* **contained**: the later paragraph is no longer than the earlier one and at least
  ``containment`` of its shingles are in it: a cut-off copy, an excerpt, a pull-quote.

Whatever the similarity, the later paragraph is kept when it carries information the
earlier one does not: a number it lacks, a word put in place of another (another name,
month, item), or more added words than a stray tag or filler word. Paragraphs shorter than
``min_tokens`` are compared by exact equality only, so a recurring heading or question is
never an excerpt of its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from dedup.config import Config
from dedup.fingerprint import Fingerprint
from dedup.normalize import is_unspaced
from dedup.shingles import containment, jaccard

Kind = Literal["exact", "near", "contained"]
KINDS: tuple[Kind, ...] = ("exact", "near", "contained")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement on one candidate pair; ``kind`` is None when it is not a repeat."""

    kind: Kind | None
    similarity: float
    reason: str

    @property
    def repeat(self) -> bool:
        return self.kind is not None


@dataclass(frozen=True, slots=True)
class Difference:
    """What the later paragraph has that the earlier lacks, and the reverse."""

    added: tuple[str, ...]
    substituted: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...]


def _variant(old: str, new: str) -> bool:
    """Spelling variants (``colour``/``color``, ``minister``/``ministers``), not new words."""
    if any(ch.isdigit() for ch in old + new) or min(len(old), len(new)) < 4:
        return False
    return SequenceMatcher(None, old, new, autojunk=False).ratio() >= 0.8


def difference(earlier: tuple[str, ...], later: tuple[str, ...]) -> Difference:
    """Align the token sequences and name what differs.

    A later paragraph cut off inside a word ("Zusammen…") does not count that stub as new.

    >>> difference(tuple("the cat sat on a mat".split()), tuple("the dog sat on mat".split()))
    Difference(added=(), substituted=(('cat', 'dog'),), dropped=('a',))
    """
    added: list[str] = []
    substituted: list[tuple[str, str]] = []
    dropped: list[str] = []
    matcher = SequenceMatcher(None, earlier, later, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        old, new = list(earlier[i1:i2]), list(later[j1:j2])
        if op == "replace" and j2 == len(later) and earlier[i1].startswith(new[-1]):
            if len(new) == 1:
                dropped.extend(old)
                continue
            new.pop()
        pairs = min(len(old), len(new)) if op == "replace" else 0
        for k in range(pairs):
            if not _variant(old[k], new[k]):
                substituted.append((old[k], new[k]))
        added.extend(new[pairs:])
        dropped.extend(old[pairs:])
    return Difference(tuple(added), tuple(substituted), tuple(dropped))


def _words(tokens: tuple[str, ...]) -> float:
    """Tokens counted as words: two characters of an unspaced script make about one."""
    return sum(0.5 if is_unspaced(token) else 1.0 for token in tokens)


def _quote(tokens: tuple[str, ...], limit: int = 5) -> str:
    shown = " ".join(tokens[:limit])
    return f"'{shown} …'" if len(tokens) > limit else f"'{shown}'"


def compare(earlier: Fingerprint, later: Fingerprint, config: Config) -> Verdict:
    """Judge whether ``later`` repeats the earlier kept paragraph ``earlier``."""
    if earlier.digest == later.digest:
        return Verdict("exact", 1.0, "equal after normalization")
    if earlier.short or later.short:
        return Verdict(None, 0.0, "too short to compare by shingles, and not equal")
    similarity = jaccard(earlier.shingles, later.shingles)
    contained = containment(later.shingles, earlier.shingles)
    diff = difference(earlier.tokens, later.tokens)

    known = set(earlier.tokens)
    numbers = [t for t in diff.added + tuple(n for _, n in diff.substituted) if t not in known]
    numbers = [t for t in numbers if any(ch.isdigit() for ch in t)]
    if numbers:
        return Verdict(
            None, similarity, f"has numbers the kept paragraph lacks: {_quote(tuple(numbers))}"
        )
    if diff.substituted:
        old, new = diff.substituted[0]
        more = f" and {len(diff.substituted) - 1} more" if len(diff.substituted) > 1 else ""
        return Verdict(
            None, similarity, f"says '{new}' where the kept paragraph says '{old}'{more}"
        )
    if _words(diff.added) > 1:
        return Verdict(None, similarity, f"adds {_quote(diff.added)}")

    if not diff.added and not diff.dropped:
        return Verdict("near", similarity, "same words, other punctuation")
    if similarity >= config.threshold:
        return Verdict("near", similarity, f"near copy, Jaccard {similarity:.2f}")
    if _words(diff.added) + _words(diff.dropped) <= 1:
        change = f"adds {_quote(diff.added)}" if diff.added else f"drops {_quote(diff.dropped)}"
        return Verdict("near", similarity, f"one word apart: {change}")
    if contained >= config.containment and len(later.tokens) <= len(earlier.tokens):
        return Verdict(
            "contained", contained, f"cut-off copy or excerpt, {contained:.0%} of it contained"
        )
    return Verdict(
        None,
        similarity,
        f"too different: Jaccard {similarity:.2f}, containment {contained:.2f}",
    )
