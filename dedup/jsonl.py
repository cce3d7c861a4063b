"""JSON Lines records that pass through untouched: only the text field (when something
was removed from it) and the ``dedup`` field are written anew; every other byte of the line
is the one read, so numbers of any size, ``1e400``, deep nesting and escapes come out as
they went in.

A record is read as its top-level fields' spans in the line; the whole line is still checked
to be JSON (without converting its numbers), and a line nested too deeply for that check is
taken on its structure alone.

>>> record = parse_record('{"id": 7, "text": "a\\\\u00e9", "n": 1e400}')
>>> record.value("text"), record.value("id")
('aé', 7)
>>> record.replaced({"text": "a", "dedup": {"removed": 1}})
'{"id": 7, "text": "a", "n": 1e400, "dedup": {"removed": 1}}'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dedup.lazy import lazy_re

if TYPE_CHECKING:
    from dedup.result import Removal

_SPACE = lazy_re(r"[ \t\n\r]*")
_SCALAR = lazy_re(
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity"
)
_NESTED = lazy_re(r'["\[\]{}]')
_CLOSE = {"[": "]", "{": "}"}
# The json module's own string scanner (C): the decoded string and where it ends.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class NotJSON(ValueError):
    """A line that is not one JSON object; the message says what is wrong."""


@dataclass(frozen=True)
class Record:
    """One JSONL line and where its top-level fields' values are in it."""

    line: str
    fields: dict[str, tuple[int, int]]
    end: int  # where the object's closing brace is

    def __contains__(self, key: str) -> bool:
        return key in self.fields

    def raw(self, key: str) -> str:
        start, end = self.fields[key]
        return self.line[start:end]

    def value(self, key: str) -> Any:
        """The field's value (a number too long for ``int`` stays the text it is)."""
        raw = self.raw(key)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw

    def replaced(self, values: dict[str, Any]) -> str:
        """The line with these fields' values written anew (added at the end if missing)."""
        cuts = sorted((self.fields[k], _dump(v)) for k, v in values.items() if k in self.fields)
        out, at = [], 0
        for (start, end), text in cuts:
            out += [self.line[at:start], text]
            at = end
        added = "".join(
            f"{', ' if self.fields or n else ''}{_dump(k)}: {_dump(v)}"
            for n, (k, v) in enumerate((k, v) for k, v in values.items() if k not in self.fields)
        )
        after = max((end for _, end in self.fields.values()), default=self.end)
        out += [self.line[at:after], added, self.line[after:]]
        return "".join(out)


def cleaned_line(
    record: Record,
    removals: Sequence[Removal],
    text: str,
    text_field: str,
    extracted: bool = False,
) -> str:
    """``record``'s line (without a line break) once its document was cleaned (``text``,
    with ``removals``): the text field written anew when something was removed (always
    when the text was ``extracted`` from another field), and the ``dedup`` field."""
    fields: dict[str, Any] = {
        "dedup": {"removed": len(removals), "removals": [r.to_dict() for r in removals]}
    }
    if removals or extracted:  # else the text stays as it was written
        fields[text_field] = text
    return record.replaced(fields)


def _dump(value: Any) -> str:
    """JSON text; characters that UTF-8 cannot carry (lone surrogates) as escapes."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value)
    return text


def parse_record(line: str) -> Record:
    """The record on ``line``; :class:`NotJSON` when it is not one JSON object. A byte
    order mark before it (a file that Windows tools wrote, or several such concatenated)
    is taken as it is and stays in the line."""
    bom = 1 if line.startswith("\ufeff") else 0
    pos = _SPACE.match(line, bom).end()  # type: ignore[union-attr]
    if line[pos : pos + 1] != "{":
        _check(line[bom:])
        raise NotJSON("not a JSON object")
    fields: dict[str, tuple[int, int]] = {}
    pos = _SPACE.match(line, pos + 1).end()  # type: ignore[union-attr]
    if line[pos : pos + 1] != "}":
        while True:
            if line[pos : pos + 1] != '"':
                raise NotJSON(f"expected a field name at column {pos + 1}")
            key, pos = _string(line, pos)
            pos = _SPACE.match(line, pos).end()  # type: ignore[union-attr]
            if line[pos : pos + 1] != ":":
                raise NotJSON(f"expected ':' at column {pos + 1}")
            start = _SPACE.match(line, pos + 1).end()  # type: ignore[union-attr]
            end = _skip(line, start)
            fields[key] = (start, end)
            pos = _SPACE.match(line, end).end()  # type: ignore[union-attr]
            if line[pos : pos + 1] == ",":
                pos = _SPACE.match(line, pos + 1).end()  # type: ignore[union-attr]
                continue
            if line[pos : pos + 1] != "}":
                raise NotJSON(f"expected ',' or '}}' at column {pos + 1}")
            break
    close = pos
    rest = _SPACE.match(line, pos + 1).end()  # type: ignore[union-attr]
    if rest != len(line):
        raise NotJSON(f"extra data at column {rest + 1}")
    _check(line[bom:])
    return Record(line, fields, close)


def _check(line: str) -> None:
    """The whole line is JSON (its numbers are not converted: any size goes)."""
    try:
        json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as error:
        raise NotJSON(f"not JSON: {error.msg} (column {error.colno})") from None
    except RecursionError:
        pass  # nested deeper than Python recurses: its structure was checked by _skip


def _string(line: str, pos: int) -> tuple[str, int]:
    try:
        return _scanstring(line, pos + 1)
    except json.JSONDecodeError as error:
        raise NotJSON(f"not JSON: {error.msg} (column {error.colno})") from None


def _skip(line: str, pos: int) -> int:
    """The end of the JSON value that starts at ``pos`` (nesting followed without recursion)."""
    head = line[pos : pos + 1]
    if head == '"':
        return _string(line, pos)[1]
    if head not in _CLOSE:
        match = _SCALAR.match(line, pos)
        if match is None:
            raise NotJSON(f"not JSON: expecting a value (column {pos + 1})")
        return match.end()
    expected = [_CLOSE[head]]
    pos += 1
    while expected:
        match = _NESTED.search(line, pos)
        if match is None:
            raise NotJSON(f"not JSON: '{expected[-1]}' missing at the end")
        char = match.group()
        if char == '"':
            pos = _string(line, match.start())[1]
        elif char in _CLOSE:
            expected.append(_CLOSE[char])
            pos = match.end()
        elif char == expected[-1]:
            expected.pop()
            pos = match.end()
        else:
            raise NotJSON(f"not JSON: unexpected '{char}' (column {match.start() + 1})")
    return pos
