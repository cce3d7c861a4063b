"""Verification: does a later paragraph repeat an earlier kept one, and why (or why not)?

A candidate pair is judged on what differs between the two token sequences (aligned with
``difflib``) and on the similarity of their shingle sets:

* **exact**: equal after normalization.
* The later paragraph is **kept** whenever it carries information the earlier one lacks:
  a number, a word put in place of another (another name, month, item, currency), a
  negation added or dropped, more than one word added before or after the shared text
  (it goes on with new content), or — unless the Jaccard reaches ``threshold`` — more
  than one word added or left out inside it (a list with items missing is another list).
  Two code lines (symbols such as brackets, braces, operators, a shell prompt) must also
  have the same symbols.
* **near**: the same words with other punctuation (or written apart on one side and as
  one word on the other: "e-mail" / "email"); or one word apart (one word added, dropped
  or respelled: a tag like "(dpa)", a filler word); or a teaser cut off a few words
  further; or a Jaccard of the shingle sets at or above ``threshold``.
* **contained**: trimmed at its ends only, no longer than the earlier paragraph, and at
  least ``containment`` of its shingles in it: a cut-off copy, an excerpt, a pull-quote.
  A line of a sentence wrapped over lines (``split="lines"``) is one only when the other
  lines of that sentence are in the earlier paragraph too (a copy wrapped otherwise):
  else removing it would cut a sentence that says something else.

Paragraphs shorter than ``min_tokens`` have no shingles and a word more or less usually
makes another line of them: they are near copies only when they are the earlier one with
one word in front (an agency tag) or, from six words on and without numbers, one word
apart; contained only when they are its start and end in an ellipsis ("…", "...", "[…]").
Below three words (``MIN_WORDS``) only exact copies count, so "Share" or "Advertisement" is
removed only when it recurs exactly. A heading or question recurring inside a longer
paragraph is therefore not removed, and an earlier paragraph is never removed because a
later one contains it.

Tokens drop punctuation and capitals: the rules of :data:`RULES` look at the text itself
(:mod:`dedup.shapes`): wrappers taken off before a second look, names, code, signs,
excerpts and the edges of short lines (see :func:`compare` and the README).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.fingerprint import Fingerprint, Sketches, fingerprint
from dedup.lazy import lazy_re, lazy_regex
from dedup.lexicon import DETERMINERS, FUNCTION_WORDS, MODELS, NEGATIONS, content_word
from dedup.native import speedups
from dedup.normalize import is_unspaced, normalize, token_spans, tokenize, word_count
from dedup.shapes import (
    LABEL_WORDS,
    REST_WORDS,
    brackets,
    clock,
    code_form,
    ends_sentence,
    in_identifier,
    is_name,
    label_before,
    marks,
    page_label,
    prose,
    reply,
    shared_label,
    signs,
    starts_sentence,
    strong_code,
    titled,
    unwrapped,
)
from dedup.shingles import shared, shared_counts

Kind = Literal["exact", "near", "contained"]

#: Paragraphs of fewer words than this (two characters of an unspaced script make one)
#: are removed only when equal to an earlier one after normalization.
MIN_WORDS = 3

KINDS: tuple[Kind, ...] = ("exact", "near", "contained")
#: Below this many words (the shorter paragraph's), one word more or less at an edge
#: must be set off by punctuation to count as a tag, and one inside must be a small word
#: ("the", "de", "and"; from 8 words on, any function word: "with", "welche"): a word in
#: front of a short line names another thing ("Frozen vegetables", "Progressive Web App").
SHORTISH = 12

#: The rules that go beyond the tokens, each with a name so that the quality benchmark can
#: measure it on its own (:func:`rules_off`); see :func:`compare`.
RULES = ("wrappers", "names", "code", "signs", "excerpts", "edges", "templates")
_off: set[str] = set()


@contextmanager
def rules_off(*names: str) -> Iterator[None]:
    """Turn the named rules off inside the block (for measuring them; not thread-safe)."""
    unknown = set(names) - set(RULES)
    if unknown:
        raise ValueError(f"unknown rules {sorted(unknown)}; rules: {', '.join(RULES)}")
    before = set(_off)
    _off.update(names)
    try:
        yield
    finally:
        _off.clear()
        _off.update(before)


def rules_turned_off() -> tuple[str, ...]:
    """The rules turned off now (by :func:`rules_off`): another process that verifies for
    this one turns them off too."""
    return tuple(sorted(_off))


def _on(rule: str) -> bool:
    return rule not in _off


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement on one candidate pair; ``kind`` is None when it is not a repeat."""

    kind: Kind | None
    similarity: float
    reason: str

    @property
    def repeat(self) -> bool:
        return self.kind is not None

    def __reduce__(self) -> tuple[type[Verdict], tuple[Kind | None, float, str]]:
        # Pickled as its fields: the slots' __getstate__ and __setstate__ are Python and
        # list the dataclass's fields each time (100k verdicts through Spark's cloudpickle
        # and back: 0.92 s, 0.44 s this way).
        return Verdict, (self.kind, self.similarity, self.reason)


class Difference(NamedTuple):
    """What the later paragraph has that the earlier lacks, and the reverse (a named
    tuple: one is made for most verified pairs, and a frozen dataclass is slower to make).

    ``dropped`` are earlier tokens missing inside the later paragraph; ``trimmed`` those
    missing before its first or after its last word (a cut-off copy or an excerpt).
    ``extended`` are the added tokens before its first or after its last shared word.
    ``variants`` are words put in place of a near spelling (``colour``/``color``).
    """

    added: tuple[str, ...]
    substituted: tuple[tuple[str, str], ...]
    variants: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...]
    trimmed: tuple[str, ...]
    extended: tuple[str, ...]
    #: Where the shared tokens begin and end: ``(earlier, later)`` token positions of the
    #: first equal one, and just after the last (``(0, 0)`` twice when none is equal).
    first: tuple[int, int] = (0, 0)
    last: tuple[int, int] = (0, 0)


def _is_number(token: str) -> bool:
    return not token.isalpha() and any(map(str.isdigit, token))


def _variant(old: str, new: str) -> bool:
    """Spelling variants (``colour``/``color``, ``minister``/``ministers``), not other words
    (``advantages``/``disadvantages``, ``icdpa``/``vcdpa``, identifiers: ``login_required``/
    ``login_not_required``); in scripts without spaces, one letter with other marks (a
    vowel or tone mark in Thai, Lao, Khmer or Burmese)."""
    if old[0] == new[0] and not old.isascii() and is_unspaced(old):
        return True  # tokens of the same letter differ in marks only
    # (The cheapest looks first: most pairs of words differ at once.)
    if min(len(old), len(new)) < 4 or old[0] != new[0]:
        return False  # short, or another first letter
    if old.endswith(new) or new.endswith(old):
        return False  # a word put in front: "disadvantages"
    if "_" in old or "_" in new:
        return False  # an identifier's parts: "login_required" / "login_not_required"
    if _is_number(old) or _is_number(new):
        return False
    # SequenceMatcher's real_quick_ratio and quick_ratio, upper bounds of its ratio from
    # the lengths and the letters shared: most pairs stop there, before a matcher is made.
    size = len(old) + len(new)
    if 2.0 * min(len(old), len(new)) / size < 0.8:
        return False
    if 2.0 * sum((Counter(old) & Counter(new)).values()) / size < 0.8:
        return False
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < 0.8:
        return False
    # Another prefix, not a respelling: "postcondition" / "precondition" differ by more than
    # two letters before the third ("Ireland" / "Irland", "Unlgeich…" / "Ungleich…" do not).
    changed = sum(
        max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    )
    return changed <= 2 or old[:3] == new[:3]


def opcodes(a: tuple[str, ...], b: tuple[str, ...]) -> Sequence[tuple[str, int, int, int, int]]:
    """``difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()``: compiled
    (:mod:`dedup.native`) when it was built, else :func:`opcodes_in_python`."""
    if speedups is not None:
        return speedups.opcodes(a, b)  # type: ignore[no-any-return]
    return opcodes_in_python(a, b)


def opcodes_in_python(
    a: tuple[str, ...], b: tuple[str, ...]
) -> Sequence[tuple[str, int, int, int, int]]:
    """``difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()``, without
    difflib when the answer is plain: the common start and end, and between them tokens
    that the other sequence lacks altogether (a word put in, left out or replaced). No
    block can then match across the middle, and the longest blocks are the start and the
    end, so difflib aligns exactly those (a test checks the two agree)."""
    size = min(len(a), len(b))
    start = 0
    while start < size and a[start] == b[start]:
        start += 1
    end = 0
    while end < size - start and a[-1 - end] == b[-1 - end]:
        end += 1
    old, new = a[start : len(a) - end], b[start : len(b) - end]
    plain = set(old).isdisjoint(b) and set(new).isdisjoint(a)
    if plain and bool(old) != bool(new):
        # Only one side has a middle: on the other, a block could run from the start
        # into the end, unless they have no token in common.
        plain = set(a[:start]).isdisjoint(a[len(a) - end :])
    if not plain:
        return SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    codes = [("equal", 0, start, 0, start)] if start else []
    if old or new:
        op = "replace" if old and new else "delete" if old else "insert"
        codes.append((op, start, len(a) - end, start, len(b) - end))
    if end:
        codes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return codes


def difference(earlier: tuple[str, ...], later: tuple[str, ...], cut: bool = False) -> Difference:
    """Align the token sequences and name what differs.

    A later paragraph cut off inside a word ("Zusammen…") does not count that stub as new;
    a number is a stub only where the later paragraph is ``cut`` off with an ellipsis
    ("in 201…"): else it is another number ("(3)" against "(368)").

    >>> d = difference(tuple("the cat sat on a mat".split()), tuple("the dog sat on".split()))
    >>> d.substituted, d.dropped
    ((('cat', 'dog'),), ())
    >>> d = difference(tuple("a long story told twice".split()), tuple("long stor".split()))
    >>> d.trimmed
    ('a', 'story', 'told', 'twice')
    """
    added: list[str] = []
    extended: list[str] = []
    substituted: list[tuple[str, str]] = []
    variants: list[tuple[str, str]] = []
    dropped: list[str] = []
    trimmed: list[str] = []
    first = last = None
    for op, i1, i2, j1, j2 in _cut_opcodes(earlier, later) if cut else opcodes(earlier, later):
        if op == "equal":
            first = first or (i1, j1)
            last = (i2, j2)
            continue
        old, new = list(earlier[i1:i2]), list(later[j1:j2])
        at_edge = j1 == 0 or j2 == len(later)
        stub = new[-1] if op == "replace" and j2 == len(later) else ""
        if stub and (cut or not _is_number(stub)) and any(t.startswith(stub) for t in old):
            new.pop()  # the stub of a word cut off
            at_edge = True
        pairs = min(len(old), len(new))
        for k in range(pairs):
            (variants if _variant(old[k], new[k]) else substituted).append((old[k], new[k]))
        added.extend(new[pairs:])
        if at_edge:
            extended.extend(new[pairs:])
            trimmed.extend(old[pairs:])
        else:
            dropped.extend(old[pairs:])
    return Difference(
        tuple(added),
        tuple(substituted),
        tuple(variants),
        tuple(dropped),
        tuple(trimmed),
        tuple(extended),
        first or (0, 0),
        last or (0, 0),
    )


def _cut_opcodes(
    earlier: tuple[str, ...], later: tuple[str, ...]
) -> Sequence[tuple[str, int, int, int, int]]:
    """The alignment of a paragraph cut off with an ellipsis: where the plain alignment
    pairs the stub after the cut with a word further on ("... do skutecznego środka o…":
    the "o" of "o nim" instead of the start of "odwoławczego"), the words before the cut
    aligned on their own and the stub taken for the start of the earlier word that comes
    next, the rest of the earlier paragraph cut off."""
    whole = opcodes(earlier, later)
    n = len(later)
    head = list(opcodes(earlier, later[:-1])) if n > 1 else []
    while head and head[-1][0] == "delete":
        head.pop()  # the rest of the earlier paragraph, cut off
    if not head or head[-1][0] != "equal" or head[-1][4] != n - 1:
        return whole
    end = head[-1][2]
    if end >= len(earlier) or not earlier[end].startswith(later[-1]):
        return whole
    if whole and whole[-1][0] == "equal" and whole[-1][2] == end + 1 and whole[-1][4] == n:
        return whole  # the stub is aligned where it was cut
    return [*head, ("replace", end, len(earlier), n - 1, n)]


def _quote(tokens: tuple[str, ...], limit: int = 5) -> str:
    shown = " ".join(tokens[:limit])
    return f"'{shown} …'" if len(tokens) > limit else f"'{shown}'"


def _token_jaccard(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def _cut_prefix(earlier: tuple[str, ...], later: tuple[str, ...]) -> bool:
    """``later`` is the start of ``earlier``, possibly cut inside its last word."""
    n = len(later)
    if not 0 < n <= len(earlier) or later[:-1] != earlier[: n - 1]:
        return False
    return earlier[n - 1].startswith(later[-1]) and (n < len(earlier) or later != earlier)


def _tagged(earlier: tuple[str, ...], later: tuple[str, ...]) -> bool:
    """``later`` is ``earlier`` with one word in front: "(dpa)", "AP", "[Reuters]"."""
    extra = len(later) - len(earlier)
    return extra > 0 and word_count(later[:extra]) <= 1 and later[extra:] == earlier


EXACT = Verdict("exact", 1.0, "equal after normalization")


def _far(similarity: Any, contained: Any, config: Config) -> Any:
    """Two long paragraphs far apart by both Jaccard and ``contained`` (the share of the
    later one's shingles in the earlier one), so that no rule of :func:`compare` could call
    them a repeat (for numbers or arrays of them)."""
    return (contained < min(0.5, config.containment)) & (similarity < min(0.4, config.threshold))


def far_pairs(
    earlier: Sketches,
    later: Sketches,
    truncated: npt.NDArray[np.bool_],
    config: Config,
    close: float,
) -> npt.NDArray[np.bool_]:
    """For many pairs at once (``earlier`` and ``later`` aligned, ``truncated`` whether
    each later paragraph ends in an ellipsis): True where :func:`compare` would find the
    pair neither a repeat nor as similar as ``close``, without looking at their tokens.

    Two long paragraphs are far apart as :func:`_far` says; a pair with a short one
    when at least three tokens differ and the Jaccard of their tokens is below ``close``
    for sure, which the token Bloom filters and distinct counts bound: a bit set in one
    filter only is a token of that paragraph only. Other pairs are False (look closer).
    """
    earlier_sizes, later_sizes = np.diff(earlier.offsets), np.diff(later.offsets)
    common = shared_counts(earlier.shingles, earlier.offsets, later.shingles, later.offsets)
    long = (earlier_sizes > 0) & (later_sizes > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = common / (earlier_sizes + later_sizes - common)
        contained = common / later_sizes
        far_long = long & _far(similarity, contained, config) & (similarity < close)
        only_earlier = np.bitwise_count(earlier.blooms & ~later.blooms).sum(axis=1)
        only_later = np.bitwise_count(later.blooms & ~earlier.blooms).sum(axis=1)
        a, b = earlier.distinct.astype(np.float64), later.distinct.astype(np.float64)
        bound = np.minimum(
            np.where(a < 255, (a - only_earlier) / (a + only_later), np.inf),
            np.where(b < 255, (b - only_later) / (b + only_earlier), np.inf),
        )
    far_short = ~long & ~truncated & (only_earlier + only_later > 2) & (bound < close)
    far: npt.NDArray[np.bool_] = far_long | far_short
    return far


def _new_number(earlier: tuple[str, ...], later: tuple[str, ...]) -> tuple[str, ...] | None:
    """The occurrences of a number ``later`` has and ``earlier`` lacks, when there is one
    such number: each occurrence is then added or put in place of another word however the
    tokens align, and it is what :func:`compare` reports, without aligning them. None when
    there are none or several (or it ends ``later`` and may be the stub of a cut word)."""
    new = {t for t in set(later).difference(earlier) if _is_number(t)}
    if len(new) != 1:
        return None
    (number,) = new
    if later[-1] == number and any(t.startswith(number) for t in earlier):
        return None
    return (number,) * later.count(number)


def compare(
    earlier: Fingerprint, later: Fingerprint, config: Config, brief_below: float = 0.0
) -> Verdict:
    """Judge whether ``later`` repeats the earlier kept paragraph ``earlier``.

    A short pair that no rule could call a repeat and whose similarity is below
    ``brief_below`` is given a brief reason, without aligning its tokens (callers that show
    reasons only for close calls pass their bar). A pair that is no repeat as it stands is
    judged again without its wrappers (a label in front, a list number, "Read more" at the
    end: see :mod:`dedup.shapes`), on either side. A line of a sentence wrapped over lines
    (:attr:`~dedup.fingerprint.Fingerprint.wrapped`) is an excerpt only where the other
    lines of its sentence are in the kept paragraph too (:func:`_unwrapped_line`).
    """
    verdict = _compare(earlier, later, config, brief_below)
    if verdict.kind is None and _on("wrappers") and not verdict.reason.startswith(_FINAL):
        verdict = _unwrapped(earlier, later, config) or verdict
    if verdict.kind is not None and _on("wrappers"):
        pages = page_label(earlier.normalized), page_label(later.normalized)
        if pages[0] != pages[1] and min(earlier.words, later.words) < SHORTISH:
            return Verdict(
                None,
                verdict.similarity,
                f"'{pages[1] or pages[0]}:' in front of a heading names another page",
            )
    if verdict.kind is not None and later.wrapped and _on("excerpts"):
        cut = _unwrapped_line(earlier, later, config)
        if cut:
            return Verdict(None, verdict.similarity, cut)
    return verdict


def _unwrapped_line(earlier: Fingerprint, later: Fingerprint, config: Config) -> str | None:
    """Why a line of a wrapped sentence found in a longer kept paragraph is no excerpt of
    it: the other lines of its sentence are not in that paragraph too (removed, it would cut
    a sentence that says something else: "the mayor said that" / <an excerpt> / "without
    asking anyone"). Wrapped with lines the paragraph holds, it is a line of a copy wrapped
    otherwise, as its neighbours are."""
    if not difference(earlier.tokens, later.tokens, cut=later.truncated).trimmed:
        return None  # the whole paragraph, not a piece of it
    around = tokenize(normalize(later.wrapped))
    held = set(earlier.tokens)
    if sum(token in held for token in around) >= config.containment * len(around):
        return None
    return (
        "a line of a sentence wrapped over lines, with lines the kept paragraph does not "
        f"hold ({_quote(tuple(around))}): not an excerpt"
    )


def _unwrapped(earlier: Fingerprint, later: Fingerprint, config: Config) -> Verdict | None:
    """The verdict on the pair without wrappers, when that makes it a repeat: a label one
    of them has in front of the other, else the wrappers of one side, past a label both
    have (both sides with wrappers of their own are other things: other labels, numbers,
    counts)."""
    a, b = earlier.normalized, later.normalized
    a_named = b_named = ""
    label = label_before(a, b)
    if label and label.endswith("-") and not _dateline(later):
        return None  # "NordVPN - Best VPN ...": a name put before a heading says which
    if label:
        b, b_named = a, f"'{label}' in front"
    else:
        label = label_before(b, a)
        if label:
            a, a_named = b, f"'{label}' in front"
        else:
            same = shared_label(a, b)  # the same label is no wrapper: look past it
            (a, a_named, a_kinds), (b, b_named, b_kinds) = unwrapped(a[same:]), unwrapped(b[same:])
            if a_named and b_named:
                both = _both_wrapped(earlier.normalized, later.normalized, a_kinds, b_kinds)
                if not both:
                    return None
                (a, a_named), (b, b_named) = both
            elif not (a_named or b_named):
                return None
    # Most pairs are far apart whatever is around them: the shorter one's words must be
    # mostly in the other for a second look (a repeat's are, an excerpt's are).
    words_a, words_b = set(tokenize(a)), set(tokenize(b))
    if 2 * len(words_a & words_b) < min(len(words_a), len(words_b)):
        return None
    if not all(any(map(str.isalpha, "".join(words))) for words in (words_a, words_b)):
        return None  # a date or a number is no title: "01.02.2022" against "01.02.2022 | Meet"
    numbers_a, numbers_b = (
        {t for t in tokenize(unwrapped(whole, end=False)[0]) if _is_number(t)}
        for whole in (earlier.normalized, later.normalized)
    )
    if numbers_a - numbers_b and numbers_b - numbers_a:
        return None  # each has numbers of its own, a list number aside: other counts
    inner = _compare(
        fingerprint(a, config, raw=earlier.raw), fingerprint(b, config, raw=later.raw), config
    )
    if inner.kind is None:
        return None
    said = "the same" if inner.kind == "exact" else inner.reason
    named = ", ".join(
        [f"with {b_named}"] * bool(b_named) + [f"the kept one with {a_named}"] * bool(a_named)
    )
    kind: Kind = "near" if inner.kind == "exact" else inner.kind
    return Verdict(kind, inner.similarity, f"{said}, {named}")


def _both_wrapped(
    a: str, b: str, a_kinds: frozenset[str], b_kinds: frozenset[str]
) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """Two paragraphs that both have wrappers (of ``a_kinds`` and ``b_kinds``), each without
    the ones to take off and how to name them, when they may be the same without them: one
    has a trailer and the other none, but a label or a list number; the one's trailer and
    the other's label come off ("You are here: <title>" against "<title> | <site>"). None
    for other wrappers on both sides: other labels, other counts, another place in a list
    ("3. <athlete>" against "7. <athlete>", which a joke listed twice also looks like)."""
    if "trailer" in a_kinds and "trailer" not in b_kinds:
        return unwrapped(a, front=False)[:2], unwrapped(b, end=False)[:2]
    if "trailer" in b_kinds and "trailer" not in a_kinds:
        return unwrapped(a, end=False)[:2], unwrapped(b, front=False)[:2]
    return None


#: A label set off by a dash in front of a copy is a dateline ("MOSCOW (AP) -", "BERLIN
#: (dpa) -"), in capitals but for an agency in brackets; in other letters it names a
#: thing ("NordVPN - Best VPN for Security").
_DATELINE = lazy_regex(r"\s*(?:[^\p{Ll}(]|\([^)]{1,12}\))+?\s[-\u2013\u2014]\s")


def _dateline(paragraph: Fingerprint) -> bool:
    """Whether a paragraph starts with a dateline: a news agency ("AP -", "BERLIN (dpa)
    -"), or a place in capitals before a story (prose); a name in capitals before a
    heading is no dateline ("ADT - Most Complete Security System with Cameras" names the
    winner of a category)."""
    found = _DATELINE.match(paragraph.raw)
    if found is None:
        return False
    head = found.group(0)
    return "(" in head or _AGENCY.search(head) is not None or prose(paragraph.normalized)


#: News agencies, which a dateline names ("AP —", "MOSCOW (AP) —", "(dpa)").
_AGENCY = lazy_regex(
    r"(?i)(?<!\w)(?:ap|afp|dpa|reuters|upi|efe|ansa|xinhua|tass|ria|kna|epd|apa|sda|ats|belga|anp"
    r"|pap|ctk|mti|tt|ntb|stt|ritzau|kyodo|yonhap|aa|ips|pti|ians|bernama|antara)(?!\w)"
)


_FAR = "too different"
_CODE_REASONS = ("code against prose", "prose against code", "code with other symbols or words")
#: Verdicts that no wrapper changes: too far apart, or apart for their code ('body:"x"' is
#: a line of code, not a label in front of a string).
_FINAL = (_FAR, *_CODE_REASONS)


def _compare(
    earlier: Fingerprint, later: Fingerprint, config: Config, brief_below: float = 0.0
) -> Verdict:
    """:func:`compare`, on the paragraphs as they stand."""
    if earlier.normalized == later.normalized:
        return EXACT
    a, b = earlier.tokens, later.tokens
    if min(earlier.words, later.words) < MIN_WORDS:
        return Verdict(None, 0.0, f"fewer than {MIN_WORDS} words, and not equal")
    short = earlier.short or later.short
    if short:
        similarity, contained = _token_jaccard(a, b), 0.0
        # Every rule that makes a short pair a repeat, but the ellipsis cut, allows at most
        # one word in and one out.
        if similarity < brief_below and not later.truncated and len(set(a) ^ set(b)) > 2:
            return Verdict(None, similarity, "short, and not the same words")
    else:
        common = shared(earlier.shingles, later.shingles)
        similarity = common / (earlier.shingles.size + later.shingles.size - common)
        contained = common / later.shingles.size
        if _far(similarity, contained, config):
            return _too_different(similarity, contained)
    if _on("wrappers") and reply(earlier.normalized) != reply(later.normalized):
        return Verdict(
            None, similarity, "a reply's subject ('Re: ...'): another message than it answers"
        )
    if _on("names") and (is_name(earlier.normalized) or is_name(later.normalized)):
        return Verdict(
            None, similarity, "a name (a URL, a path, an identifier) repeats only exactly"
        )
    numbers = _new_number(a, b)
    if numbers:
        return Verdict(None, similarity, f"has numbers the kept paragraph lacks: {_quote(numbers)}")
    diff = difference(a, b, later.truncated)
    new_words = diff.added + tuple(new for _, new in diff.substituted)
    numbers = tuple(t for t in new_words if _is_number(t))
    if numbers:  # (few pairs add numbers: the earlier tokens' set is made for those only)
        known = set(a)
        numbers = tuple(t for t in numbers if t not in known)
    if numbers:
        return Verdict(None, similarity, f"has numbers the kept paragraph lacks: {_quote(numbers)}")
    numbers = tuple(t for t in diff.dropped if _is_number(t) and a.count(t) > b.count(t))
    if numbers:  # "5 hrs" against "4-5 hrs"; a number cut off the end is an excerpt's
        return Verdict(None, similarity, f"leaves out numbers: {_quote(numbers)}")
    if diff.substituted and not _small_swap(earlier, later, diff):
        joined = _rejoined(earlier, later, config) if _joined_first(diff) else None
        if joined:  # "Blue Cross" against "BlueCross": judged written alike
            verdict = _compare(joined[0], joined[1], config)
            if verdict.kind is not None:
                said = "the same" if verdict.kind == "exact" else verdict.reason
                how = ", ".join(f"'{w}'" for w in dict.fromkeys(joined[2]))
                return Verdict("near", verdict.similarity, f"{said}, with {how} as one word")
        old, new = diff.substituted[0]
        more = f" and {len(diff.substituted) - 1} more" if len(diff.substituted) > 1 else ""
        return Verdict(
            None, similarity, f"says '{new}' where the kept paragraph says '{old}'{more}"
        )
    renamed = _names_respelled(earlier, later, diff) if _on("names") else None
    if renamed:
        old, new = renamed
        return Verdict(None, similarity, f"'{new}' for '{old}', capitalized: another name")
    if _on("excerpts") and _goes_on_past_cut(earlier, later, diff):
        return Verdict(
            None,
            similarity,
            f"goes on where the kept paragraph is cut off: {_quote(diff.extended)}",
        )
    if _teaser(earlier, later, diff):
        return Verdict(
            "near", similarity, f"the same, cut off a few words further: {_quote(diff.extended)}"
        )
    negations = [t for t in diff.added + diff.dropped if t in NEGATIONS]
    if negations:
        verb = "adds" if negations[0] in diff.added else "leaves out"
        return Verdict(None, similarity, f"{verb} '{negations[0]}', which changes the meaning")

    edits = (
        word_count(diff.added)
        + word_count(diff.dropped)
        + word_count(diff.trimmed)
        + len(diff.variants)
        + len(diff.substituted)  # a small word for a small word, if any is left
    )
    inside = not (diff.trimmed or diff.extended)  # an edit within, not an excerpt
    code = _code(
        earlier.normalized,
        later.normalized,
        bool(short or not edits),
        inside or bool(diff.added),
        excerpt=bool(diff.trimmed) and not diff.extended,
    )
    if code:
        return Verdict(None, similarity, f"{code}: {_describe(diff)}".rstrip(": "))
    if _on("signs") and inside:
        old_signs, new_signs = signs(earlier.normalized), signs(later.normalized)
        if old_signs != new_signs:
            return Verdict(
                None,
                similarity,
                f"other signs: {' '.join(new_signs) or 'none'} where the kept paragraph has "
                f"{' '.join(old_signs) or 'none'}",
            )
        old_brackets, new_brackets = brackets(earlier.normalized), brackets(later.normalized)
        if len(old_brackets) == len(new_brackets) >= 2 and old_brackets != new_brackets:
            return Verdict(
                None,
                similarity,
                f"other brackets: {new_brackets} where the kept paragraph has {old_brackets}",
            )
    if not edits:
        return Verdict("near", similarity, "same words, other punctuation")
    when = clock(earlier.normalized) if _on("edges") and not later.truncated else None
    if when and when == clock(later.normalized):
        return Verdict(None, similarity, f"another row of a timetable at {when}: {_describe(diff)}")
    item = _new_item(earlier.normalized, later.normalized) if diff.added else None
    if item:
        return Verdict(None, similarity, f"adds an item to a list: {_quote(item)}")
    old_marks, new_marks = marks(earlier.normalized), marks(later.normalized)
    if _on("edges") and old_marks != new_marks:
        return Verdict(
            None,
            similarity,
            f"a table row with other marks: {' '.join(new_marks) or 'none'} where the kept "
            f"one has {' '.join(old_marks) or 'none'}",
        )
    if _on("edges") and _table_mark(later, diff):
        crosses = _quote(diff.added + diff.dropped + diff.trimmed)
        return Verdict(
            None,
            similarity,
            f"a row of numbers with or without {crosses}, a table's marks: another row",
        )
    if _on("wrappers") and diff.extended and edits == word_count(diff.extended):
        (_, j1), (_, j2) = diff.first, diff.last
        if _doubled(later, diff.extended, b[j1:j2]):
            return Verdict(
                "near", similarity, f"the same, with its own words again: {_quote(diff.extended)}"
            )
    named = False
    if word_count(diff.extended) > 1:
        named = _named_in_front(earlier, later, diff)
        if not named:
            return Verdict(None, similarity, f"goes on with new content: {_quote(diff.extended)}")
    if later.truncated and _cut_prefix(a, b):
        share = len(later.normalized) / len(earlier.normalized)
        if share >= 0.5:  # at least half of the text, not a shared first few words
            return Verdict("contained", share, f"cut-off copy, the first {share:.0%} of it")
    if short:
        if _tagged(a, b) and _edges_ok(earlier, later, diff):
            return Verdict(
                "near", similarity, f"the same with {_quote(b[: len(b) - len(a)])} in front"
            )
        if edits <= 1 and min(earlier.words, later.words) >= 6 and not any(map(_is_number, a)):
            return _one_word_apart(earlier, later, diff, similarity)
        return Verdict(None, similarity, f"short, and not the same words: {_describe(diff)}")
    if edits <= 1:
        return _one_word_apart(earlier, later, diff, similarity)
    if _names_edited(earlier, later, diff):
        return Verdict(
            None,
            similarity,
            f"words apart on short lines, which name another thing: {_describe(diff)}",
        )
    if _item_cut(earlier, later, diff):
        return Verdict(
            None, similarity, f"another item: leaves out {_quote(diff.trimmed)} in front of it"
        )
    if edits == len(diff.dropped) and _small_words_out(earlier, later, diff):
        return Verdict("near", similarity, f"leaves out small words: {_quote(diff.dropped)}")
    repeated = _every_place(a, b, diff) if _on("templates") else None
    if repeated:
        return Verdict(None, similarity, repeated)
    if similarity >= config.threshold:
        front = f", with {_quote(diff.extended)} in front" if named else ""
        return Verdict("near", similarity, f"near copy, Jaccard {similarity:.2f}{front}")
    if word_count(diff.added) > 1:
        return Verdict(None, similarity, f"adds {_quote(diff.added)}")
    if word_count(diff.dropped) + len(diff.variants) > 1:
        return Verdict(None, similarity, f"differs inside: {_describe(diff)}")
    # What is left: the later paragraph is one piece of the earlier, trimmed at its ends.
    if contained >= config.containment and len(b) <= len(a):
        unaligned = _unaligned(earlier, later, diff, config) if _on("excerpts") else None
        if unaligned:
            return Verdict(None, similarity, unaligned)
        return Verdict(
            "contained", contained, f"cut-off copy or excerpt, {contained:.0%} of it contained"
        )
    return _too_different(similarity, contained)


#: What sets the items of a list apart: commas, and the brackets around a list ("Salad (1
#: cup lettuce, ½ cup tomatoes, ...)"; not around one word: "Mode (White)").
_ITEMS = lazy_re(r"[,;)\]]|[(\[](?=[^()\[\]]*,)")


def _new_item(earlier: str, later: str) -> tuple[str, ...] | None:
    """The words of the (first) item that ``later`` adds to a list (parts set apart by
    commas) that is otherwise the earlier one's ("1 cup spinach, 1 medium apple, 1 tsp.
    olive oil" against the same without the apple)."""
    if "," not in later:
        return None
    old, new = (
        Counter(
            tuple(t for t in tokenize(part) if t not in FUNCTION_WORDS)
            for part in _ITEMS.split(text)
        )
        for text in (earlier, later)
    )
    extra = [words for words in (new - old).elements() if words]
    if not extra or old - new:
        return None
    return extra[0]


#: Where words come again as data, not as a line doubled: a table's cells, a list, markup.
_DATA = frozenset("|\u2502[{<")


def _doubled(later: Fingerprint, extended: tuple[str, ...], aligned: tuple[str, ...]) -> bool:
    """Whether words that a line has at an edge besides the ``aligned`` ones are the line's
    own again ("Seller's other items Seller's other items", "Search ... Health Search"): a
    run of its words (or that run again and again), not the same words in another order or
    with one left out, which name another thing ("Bose QuietComfort Headphones Bose
    QuietComfort Ultra Headphones"); words, not letters, numbers or signs ("f | f", "$$"),
    and not in a table row, a list or markup ("[4, 2, 0, 2, 4]", another row of a result)."""
    size = next(
        n for n in range(1, len(extended) + 1) if extended == extended[:n] * (len(extended) // n)
    )
    unit = extended[:size]
    if not any(aligned[i : i + size] == unit for i in range(len(aligned) - size + 1)):
        return False
    words = any(t[0].isalpha() and (len(t) > 1 or is_unspaced(t)) for t in extended)
    return words and _DATA.isdisjoint(later.normalized)


def _code(
    earlier: str, later: str, compared: bool, edited: bool = False, excerpt: bool = False
) -> str | None:
    """Why two paragraphs are not copies of one another for their code: one is code and
    the other prose, or both are code with other symbols or words, when their symbols are
    ``compared`` (a short pair, or the same words) or words are ``edited`` inside lines
    that are code by more than what looks like a call or an assignment (``&'a mut T``
    against ``&'a T``; "rimasterizzata(vinile)" may be prose), or the later one is an
    ``excerpt`` whose symbols, in such lines, are no piece of the earlier one's
    (``File::open(f)?;`` cut from ``File::open(f).expect("...");``); None when neither."""
    broad = not _on("code")
    old, new = code_form(earlier, broad), code_form(later, broad)
    if not broad and bool(old) != bool(new):
        return _CODE_REASONS[0] if old else _CODE_REASONS[1]
    if not (old and new) or new == old:
        return None
    if compared:
        return _CODE_REASONS[2]
    if not broad and (edited or (excerpt and new.rstrip(".…") not in old)):
        return _CODE_REASONS[2] if strong_code(earlier) and strong_code(later) else None
    return None


def _one_word_apart(
    earlier: Fingerprint, later: Fingerprint, diff: Difference, similarity: float
) -> Verdict:
    if _on("edges") and _qualified(later, diff):
        return Verdict(
            None, similarity, f"adds '({diff.extended[0]})' at its end, which says which one"
        )
    if not _edges_ok(earlier, later, diff):
        return Verdict(
            None,
            similarity,
            f"one word apart on a short line, which names another thing: {_describe(diff)}",
        )
    model = _model(earlier, later, diff) if _on("edges") else None
    if model:
        return Verdict(None, similarity, f"one word apart, '{model}', which names another model")
    return Verdict("near", similarity, f"one word apart: {_describe(diff)}")


def _model(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> str | None:
    """The word naming a model or an edition (:data:`~dedup.lexicon.MODELS`) that one line
    has more or less, capitalized as a name's ("... Utility Pro 300W", not French "plus" nor
    German "pro Jahr"); None when there is none."""
    for word in MODELS.intersection(diff.added + diff.dropped + diff.trimmed):
        written = later.raw if word in diff.added else earlier.raw
        if re.search(rf"(?<!\w){word[0].upper()}(?i:{word[1:]})(?!\w)", written):
            return word
    return None


def _table_mark(later: Fingerprint, diff: Difference) -> bool:
    """Whether what a row of numbers has more or less is a table's marks: one single Latin
    letter at an edge ("... 298-301 250-252 132-134 X"), or crosses anywhere ("... 282-287
    X 126-131 X"; not another single letter inside, which may be a word: "- I Tried 11")."""
    changed = diff.added + diff.dropped + diff.trimmed
    edge = diff.extended or diff.trimmed
    one = len(changed) == len(edge) == 1 and len(edge[0]) == 1 and "a" <= edge[0] <= "z"
    if not (one or (changed and set(changed) == {"x"})):
        return False
    return sum(map(_is_number, later.tokens)) >= 2


def _edges_ok(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether a one-word edit of a short line (below :data:`SHORTISH` words) leaves it
    the same thing: a word at an edge set off by punctuation (a tag: "(dpa)", "Home /",
    "... - AP") or its neighbour written twice; inside a line too short for shingles, or a
    title, a small word (three letters at most) not capitalized as a name's, or one it
    already has (a doubled word); inside a line of 8 to 11 words, no content word
    (:func:`_content_edited`). Longer lines: always. Never a small word in capitals (a
    model's letters, an operator: "II", "OR"), nor a word joined to a path, URL or
    identifier."""
    if not _on("edges"):
        return True
    if _identifier_edited(earlier, later, diff):
        return False
    known = set(earlier.tokens)
    added = [w for w in diff.added[len(diff.extended) :] if w not in known]
    if _named(earlier, later, added, diff.dropped, capitalized=False):
        return False  # "... OSS II Lens", "... (tags include #a) OR (tags include #b)"
    title = titled(later.raw)
    if min(earlier.words, later.words) >= SHORTISH and not title:
        return True
    if earlier.short or later.short or title:
        if any(len(word) > 3 for word in added + list(diff.dropped)):
            return False
        if _named(earlier, later, added, diff.dropped):
            return False  # "CUBE Plus XP", "SpeedFrame Pro Mips ... to Compare"
    elif _content_edited(earlier, later, added, diff.dropped):
        return False  # "the best cheap live TV streaming service"
    if not (diff.extended or diff.trimmed):
        return True
    return _tags(earlier, later, diff) or _doubled_at_edge(later, diff)


#: One word in brackets at the end of a line.
_BRACKETED_END = lazy_regex(r"[(\[]\s*(\w+)\s*[)\]]\W*$")


def _qualified(later: Fingerprint, diff: Difference) -> bool:
    """Whether the one word a line adds is a content word in brackets at its end: it says
    which one or in what state ("... Half-Blood Prince (film)", "... script (fixed)",
    "... Headphones (White)"), where a tag names a source in front ("(dpa) ...")."""
    if len(diff.extended) != 1 or not content_word(diff.extended[0]):
        return False
    end = _BRACKETED_END.search(later.normalized)
    return end is not None and end.group(1).casefold() == diff.extended[0]


def _doubled_at_edge(later: Fingerprint, diff: Difference) -> bool:
    """Whether the one word a line adds at an edge is its neighbour written twice, a small
    word ("the the ...", a Telugu "ఏ ఏ ..."): a slip, not a tag. Not a content word ("Bora
    Bora" is another island than "Bora") nor a Latin letter (a table's marks: "X X")."""
    if len(diff.extended) != 1 or diff.trimmed:
        return False
    word = diff.extended[0]
    if content_word(word) or (len(word) == 1 and word.isascii()):
        return False
    pair = (word, word)
    return later.tokens[:2] == pair or later.tokens[-2:] == pair


def _content_edited(
    earlier: Fingerprint, later: Fingerprint, added: Sequence[str], dropped: Sequence[str]
) -> bool:
    """Whether a word added to or left out of a line is a content word (:func:`content_word`:
    "cheap", "optional"), not a piece of a compound with a word both lines have
    ("cloud-powered gaming" against "cloud gaming", "Webinar-Aufzeichnung" against
    "Webinar": the compound is written another way)."""
    shared = set(earlier.tokens) & set(later.tokens)
    return any(
        content_word(word) and not _compound_piece(side, word, shared)
        for side, words in ((later, added), (earlier, dropped))
        for word in words
    )


def _compound_piece(paragraph: Fingerprint, word: str, shared: set[str]) -> bool:
    """Whether ``word`` is joined by a hyphen, everywhere in ``paragraph``, to a token of
    ``shared``."""
    tokens, spans, text = paragraph.tokens, token_spans(paragraph.normalized), paragraph.normalized
    found = False
    for k, token in enumerate(tokens):
        if token != word:
            continue
        before = k > 0 and text[spans[k - 1][1] : spans[k][0]] == "-" and tokens[k - 1] in shared
        after = (
            k + 1 < len(tokens)
            and text[spans[k][1] : spans[k + 1][0]] == "-"
            and tokens[k + 1] in shared
        )
        if not (before or after):
            return False
        found = True
    return found


def _named_in_front(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether the words a paragraph of :data:`SHORTISH` words or more adds are a few in
    front, set off from the copy by punctuation: a name or label put before the same text
    ("Black Cumin (Ancient panacea) - boasts ..." against "Ancient panacea. Boasts ...")."""
    if not _on("wrappers") or min(earlier.words, later.words) < SHORTISH:
        return False
    (_, j1), (_, j2) = diff.first, diff.last
    if j1 == 0 or j2 < len(later.tokens) or j1 != len(diff.extended):
        return False  # not all in front
    return word_count(diff.extended) <= LABEL_WORDS and _set_off(later, j1, True, named=True)


def _small_words_out(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether what a paragraph of :data:`SHORTISH` words or more leaves out of the other
    is two small words at most (three letters each, no number): "Yes, but it is at the
    discretion of the driver" and "Yes, but at the discretion ..." say the same (a
    negation is caught before)."""
    if not _on("edges") or min(earlier.words, later.words) < SHORTISH:
        return False
    return len(diff.dropped) <= 2 and all(
        (len(word) <= 3 or word in DETERMINERS) and not _is_number(word) for word in diff.dropped
    )


def _names_edited(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether words a line adds at an edge, beside others more or less, change what it
    names, on two lines of fewer than :data:`SHORTISH` words each or on two titles: as for
    one word (:func:`_edges_ok`), they must be tags set off by punctuation ("... 3X OC
    BLACK" is another card than "... 3X OC"; "... - SpaceNews.com" is the same headline).
    A line that only leaves words out at its edges is a piece of the other (a title without
    the breadcrumb or the menu around it)."""
    if not _on("edges") or not diff.extended:
        return False
    both_short = max(earlier.words, later.words) < SHORTISH
    if not (both_short or (titled(earlier.raw) and titled(later.raw))):
        return False
    (_, j1), (_, j2) = diff.first, diff.last
    if j1 == j2:  # nothing in common
        return True
    front = j1 > 0 and not _set_off(later, j1, True, named=True)
    return front or (j2 < len(later.tokens) and not _set_off(later, j2, False))


def _joined_first(diff: Difference) -> bool:
    """Whether a word put in place of another starts with it or is its start ("blue" /
    "bluecross", "sidetone" / "side"): how the alignment pairs the first of words written
    apart with the word written whole, a quick look before :func:`_rejoined`."""
    return any(new.startswith(old) or old.startswith(new) for old, new in diff.substituted)


def _rejoined(
    earlier: Fingerprint, later: Fingerprint, config: Config
) -> tuple[Fingerprint, Fingerprint, list[str]] | None:
    """The pair with the words that one side writes apart and the other as one word
    ("Blue Cross" / "BlueCross", "e-mail" / "email", "Wi-Fi" / "WiFi": two or three words of
    letters, not in a URL or an identifier) written as one word on both sides, and those
    words as written apart; None when there are none."""
    a, b = set(earlier.tokens), set(later.tokens)
    whole = {t for t in a ^ b if len(t) >= 4 and t.isalpha() and _split(t, a if t in b else b)}
    if not (whole and any(_runs(one.tokens, whole) for one in (earlier, later))):
        return None
    whole = {t for t in whole if not _in_identifier(earlier if t in a else later, (t,))}
    sides: list[Fingerprint] = []
    joins: list[str] = []
    for one in (earlier, later):
        tokens, spans, text = one.tokens, token_spans(one.normalized), one.normalized
        runs = _runs(tokens, whole)
        for i, k in reversed(runs):
            text = text[: spans[i][0]] + "".join(tokens[i : i + k]) + text[spans[i + k - 1][1] :]
        joins.extend(" ".join(tokens[i : i + k]) for i, k in runs)
        sides.append(fingerprint(text, config, raw=one.raw) if runs else one)
    return (sides[0], sides[1], joins) if joins else None


def _split(word: str, tokens: set[str]) -> bool:
    """Whether ``word`` is two or three of ``tokens`` written together (a quick look before
    :func:`_runs` asks whether they stand in a row)."""
    for cut in range(1, len(word)):
        if word[:cut] in tokens:
            rest = word[cut:]
            if rest in tokens or any(
                rest[:k] in tokens and rest[k:] in tokens for k in range(1, len(rest))
            ):
                return True
    return False


def _runs(tokens: tuple[str, ...], whole: set[str]) -> list[tuple[int, int]]:
    """Where ``tokens`` has two or three in a row that make one of the ``whole`` words
    (start, how many), left to right."""
    runs, i, n = [], 0, len(tokens)
    while whole and i < n - 1:
        k = next((k for k in (3, 2) if i + k <= n and "".join(tokens[i : i + k]) in whole), 0)
        if k:
            runs.append((i, k))
        i += k or 1
    return runs


#: A bullet in front of a list item.
_BULLETED = lazy_re(r"[-*\u2022] ")


def _every_place(a: tuple[str, ...], b: tuple[str, ...], diff: Difference) -> str | None:
    """Why a paragraph that adds a word at two places or more, or leaves one out wherever
    the kept paragraph has it, is no copy: a template filled in for another thing ("this
    sofa" / "this sofa chaise" at each mention), not an edit. Only words that name things
    (:func:`~dedup.lexicon.content_word`) count."""
    for word, times in Counter(diff.added).items():
        if times > 1 and word not in a and content_word(word):
            return f"adds '{word}' at {times} places: a template filled in for another thing"
    for word, times in Counter(diff.dropped).items():
        if times > 1 and word not in b and content_word(word):
            return f"leaves out '{word}' at all {times} places: a template for another thing"
    return None


def _item_cut(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether a list item of fewer than :data:`SHORTISH` words is an earlier one without
    words in front that are not set off from it: another item ("- Golden Gate Integral
    Counseling Center" against "- Integral Counseling Center")."""
    if not _on("edges") or later.words >= SHORTISH:
        return False
    (i1, j1) = diff.first
    if not i1 or j1 or not all(_BULLETED.match(fp.normalized) for fp in (earlier, later)):
        return False
    return not _set_off(earlier, i1, True)


def _goes_on_past_cut(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether the kept paragraph is cut off with an ellipsis where the later one goes on
    with words of its own ("... shuts up shop for..." / "... shuts up shop for November"):
    the later one says more, and first seen wins only over copies that say no more."""
    if not earlier.truncated or later.truncated:
        return False
    i2, j2 = diff.last
    return i2 == len(earlier.tokens) and j2 < len(later.tokens) and bool(diff.extended)


def _teaser(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether a paragraph is the earlier one, whole sentences, going on for three words
    at most before an ellipsis cuts it off ("... einen grundsoliden Ruf erarbeitet. Kein
    Wunder -..."): a teaser cut at another place, whose stub says nothing."""
    if not later.truncated or earlier.truncated or not prose(earlier.normalized):
        return False
    if not earlier.normalized.rstrip("\"')").endswith((".", "!", "?")):
        return False
    if _in_identifier(later, diff.extended):
        return False
    if diff.added != diff.extended or diff.substituted or diff.variants or diff.dropped:
        return False
    (i1, j1), (i2, _) = diff.first, diff.last
    return (i1, j1) == (0, 0) and i2 == len(earlier.tokens) and 0 < word_count(diff.extended) <= 3


def _small_swap(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether the one word put in place of another in a paragraph of :data:`SHORTISH`
    words or more is a determiner for a determiner ("ces" / "des", "the" / "a"; not "he" /
    "she", "on" / "off", "Mon" / "Tue"), in lower case as written and no piece of a name."""
    if len(diff.substituted) != 1 or min(earlier.words, later.words) < SHORTISH:
        return False
    pair = diff.substituted[0]
    if not all(word in DETERMINERS for word in pair):
        return False
    if any(_letters_of_a_name(w, later.raw) for w in pair):
        return False
    # Not a piece of a file name or identifier.
    return not (_in_identifier(earlier, pair[:1]) or _in_identifier(later, pair[1:]))


def _named(
    earlier: Fingerprint,
    later: Fingerprint,
    added: Sequence[str],
    dropped: Sequence[str],
    capitalized: bool = True,
) -> bool:
    """Whether a small word added or left out is written as part of a name
    (:func:`_letters_of_a_name`)."""
    return any(_letters_of_a_name(w, later.raw, capitalized) for w in added) or any(
        _letters_of_a_name(w, earlier.raw, capitalized) for w in dropped
    )


def _names_respelled(
    earlier: Fingerprint, later: Fingerprint, diff: Difference
) -> tuple[str, str] | None:
    """A near spelling (:attr:`Difference.variants`) written capitalized inside both lines,
    which are not in Title Case, that differs by two letters or more inside the word:
    another name, not a respelling ("Australian wine" / "Austrian wine"). A typo changes one
    letter ("Compatability"), an inflection the end ("Fotoilustraciones": and German
    capitalizes every noun)."""
    for old, new in diff.variants:
        size = min(len(old), len(new))
        head = next((k for k in range(size) if old[k] != new[k]), size)
        tail = next((k for k in range(size - head) if old[-1 - k] != new[-1 - k]), size - head)
        if tail < 2 or max(len(old), len(new)) - head - tail < 2:
            continue
        if _letters_of_a_name(old, earlier.raw) and _letters_of_a_name(new, later.raw):
            return old, new
    return None


def _letters_of_a_name(word: str, raw: str, capitalized: bool = True) -> bool:
    """Whether a small word is written as part of a name in a line that is not all
    capitals: in capitals ("CUBE Plus XP", "Galaxy S9 FE"), or capitalized inside a line
    whose other small words are not ("Add SpeedFrame Pro Mips Bike Helmet to Compare"): the
    letters of a model or a name, not "the" or "de" (the second only where ``capitalized``:
    in a longer line a capitalized small word may start a noun or a sentence). Letters
    without case (Bengali, Hebrew, Chinese) are in no capitals."""
    if len(word) < 2 or not word.isalpha() or not raw or raw.isupper() or word.upper() == word:
        return False
    import regex  # here, not at the top: a run in Latin letters need not import it

    if regex.search(rf"(?<!\w){regex.escape(word.upper())}(?!\w)", raw) is not None:
        return True
    if not capitalized:
        return False
    named = rf"(?<=\w\W*\s)(?<![.!?:]\s){regex.escape(word.capitalize())}(?!\w)"
    return regex.search(named, raw) is not None and _LOWER_SMALL.search(raw) is not None


#: A small word in lower case after the first word: the line is not in Title Case.
_LOWER_SMALL = lazy_re(r"\s[a-z\u00e0-\u00ff]{1,3}\s")


def _identifier_edited(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether a word added or left out is part of a path, URL or identifier on its side
    ("/sms" against "/sms-quickstart", "720p.hdtv" against "hdtv")."""
    return _in_identifier(later, diff.added) or _in_identifier(earlier, diff.dropped + diff.trimmed)


def _in_identifier(paragraph: Fingerprint, words: Sequence[str]) -> bool:
    """Whether one of ``words`` is, somewhere in ``paragraph``, part of an identifier."""
    if not words:
        return False
    edited = set(words)
    spans = token_spans(paragraph.normalized)
    return any(
        token in edited and in_identifier(paragraph.normalized, span)
        for token, span in zip(paragraph.tokens, spans, strict=True)
    )


def _tags(earlier: Fingerprint, later: Fingerprint, diff: Difference) -> bool:
    """Whether the words before and after the shared ones, on either side, are tags: set
    off from them by punctuation (not only a space), or a list number in front."""
    (i1, j1), (i2, j2) = diff.first, diff.last
    if i1 == i2:  # nothing in common
        return False
    edges = (
        (later, j1, True),
        (earlier, i1, True),
        (later, j2, False),
        (earlier, i2, False),
    )
    return all(
        _set_off(fp, at, front, named=fp is later and front)
        for fp, at, front in edges
        if (at > 0 if front else at < len(fp.tokens))
    )


#: Signs that join the words beside them rather than set them apart ("Bundle & Save"), and
#: that do so when nothing spaces them ("simple-select-stmt").
_JOINERS = frozenset({"&", "+", "'"})
_COMPOUNDS = frozenset({"-", "_"})


#: What sets a name apart from a short heading it qualifies, rather than a tag from a copy
#: ("Vermont • Homes for sale"): a tag is bracketed, a breadcrumb, or a dateline.
_NAMING = frozenset({"\u2022", "\u00b7"})


def _set_off(paragraph: Fingerprint, at: int, front: bool, named: bool = False) -> bool:
    """Whether punctuation (not a space, nor a sign that joins: "&") parts token ``at - 1``
    from token ``at``, or the words before ``at`` are a list number (``front``). A dash
    after words put in front of a copy (``named``) sets off a dateline only
    (:func:`_dateline`)."""
    if front and at == 1 and paragraph.tokens[0].isdigit() and len(paragraph.tokens[0]) <= 3:
        return True
    spans = token_spans(paragraph.normalized)
    gap = paragraph.normalized[spans[at - 1][1] : spans[at][0]]
    if named and gap.strip() == "-" and not _dateline(paragraph):
        return False
    if named and gap.strip() in _NAMING and len(spans) - at < REST_WORDS:
        return False  # "Vermont • Homes for sale": which ones
    return bool(gap.strip()) and gap.strip() not in _JOINERS and gap not in _COMPOUNDS


def _unaligned(
    earlier: Fingerprint, later: Fingerprint, diff: Difference, config: Config
) -> str | None:
    """Why a later paragraph found inside the earlier one is not an excerpt of it: it adds
    a word at its edge that is no tag; it is short counted fairly (a heading of ten Chinese
    characters is about five words, not ten tokens) and not cut off with an ellipsis; or it
    is a title or a name (:func:`titled`) met inside a sentence of the earlier paragraph's
    prose, not a sentence of its own."""
    (i1, j1), (i2, j2) = diff.first, diff.last
    unspaced = later.words < len(later.tokens)
    if unspaced and later.words < config.min_tokens and not later.truncated:
        return "short in a script without spaces: a heading, not an excerpt"
    if diff.extended and (j2 < len(later.tokens) or not _set_off(later, j1, True)):
        return f"adds {_quote(diff.extended)} at its edge: not a piece of the kept paragraph"
    if diff.extended and _ends_before(later, j1):
        return (
            f"starts with the end of another sentence ({_quote(diff.extended)}): not a piece "
            "of the kept paragraph"
        )
    inside = tuple((Counter(diff.added) - Counter(diff.extended)).elements())
    if any(len(word) > 3 for word in inside):  # a small word ("the", "de") is no change
        return f"adds {_quote(inside)} inside: not a piece of the kept paragraph"
    if i1 == i2:
        return "nothing in common in order"
    title = titled(later.raw)
    if later.truncated or not (title or _headed(later.raw)) or not prose(earlier.normalized):
        return None
    spans = token_spans(earlier.normalized)
    text = earlier.normalized
    starts = starts_sentence(text, spans[i1][0])
    ends = i2 == len(spans) or ends_sentence(text, spans[i2 - 1][1])
    if title and not (starts and ends):
        return "a title or a name met inside a sentence of the kept paragraph, not an excerpt"
    if not (title or starts) and _capitalized_inside(earlier.raw, later.raw):
        return "a heading met inside a sentence of the kept paragraph, capitalized there too"
    return None


def _headed(raw: str) -> bool:
    """Whether a line is written as a heading in sentence case: a capital first, no mark of
    a sentence's or a clause's end last, no comma ("Let's talk about how to talk about
    promises"; "Bernard P Achampong, founder of ..." is a clause), and not "I" first."""
    text = raw.strip()
    if not text[:1].isupper() or text[-1:] in ".!?:;,\"'”…" or "," in text:
        return False
    return len(text.split()[0]) > 1


def _capitalized_inside(kept: str, heading: str) -> bool:
    """Whether ``kept`` writes the first two words of ``heading`` as it does, capital first,
    after a word of its own in lower case: a title named inside a sentence ("The article
    Let's talk about ... gives ..."), not an entry of a menu run together ("Key Takeaways
    When and how to file ...")."""
    first = heading.split()[:2]
    pattern = r"(\w+)\s+" + r"\s+".join(map(re.escape, first)) + r"(?!\w)"
    return any(found[1][0].islower() for found in re.finditer(pattern, kept))


def _ends_before(paragraph: Fingerprint, at: int) -> bool:
    """Whether a sentence ends just before token ``at`` (a word, not a list number, then a
    full stop): the words before it end a sentence that is not in the other paragraph
    ("use" / "ManyToManyField. You use it ..."), no tag ("(dpa)", "Home:")."""
    if not paragraph.tokens[at - 1].isalpha():
        return False
    spans = token_spans(paragraph.normalized)
    gap = paragraph.normalized[spans[at - 1][1] : spans[at][0]].strip()
    return gap in (".", "!", "?", "。")


def _too_different(similarity: float, contained: float) -> Verdict:
    return Verdict(
        None, similarity, f"{_FAR}: Jaccard {similarity:.2f}, containment {contained:.2f}"
    )


def _describe(diff: Difference) -> str:
    parts = []
    if diff.added:
        parts.append(f"adds {_quote(diff.added)}")
    if diff.variants:
        parts.append("spells " + ", ".join(f"'{new}' for '{old}'" for old, new in diff.variants))
    if diff.substituted:
        parts.append("says " + ", ".join(f"'{new}' for '{old}'" for old, new in diff.substituted))
    if diff.dropped:
        parts.append(f"leaves out {_quote(diff.dropped)}")
    if diff.trimmed:
        parts.append(f"is cut by {_quote(diff.trimmed)}")
    return "; ".join(parts)
