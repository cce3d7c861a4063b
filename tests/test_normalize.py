"""Each normalization step, and what it can be turned off for."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import normalize as normalize_module
from dedup.lazy import lazy_re, lazy_regex
from dedup.native import speedups
from dedup.normalize import SEPARATOR, normalize, token_groups, tokenize
from dedup.paragraphs import INVISIBLE_CHARS

EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


@pytest.mark.parametrize(
    ("spelled_out", "unicode_class", "below"),
    [
        (normalize_module.FORMAT_CHARS, r"\p{Cf}", sys.maxunicode + 1),
        (
            INVISIBLE_CHARS,
            r"\p{Cc}\p{Cf}\p{Z}\s\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0",
            sys.maxunicode + 1,
        ),
        (normalize_module._LATIN_WORD, rf"^\W{normalize_module._UNSPACED}", 0x250),
        (normalize_module._LATIN_NUMBER, r"^\w\P{N}", 0x250),  # numbers, not word characters
        (normalize_module._LATIN_CURRENCY, r"\p{Sc}", 0x250),
    ],
    ids=["format", "invisible", "latin word", "latin number", "latin currency"],
)
def test_classes_spelled_out_for_the_stdlib_are_the_regex_modules(
    spelled_out: str, unicode_class: str, below: int
) -> None:
    """The classes written out so that text in Latin letters needs no regex module hold the
    same characters as the Unicode classes they stand for, by the regex module's tables."""
    text = EVERY_CHARACTER[:below]
    assert re.findall(f"[{spelled_out}]", text) == regex.findall(f"[{unicode_class}]", text)


def test_a_lazy_pattern_is_the_compiled_one_when_used() -> None:
    lazy = lazy_regex(r"\p{Lu}(\w+)")
    assert lazy.pattern == r"\p{Lu}(\w+)" and "search" not in vars(lazy)  # not compiled yet
    assert lazy.findall("Ab cd Éfg") == regex.findall(r"\p{Lu}(\w+)", "Ab cd Éfg") == ["b", "fg"]
    assert lazy.sub("-", "Ab cd") == "- cd" and "sub" in vars(lazy)  # one attribute from now
    plain = lazy_re(r"[a-c]+", re.IGNORECASE)
    assert plain.fullmatch("aBc") is not None and plain.flags & re.IGNORECASE
    with pytest.raises(AttributeError):
        plain.no_such_method  # noqa: B018


def test_text_in_latin_letters_is_cleaned_without_the_regex_module() -> None:
    """Importing the regex module was a tenth of a short run's time: text in Latin letters
    (ASCII, accents, typography, a format character, a repeat to verify) never needs it."""
    code = (
        "import sys, dedup\n"
        "text = 'Ein Absatz über Café-Preise – „teuer“ wie nie zuvor in\u200b Köln.\\n' * 2\n"
        "assert dedup.clean(text + 'Plain ASCII line with enough words to shingle.\\n').removed\n"
        "assert 'regex' not in sys.modules, 'the regex module was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("step", "text", "on", "off"),
    [
        ("entities", "Tom &amp; Jerry&#8217;s", "tom & jerry's", "tom &amp; jerry&#8217;s"),
        ("invisible", "ze\u200bro\u00adsoft", "zerosoft", "ze\u200bro\u00adsoft"),
        ("unicode", "ＡＢＣ ½", "abc 1⁄2", "ａｂｃ ½"),
        ("typography", "\u201cit\u2019s\u201d \u2014", '"it\'s" -', "“it’s” —"),
        ("casefold", "Straße", "strasse", "Straße"),
        ("whitespace", "  a \t\u00a0 b  ", "a b", "  a \t  b  "),
    ],
)
def test_each_step_and_its_toggle(step: str, text: str, on: str, off: str) -> None:
    assert normalize(text) == on
    assert normalize(text, **{step: False}) == off


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["hello", "world"]),
        ("东京大学", ["东", "京", "大", "学"]),
        ("ひらがなカタカナ", ["ひ", "ら", "が", "な", "カ", "タ", "カ", "ナ"]),
        ("ภาษาไทย", ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]),
        ("Привет мир", ["привет", "мир"]),
        ("한국어 문장", ["한국어", "문장"]),
        ("10 € or 12 $", ["10", "€", "or", "12", "$"]),
        ("snake_case x**2", ["snake_case", "x", "2"]),
    ],
)
def test_tokens(text: str, tokens: list[str]) -> None:
    assert tokenize(normalize(text)) == tokens


def test_whitespace_is_unicode_white_space() -> None:
    from dedup.normalize import _SPACES

    white = set(regex.findall(r"\s", EVERY_CHARACTER))
    for char in EVERY_CHARACTER:
        if not "\ud800" <= char < "\ue000":
            assert bool(_SPACES.fullmatch(char + " ")) == (char in white), hex(ord(char))


@pytest.mark.skipif(speedups is None, reason="the compiled kernels are not built or are off")
@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_compiled_ascii_tokens_are_the_patterns(text: str) -> None:
    # Every ASCII character: letters, digits, "_", "$", controls, "\0" (the separator).
    assert speedups is not None
    assert speedups.ascii_tokens(text, False) == re.findall(r"[A-Za-z0-9_]+|\$", text)
    assert speedups.ascii_tokens(text, True) == re.findall(r"[A-Za-z0-9_]+|\$|\x00", text)
    assert tokenize(text) == re.findall(r"[A-Za-z0-9_]+|\$", text)


@given(st.lists(st.text(alphabet="ab $_9.\u00e9\u4e1c", max_size=12), max_size=6))
def test_token_groups_are_each_texts_tokens(texts: list[str]) -> None:
    texts = [text.replace(SEPARATOR, "") for text in texts]
    found: dict[int, list[str]] = {}
    for rows, tokens in token_groups(texts):
        joined = " ".join(tokens).split(SEPARATOR)
        for row, part in zip(rows, joined, strict=True):
            found[row] = part.split()
    assert [found.get(row, []) for row in range(len(texts))] == [tokenize(t) for t in texts]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.text(alphabet="a é\u00ad\u0416\u05d0\u05ff\u0600\u200b\u2019\U0001f600", max_size=12)
    )
)
def test_format_characters_go_the_quick_way_as_the_pattern_drops_them(texts: list[str]) -> None:
    """Below U+0600 the soft hyphen is the only format character, so text written there
    drops it without the pattern; a batch normalizes such texts apart from the others
    (a zero-width space, Arabic), each as it would alone."""
    pattern = normalize_module._INVISIBLE
    for text in texts:
        only = normalize(
            text, entities=False, unicode=False, typography=False, casefold=False, whitespace=False
        )
        assert only == pattern.sub("", text)
    cleaned = [text.replace(SEPARATOR, "") for text in texts]
    assert normalize_module.normalize_batch(cleaned) == [normalize(text) for text in cleaned]
    below = normalize_module._FORMAT_SECOND
    assert re.findall(f"[{normalize_module.FORMAT_CHARS}]", EVERY_CHARACTER[:below]) == [
        normalize_module._SOFT_HYPHEN
    ]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.text(alphabet="a é\u0301\u00a0\ufb01\u1100\u1161İ\u0307\u00ad\u200b\x00", max_size=10)
    )
)
def test_nfkc_a_piece_at_a_time_is_the_whole_texts(texts: list[str]) -> None:
    """Composing marks and jamo, ligatures, NBSP, format characters, NULs: the pieces'
    normal forms joined are the joined text's, and a batch is each text alone."""
    joined = SEPARATOR.join(texts)
    assert normalize_module._nfkc(joined) == unicodedata.normalize("NFKC", joined)
    cleaned = [text.replace(SEPARATOR, "") for text in texts]
    assert normalize_module.normalize_batch(cleaned) == [normalize(text) for text in cleaned]
