"""The ``dedup`` command: exact output, exact exit codes, one clear line per bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import cli
from dedup.collector import THRESHOLD
from tests.conftest import SEED, SEED_EXPECTED

DEDUP = [sys.executable, "-m", "dedup"]
ARTICLE = (
    "A quote worth printing twice, the editor said on Monday morning.\n"
    "The body of the story.\n"
    "“A quote worth printing twice,” the editor said on Monday morning.\n"
)


def test_seed_article_cleans_to_the_expected_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", str(SEED)])
    assert result.exit_code == 0
    assert result.stdout_bytes == SEED_EXPECTED.read_bytes()
    assert result.stderr == f"dedup: {SEED}: removed 4 of 10 paragraphs (4 exact)\n"


def test_a_short_run_imports_no_logging_pool_or_json() -> None:
    """``logging`` (taken in by ``concurrent.futures``) and ``json`` are a twentieth of a
    short run's start: the command imports the first to open an index, the pool with
    ``--jobs``, ``json`` for JSONL, a report or an index on disk. Nor does it search the LSH
    parameters of its settings (:data:`dedup.lsh.KNOWN`)."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['dedup', 'clean', '-q', {str(SEED)!r}]\n"
        "try:\n"
        "    runpy.run_module('dedup', run_name='__main__')\n"
        "except SystemExit as end:\n"
        "    assert not end.code, end.code\n"
        "loaded = {'logging', 'concurrent.futures', 'json'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
        "from dedup.lsh import search\n"
        "assert not search.cache_info().misses, 'searched'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)


def test_importing_dedup_loads_no_numpy_until_a_name_is_used() -> None:
    """The command sets up the process before numpy loads (see ``dedup.__main__``), which
    it can only do if ``import dedup`` itself loads none of the pipeline."""
    code = (
        "import sys, dedup\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
        "assert dedup.clean('a b c d e f\\n\\na b c d e f').text == 'a b c d e f'\n"
        "assert 'numpy' in sys.modules and 'clean' in dir(dedup)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_is_found_where_the_package_says() -> None:
    import dedup

    assert sorted(dedup._HOMES) == sorted(dedup.__all__)
    assert all(getattr(dedup, name) is not None for name in dedup.__all__)


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("3", "3")])
def test_the_command_asks_openblas_for_one_thread_unless_told(given: str | None, seen: str) -> None:
    """OpenBLAS's threads spin for ~0.15 s of CPU once numpy loads, and the command calls
    no BLAS routine: one thread, before numpy loads; a value the user set wins."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    code = (
        "import os, sys\n"
        "import dedup.__main__\n"
        "assert 'numpy' in sys.modules\n"
        "tasks = os.listdir('/proc/self/task') if os.path.isdir('/proc/self/task') else [0]\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], len(tasks))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    value, threads = out.stdout.split()
    assert value == seen
    if given is None:
        assert threads == "1"  # numpy loaded with the setting: no OpenBLAS thread


def test_the_command_runs_the_cycle_collector_less_often_and_the_library_does_not() -> None:
    """A collection every 700 containers walked each batch's big lists again and again
    (5% of a run): the command raises the threshold, for its workers too; ``import dedup``
    leaves its host's collector alone."""
    code = (
        "import gc, sys\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "own = gc.get_threshold()[0]\n"
        "import dedup\n"
        "dedup.clean('a b c d e f\\n\\na b c d e f')\n"
        "print('library', own, gc.get_threshold()[0])\n"
        "from dedup.__main__ import main\n"
        "sys.argv = ['dedup', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "with ProcessPoolExecutor(1) as pool:\n"
        "    print('command', gc.get_threshold()[0], pool.submit(gc.get_threshold).result()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    said = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()}
    (own, library), (command, worker) = said["library"], said["command"]
    assert library == own
    assert command == worker == str(THRESHOLD)


def test_report_lists_each_removal_with_the_kept_copy(runner: CliRunner, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(cli, ["clean", "-q", "--report", str(report), str(SEED)])
    assert result.exit_code == 0
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["version"] == 1
    assert body["settings"]["threshold"] == 0.8
    (document,) = body["documents"]
    assert document["path"] == str(SEED)
    assert document["paragraphs"] == 10
    assert [(r["index"], r["duplicate_of"], r["kind"]) for r in document["removed"]] == [
        (6, 1, "exact"),
        (7, 2, "exact"),
        (8, 4, "exact"),
        (9, 5, "exact"),
    ]
    text = SEED.read_text(encoding="utf-8")
    for removal in document["removed"]:
        assert text[removal["start"] : removal["end"]] == removal["text"]
        kept_line = text.splitlines()[removal["duplicate_of"] + 1]  # the file starts with "\n"
        assert kept_line == removal["text"]
        assert removal["similarity"] == 1.0


def test_stdin_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "-"], input=ARTICLE.encode())
    assert result.exit_code == 0
    assert result.stdout == (
        "A quote worth printing twice, the editor said on Monday morning.\nThe body of the story.\n"
    )
    assert result.stderr == "dedup: <stdin>: removed 1 of 3 paragraphs (1 near)\n"


def test_no_path_reads_stdin(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "-q"], input=b"Same.\nSame.\n")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "Same.\n", "")


def test_verbose_says_why(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "-v"], input=ARTICLE.encode())
    # Removals as they are decided, the summary at the end.
    assert result.stderr.splitlines() == [
        "dedup:   <stdin>: paragraph 2 repeats 0 (near, 1.00): same words, other punctuation",
        "dedup: <stdin>: removed 1 of 3 paragraphs (1 near)",
    ]


def test_explain_says_why_a_close_paragraph_stayed(runner: CliRunner, tmp_path: Path) -> None:
    text = (
        "The annual award for outstanding service to the community was presented on Friday"
        " to Maria Keller of the Berlin office.\n"
        "The annual award for outstanding service to the community was presented on Friday"
        " to Jonas Keller of the Berlin office.\n"
    )
    report = tmp_path / "report.json"
    result = runner.invoke(
        cli, ["clean", "--explain", "--report", str(report), "-"], input=text.encode()
    )
    assert result.stdout == text
    assert result.stderr.splitlines() == [
        "dedup:   <stdin>: paragraph 1 kept, close to 0 (0.71): "
        "says 'jonas' where the kept paragraph says 'maria'",
        "dedup: <stdin>: removed 0 of 2 paragraphs",
    ]
    (document,) = json.loads(report.read_text())["documents"]
    assert document["kept_close"] == [
        {
            "index": 1,
            "candidate": 0,
            "similarity": 0.7143,
            "reason": "says 'jonas' where the kept paragraph says 'maria'",
        }
    ]


def test_diff_is_plain_when_not_a_terminal(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "-q", "--diff", "-"], input=ARTICLE.encode())
    assert result.exit_code == 0
    assert result.stderr == (
        "--- <stdin>\n"
        "+++ <stdin> (cleaned)\n"
        "@@ -2,2 +2 @@\n"
        " The body of the story.\n"
        "-“A quote worth printing twice,” the editor said on Monday morning.\n"
    )


def test_the_diff_of_jsonl_records_shows_what_was_removed_from_each(runner: CliRunner) -> None:
    line = "Its own first line, long enough to count."
    records = [
        {"id": "kept", "text": "A record that nothing repeats, long enough to count."},
        {"id": "cut", "text": f"{line}\n{line}"},
    ]
    lines = "".join(json.dumps(r) + "\n" for r in records)
    result = runner.invoke(cli, ["clean", "-q", "--jsonl", "--diff", "-"], input=lines.encode())
    assert result.exit_code == 0
    assert result.stderr == (
        "--- cut\n"
        "+++ cut (cleaned)\n"
        "@@ -1,2 +1 @@\n"
        " Its own first line, long enough to count.\n"
        "-Its own first line, long enough to count.\n"
    )  # and none for the record that kept all of its text


def test_diff_is_coloured_on_a_terminal(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dedup.cli._color", lambda stream: True)
    result = runner.invoke(cli, ["clean", "-q", "--diff", "-"], input=ARTICLE.encode())
    assert "\x1b[31m-“A quote worth printing twice,”" in result.stderr
    assert "\x1b[36m@@ -2,2 +2 @@" in result.stderr


def test_no_color_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from dedup.cli import _color

    class Terminal:
        def isatty(self) -> bool:
            return True

    assert _color(Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _color(Terminal())


def test_crlf_and_bom_survive_byte_for_byte(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "crlf.txt"
    source.write_bytes(b"\xef\xbb\xbfOne line here.  \r\nTwo.\r\nOne line here.\r\nEnd.\r\n")
    result = runner.invoke(cli, ["clean", "-q", str(source)])
    assert result.stdout_bytes == b"\xef\xbb\xbfOne line here.  \r\nTwo.\r\nEnd.\r\n"


def test_output_file_is_written(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "clean.txt"
    result = runner.invoke(cli, ["clean", "-q", "-o", str(out), str(SEED)])
    assert (result.exit_code, result.stdout) == (0, "")
    assert out.read_bytes() == SEED_EXPECTED.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["clean.txt"]


def test_refuses_to_overwrite_its_input(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("Same.\nSame.\n")
    result = runner.invoke(cli, ["clean", "-o", str(source), str(source)])
    assert result.exit_code == 2
    assert (
        result.stderr == f"Error: {source}: refusing to write the output over the input {source}\n"
    )
    assert source.read_text() == "Same.\nSame.\n"


def test_missing_input_with_an_existing_output(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("keep me")
    result = runner.invoke(cli, ["clean", "-o", str(out), str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'missing.txt'}: no such file\n"
    assert out.read_text() == "keep me"


def test_encoding_option(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "latin1.txt"
    source.write_bytes("Café crème.\nCafé crème.\n".encode("latin-1"))
    result = runner.invoke(cli, ["clean", "-q", "--encoding", "latin-1", str(source)])
    assert result.exit_code == 0
    assert result.stdout_bytes == "Café crème.\n".encode("latin-1")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "{path}: no such file"),
        (lambda d: d, "{path}: is a folder: write its files with --output-dir DIR or --in-place"),
        (
            lambda d: _write(d / "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            "{path}: looks like a PNG image, not text",
        ),
        (
            lambda d: _write(d / "menu.txt", "Café\nthé\n".encode("latin-1")),
            "{path}: not valid UTF-8 (byte 0xe9 at offset 3, line 1); "
            "if it is Latin-1, try --encoding latin-1",
        ),
        (
            lambda d: _write(d / "data.bin", b"abc\x00\x01\x02"),
            "{path}: looks like a binary file (it has NUL bytes), not text",
        ),
    ],
    ids=["missing", "directory", "png", "latin-1", "binary"],
)
def test_bad_input_gets_one_clear_line_and_exit_2(
    runner: CliRunner, tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    result = runner.invoke(cli, ["clean", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message.format(path=path)}\n"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_unknown_encoding(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "--encoding", "klingon", str(SEED)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {SEED}: unknown encoding 'klingon'\n"


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("clean", "--threshold", "1.5"),
        ("clean", "--threshold", "nan"),
        ("clean", "--containment", "NaN"),
        ("check", "--max-ratio", "nan"),  # NaN passes every comparison: a check never failing
        ("check", "--max-doc-ratio", "nan"),
    ],
)
def test_bad_option_values_exit_2(runner: CliRunner, command: str, option: str, value: str) -> None:
    result = runner.invoke(cli, [command, option, value, str(SEED)])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr


def test_inconsistent_settings_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "--shingle-size", "5", "--min-tokens", "3", str(SEED)])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: min_tokens must be an integer >= shingle_size (5), got 3: "
        "a paragraph shorter than one shingle has none\n"
    )


def test_settings_change_the_result(runner: CliRunner) -> None:
    text = (
        b"The minister said the talks had been open and constructive on all sides today.\n"
        b"Other news.\n"
        b"The minister said the long talks had been open and very constructive"
        b" on all sides today.\n"
    )
    default = runner.invoke(cli, ["clean", "-q"], input=text)
    loose = runner.invoke(cli, ["clean", "-q", "--threshold", "0.4"], input=text)
    assert default.stdout.count("\n") == 3
    assert loose.stdout.count("\n") == 2


def test_unwritable_report_exits_2_and_keeps_nothing_half_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    report = tmp_path / "no-such-dir" / "report.json"
    result = runner.invoke(cli, ["clean", "--report", str(report), str(SEED)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {report}: cannot write here")


def test_every_command_has_help(runner: CliRunner) -> None:
    for args in ([], ["clean"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.stdout
    assert "Exit codes" in runner.invoke(cli, ["--help"]).stdout


def test_python_dash_m_dedup() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "clean", "-q", str(SEED)],
        capture_output=True,
        check=True,
    )
    assert done.stdout == SEED_EXPECTED.read_bytes()


def test_jobs_do_not_change_the_output(tmp_path: Path) -> None:
    # Enough paragraphs for several batches, so that worker processes do the fingerprints.
    import random

    rng = random.Random(5)
    words = SEED.read_text(encoding="utf-8").split()
    lines = [" ".join(rng.choices(words, k=rng.randint(3, 25))) for _ in range(3000)]
    lines += [rng.choice(lines) for _ in range(3000)]  # exact copies
    lines += [" ".join(rng.choice(lines).split()[1:]) for _ in range(3000)]  # a word less
    rng.shuffle(lines)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = []
    for jobs in ("1", "2"):
        report = tmp_path / f"report-{jobs}.json"
        done = subprocess.run(
            [*DEDUP, "clean", "-q", "-j", jobs, "--report", str(report), str(corpus)],
            capture_output=True,
            check=True,
        )
        outputs.append((done.stdout, json.loads(report.read_text(encoding="utf-8"))))
    assert outputs[0] == outputs[1]
    assert len(outputs[0][1]["documents"][0]["removed"]) > 3000


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from dedup import cli as module

    now = [0.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = module._Progress(total=1000, quiet=False)
    now[0] = 0.5
    bar.update(100, 1, 5000)  # half a second in: nothing yet
    assert terminal.getvalue() == ""
    now[0] = 1.5
    bar.update(500, 1, 20000)
    now[0] = 3.0
    bar.update(1000, 1, 30000)
    bar.stop()
    shown = terminal.getvalue()
    assert "1 document" in shown and "30,000 paragraphs" in shown and "10,000 paragraphs/s" in shown


def test_no_progress_bar_when_quiet_or_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from dedup import cli as module

    now = [0.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    quiet = module._Progress(total=10, quiet=True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    piped = module._Progress(total=10, quiet=False)
    now[0] = 5.0
    quiet.update(5, 1, 100)
    piped.update(5, 1, 100)
    assert terminal.getvalue() == "" and sys.stderr.getvalue() == ""


def test_a_file_name_that_is_not_utf8_is_reported_and_round_trips(tmp_path: Path) -> None:
    # A Latin-1 name from an old archive: Python holds the byte as a lone surrogate, which
    # the JSON reports write as a \u escape (json.loads and os.fsencode give the bytes back).
    folder = tmp_path / "pages"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9.txt"
    Path(os.fsdecode(name)).write_text(
        "A paragraph long enough to count, really.\n\nA paragraph long enough to count, really.\n"
    )
    args = ["--report", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")]
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "clean", "-q", *args, "--output-dir", "out", str(folder)],
        capture_output=True,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    report = json.loads((tmp_path / "r.json").read_bytes())
    assert os.fsencode(report["documents"][0]["path"]) == name
    assert b"caf\\udce9.txt" in (tmp_path / "r.html").read_bytes()

    def check(*how: str) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "dedup", "check", "-q", *how, str(folder)],
            capture_output=True,
            cwd=tmp_path,
        )
        assert (done.returncode, done.stderr) == (1, b"")
        return done.stdout

    printed = check("--format", "json")
    assert check("--format", "json", "-o", "c.json") == b""
    assert printed == (tmp_path / "c.json").read_bytes()
    assert os.fsencode(json.loads(printed)["documents"][0]["file"]) == name
    check("--format", "html", "-o", "c.html")
    assert b"caf\\udce9.txt" in (tmp_path / "c.html").read_bytes()
