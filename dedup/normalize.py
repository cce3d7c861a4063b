"""Normalization and tokens: what two paragraphs must share to count as the same text.

:func:`normalize` is a pure function with one toggle per step, and :func:`tokenize` turns
its output into words, or into single characters for scripts written without spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dedup.lazy import lazy_re, lazy_regex
from dedup.native import speedups

if TYPE_CHECKING:
    import regex

# Scripts written without spaces between words: each letter (with its marks) is a token.
# Their punctuation ("။", "។") is no token, as elsewhere; their digits make numbers.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
# A word starts with a letter, digit or underscore, not a mark: a variation selector alone
# ("\u21a9\ufe0e", an emoji's "\ufe0f") is part of the sign before it, which is no token.
_TOKEN = lazy_regex(
    rf"(?=\p{{L}})[{_UNSPACED}]\p{{M}}*|[^\W\p{{M}}{_UNSPACED}][^\W{_UNSPACED}]*|\p{{N}}+|\p{{Sc}}"
)
# Joins normalized texts so that one regex call tokenizes a whole batch (a NUL never is
# part of a token, and normalized text keeps no NUL next to a space).
SEPARATOR = "\x00"
_TOKEN_OR_SEPARATOR = lazy_regex(rf"{_TOKEN.pattern}|{SEPARATOR}")
# The same for ASCII text, where \w is [A-Za-z0-9_] and the only currency sign is $.
_ASCII_TOKEN = lazy_re(r"[A-Za-z0-9_]+|\$")
_ASCII_TOKEN_OR_SEPARATOR = lazy_re(rf"{_ASCII_TOKEN.pattern}|{SEPARATOR}")
_LATIN_END = 0x250
_UNSPACED_CHAR = lazy_regex(rf"[{_UNSPACED}]")
# Format characters (\p{Cf}): zero-width spaces and joiners, soft hyphens, bidi marks, the
# BOM. Spelled out for the stdlib engine, so that text in Latin letters never needs the
# regex module (its import was a tenth of a short run); a test holds it to regex's \p{Cf}.
FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_INVISIBLE = lazy_re(f"[{FORMAT_CHARS}]+")
#: Below the second format character the soft hyphen is the only one: text written there
#: (Latin, Greek, Cyrillic, Hebrew letters) drops it without the pattern's scan, about a
#: third of normalizing such text.
_SOFT_HYPHEN, _FORMAT_SECOND = "\u00ad", 0x600
# Whitespace as the regex module's \s has it (Unicode White_Space), spelled out for the
# stdlib engine, which is faster here; a lone space is left alone, any other run matches.
_WHITE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACES = lazy_re(f"[{_WHITE.replace(' ', '')}][{_WHITE}]*| [{_WHITE}]+")
_ENTITY = lazy_re(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")

_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4\u0060", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58", "-"),
        "\u2026": "...",
        # Ethiopic's word space is a space: "የሰው፡ልጅ" is two words.
        "\u1361": " ",
        # Turkish dotted and dotless i: capitals lose the difference ("taraf\u0131ndan" in
        # capitals folds to "tarafindan"), so the copy in capitals or lower case must fold
        # alike (see normalize for "İ" made lower case).
        "\u0131": "i",
        "\u0130": "I",
    }
)


_TYPOGRAPHIC = lazy_re("[" + re.escape("".join(map(chr, _TYPOGRAPHY))) + "]")


def _fold(match: re.Match[str]) -> str:
    return _TYPOGRAPHY[ord(match.group())]


def normalize(
    text: str,
    *,
    entities: bool = True,
    invisible: bool = True,
    unicode: bool = True,
    typography: bool = True,
    casefold: bool = True,
    whitespace: bool = True,
) -> str:
    """Fold the differences that do not change what a paragraph says.

    Each step can be turned off: ``entities`` decodes HTML entities (``&amp;``, ``&#8217;``);
    ``invisible`` drops format characters (zero-width spaces and joiners, soft hyphens, bidi
    marks, BOM); ``unicode`` applies NFKC (full-width letters, ligatures, NBSP); ``typography``
    folds curly quotes, guillemets, apostrophes, dashes and the ellipsis to ASCII (and
    Ethiopic word spaces to spaces, Turkish dotless and dotted i to i); ``casefold``
    ignores case; ``whitespace`` collapses runs of whitespace to one space and trims the ends.

    >>> normalize("\\u201cCaf\\u00e9&nbsp;&amp; Bar\\u201d \\u2013 it\\u2019s\\u200b OPEN\\u2026")
    '"café & bar" - it\\'s open...'
    """
    if entities and "&" in text:
        import html  # here, not at the top: most text holds no entity

        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    if invisible:
        if _below(text, _FORMAT_SECOND):
            text = text.replace(_SOFT_HYPHEN, "")
        else:
            text = _INVISIBLE.sub("", text)
    if unicode:
        text = _nfkc(text)
    if typography:
        text = _TYPOGRAPHIC.sub(_fold, text)
        if "\u0307" in text:  # "İ" in lower case ("i" and a dot above) is "i" as well
            text = text.replace("i\u0307", "i")
    if casefold:
        text = text.casefold()
    if whitespace:
        text = _SPACES.sub(" ", text).strip()
    return text


def normalize_batch(texts: Sequence[str]) -> list[str]:
    """``[normalize(text) for text in texts]``, with each step run once over all of them.

    Every step works character by character or within a run that a NUL cannot be part of,
    so the texts are joined with NULs and split again afterwards (texts that contain a NUL
    themselves are normalized one by one).

    >>> normalize_batch(["A\u00a0 B ", "\u201cC\u201d"])
    ['a b', '"c"']
    """
    if not texts or any(SEPARATOR in text for text in texts):
        return [normalize(text) for text in texts]
    # ASCII without entities: no format character, nothing for NFKC to change, a backtick
    # the only typographic character and lower() the case fold; it takes the short way
    # (compiled, where it is built: one pass a text).
    groups: list[tuple[bool, list[int]]] = []  # (short way, rows)
    if speedups is not None:
        out: list[str | None] = speedups.ascii_normalize(list(texts))
        rest = [row for row, text in enumerate(out) if text is None]
    else:
        plain = [text.isascii() and "&" not in text for text in texts]
        out = [None] * len(texts)
        rest = [row for row, flag in enumerate(plain) if not flag]
        groups.append((True, [row for row, flag in enumerate(plain) if flag]))
    # The others apart by where their letters are: one text with a zero-width space would
    # send all the rest the slow way to drop format characters (see normalize).
    low = [_below(texts[row], _FORMAT_SECOND) for row in rest]
    groups += [
        (False, [row for row, flag in zip(rest, low, strict=True) if flag is at])
        for at in (True, False)
    ]
    for short, rows in groups:  # the texts not normalized yet
        if not rows:
            continue
        joined = SEPARATOR.join(texts[row] for row in rows)
        joined = joined.replace("`", "'").lower() if short else normalize(joined, whitespace=False)
        for row, part in zip(rows, _SPACES.sub(" ", joined).split(SEPARATOR), strict=True):
            out[row] = part.strip()
    return out  # type: ignore[return-value]


def tokenize(normalized: str) -> list[str]:
    """Split normalized text into tokens: words, or characters of unspaced scripts.

    Punctuation is not a token, so ``"a, b"`` and ``"a b"`` have the same tokens; currency
    signs are, since ``10 €`` and ``10 $`` are different prices.

    >>> tokenize("the sdk's v2.0 — 东京大学 for 10 € ok")
    ['the', 'sdk', 's', 'v2', '0', '东', '京', '大', '学', 'for', '10', '€', 'ok']
    >>> tokenize("အပိုဒ် ၁၂။ ข้อ ๑๒")
    ['အ', 'ပို', 'ဒ်', '၁၂', 'ข้', 'อ', '๑๒']
    """
    if normalized.isascii():  # compiled, or the stdlib's faster engine: the same tokens
        if speedups is not None:
            return speedups.ascii_tokens(normalized, False)  # type: ignore[no-any-return]
        return _ASCII_TOKEN.findall(normalized)
    return _unicode_pattern(normalized).findall(normalized)


def _unicode_pattern(text: str) -> re.Pattern[str] | regex.Pattern[str]:
    """The token pattern for a text that is not ASCII: the stdlib's for Latin letters."""
    return _LATIN_TOKEN if _below(text, _LATIN_END) else _TOKEN


def _nfkc(text: str) -> str:
    """NFKC, a piece between ``SEPARATOR``s at a time when there are any (a batch's texts
    joined): a text that is NFKC already is found so at a glance, but one text that is not
    (an NBSP will do) would send all of them the slow way. A NUL composes with nothing,
    so the pieces' forms joined are the whole's."""
    if SEPARATOR not in text:
        return unicodedata.normalize("NFKC", text)
    return SEPARATOR.join([unicodedata.normalize("NFKC", piece) for piece in text.split(SEPARATOR)])


def _below(text: str, bound: int) -> bool:
    """Whether every character of ``text`` comes before code point ``bound`` (compiled,
    one pass over its code points: ``max`` makes a one-character str of each)."""
    if speedups is not None:
        return speedups.max_char(text) < bound  # type: ignore[no-any-return]
    return max(text, default="") < chr(bound)


def token_spans(normalized: str) -> list[tuple[int, int]]:
    """Where each token of :func:`tokenize` lies in ``normalized`` (start, end).

    >>> token_spans("a, bc")
    [(0, 1), (3, 5)]
    """
    pattern = _ASCII_TOKEN if normalized.isascii() else _unicode_pattern(normalized)
    return [m.span() for m in pattern.finditer(normalized)]


# The same for text in the Latin blocks (below U+0250), for the stdlib engine (3.3 times
# as fast as regex's on such text): regex's word characters there, its numbers
# that are no word characters (superscripts and fractions, which NFKC folds away) and its
# currency signs (tests hold them to regex's, and the tokens to _TOKEN's).
_LATIN_WORD = "0-9A-Z_a-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_LATIN_NUMBER = "\u00b2\u00b3\u00b9\u00bc-\u00be"
_LATIN_CURRENCY = "$\u00a2-\u00a5"
_LATIN_TOKEN = lazy_re(
    f"[{_LATIN_WORD}]+|[{_LATIN_NUMBER}][0-9{_LATIN_NUMBER}]*|[{_LATIN_CURRENCY}]"
)
_LATIN_TOKEN_OR_SEPARATOR = lazy_re(f"{_LATIN_TOKEN.pattern}|{SEPARATOR}")


def token_groups(normalized: Sequence[str]) -> list[tuple[list[int], list[str]]]:
    """The texts' tokens in (at most) three groups, each tokenized in one call: the ASCII
    texts and the texts in Latin letters (by the stdlib's faster engine), and the others.
    Each group is its rows and their tokens, with ``SEPARATOR`` between one row's and the
    next's.

    >>> token_groups(["a b", "东京", "c"])
    [([0, 2], ['a', 'b', '\\x00', 'c']), ([1], ['东', '京'])]
    """
    if any(SEPARATOR in text for text in normalized):
        return [(list(range(len(normalized))), tokenize_batch(normalized))]
    return [(rows, group_tokens(kind, text)) for kind, rows, text in text_groups(normalized)]


#: The kinds of :func:`text_groups`: ASCII, Latin letters, any other.
ASCII, LATIN, OTHER = range(3)


def text_groups(normalized: Sequence[str]) -> list[tuple[int, list[int], str]]:
    """The texts in (at most) three groups by kind (:data:`ASCII`, :data:`LATIN`,
    :data:`OTHER`), each its kind, its rows and their texts joined by ``SEPARATOR`` (which
    no text may hold), to tokenize with :func:`group_tokens`."""
    kinds = [
        ASCII if text.isascii() else LATIN if _below(text, _LATIN_END) else OTHER
        for text in normalized
    ]
    groups = []
    for kind in (ASCII, LATIN, OTHER):
        rows = [row for row, found in enumerate(kinds) if found == kind]
        if rows:
            groups.append((kind, rows, SEPARATOR.join(normalized[row] for row in rows)))
    return groups


def group_tokens(kind: int, text: str) -> list[str]:
    """The tokens of a group of :func:`text_groups`, ``SEPARATOR`` between its texts'."""
    if kind == ASCII and speedups is not None:
        return speedups.ascii_tokens(text, True)  # type: ignore[no-any-return]
    patterns: tuple[re.Pattern[str] | regex.Pattern[str], ...] = (
        _ASCII_TOKEN_OR_SEPARATOR,
        _LATIN_TOKEN_OR_SEPARATOR,
        _TOKEN_OR_SEPARATOR,
    )
    return patterns[kind].findall(text)


def tokenize_batch(normalized: Sequence[str]) -> list[str]:
    """The tokens of all texts in one list, with ``SEPARATOR`` between one text's and the
    next's (a token never contains it); :func:`token_groups` is the fast way for texts
    without a ``SEPARATOR``.

    >>> tokenize_batch(["a b", "", "c"])
    ['a', 'b', '\\x00', '\\x00', 'c']
    """
    flat: list[str] = []
    for position, text in enumerate(normalized):
        if position:
            flat.append(SEPARATOR)
        flat.extend(tokenize(text))
    return flat


def unspaced_chars(text: str) -> list[str]:
    """The characters of ``text`` from scripts written without spaces."""
    return _UNSPACED_CHAR.findall(text)


def word_count(tokens: Sequence[str]) -> float:
    """Tokens counted as words: two letters of an unspaced script make about one.

    A token of an unspaced script is one letter with its marks (Burmese, Thai, Khmer and Lao
    write most vowels as marks), so it is tokens, not characters, that are counted.

    >>> word_count(["the", "东", "京", "大", "学"]), word_count(["လူ", "တို", "င်း"])
    (3.0, 1.5)
    """
    return len(tokens) - 0.5 * sum(1 for t in tokens if not t.isascii() and is_unspaced(t))


def is_unspaced(token: str) -> bool:
    """True for a token from a script written without spaces (one letter a token)."""
    return _UNSPACED_CHAR.match(token) is not None
