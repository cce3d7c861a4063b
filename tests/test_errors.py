"""Bad input, closed streams, pipes, signals and settings: one line and a documented exit
code, never a traceback (issue 10, items 10-24)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import dedup
from dedup.cli import cli
from dedup.jsonl import parse_record
from tests.conftest import CLEANED, TEXT, P


def run(
    *args: str, stdin: bytes | None = b"", shell: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "dedup", *args]
    if shell is not None:  # run through a shell, to close standard streams
        command = ["sh", "-c", f"{' '.join(command)} {shell}"]
    return subprocess.run(command, capture_output=True, input=stdin, timeout=120)


def test_auto_split_is_stable_when_cleaned_again() -> None:
    once = dedup.clean(f"{P}\n{P}\n\n{P}\n")
    assert once.split == "lines" and once.text == f"{P}\n"
    assert dedup.clean(once.text).text == once.text


def test_utf8_cut_off_at_the_end(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean"], input=b"ok\n\xe2\x82")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: <stdin>: not valid UTF-8: it ends inside a character "
        "(byte 0xe2 at offset 3, line 2)\n",
    )


def test_corrupt_and_truncated_gzip(here: Path, runner: CliRunner) -> None:
    data = gzip.compress(TEXT.encode() * 50)
    Path("cut.txt.gz").write_bytes(data[:40])
    Path("bad.txt.gz").write_bytes(data[:10] + b"\xff" * 30 + data[40:])
    result = runner.invoke(cli, ["clean", "cut.txt.gz"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: cut.txt.gz: cannot read the gzip data: Compressed file ended before the "
        "end-of-stream marker was reached\n",
    )
    result = runner.invoke(cli, ["clean", "bad.txt.gz"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: bad.txt.gz: cannot read the gzip data: ")
    assert result.stderr.count("\n") == 1


def test_jsonl_fields_pass_through_byte_for_byte(here: Path, runner: CliRunner) -> None:
    text = json.dumps(f"{P}\n{P}")
    big = "9" * 5000
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        f'{{"id": "a", "text": {text}, "n": {big}, "f": 1e400, "s": "\\ud800", "e": "\\u00e9"}}',
        f'{{"id": "b", "text": "x \\ud800 y", "deep": {deep}}}',
        '{"id":"c","text":"Nothing repeats here.","x":  1.50 }',
    ]
    Path("in.jsonl").write_text("\n".join(lines) + "\n")
    result = runner.invoke(cli, ["clean", "-q", "--jsonl", "in.jsonl"])
    assert result.exit_code == 0
    out = result.stdout_bytes.decode("utf-8").splitlines()
    first = parse_record(out[0])
    assert first.value("text") == P and first.value("dedup")["removed"] == 1
    assert [first.raw(key) for key in ("n", "f", "s", "e")] == [
        big,
        "1e400",
        '"\\ud800"',
        '"\\u00e9"',
    ]
    assert out[0].startswith('{"id": "a", "text": ' + json.dumps(P) + ', "n": 999')
    assert out[1] == lines[1][:-1] + ', "dedup": {"removed": 0, "removals": []}}'
    assert out[2] == lines[2][:-2] + ', "dedup": {"removed": 0, "removals": []} }'


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"text": "a", }', "expected a field name at column 15"),
        ('["text"]', "not a JSON object"),
        ('{"text": "a"} x', "extra data at column 15"),
        ('{"text": [[[[}', "not JSON: unexpected '}' (column 14)"),
        ('{"text": "a", "x": 01}', "expected ',' or '}' at column 21"),
    ],
)
def test_a_bad_jsonl_line_is_named(here: Path, runner: CliRunner, line: str, problem: str) -> None:
    Path("in.jsonl").write_text('{"text": "fine"}\n' + line + "\n")
    result = runner.invoke(cli, ["clean", "--jsonl", "in.jsonl"])
    assert (result.exit_code, result.stderr) == (2, f"Error: in.jsonl:2: {problem}\n")


def test_check_never_reads_user_text_as_markup(here: Path) -> None:
    Path("m.txt").write_text(
        f"[/quote] {P}\n[red]x[/red] a line long enough to count\n[/quote] {P}\n"
    )
    result = run("check", "m.txt")
    assert result.returncode == 1
    assert b"[/quote] The quick brown" in result.stdout
    assert result.stderr.endswith(b"above --max-ratio 0\n") and b"Traceback" not in result.stderr


def test_github_annotations_cannot_be_forged(here: Path) -> None:
    record = {"id": "x\n::warning file=x.py,line=1::X", "text": f"{P}\n{P}"}
    Path("in.jsonl").write_text(json.dumps(record) + "\n")
    result = run("check", "-q", "--jsonl", "--format", "github", "in.jsonl")
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        "::error file=in.jsonl,line=1,title=dedup::paragraph 1 of x%0A::warning file=x.py,"
        "line=1::X repeats paragraph 0 of x%0A::warning file=x.py,line=1::X (exact, 1.00)",
        "::error title=dedup check failed::1 of 2 paragraphs are repeats (50.00%25), above "
        "--max-ratio 0",
    ]


def test_the_diff_counts_lines_as_the_report_does(here: Path, runner: CliRunner) -> None:
    Path("v.txt").write_text(f"a\vb\x1cc long line of text here\n{P}\nline two\n{P}\n")
    result = runner.invoke(cli, ["clean", "-q", "--diff", "--report", "r.json", "v.txt"])
    assert result.exit_code == 0
    assert "@@ -3,2 +3 @@\n line two\n-The quick" in result.stderr
    assert json.loads(Path("r.json").read_text())["documents"][0]["removed"][0]["line"] == 4


@pytest.mark.parametrize(
    ("shell", "code", "err"),
    [
        ("a.txt <&-", 0, b"dedup: a.txt: removed 1 of 3 paragraphs (1 exact)\n"),
        ("<&-", 2, b"Error: <stdin>: standard input is closed\n"),
        ("a.txt >&-", 2, b"Error: standard output is closed; name an output file (-o FILE)\n"),
        ("a.txt -o out.txt >&-", 0, b"dedup: a.txt: removed 1 of 3 paragraphs (1 exact)\n"),
        ("a.txt 2>&-", 0, b""),
        ("missing.txt 2>&-", 2, b""),
    ],
)
def test_closed_standard_streams(here: Path, shell: str, code: int, err: bytes) -> None:
    result = run("clean", shell=shell, stdin=None)
    assert (result.returncode, result.stderr) == (code, err)
    if "-o out.txt" in shell:
        assert Path("out.txt").read_text() == CLEANED


def test_check_keeps_its_verdict_when_its_reader_goes_away(here: Path) -> None:
    Path("many.txt").write_text("".join(f"{P} {n % 7}\n" for n in range(3000)))
    for args, code in ((["many.txt"], 1), (["--max-ratio", "1", "many.txt"], 0)):
        shell = f"{sys.executable} -m dedup check -v {' '.join(args)} | head -c 1; exit $?"
        pipe = subprocess.run(
            ["bash", "-o", "pipefail", "-c", shell], capture_output=True, timeout=120
        )
        assert pipe.returncode == code, pipe.stderr
        assert b"Traceback" not in pipe.stderr


def _default_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(tmp: Path, signum: int) -> subprocess.CompletedProcess[bytes]:
    text = "".join(
        f"paragraph {n} with words enough to be signed and kept {n * 7}\n" for n in range(400_000)
    )
    Path("big.txt").write_text(text)
    process = subprocess.Popen(
        [sys.executable, "-m", "dedup", "clean", "--in-place", "--jobs", "2", "big.txt"],
        stderr=subprocess.PIPE,
        start_new_session=True,
        # A shell's background job ignores SIGINT, and its children inherit that (a CI run
        # started with `&` did): dedup then rightly ignores Ctrl-C, which is not the case
        # under test.
        preexec_fn=_default_interrupts,
    )
    time.sleep(2.0)
    os.killpg(process.pid, signum) if signum == signal.SIGINT else process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert Path("big.txt").read_text() == text
    assert sorted(os.listdir(tmp)) == ["a.txt", "big.txt"]
    return subprocess.CompletedProcess(process.args, process.returncode, b"", err)


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGINT, 130, b"dedup: interrupted; every file is as it was\n"),
        (signal.SIGTERM, 143, b"dedup: terminated; every file is as it was\n"),
    ],
)
def test_ctrl_c_and_sigterm_end_with_one_line(
    here: Path, signum: int, code: int, line: bytes
) -> None:
    result = _interrupt(here, signum)
    assert (result.returncode, result.stderr) == (code, line)


# Ctrl-C while the command's modules load, before its handlers are in place.
_INTERRUPTED_IMPORT = """
import builtins, os, runpy, signal, sys
load = builtins.__import__
def interrupted(name, *args, **kwargs):
    if name == "dedup.cli":
        os.kill(os.getpid(), signal.SIGINT)
    return load(name, *args, **kwargs)
builtins.__import__ = interrupted
sys.argv = ["dedup", "--version"]
runpy.run_module("dedup", run_name="__main__")
"""


def test_ctrl_c_while_the_command_loads_ends_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_IMPORT],
        capture_output=True,
        timeout=60,
        preexec_fn=_default_interrupts,
    )
    assert (result.returncode, result.stderr) == (
        130,
        b"dedup: interrupted; every file is as it was\n",
    )


def test_settings_paths_and_a_first_baseline(here: Path) -> None:
    Path("sub").mkdir()
    Path("dedup.toml").write_text(
        '[tool.dedup]\nsplit = "lines"\n\n[tool.dedup.check]\nbaseline = "known.json"\n'
    )
    os.chdir("sub")
    Path("a.txt").write_text(TEXT)
    result = run("check", "--write-baseline", "../known.json", "a.txt")
    assert (result.returncode, result.stderr) == (0, b"dedup: ../known.json: 1 known repeat\n")
    result = run("check", "a.txt")
    assert result.returncode == 0
    assert result.stdout.startswith(b"1 document, 3 paragraphs, 0 repeated (0.00%); 1 known")
    shown = run("check", "--strict", "--show-settings").stdout.decode().splitlines()
    here_file = here / "dedup.toml"
    assert f"split = 'lines'  ({here_file})" in shown
    assert "threshold = 0.9  (preset strict)" in shown
    assert "containment = 0.9  (preset strict)" in shown
    assert f"baseline = '{here / 'known.json'}'  ({here_file})" in shown
    Path(here / "dedup.toml").write_text('split = "lines"\n[tool.dedup]\nsplit = "blank"\n')
    result = run("check", "a.txt")
    assert (result.returncode, result.stderr) == (
        2,
        f"Error: {here_file}: put the settings either at the top or under [tool.dedup], "
        "not both\n".encode(),
    )
