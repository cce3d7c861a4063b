"""Writing never loses a user's file: outputs checked by identity before anything is
written, staged, and put in place only when the whole run succeeded (issue 10, items 1-9)."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import cli
from dedup.errors import InputError
from dedup.outputs import Outputs
from dedup.sources import Source, documents, find
from tests.conftest import CLEANED, TEXT, P


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args], capture_output=True, input=stdin, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["a.txt", "--report", "a.txt"],
            "a.txt: refusing to write the report over the input a.txt",
        ),
        (
            ["--in-place", "a.txt", "--report", "./a.txt"],
            "./a.txt: refusing to write the report over the input a.txt",
        ),
        (
            ["a.txt", "-o", "x", "--report", "x"],
            "x: the report and the output would both be written here",
        ),
        (
            ["a.txt", "-o", "x", "--report", "./x"],
            "x: the report and the output would both be written here",
        ),
        (["a.txt", "-o", "./a.txt"], "./a.txt: refusing to write the output over the input a.txt"),
        (
            ["--output-dir", ".", "a.txt"],
            "a.txt: refusing to write the output of a.txt over the input a.txt",
        ),
        (
            ["--scope", "corpus", "--in-place", "a.txt", "./a.txt"],
            "./a.txt: the same file as a.txt, named twice for --in-place",
        ),
    ],
)
def test_an_output_never_lands_on_an_input_or_another_output(
    here: Path, runner: CliRunner, args: list[str], message: str
) -> None:
    before = _files(here)
    result = runner.invoke(cli, ["clean", *args])
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n")
    assert _files(here) == before


def test_a_hard_link_is_the_same_file(here: Path, runner: CliRunner) -> None:
    os.link("a.txt", "b.txt")
    result = runner.invoke(cli, ["clean", "--in-place", "a.txt", "b.txt"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: b.txt: the same file as a.txt, named twice for --in-place\n",
    )
    result = runner.invoke(cli, ["clean", "a.txt", "--report", "b.txt"])
    assert result.stderr == "Error: b.txt: refusing to write the report over the input a.txt\n"
    assert Path("a.txt").read_text() == TEXT


def test_symbolic_links_in_folders_are_skipped_so_a_loop_is_walked_once(
    here: Path, runner: CliRunner
) -> None:
    Path("d").mkdir()
    Path("d/a.txt").write_text(TEXT)
    os.symlink(".", "d/mirror")
    os.symlink("a.txt", "d/alias.txt")
    result = runner.invoke(cli, ["clean", "--scope", "corpus", "--in-place", "d"])
    assert result.exit_code == 0
    assert result.stderr == (
        "dedup: d/alias.txt: skipped, a symbolic link (name its target to clean it)\n"
        "dedup: d/mirror: skipped, a symbolic link (name its target to clean it)\n"
        "dedup: d/a.txt: removed 1 of 3 paragraphs (1 exact)\n"
    )
    assert Path("d/a.txt").read_text() == CLEANED
    result = runner.invoke(cli, ["clean", "-q", "--output-dir", "out", "d"])
    assert result.exit_code == 0
    assert sorted(str(p) for p in Path("out").rglob("*")) == ["out/a.txt"]


def test_a_symbolic_link_named_explicitly_is_followed_and_kept(
    here: Path, runner: CliRunner
) -> None:
    os.symlink("a.txt", "link.txt")
    result = runner.invoke(cli, ["clean", "-q", "--in-place", "link.txt"])
    assert result.exit_code == 0
    assert Path("link.txt").is_symlink() and Path("a.txt").read_text() == CLEANED


def test_the_backup_of_a_symbolic_link_is_named_where_it_is(here: Path, runner: CliRunner) -> None:
    Path("real").mkdir()
    Path("real/a.txt").write_text(TEXT)
    os.symlink("real/a.txt", "link.txt")
    Path("real/a.txt.orig").write_text("an earlier backup\n")
    result = runner.invoke(cli, ["clean", "-q", "--in-place", "--backup", ".orig", "link.txt"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {here / 'real/a.txt.orig'}: exists already; dedup never overwrites a backup "
        "(move it away, or choose another --backup)\n",
    )
    result = runner.invoke(cli, ["clean", "-q", "--in-place", "--backup", ".b", "link.txt"])
    assert result.exit_code == 0
    assert Path("real/a.txt.b").read_text() == TEXT and not Path("link.txt.b").exists()


def test_a_run_that_fails_on_a_later_file_leaves_every_file_as_it_was(
    here: Path, runner: CliRunner
) -> None:
    Path("p").mkdir()
    Path("p/a.txt").write_text(TEXT)
    lines = "".join(
        f"line {n} of a file long enough to be written in several pieces\n" for n in range(20_000)
    )
    Path("p/b.txt").write_bytes(lines.encode() + b"caf\xe9\n")
    before = _files(here)
    result = runner.invoke(
        cli,
        ["clean", "--in-place", "--split", "lines", "--report", "r.json", "--backup", ".orig", "p"],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: p/b.txt: not valid UTF-8 (byte 0xe9 at offset")
    assert _files(here) == before  # no output, no report, no backup, no temporary file


def test_a_whole_run_commits_every_file_with_its_report_and_backups(
    here: Path, runner: CliRunner
) -> None:
    Path("p").mkdir()
    Path("p/a.txt").write_text(TEXT)
    Path("p/b.txt").write_text(f"{P}\n")
    args = ["clean", "-q", "--scope", "corpus", "--in-place", "--report", "r.json"]
    result = runner.invoke(cli, [*args, "--backup", ".orig", "p"])
    assert result.exit_code == 0
    assert _files(here) == {
        "a.txt": TEXT.encode(),
        "p/a.txt": CLEANED.encode(),
        "p/a.txt.orig": TEXT.encode(),
        "p/b.txt": b"\n",  # the last line break always stays
        "p/b.txt.orig": f"{P}\n".encode(),
        "r.json": Path("r.json").read_bytes(),
    }
    assert b'"path": "p/b.txt"' in Path("r.json").read_bytes()


def test_backups_are_not_inputs_and_are_never_overwritten(here: Path, runner: CliRunner) -> None:
    Path("d").mkdir()
    Path("d/a.txt").write_text(TEXT)
    assert (
        runner.invoke(cli, ["clean", "-q", "--in-place", "--backup", ".orig", "d"]).exit_code == 0
    )
    result = runner.invoke(cli, ["clean", "--in-place", "--backup", ".orig", "d"])
    assert result.exit_code == 2
    assert result.stderr == (
        "dedup: d/a.txt.orig: skipped, a backup (.orig)\n"
        "Error: d/a.txt.orig: exists already; dedup never overwrites a backup "
        "(move it away, or choose another --backup)\n"
    )
    assert Path("d/a.txt.orig").read_text() == TEXT
    assert not Path("d/a.txt.orig.orig").exists()
    result = runner.invoke(cli, ["clean", "-q", "--in-place", "--backup", ".2", "d"])
    assert result.exit_code == 0 and Path("d/a.txt.2").read_text() == CLEANED


@pytest.mark.parametrize("suffix", ["", "/x", "/", "sub/x", "x\0"])
def test_a_backup_suffix_that_names_no_file_beside_the_input_is_refused(
    here: Path, runner: CliRunner, suffix: str
) -> None:
    Path("sub").mkdir()
    before = _files(here)
    result = runner.invoke(cli, ["clean", "-q", "--in-place", "--backup", suffix, "a.txt"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: --backup {suffix!r}: a suffix added to the file's name, not empty and "
        "without '/' or NUL\n",
    )
    assert _files(here) == before


def test_a_backup_that_cannot_be_made_at_the_end_leaves_every_input_as_it_was(
    here: Path,
) -> None:
    Path("b.txt").write_text(f"{P}\n{P}\n")
    sources = [_source("a.txt"), _source("b.txt")]
    with (
        pytest.raises(InputError) as caught,
        Outputs(sources, in_place=True, backup=".orig", stdout=sys.stdout.buffer) as out,
    ):
        for source in sources:
            out.sink(source).write(b"cleaned\n")
        Path("b.txt.orig").mkdir()  # made by someone else after the plan was checked
    assert str(caught.value) == (
        "b.txt.orig: exists already; dedup never overwrites a backup "
        "(move it away, or choose another --backup)"
    )
    assert _files(here) == {"a.txt": TEXT.encode(), "b.txt": f"{P}\n{P}\n".encode()}
    assert sorted(os.listdir()) == ["a.txt", "b.txt", "b.txt.orig"]  # no temporary file left


def _failing_replace(monkeypatch: pytest.MonkeyPatch, fails: Callable[[str, str], bool]) -> None:
    """Make ``os.replace`` raise EIO where ``fails(source, target)``, as a failing disk would."""
    replace = os.replace

    def failing(source: str, target: str) -> None:
        if fails(os.fspath(source), os.fspath(target)):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        replace(source, target)

    monkeypatch.setattr(os, "replace", failing)


def _clean_in_place(sources: list[Source], report: str | None = None) -> InputError:
    with (
        pytest.raises(InputError) as caught,
        Outputs(sources, in_place=True, report=report, stdout=sys.stdout.buffer) as out,
    ):
        for source in sources:
            out.sink(source).write(b"cleaned\n")
        if out.report is not None:
            out.report.write(b"a report of removals that were undone\n")
    return caught.value


def test_an_input_that_cannot_be_replaced_puts_back_the_ones_replaced_before_it(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("b.txt").write_text(f"{P}\n{P}\n")
    _failing_replace(monkeypatch, lambda source, target: target.endswith("b.txt"))
    error = _clean_in_place([_source("a.txt"), _source("b.txt")])
    assert str(error) == "b.txt: cannot write: Input/output error"
    assert _files(here) == {"a.txt": TEXT.encode(), "b.txt": f"{P}\n{P}\n".encode()}
    assert sorted(os.listdir()) == ["a.txt", "b.txt"]  # no temporary file left


def test_a_report_and_outputs_put_in_place_before_a_failure_are_put_back(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report (put in place first) and the outputs in a folder are files of the user's
    too: a run that then fails leaves each one as it was, an old one back, a new one gone."""
    Path("b.txt").write_text(f"{P}\n{P}\n")
    Path("out").mkdir()
    Path("out/a.txt").write_text("an output of an earlier run\n")
    Path("r.json").write_text('{"an": "earlier report"}\n')
    Path("r.html").write_text("<p>an earlier report</p>\n")
    before = _files(here)
    _failing_replace(monkeypatch, lambda source, target: target.endswith("out/b.txt"))
    sources = [_source("a.txt"), _source("b.txt")]
    with (
        pytest.raises(InputError) as caught,
        Outputs(
            sources, output_dir="out", report="r.json", html="r.html", stdout=sys.stdout.buffer
        ) as out,
    ):
        for source in sources:
            out.sink(source).write(b"cleaned\n")
        for report in (out.report, out.html):
            assert report is not None
            report.write(b"a report of removals that were never made\n")
    assert str(caught.value) == "out/b.txt: cannot write: Input/output error"
    assert _files(here) == before
    assert sorted(os.listdir()) == ["a.txt", "b.txt", "out", "r.html", "r.json"]
    assert os.listdir("out") == ["a.txt"]  # no temporary file, no new output left


def _outputs_in_folder(sources: list[Source]) -> None:
    with Outputs(sources, output_dir="out", report="r.json", stdout=sys.stdout.buffer) as out:
        for source in sources:
            out.sink(source).write(b"cleaned\n")
        assert out.report is not None
        out.report.write(b"a report\n")


def test_an_output_that_can_be_neither_linked_nor_read_is_moved_aside_and_back(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's file in a folder of one's own (no hard link to it where
    protected_hardlinks is on, no copy without read access) is replaced as before the
    files replaced were kept: moved aside under the name that keeps it, then back if the
    run fails; a run that succeeds keeps its mode."""
    Path("b.txt").write_text(f"{P}\n{P}\n")
    Path("out").mkdir()
    Path("out/a.txt").write_text("an output of an earlier run\n")
    os.chmod("out/a.txt", 0o640)
    Path("r.json").write_text('{"an": "earlier report"}\n')
    before = _files(here)

    def cannot(source: str, target: str) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr("dedup.outputs._link_or_copy", cannot)
    sources = [_source("a.txt"), _source("b.txt")]
    with monkeypatch.context() as failing:
        _failing_replace(failing, lambda source, target: target.endswith("out/b.txt"))
        with pytest.raises(InputError, match=r"out/b\.txt: cannot write"):
            _outputs_in_folder(sources)
    assert _files(here) == before
    assert sorted(os.listdir()) == ["a.txt", "b.txt", "out", "r.json"]
    assert os.listdir("out") == ["a.txt"]
    assert stat.S_IMODE(os.stat("out/a.txt").st_mode) == 0o640
    with monkeypatch.context() as failing:  # the file moved aside cannot be replaced
        _failing_replace(
            failing, lambda source, target: "/.a.txt." in source and source.endswith(".tmp")
        )
        with pytest.raises(InputError, match=r"out/a\.txt: cannot write"):
            _outputs_in_folder(sources)
    assert _files(here) == before
    assert sorted(os.listdir()) == ["a.txt", "b.txt", "out", "r.json"]
    assert os.listdir("out") == ["a.txt"]
    _outputs_in_folder(sources)
    assert _files(here) == {
        **before,
        "out/a.txt": b"cleaned\n",
        "out/b.txt": b"cleaned\n",
        "r.json": b"a report\n",
    }
    assert stat.S_IMODE(os.stat("out/a.txt").st_mode) == 0o640
    assert sorted(os.listdir()) == ["a.txt", "b.txt", "out", "r.json"]


def test_a_report_put_in_place_before_an_input_fails_is_put_back(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("b.txt").write_text(f"{P}\n{P}\n")
    Path("r.json").write_text('{"an": "earlier report"}\n')
    before = _files(here)
    _failing_replace(monkeypatch, lambda source, target: target.endswith("b.txt"))
    error = _clean_in_place([_source("a.txt"), _source("b.txt")], report="r.json")
    assert str(error) == "b.txt: cannot write: Input/output error"
    assert _files(here) == before
    assert sorted(os.listdir()) == ["a.txt", "b.txt", "r.json"]


def test_an_original_that_cannot_be_put_back_is_kept_and_named(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("b.txt").write_text(f"{P}\n{P}\n")
    _failing_replace(
        monkeypatch, lambda source, target: target.endswith("b.txt") or source.endswith(".bak")
    )
    error = _clean_in_place([_source("a.txt"), _source("b.txt")])
    keep = next(name for name in os.listdir() if name.endswith(".bak"))
    assert keep.startswith(".a.txt.dedup-")
    assert str(error) == (
        "a.txt: replaced, and cleaning b.txt then failed (cannot write: Input/output error); "
        f"the original could not be put back: it is kept at {os.path.realpath(keep)}"
    )
    assert Path(keep).read_text() == TEXT
    assert _files(here) == {
        "a.txt": b"cleaned\n",
        "b.txt": f"{P}\n{P}\n".encode(),
        keep: TEXT.encode(),
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away takes root")
def test_a_file_cleaned_in_place_keeps_its_owner_and_group(here: Path) -> None:
    os.chown("a.txt", 4321, 8765)
    os.chmod("a.txt", 0o640)
    assert run("clean", "-q", "--in-place", "a.txt").returncode == 0
    info = os.stat("a.txt")
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o640)
    assert Path("a.txt").read_text() == CLEANED


def test_an_output_folder_that_is_a_file_is_refused(here: Path, runner: CliRunner) -> None:
    Path("out").write_text("a file of the user's\n")
    result = runner.invoke(cli, ["clean", "--output-dir", "out", "a.txt"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: out: a file, where --output-dir names a folder\n",
    )
    assert Path("out").read_text() == "a file of the user's\n"


def test_two_inputs_with_one_output_path_are_refused(here: Path, runner: CliRunner) -> None:
    for folder in ("d1", "d2"):
        Path(folder).mkdir()
        Path(folder, "a.txt").write_text(TEXT)
    result = runner.invoke(cli, ["clean", "--output-dir", "out", "d1/a.txt", "d2/a.txt"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: out/a.txt: the output of d1/a.txt and the output of d2/a.txt would both be "
        "written here\n",
    )
    assert not Path("out").exists()


def _source(path: str) -> Source:
    return next(find([path]))


def test_an_input_changed_while_it_was_cleaned_is_not_replaced(here: Path) -> None:
    source = _source("a.txt")
    with (
        pytest.raises(InputError) as caught,
        Outputs([source], in_place=True, stdout=sys.stdout.buffer) as out,
    ):
        document = next(documents(iter([source])))
        write = out.writer(document)
        for text, _ in document.chunks:
            write(text)
        Path("a.txt").write_text("Written by someone else meanwhile.\n")
    assert str(caught.value).endswith(
        "a.txt: changed while it was cleaned (another program wrote it); left as it is"
    )
    assert _files(here) == {"a.txt": b"Written by someone else meanwhile.\n"}


def test_a_concurrent_in_place_run_is_refused_and_the_backup_is_what_was_read(
    here: Path,
) -> None:
    first, second = _source("a.txt"), _source("a.txt")
    with Outputs([first], in_place=True, backup=".orig", stdout=sys.stdout.buffer) as one:
        one.sink(first).write(b"cleaned by the first run\n")
        with pytest.raises(InputError) as caught:
            Outputs([second], in_place=True, backup=".bak", stdout=sys.stdout.buffer).sink(second)
        assert "another dedup run is rewriting it" in str(caught.value)
    assert Path("a.txt").read_text() == "cleaned by the first run\n"
    assert Path("a.txt.orig").read_text() == TEXT
    # A run that read the file before the first one replaced it does not replace it again.
    late = Outputs([second], in_place=True, backup=".late", stdout=sys.stdout.buffer)
    late.sink(second).write(b"from the old text\n")
    Path("a.txt").unlink()
    Path("a.txt").write_text("replaced meanwhile\n")
    with pytest.raises(InputError, match="changed while it was cleaned"), late:
        pass
    assert Path("a.txt").read_text() == "replaced meanwhile\n"
    assert sorted(_files(here)) == ["a.txt", "a.txt.orig"]


def test_output_to_a_device_is_written_through(here: Path) -> None:
    result = run("clean", "a.txt", "-o", "/dev/null")
    assert result.returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.path.exists("/dev/full"):
        result = run("clean", "a.txt", "-o", "/dev/full")
        assert result.returncode == 2
        assert result.stderr == b"Error: /dev/full: cannot write: No space left on device\n"
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_output_to_dev_stdout_goes_to_stdout_whatever_it_is(here: Path) -> None:
    assert run("clean", "-q", "a.txt", "-o", "/dev/stdout").stdout == CLEANED.encode()
    with open("out.txt", "ab") as handle:
        handle.write(b"kept\n")
        handle.flush()
        done = subprocess.run(
            [sys.executable, "-m", "dedup", "clean", "-q", "a.txt", "-o", "/dev/stdout"],
            stdout=handle,
            timeout=60,
        )
    assert done.returncode == 0
    assert Path("out.txt").read_text() == "kept\n" + CLEANED


def test_a_dash_is_standard_output_for_every_output(here: Path) -> None:
    # As "-" is standard input for an input: no file named "-" is written.
    assert run("clean", "-q", "a.txt", "-o", "-").stdout == CLEANED.encode()
    done = run("clean", "-q", "a.txt", "-o", "out.txt", "--report", "-")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"][0]["path"] == "a.txt"
    assert Path("out.txt").read_text() == CLEANED
    done = run("clean", "-q", "a.txt", "-o", "out.txt", "--html", "-")
    assert done.returncode == 0 and done.stdout.startswith(b"<!DOCTYPE html>"), done.stderr
    done = run("check", "a.txt", "--format", "json", "-o", "-")
    assert "passed" in json.loads(done.stdout)
    assert not Path("-").exists()


def test_a_report_to_a_closed_standard_output_is_refused(here: Path) -> None:
    for args in (["-o", "-"], ["-o", "out.txt", "--report", "-"]):
        done = subprocess.run(
            [sys.executable, "-m", "dedup", "clean", "a.txt", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
            preexec_fn=lambda: os.close(1),
        )
        assert done.returncode == 2, done.stderr
        assert b"standard output is closed" in done.stderr
    assert not Path("out.txt").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--report", "-"],
        ["-o", "-", "--report", "-"],
        ["--report", "/dev/stdout"],
        ["--html", "/dev/fd/1"],
        ["-o", "out.txt", "--report", "-", "--html", "-"],
    ],
)
def test_two_outputs_never_share_standard_output(here: Path, args: list[str]) -> None:
    # Text and JSON mixed in one stream would be neither: one line, exit 2, nothing written.
    before = _files(here)
    done = run("clean", "a.txt", *args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    message = done.stderr.decode()
    assert message.count("\n") == 1 and "would both go to standard output" in message
    assert _files(here) == before


def test_outputs_may_share_a_standard_output_that_goes_nowhere(here: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "clean", "-q", "a.txt", "--report", "/dev/stdout"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_report_to_the_file_stdout_is_redirected_to_is_refused(here: Path) -> None:
    # `dedup clean a.txt --report out.txt > out.txt`: the report would replace the text.
    with open("out.txt", "wb") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "dedup", "clean", "-q", "a.txt", "--report", "out.txt"],
            stdout=handle,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert done.returncode == 2
    assert b"would both go to standard output" in done.stderr
    assert Path("out.txt").read_bytes() == b""


def test_output_to_a_fifo_is_written_through(here: Path) -> None:
    os.mkfifo("pipe")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(Path("pipe").read_bytes()))
    reader.start()
    result = run("clean", "-q", "a.txt", "-o", "pipe")
    reader.join(timeout=60)
    assert result.returncode == 0 and got == [CLEANED.encode()]
    assert stat.S_ISFIFO(os.stat("pipe").st_mode)


def test_output_through_a_symbolic_link_replaces_its_target(here: Path, runner: CliRunner) -> None:
    Path("target.txt").write_text("old\n")
    os.symlink("target.txt", "link.txt")
    assert runner.invoke(cli, ["clean", "-q", "a.txt", "-o", "link.txt"]).exit_code == 0
    assert Path("link.txt").is_symlink() and Path("target.txt").read_text() == CLEANED


@pytest.mark.parametrize(
    ("encoding", "bom", "codec"),
    [
        ("utf-16", b"\xff\xfe", "utf-16-le"),
        ("utf-16", b"\xfe\xff", "utf-16-be"),
        ("utf-32", b"\xff\xfe\x00\x00", "utf-32-le"),
        ("utf-8-sig", b"\xef\xbb\xbf", "utf-8"),
        ("utf-8-sig", b"", "utf-8"),
    ],
)
def test_wide_encodings_come_back_byte_for_byte_with_one_bom(
    here: Path, runner: CliRunner, encoding: str, bom: bytes, codec: str
) -> None:
    Path("in.txt").write_bytes(bom + TEXT.encode(codec))
    result = runner.invoke(cli, ["clean", "-q", "--encoding", encoding, "in.txt", "-o", "out.txt"])
    assert result.exit_code == 0
    assert Path("out.txt").read_bytes() == bom + CLEANED.encode(codec)


def test_a_run_again_skips_what_the_run_before_wrote_in_the_folder_it_reads(
    here: Path, runner: CliRunner
) -> None:
    """``dedup clean docs --output-dir docs/clean --report docs/report.json``, run again
    (a Makefile, a CI step): the outputs of the first run are no documents of the second
    (read, they were refused as inputs the run writes over, or counted as repeats). A
    report is known by its content: a user's file there stays an input (see
    test_html_report's test_the_report_is_never_written_over_an_input)."""
    Path("docs").mkdir()
    Path("docs/a.txt").write_text(TEXT)
    Path("docs/b.txt").write_text(f"{P}\nanother line long enough to count here\n")
    args = ["clean", "--scope", "corpus", "docs", "--output-dir", "docs/clean"]
    args += ["--report", "docs/report.json", "--html", "docs/report.html"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.stderr
    written = _files(Path("docs"))
    second = runner.invoke(cli, args)
    assert (second.exit_code, second.stderr) == (
        0,
        "dedup: docs/clean: skipped, this run's output folder (--output-dir)\n"
        "dedup: docs/report.html: skipped, this run's HTML report (--html)\n"
        "dedup: docs/report.json: skipped, this run's report (--report)\n"
        "dedup: 2 documents: removed 2 of 5 paragraphs (2 exact)\n",
    )
    assert _files(Path("docs")) == written
    # Named, a file the run writes is an input like any other, and refused as such.
    third = runner.invoke(cli, [*args, "docs/report.json"])
    assert (third.exit_code, third.stderr.splitlines()[-1]) == (
        2,
        "Error: docs/report.json: refusing to write the report over the input docs/report.json",
    )
    assert _files(Path("docs")) == written


def test_a_check_skips_its_report_and_baselines_in_the_folder_it_reads(
    here: Path, runner: CliRunner
) -> None:
    Path("docs").mkdir()
    Path("docs/a.txt").write_text(TEXT)
    written = runner.invoke(cli, ["check", "docs", "--write-baseline", "docs/baseline.json"])
    assert written.exit_code == 0, written.stderr
    baseline = json.loads(Path("docs/baseline.json").read_text())
    again = runner.invoke(cli, ["check", "docs", "--write-baseline", "docs/baseline.json"])
    assert again.stderr.splitlines()[0] == (
        "dedup: docs/baseline.json: skipped, the baseline this run writes (--write-baseline)"
    )
    assert json.loads(Path("docs/baseline.json").read_text()) == baseline
    args = ["check", "docs", "--baseline", "docs/baseline.json", "--format", "json"]
    for _ in range(2):  # the report the first run writes is no document of the second
        result = runner.invoke(cli, [*args, "-o", "docs/check.json"])
        assert result.exit_code == 0, result.stderr
        report = json.loads(Path("docs/check.json").read_text())
        assert (report["corpus"]["documents"], report["corpus"]["paragraphs"]) == (1, 3)
    assert result.stderr.splitlines()[:2] == [
        "dedup: docs/baseline.json: skipped, the baseline (--baseline)",
        "dedup: docs/check.json: skipped, this run's output (-o)",
    ]
    # A document of the corpus named where a baseline or a report goes is a slip: it stays
    # an input, and the run refuses to write over it.
    Path("docs/notes.txt").write_text("notes of the user's, a document of the corpus\n")
    for named in (
        ["--write-baseline", "docs/notes.txt"],
        ["--format", "json", "-o", "docs/notes.txt"],
    ):
        slip = runner.invoke(cli, ["check", "docs", *named])
        assert slip.exit_code == 2
        assert (
            "refusing to write the" in slip.stderr
            and "over the input docs/notes.txt" in slip.stderr
        )
    assert Path("docs/notes.txt").read_text() == "notes of the user's, a document of the corpus\n"


def test_an_index_in_the_folder_it_indexes_is_no_document(here: Path, runner: CliRunner) -> None:
    """Its lock and manifest were read as documents (the index was made before the folder
    was listed), and its segments noted as binary files at every run after."""
    Path("docs").mkdir()
    Path("docs/a.txt").write_text(TEXT)
    args = ["index", "add", "docs", "--index", "docs/index"]
    first = runner.invoke(cli, args)
    assert (first.exit_code, first.stderr) == (
        0,
        "dedup: docs/index: added 2 of 3 paragraphs from 1 document\n",
    )
    again = runner.invoke(cli, args)
    assert (again.exit_code, again.stderr) == (
        0,
        "dedup: docs/index: skipped, the index (--index)\n"
        "dedup: docs/index: added 2 of 3 paragraphs from 1 document\n",
    )


def test_a_dedup_index_in_a_folder_read_is_skipped_unnamed_too(
    here: Path, runner: CliRunner
) -> None:
    """A check of a corpus that holds the index a clean of it keeps (not named this time):
    the index's manifest was read as a document and each array noted as a binary file."""
    Path("docs").mkdir()
    Path("docs/a.txt").write_text(TEXT)
    made = runner.invoke(cli, ["clean", "-q", "--in-place", "docs", "--index", "docs/idx"])
    assert made.exit_code == 0, made.stderr
    assert Path("docs/idx/manifest.json").is_file()
    result = runner.invoke(cli, ["check", "docs", "--format", "json", "--max-ratio", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "dedup: docs/idx: skipped, a dedup index (--index names it)\n"
    assert json.loads(result.stdout)["corpus"]["documents"] == 1
    # A folder that only looks like one is read.
    Path("docs/notes").mkdir()
    Path("docs/notes/lock").write_text("a lock of the user's own, long enough to be read\n")
    Path("docs/notes/manifest.json").write_text('{"settings": "mine"}\n')
    result = runner.invoke(cli, ["check", "docs", "--format", "json", "--max-ratio", "1"])
    assert json.loads(result.stdout)["corpus"]["documents"] == 3


def test_what_dedup_writes_is_told_from_a_users_file(here: Path, runner: CliRunner) -> None:
    from dedup.outputs import written_by_dedup

    result = runner.invoke(cli, ["check", "a.txt", "--format", "github", "-o", "g.txt"])
    assert result.exit_code == 1  # (a.txt repeats a paragraph)
    Path("empty.txt").write_text("")
    Path("user.json").write_text('{"version": 1, "mine": true}\n')
    os.mkfifo("fifo")  # never opened: that would wait for a writer
    assert [written_by_dedup(n) for n in ("g.txt", "empty.txt", "a.txt", "user.json")] == [
        True,
        True,
        False,
        False,
    ]
    assert not written_by_dedup("fifo") and not written_by_dedup("missing.txt")


@pytest.mark.parametrize(
    "named", [["--write-baseline", "nowhere/b.json"], ["--format", "json", "-o", "nowhere/r.json"]]
)
def test_a_check_that_cannot_write_its_file_fails_before_it_reads(
    here: Path, runner: CliRunner, named: list[str]
) -> None:
    """Not after reading the whole corpus (the notes of the walk came first, and the time
    of the check)."""
    Path("docs").mkdir()
    Path("docs/a.txt").write_text(TEXT)
    Path("docs/b.bin").write_bytes(b"\0\1\2binary")
    result = runner.invoke(cli, ["check", "docs", *named])
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {named[-1]}: cannot write here: No such file or directory\n",
    )
    assert sorted(os.listdir()) == ["a.txt", "docs"]
