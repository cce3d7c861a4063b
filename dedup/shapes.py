"""The shape of a normalized paragraph around its words: what verification must see that
tokens do not (they drop punctuation).

* **Wrappers** that a copy gains or loses without saying anything new: a label in front
  ("X wrote:", "Product Summary:", "Home / News /", "MOSCOW (AP) -", a date or a user name
  glued to the first word), a list number ("3." against "-"), and a trailer at the end
  ("Read more", "Learn more", a count such as "(87)"). :func:`unwrapped` takes them off.
* **Boundaries**: where a sentence starts or ends, so that a title, a name or a URL met
  inside a sentence is not taken for an excerpt of it (:func:`starts_sentence`,
  :func:`ends_sentence`).
* **Code** (:func:`code_form`) and the **symbols that carry information** in prose
  (:func:`signs`: ">50" is not "50", "-5" is not "5").
* **Rows** of a table or a timetable: cells of marks ("- - Yes Yes", :func:`marks`) and a
  time of day in front (:func:`clock`), which another row has otherwise.
* **Names**: a paragraph that is one unbroken run of characters (a bare URL, a file name,
  an identifier) is a name; a name repeats only exactly (:func:`is_name`).
"""

from __future__ import annotations

import functools
import re

from dedup.lazy import lazy_re, lazy_regex
from dedup.lexicon import PAGES
from dedup.normalize import is_unspaced, tokenize, unspaced_chars

#: Most words a label in front may have ("Home / Feature Story / General /" has four).
LABEL_WORDS = 6
#: Fewest words the rest must keep for a label to be taken off (a label on two words is
#: half of the line).
REST_WORDS = 6

# A label ends at a separator: a colon (glued to the next word or not), a dash, pipe,
# slash, arrow or guillemet (folded to '"') set off by spaces. It holds no sentence end.
# (Not the colons of a role or a time: ":class:`x`", "12:45".)
_SEPARATOR = lazy_regex(r"\s*(?<!:\w+)(?P<colon>:)(?![/=:]|\w+:)\s*|\s+[-|/>\"]+\s+")
# The same marks without the white space around them, which makes the engine try the
# pattern at every place: where this finds none (most colons are a role's or a time's),
# neither does _SEPARATOR, and _label passes over its scan (a property test holds the two).
_SEPARATOR_MARK = lazy_regex(r":(?<!:\w+:)(?![/=:]|\w+:)|\s[-|/>\"]+\s")
#: Most words of a label set off by a dash, a pipe or a slash ("MOSCOW (AP) -", "Home /"),
#: or of each step of a breadcrumb; a colon allows :data:`LABEL_WORDS`.
STEP_WORDS = 3
# A sentence ends: not the dot of an initial ("C. Andrew Nelson wrote:").
_SENTENCE_END = lazy_regex(r"(?<!(?:^|\W)\w)[.?!]\s")
# A date glued to the first word ("26.01.2022Strava"), a scraped post date.
_GLUED_DATE = lazy_regex(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?=\p{L})")
# A list number or bullet and number at the start: "3. ", "- 16.", "12) ".
_NUMBERING = lazy_regex(r"^(?:[-*+]\s*)?\d{1,3}\s?[.)](?!\d)\s*(?=\S)")
_BULLET = lazy_regex(r"^[-*+]\s+(?=\S)")
_NUMBER_FIRST = tuple("-*+")  # what _NUMBERING starts with but a digit
# What a link or a list adds at the end: "Read more", "Learn more", "(87)", "7 days ago".
_TRAILER = lazy_regex(
    r"(?:\s+[-|:>\"]*\s*|(?<=[.!?)\"]))(?:read more|learn more|read full article|more|"
    r"continue reading|weiterlesen|mehr|mehr lesen|lire la suite|en savoir plus|leer m[aá]s|"
    r"ver m[aá]s|leia mais|czytaj wi[eę]cej|wi[eę]cej|подробнее|далее|\(\d{1,6}\)|"
    r"\d{1,3} (?:second|minute|hour|day|week|month|year)s? ago)\s*[>\"]*$"
    # a site's name after a pipe, as page titles end: "... | eBay", "... | MDR.DE"
    r"|\s+\|\s+[^|\s]+(?:\s[^|\s]+)?\s*$"
)
# A link's verb in front of a title: "Read <title>", "Watch <title>".
_LINK_VERB = lazy_regex(r"^(?:read|watch|listen to|view)\s+(?=\w)")
_LINK_FIRST = tuple("rwlv")  # what _LINK_VERB can start with (a tuple: never "" in it)

# Code, where symbols carry meaning: braces, statement ends, calls, operators of two
# characters, tags, type parameters ("Result<T, E>"), command options ("--worker-runtime"),
# prompts and "//" comments. Pipes, brackets and quotes alone do not make a line code: a
# table row, an annotation, a quotation. Calls and assignments are of ASCII names, with ASCII
# in the brackets: a bracket after Chinese, Japanese or Thai words, or after a Latin name in
# such a sentence (a reading of "Wi-Fi" in Japanese), is prose. A semicolon is code after a
# call ("f(x);") or where it ends a line of ASCII that is no prose ("WHERE a.aid < 100000;"),
# not where it parts two clauses ("la recta final; sentencia") or ends a clause in Bengali.
_STATEMENT_END = lazy_regex(r"[A-Za-z0-9_)\]'\"];\s*$")
# What makes a line code whatever its words: everything above but calls and assignments
# (and keys given a literal: 'body:"..."'), which prose can look like ("rimasterizzata(vinile)").
# Each alternative beside a string that every match of it holds (see _code_like).
_STRONG_PARTS = (
    ("{", r"\{"),
    ("}", r"\}"),
    (");", r"\);"),
    ("=", r"[=!<>]="),
    ("->", r"->"),
    ("=>", r"=>"),
    ("::", r"::"),
    ("&&", r"&&"),
    ("||", r"\|\|"),
    (":=", r":="),
    ("<", r"</?[A-Za-z][\w-]*>"),
    ("<", r"[A-Za-z_]<[A-Za-z_'][\w',\s]*>"),
    ("--", r"(?<!\S)--[A-Za-z][\w-]+"),
    ("", r"^(?:\$|>>>|#!|#include|//) "),
)
_CALL_PARTS = (
    (":", r"[A-Za-z0-9_]:[\"'\[{]"),
    # Not after a letter, digit, dot or any non-ASCII character: "vpn(" in a Japanese sentence.
    ("(", r"(?<![\w.\x80-\U0010ffff])[A-Za-z_][A-Za-z0-9_.]*\((?=[\x20-\x7e])"),
    ("(", r"^\.[A-Za-z_][A-Za-z0-9_]*\("),  # a call chained from the line above: '.Builder("")'
    ("=", r"[A-Za-z0-9_]=\S"),
    (" =", r"[A-Za-z0-9_] +=(?: *[\"'\[{]|$)"),
)
# The stdlib's engine: these patterns need nothing of regex's, and it runs them twice as fast.
_STRONG_CODE = lazy_re("|".join(part for _, part in _STRONG_PARTS))
_CODE = lazy_re("|".join(part for _, part in _STRONG_PARTS + _CALL_PARTS))
# The same, one alternative at a time where its string is in the text: the engine tries
# every alternative of one pattern at every place, which took four times as long on the
# lines of the distinct corpus (a property test holds the two to the same answers).
_STRONG_SEARCHES = tuple((mark, lazy_re(part)) for mark, part in _STRONG_PARTS)
_CODE_SEARCHES = _STRONG_SEARCHES + tuple((mark, lazy_re(part)) for mark, part in _CALL_PARTS)
# What was taken for code before the code rule (pipes, brackets and comparisons too; and
# a leading "-" a list marker): kept to measure that rule on its own.
_BROAD_CODE = lazy_regex(r"[{}\[\];=<>|\\^~]|\w\(|^(?:\$|>>>|#!) ")
_ELLIPSIS = lazy_regex(r"\[\.\.\.\]")
# An apostrophe inside a word ("it's"), no quote.
_APOSTROPHE = lazy_re(r"(?<=[^\W\d_])'(?=[^\W\d_])")
_LIST_MARKER = lazy_regex(r"^(?:[*•·]+|\d+[.)])\s+")
_BROAD_LIST_MARKER = lazy_regex(r"^(?:[-*•·>]+|\d+[.)])\s+")
# Symbols that change what prose says: comparisons, a sign before a number, per cent, stars,
# currencies (a price level is "$$", another "$$$").
_SIGNS = lazy_regex(r"[<>=≤≥≠±%+★☆]|[$€£¥₹]+|(?<![\w.])-(?=\d)")


@functools.lru_cache(maxsize=4096)  # a kept paragraph meets many later ones
def code_form(normalized: str, broad: bool = False) -> str | None:
    """A code-looking paragraph without list marker, whitespace and final period; else None.

    Tokens ignore punctuation, so ``[x, x**2]`` and ``[(x, x**2)]`` have the same ones: in
    code the symbols are the meaning, and two code lines repeat only when these forms match.
    A leading ``+`` or ``-`` stays: in front of code it is the side of a diff. Escapes are
    dropped and single quotes are double ones (most languages take ``"it's"`` and
    ``'it\\'s'`` for the same string), unless both kinds quote in the line (a shell's
    ``'{"a": 1}'`` is JSON, ``"{'a': 1}"`` is not).

    >>> code_form("* { a: 1 };"), code_form("plain words | no code [sic]")
    ('{a:1};', None)
    """
    text = _ELLIPSIS.sub("", normalized)
    if broad:
        if not _BROAD_CODE.search(text):
            return None
    elif not _code_like(text) and not _statements(text):
        return None
    marker = _BROAD_LIST_MARKER if broad else _LIST_MARKER
    form = "".join(marker.sub("", normalized).split()).rstrip(".")
    if broad:
        return form
    form = form.replace("\\", "")
    quotes = _APOSTROPHE.sub("", form)
    return form if "'" in quotes and '"' in quotes else form.replace("'", '"')


def _code_like(text: str) -> bool:
    """Whether ``_CODE.search(text)`` finds code."""
    return _found(_CODE_SEARCHES, text)


def _found(searches: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> bool:
    """Whether one of ``searches`` finds something in ``text`` (each tried only where its
    string is in it)."""
    return any(mark in text and search.search(text) for mark, search in searches)


def strong_code(normalized: str) -> bool:
    """Code whatever its words: braces, operators, tags, options, statement ends; not only
    what looks like a call or an assignment."""
    text = _ELLIPSIS.sub("", normalized)
    return _found(_STRONG_SEARCHES, text) or _statements(text)


def _statements(text: str) -> bool:
    """A line of ASCII, no prose, that ends a statement with a semicolon."""
    return text.isascii() and _STATEMENT_END.search(text) is not None and not prose(text)


def signs(normalized: str) -> list[str]:
    """The symbols of ``normalized`` that carry information in prose, in order.

    >>> signs("more than 50 people"), signs("more than >50 people, -5 degrees")
    ([], ['>', '-'])
    """
    return _SIGNS.findall(normalized)


# A table's mark standing alone as a cell: a dash for an empty one, a cross or a tick, yes
# or no. Cells are marks in a run of three or more ("- - Yes Yes"), or two of a kind that
# is no dash ("X X"): one alone is a separator ("Title - Subtitle") or a word, and two
# others are an answer and a dash ("objects? No - as long as ...") or a dateline's dash and
# a bullet ("AP — - 5 g almonds").
_DASHES = "-\u2013\u2014"
_MARK = f"(?:[{_DASHES}x\u2713\u2714\u2717\u2718]|yes|no|n/a)"
_MARK_RUN = lazy_re(rf"(?<!\S){_MARK}(?:\s+{_MARK})+(?!\S)", re.IGNORECASE)


def marks(normalized: str) -> list[str]:
    """The cells of a table row that are marks, in order: runs of three or more, or two alike
    that are no dashes.

    >>> marks("Hiring Manager Information - - - Yes Yes"), marks("News - Sport")
    (['-', '-', '-', 'yes', 'yes'], [])
    >>> marks("AP \u2014 - 5 dkg almonds"), marks("Brakes X X"), marks("bags? No - as long")
    ([], ['x', 'x'], [])
    """
    cells = []
    for run in _MARK_RUN.findall(normalized):
        found = run.lower().split()
        if len(found) >= 3 or (found[0] == found[1] and found[0] not in _DASHES):
            cells += found
    return cells


#: Brackets of every kind, in order.
_BRACKETS = lazy_re(r"[()\[\]{}]")


def brackets(normalized: str) -> str:
    """The brackets of ``normalized``, in order: where two paragraphs have as many, of other
    kinds, one has a list where the other has a tuple ("[1, 2, 3] < [1, 2, 4]" against
    "(1, 2, 3) < (1, 2, 4)").

    >>> brackets("f([1, 2], {a})")
    '([]{})'
    """
    return "".join(_BRACKETS.findall(normalized))


def is_name(normalized: str) -> bool:
    """One unbroken run of characters with several tokens: a URL, a path, an identifier.

    >>> is_name('* "http://tools.ietf.org/html/rfc6749#section-4.2"'), is_name("two words")
    (True, False)
    """
    if " " in normalized.strip(" -*+\"'()[]<>,.;:"):
        return False  # words set apart: the quick answer for almost every text
    bare = _BULLET.sub("", normalized).strip("\"'()[]<>,.;: ")
    if not bare or any(c.isspace() for c in bare) or unspaced_chars(bare):
        return False  # words, or a script written without spaces
    return len(tokenize(bare)) > 2


# Words of four letters or more, capitalized (group 1) or not.
_LONG_WORD = lazy_regex(r"(?<!\w)(?:(\p{Lu})\p{L}{3,}|\p{Ll}\p{L}{3,})")


#: What opens the subject of a reply or a forwarded message, after a list number if any
#: ("Re:", "AW:", "SV:", "Odp:", "Fwd:", "WG:").
_REPLY = lazy_re(r"(?:[-*+]\s*)?(?:\d{1,3}\s?[.)]\s*)?(?:re|aw|antw|sv|odp|fwd?|wg)\s?:\s")


@functools.lru_cache(maxsize=4096)  # a kept paragraph meets many later ones
def reply(normalized: str) -> bool:
    """Whether a line is the subject of a reply or a forwarded message: the header of
    another message than the one whose subject it repeats.

    >>> reply("2. re: tips from a first time japan visitor"), reply("read: the guide")
    (True, False)
    """
    return _REPLY.match(normalized) is not None


# A time of day at the start of a line: "6:00 PM", "18:30", "9 a.m.".
_CLOCK = lazy_re(
    r"^\W{0,3}(?P<time>\d{1,2}(?::\d\d){1,2}(?:\s*[ap]\.?m\b\.?)?|\d{1,2}\s?[ap]\.?m\b\.?)",
    re.IGNORECASE,
)


def clock(normalized: str) -> str | None:
    """The time of day a line starts with, as a timetable's row does; else None.

    >>> clock("6:00 PM Leaves town."), clock("9am: doors open"), clock("08.11.2021 | Day")
    ('6:00 PM', '9am', None)
    """
    found = _CLOCK.match(normalized)
    return found.group("time") if found else None


def titled(raw: str) -> bool:
    """A title, a heading or a name as written: its long words capitalized (three or more,
    and three times as many as the others) or all in capitals, and no full stop at the
    end. Languages that capitalize every noun write sentences that do not pass, nor do
    sentences in a script without capitals (two of its letters count as a word) that name
    things in Latin letters.

    >>> titled("Step By Step Process For Teaching A Puppy"), titled("Teach your puppy first.")
    (True, False)
    >>> titled("DeepMind希望DNC可以推动计算行业实现更多突破。DeepMind Nature AlphaGo")
    False
    """
    text = raw.strip()
    if not text or text[-1] in ".,;:":
        return False
    capitals = 0
    others = len(unspaced_chars(text[:400])) // 2
    for word in _LONG_WORD.finditer(text, 0, 400):
        if word.group(1):
            capitals += 1
        else:
            others += 1
    return capitals >= 3 and capitals >= 3 * others


def prose(normalized: str) -> bool:
    """Sentences: a sentence ends inside it, or at its end after eight words or more."""
    return bool(_SENTENCE_END.search(normalized)) or (
        normalized.rstrip("\"')").endswith((".", "!", "?")) and len(tokenize(normalized)) >= 8
    )


def starts_sentence(normalized: str, at: int) -> bool:
    """Whether a sentence (or a line's part set off by a separator) starts at ``at``."""
    before = normalized[:at].rstrip()
    return not before or before[-1] in ".?!:;,\"'|>)]-" or before.endswith("...")


def ends_sentence(normalized: str, at: int) -> bool:
    """Whether a sentence (or a part set off by a separator) ends at ``at`` (the end of
    its last word): what follows is punctuation that closes it, or nothing."""
    after = normalized[at:].lstrip(" )]\"'")
    return not after or after[0] in ".?!:;,|" or after.startswith("- ")


# What a label's separator looks like, for a quick look before the regular expressions.
_SEPARATORS = (":", " - ", " | ", " / ", " > ", ' " ', " -- ")


def _separated(head: str) -> bool:
    """Whether ``head`` holds one of :data:`_SEPARATORS`: their marks looked for one at a
    time first (most texts have none of them: three times as fast as looking for each)."""
    if ":" in head:
        return True
    return ("-" in head or "|" in head or "/" in head or ">" in head or '"' in head) and any(
        mark in head for mark in _SEPARATORS[1:]
    )


#: How far from the end a trailer starts, at most.
TRAILER_CHARS = 60
# How a trailer ends (but the site's name after a pipe), for a quick look.
_TRAILER_ENDS = (
    ")",
    "more",
    "mehr",
    "lesen",
    "reading",
    "article",
    "ago",
    "suite",
    "plus",
    "mas",
    "más",
    "mais",
    "wiecej",
    "więcej",
    "подробнее",
    "далее",
)


@functools.lru_cache(maxsize=4096)
def unwrapped(
    normalized: str, front: bool = True, end: bool = True
) -> tuple[str, str, frozenset[str]]:
    """``normalized`` without its wrappers (see the module; those in ``front``, those at the
    ``end``), how to name them in a reason ('' when there were none) and which they were
    ("label", "number", "trailer").

    >>> unwrapped("mirage_bg wrote: i've updated my pi 5 to the new firmware, still no luck")[:2]
    ("i've updated my pi 5 to the new firmware, still no luck", "'mirage_bg wrote:' in front")
    >>> unwrapped("3. release the lever, lock the panel in place and let go.")[1:]
    ('a list number', frozenset({'number'}))
    """
    head = normalized[:120]
    first = head[:1]  # (each pattern tried only where its first character can be)
    labelled = front and (
        _separated(head)
        or first.isdigit()
        or (first in _LINK_FIRST and _LINK_VERB.match(head) is not None)
    )
    numbered = front and (first in _NUMBER_FIRST or first.isdigit())
    numbered = numbered and _NUMBERING.match(head) is not None
    tail = normalized[-TRAILER_CHARS:]
    trailed = end and ("|" in tail or tail.rstrip(' >"').endswith(_TRAILER_ENDS))
    if not (labelled or numbered or trailed):
        return normalized, "", frozenset()  # the quick answer for most texts
    text, named, kinds = normalized, [], set()
    label = _label(text) if labelled else 0
    if label:
        named.append(f"'{text[:label].strip()}' in front")
        kinds.add("label")
        text = text[label:]
    numbering = _NUMBERING.match(text) if front else None
    if numbering:
        named.append("a list number")
        kinds.add("number")
        text = text[numbering.end() :]
    trailer = _TRAILER.search(text, max(0, len(text) - TRAILER_CHARS)) if trailed else None
    if trailer and trailer.start() > 0:
        named.append(f"'{text[trailer.start() :].strip()}' at the end")
        kinds.add("trailer")
        text = text[: trailer.start()]
    return text, " and ".join(named), frozenset(kinds)


def shared_label(a: str, b: str) -> int:
    """The length of a label both texts have in front ("Pagerank: ..." twice); 0 when
    they have none, or other ones."""
    end = _label(a) if _separated(a[:120]) else 0
    return end if end and b.startswith(a[:end]) and _label(b) == end else 0


def page_label(normalized: str) -> str | None:
    """The word a label in front ends with, before its colon, when it names a kind of page
    (:data:`~dedup.lexicon.PAGES`: a test, a quiz, an FAQ); else None.

    >>> page_label("Test: Values and units"), page_label("Expert Q&A: Sleep disorders")
    ('test', 'q&a')
    >>> page_label("Read full article: Values and units")
    """
    head, colon, _ = normalized[:60].partition(":")
    words = head.split()
    if not colon or not 0 < len(words) <= 3:
        return None
    word = words[-1].strip("\"'()[]*").casefold()
    return word if word in PAGES else None


#: A name glued to the first word has at least this many characters; fewer make a prefix.
GLUED_CHARS = 5


def label_before(shorter: str, longer: str) -> str | None:
    """The label ``longer`` has in front of ``shorter`` when it is ``shorter`` with one
    ("HUElavia wrote:", or a name glued to the first word: "macbacchiund ..."); None when
    it is not, or when what is in front is a word of the text ("Frozen vegetables ...").
    """
    if len(longer) <= len(shorter) or not longer.endswith(shorter):
        return None
    label = longer[: len(longer) - len(shorter)]
    words = tokenize(label)
    if not words or len(words) > LABEL_WORDS or any(word.isdigit() for word in words):
        return None
    if _SENTENCE_END.search(label) or len(tokenize(shorter)) < REST_WORDS:
        return None
    last = label.rstrip()[-1:]
    if label[-1].isspace() and (last.isalnum() or last in "&+"):
        return None  # a word in front, set off by nothing or joined ("Bundle & Save")
    if label.rstrip()[-1] == "_" or label[-1] == "-":
        return None  # an identifier's first part: "source_ transfer ...", "last_page"
    if label[-1].isalnum() and len(label) < GLUED_CHARS:
        return None  # a prefix, not a name glued on: "disadvantages", "last_page", "allow-origin"
    if label[-1].isalnum() and len(shorter.split(maxsplit=1)[0]) < 2:
        return None  # a name's last letter, not a word: "josh langenthal on ..." / "L on ..."
    return label.strip()


def _balanced(label: str) -> bool:
    """Quotes and brackets closed: a label (or a step of it) is not the start of a quoted
    title."""
    return (
        label.count('"') % 2 == 0
        and label.count("(") == label.count(")")
        and label.count("[") == label.count("]")
    )


def in_identifier(normalized: str, span: tuple[int, int]) -> bool:
    """Whether the token at ``span`` is part of a path, a URL, a file or an identifier:
    joined to others without a space by a slash, dot, underscore, colon, equals or at sign
    (a hyphen alone joins the words of a compound: "cloud-powered"). A letter of a script
    without spaces is joined to its sentence anyway: only a slash, underscore, equals or at
    sign right beside it joins it to a name.

    >>> in_identifier("with /sms-quickstart appended", (10, 20))
    True
    >>> in_identifier("moving to cloud-powered gaming", (16, 23))
    False
    >>> in_identifier("发表在《自然》(nature)上。(编译/林靖东)", (2, 3))
    False
    """
    start, end = span
    if is_unspaced(normalized[start]):
        return any(c in "/_=@" for c in normalized[max(start - 1, 0) : end + 1])
    while start > 0 and not normalized[start - 1].isspace():
        start -= 1
    while end < len(normalized) and not normalized[end].isspace():
        end += 1
    chunk = normalized[start:end].strip(".,;:!?\"'()[]")
    return any(mark in chunk for mark in "/._:=@")


@functools.lru_cache(maxsize=4096)  # a kept paragraph meets many later ones
def _label(text: str) -> int:
    """Where the rest begins after a label in front of ``text``; 0 when there is none."""
    # (Each pattern tried only where its first character can be.)
    glued = (_GLUED_DATE.match(text) if text[:1].isdigit() else None) or (
        _LINK_VERB.match(text) if text[:1] in _LINK_FIRST else None
    )
    if glued:
        return glued.end()
    if _SEPARATOR_MARK.search(text, 0, 120) is None:
        return 0
    end = 0
    for separator in _SEPARATOR.finditer(text, 0, 120):
        label = text[: separator.start()]
        words = tokenize(label)
        step = len(tokenize(text[end : separator.start()]))
        if (
            not step
            or len(words) > LABEL_WORDS
            or (step > STEP_WORDS and not separator.group("colon"))
            or _SENTENCE_END.search(label + " ")
            or any(word.isdigit() for word in words)
            or not _balanced(text[end : separator.start()])
        ):
            break
        end = separator.end()
    if end and len(tokenize(text[end:])) >= REST_WORDS:
        return end
    return 0
