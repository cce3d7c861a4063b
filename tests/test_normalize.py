"""Each normalization step, and what it can be turned off for."""

from __future__ import annotations

import pytest

from dedup.normalize import normalize, tokenize


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
    import regex

    from dedup.normalize import _SPACES

    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        assert bool(_SPACES.fullmatch(char + " ")) == bool(regex.match(r"\s", char)), hex(code)
