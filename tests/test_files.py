"""Reading never mangles text; writing never loses a user's file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedup.errors import InputError
from dedup.files import _fitting, decode, read_text, remove_stale, write_atomic


def test_decode_keeps_bom_and_line_endings() -> None:
    assert decode(b"\xef\xbb\xbfa\r\nb\rc\n", "x") == "\ufeffa\r\nb\rc\n"


def test_utf16_with_nul_bytes_is_text_when_asked() -> None:
    assert decode("héllo".encode("utf-16"), "x", "utf-16") == "héllo"


def test_utf16_read_as_utf8_gets_a_hint() -> None:
    with pytest.raises(InputError) as caught:
        decode("héllo".encode("utf-16"), "doc.txt")
    assert str(caught.value) == "doc.txt: looks like UTF-16 text; try --encoding utf-16"


def test_invalid_utf8_names_offset_and_line() -> None:
    with pytest.raises(InputError) as caught:
        decode(b"line one\nline \xff two", "doc.txt")
    assert str(caught.value) == (
        "doc.txt: not valid UTF-8 (byte 0xff at offset 14, line 2); "
        "if it is Latin-1, try --encoding latin-1"
    )


def test_permission_denied(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        read_text(path)


def test_write_atomic_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["out.txt"]


def test_failed_write_leaves_the_original_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"precious")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(InputError, match="cannot write: No space left on device"):
        write_atomic(target, b"half")
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_interrupted_write_leaves_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"precious")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("letter", ["n", "é", "語"])
def test_a_file_whose_name_is_near_the_limit_is_cleaned_in_place_and_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, letter: str
) -> None:
    """The temporary files beside it (``.NAME.dedup-PID.tmp``) would be past the name
    limit (255 bytes here): their names are shortened, and still known as dedup's."""
    import subprocess
    import sys

    from dedup.files import is_temporary, temporary_path

    monkeypatch.chdir(tmp_path)
    limit = os.pathconf(".", "PC_NAME_MAX")
    name = letter * ((limit - 4) // len(letter.encode())) + ".txt"
    assert len(name.encode()) <= limit
    for kind in ("tmp", "bak"):
        temporary = os.path.basename(temporary_path(name, kind))
        assert len(temporary.encode()) <= limit and is_temporary(temporary)
        assert temporary != os.path.basename(temporary_path(letter + name[1:-5] + ".txt"))
    line = "A paragraph that a long named file repeats, long enough to count here."
    Path(name).write_text(f"{line}\n{line}\n")

    def run(*args: str) -> int:
        command = [sys.executable, "-m", "dedup", "clean", "-q", "--split", "lines", *args]
        return subprocess.run(command, capture_output=True, timeout=120).returncode

    assert run("--output-dir", "out", name) == 0
    assert Path("out", name).read_text() == f"{line}\n"
    assert run("--in-place", "--backup", "", name) == 2  # refused, nothing written
    assert run("--in-place", name) == 0
    assert Path(name).read_text() == f"{line}\n"
    assert sorted(os.listdir()) == sorted([name, "out"])  # no temporary file left


def test_what_a_killed_run_left_is_removed_but_an_original_it_alone_holds(
    tmp_path: Path,
) -> None:
    dead = 2**22 + 1  # above the largest pid_max Linux allows: no process has it
    (tmp_path / "a.txt").write_text("cleaned\n")  # replaced before the run was killed
    (tmp_path / "b.txt").write_text("as read\n")  # not replaced yet
    (tmp_path / "c.txt").write_text("as read\n")
    (tmp_path / "d.txt").write_text("cleaned\n")
    held = {f".a.txt.dedup-{dead}.bak": b"the original\n"}  # the only copy of a.txt's original
    for name, data in held.items():
        (tmp_path / name).write_bytes(data)
    os.link(tmp_path / "b.txt", tmp_path / f".b.txt.dedup-{dead}.bak")  # a link to the input
    (tmp_path / f".c.txt.dedup-{dead}-1.bak").write_text("as read\n")  # a copy of it
    (tmp_path / f".d.txt.dedup-{dead}.tmp").write_text("cleaned\n")  # an output not yet in place
    (tmp_path / f".e.txt.dedup-{dead}.bak").write_text("of a file since deleted\n")
    held[f".e.txt.dedup-{dead}.bak"] = b"of a file since deleted\n"
    long = "f" * 250  # its .bak's name is cut short, with a digest
    (tmp_path / long).write_text("as read\n")
    tail = f".dedup-{dead}.bak"
    os.link(tmp_path / long, tmp_path / f".{_fitting(str(tmp_path), long, tail)}{tail}")
    remove_stale(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(["a.txt", "b.txt", "c.txt", "d.txt", long, *held])
    assert all((tmp_path / name).read_bytes() == data for name, data in held.items())


def test_what_a_run_on_another_machine_left_is_not_judged_by_its_pid_here(
    tmp_path: Path,
) -> None:
    # Two machines (or two containers, each with its own pids) sharing a folder: a pid that
    # is not alive here may be alive there, and its keep link be the only way back.
    from dedup.files import temporary_path

    dead = 2**22 + 1
    (tmp_path / "a.txt").write_text("as read\n")
    mine = Path(temporary_path(tmp_path / "a.txt", "bak"))
    assert mine.name.startswith(f".a.txt.dedup-{os.getpid()}@")
    theirs = [
        f".a.txt.dedup-{dead}@another-host.example.bak",  # a link to the input
        f".b.txt.dedup-{dead}-1@another-host.tmp",  # an output not yet in place
    ]
    os.link(tmp_path / "a.txt", tmp_path / theirs[0])
    (tmp_path / theirs[1]).write_text("cleaned\n")
    here = mine.name.replace(str(os.getpid()), str(dead))  # a run killed on this machine
    os.link(tmp_path / "a.txt", tmp_path / here)
    remove_stale(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(["a.txt", *theirs])
