"""Random bytes through every input path (text, gzip, JSONL; files and standard input;
several encodings): a cleaned result or one ``Error:`` line with exit code 2, never a
traceback. Bounded: a fixed number of examples per path, no deadline per example."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.cli import cli

LINE = "The quick brown fox jumps over the lazy dog near the river bank today."
PIECES = [
    b"\n", b"\r\n", b"\r", b"\n\n", b" ", b"\t", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xe2\x82",
    b"\xc3\xa9", b"\xe2\x80\xa6", b"\x1f\x8b", b"{", b"}", b"[", b"]", b'"', b"\\u", b"\\ud800",
    b":", b",", b"text", b"id", b"1e400", b"9" * 40, LINE.encode(), b"caf\xe9", b"%PDF",
]  # fmt: skip

# Bytes shaped like what the readers meet: text, its line breaks, BOMs, broken UTF-8,
# JSON punctuation, magic numbers, with random bytes among them.
RAW = st.lists(st.sampled_from(PIECES) | st.binary(max_size=12), max_size=40).map(b"".join)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
RECORD = st.dictionaries(st.sampled_from(["text", "id", "dedup", "x"]), JSON_VALUE, max_size=4)


def _jsonl(records: list[dict[str, object]], junk: list[bytes]) -> bytes:
    lines = [json.dumps(r).encode() for r in records] + junk
    return b"\n".join(lines) + b"\n"


def _outcome(result: object, check: bool = False) -> None:
    """Exit 0 (or 1, a check that failed), or 2 with exactly one line that starts with
    "Error: "; never a traceback."""
    code, err, exc = result.exit_code, result.stderr, result.exception  # type: ignore[attr-defined]
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    assert code in ((0, 1, 2) if check else (0, 2)), (code, err)
    lines = [line for line in err.splitlines() if not line.startswith("dedup:")]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("Error: "), err
    else:
        assert lines == [], err


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@FUZZ
@given(data=RAW, encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "latin-1"]))
def test_text_from_a_file_and_from_stdin(folder: Path, data: bytes, encoding: str) -> None:
    runner = CliRunner()
    Path("in.txt").write_bytes(data)
    _outcome(runner.invoke(cli, ["clean", "-q", "--encoding", encoding, "in.txt", "-o", "out.txt"]))
    _outcome(
        runner.invoke(cli, ["clean", "-q", "--split", "blank", "--encoding", encoding], input=data)
    )


@FUZZ
@given(data=RAW, cut=st.integers(min_value=0, max_value=200), flip=st.integers(0, 255))
def test_gzip_whole_cut_and_corrupt(folder: Path, data: bytes, cut: int, flip: int) -> None:
    runner = CliRunner()
    packed = gzip.compress(data)
    broken = bytearray(packed)
    broken[min(cut, len(broken) - 1)] ^= flip
    for name, blob in (
        ("a.txt.gz", packed),
        ("b.txt.gz", packed[:cut]),
        ("c.txt.gz", bytes(broken)),
    ):
        Path(name).write_bytes(blob)
        _outcome(runner.invoke(cli, ["clean", "-q", "--in-place", name]))
        _outcome(runner.invoke(cli, ["check", "-q", "--format", "json", name]), check=True)
    _outcome(runner.invoke(cli, ["clean", "-q"], input=zlib.compress(data)))


@FUZZ
@given(records=st.lists(RECORD, max_size=5), junk=st.lists(RAW, max_size=2))
def test_jsonl(folder: Path, records: list[dict[str, object]], junk: list[bytes]) -> None:
    runner = CliRunner()
    Path("in.jsonl").write_bytes(_jsonl(records, junk))
    _outcome(runner.invoke(cli, ["clean", "-q", "--jsonl", "--scope", "corpus", "in.jsonl"]))
    _outcome(
        runner.invoke(cli, ["check", "-q", "--jsonl", "--format", "github", "in.jsonl"]),
        check=True,
    )
