"""The index on disk: what was committed is there when it is opened again, decides as the
memory index does, and survives a process killed at any moment (issue 11)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dedup
from dedup.index import disk

WORDS = [f"w{n}" for n in range(400)]


def _documents(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """Articles that share paragraphs with one another, as a site's pages do."""
    rng = random.Random(seed)
    pool = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) for _ in range(300)]
    return [
        (f"page-{n}", "\n".join(rng.choice(pool) for _ in range(rng.randint(5, 30))) + "\n")
        for n in range(count)
    ]


def _removals(results: list[dedup.CleanResult]) -> list[list[dict[str, object]]]:
    return [[r.to_dict() for r in result.removed] for result in results]


def test_a_disk_index_decides_as_the_memory_index_across_processes(tmp_path: Path) -> None:
    docs = _documents(60)
    memory = dedup.Deduplicator(split="lines")
    expected = [memory.clean(text, name) for name, text in docs]
    got = []
    for part in range(3):  # three runs, each opening what the ones before committed
        with dedup.Deduplicator(split="lines", index=tmp_path / "site.dedup") as d:
            got += [d.clean(text, name) for name, text in docs[part * 20 : (part + 1) * 20]]
    assert _removals(got) == _removals(expected)
    assert [r.text for r in got] == [r.text for r in expected]


def test_only_what_was_committed_is_in_it(tmp_path: Path) -> None:
    path = tmp_path / "site.dedup"
    (first, one), (second, two) = _documents(2)
    d = dedup.Deduplicator(split="lines", index=path)
    d.clean(one, first)
    d.commit()
    size = len(d.index)
    d.clean(two, second)  # not committed
    assert len(d.index) > size
    d.close()
    with dedup.Deduplicator(split="lines", index=path) as again:
        assert len(again.index) == size
        info = again.index.info()  # type: ignore[attr-defined]
    assert (info["paragraphs"], info["documents"]) == (size, 1)


def test_many_commits_are_gathered_into_one_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(disk, "MAX_SEGMENTS", 3)
    docs = _documents(12)
    memory = dedup.Deduplicator(split="lines")
    expected = [memory.clean(text, name) for name, text in docs]
    got = []
    for name, text in docs:
        with dedup.Deduplicator(split="lines", index=tmp_path / "i") as d:
            got.append(d.clean(text, name))
        segments = json.loads((tmp_path / "i" / "manifest.json").read_text())["segments"]
        assert len(segments) <= 3
        assert sorted(p.name for p in (tmp_path / "i").iterdir()) == sorted(
            [*segments, "lock", "manifest.json"]
        )
    assert _removals(got) == _removals(expected)


def test_an_index_is_refused_with_other_settings_a_newer_format_or_a_second_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "site.dedup"
    with dedup.Deduplicator(index=path) as d:
        d.clean("A first paragraph with enough words in it to be kept.", "a")
    with pytest.raises(dedup.IndexMismatchError) as caught:
        dedup.Deduplicator(index=path, shingle_size=5, num_perm=64)
    assert str(caught.value) == (
        "the index was built with other settings: shingle_size: index 3, now 5; "
        "num_perm: index 128, now 64 (use the same settings, or another index)"
    )
    first = dedup.Deduplicator(index=path)
    with pytest.raises(dedup.IndexAccessError, match="in use by another dedup process"):
        dedup.Deduplicator(index=path)
    with pytest.raises(dedup.IndexAccessError, match="in use by another dedup process"):
        dedup.open_index(path, dedup.Config(), writable=False)
    first.close()
    readers = [dedup.open_index(path, dedup.Config(), writable=False) for _ in range(2)]
    with pytest.raises(dedup.IndexAccessError, match="in use by another dedup process"):
        dedup.Deduplicator(index=path)  # no writer while it is read
    for reader in readers:
        reader.close()
    with pytest.raises(dedup.IndexAccessError) as missing:
        dedup.open_index(tmp_path / "none", dedup.Config(), writable=False)
    assert str(missing.value) == f"{tmp_path / 'none'}: no dedup index here"
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "format": 2, "dedup": "9.0"}))
    with pytest.raises(dedup.IndexAccessError) as refused:
        dedup.Deduplicator(index=path)
    assert str(refused.value) == (
        f"{path}: written by a newer dedup (9.0, format 2); this one (0.1.0) reads format 1: "
        "upgrade dedup to use it"
    )
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("mine")
    with pytest.raises(dedup.IndexAccessError, match="a folder without a manifest"):
        dedup.Deduplicator(index=tmp_path / "notes")
    assert (tmp_path / "notes" / "x.txt").read_text() == "mine"


def test_an_index_whose_first_run_failed_opens_and_a_second_writer_is_told(
    tmp_path: Path,
) -> None:
    path = tmp_path / "site.dedup"
    first = dedup.Deduplicator(index=path)  # made, nothing committed yet
    with pytest.raises(dedup.IndexAccessError, match="in use by another dedup process"):
        dedup.Deduplicator(index=path)
    first.clean("A first paragraph with enough words in it to be kept.", "a")
    first.close()  # the run failed: its folder holds its lock and no manifest
    (path / "seg-000001").mkdir()  # and a segment it wrote before it was killed
    (path / "seg-000001" / "texts.npy").write_bytes(b"half")
    with dedup.Deduplicator(index=path) as again:
        assert len(again.index) == 0
        again.clean("A first paragraph with enough words in it to be kept.", "a")
    assert sorted(p.name for p in path.iterdir()) == ["lock", "manifest.json", "seg-000001"]
    with dedup.Deduplicator(index=path) as third:
        assert len(third.index) == 1


def test_a_closed_deduplicator_or_index_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "site.dedup"
    d = dedup.Deduplicator(index=path)
    d.clean("A first paragraph with enough words in it to be kept.", "a")
    d.close()  # not committed: the lock is let go, and another process may write now
    with pytest.raises(dedup.DedupError, match="this deduplicator is closed"):
        d.clean("A second paragraph, with enough words in it to be kept.", "b")
    with pytest.raises(dedup.DedupError, match="this deduplicator is closed"):
        d.commit()
    d.close()  # twice is fine
    with dedup.Deduplicator(index=path) as inside:
        inside.close()  # closed in the block: leaving it commits nothing, and says nothing
    index = dedup.open_index(path, dedup.Config())
    dedup.Deduplicator(index=index).clean("Kept, a paragraph long enough to count here.", "c")
    index.close()
    with pytest.raises(dedup.IndexAccessError, match="closed: nothing is added to it"):
        index.commit()
    assert not (path / "manifest.json").exists()


WRITER = """
import sys, dedup
sys.path.insert(0, {root!r})
from tests.test_disk_index import _documents
with dedup.Deduplicator(split="lines", index={path!r}) as d:
    for name, text in _documents(400, seed={seed}):
        d.clean(text, name + "-{seed}")
        print("committing", len(d.index), flush=True)
        d.commit()
        print("committed", len(d.index), flush=True)
"""


def test_a_writer_killed_at_random_moments_leaves_what_it_committed(tmp_path: Path) -> None:
    path = tmp_path / "site.dedup"
    root = str(Path(__file__).resolve().parent.parent)
    rng = random.Random(11)
    committed = 0
    for seed in range(5):
        code = WRITER.format(root=root, path=str(path), seed=seed)
        lines: list[str] = []
        deadline = time.monotonic() + rng.uniform(0.8, 2.5)
        with subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        ) as process:
            assert process.stdout is not None
            while time.monotonic() < deadline and process.poll() is None:
                lines.append(process.stdout.readline())
            process.send_signal(signal.SIGKILL)
            lines += process.stdout.readlines()
        said = [line.split() for line in lines if line.strip()]
        done = [int(n) for word, n in said if word == "committed"]
        trying = [int(n) for word, n in said if word == "committing"]
        committed = done[-1] if done else committed
        with dedup.Deduplicator(split="lines", index=path) as again:
            # Exactly what was committed: the last commit, or the one under way when killed.
            assert len(again.index) in {committed, *(trying[-1:])}
            committed = len(again.index)
            assert again.index.info()["paragraphs"] == committed  # type: ignore[attr-defined]
    assert committed > 0


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _info() -> dict[str, str]:
    lines = _cli("index", "info", "--index", "site.dedup").stdout.splitlines()
    return dict(line.split(": ", 1) for line in lines)


def test_the_command_line_builds_checks_and_drops_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shared = "The quick brown fox jumps over the lazy dog near the river bank today."
    Path("a.txt").write_text(f"{shared}\nA line of the first page, long enough to count.\n")
    Path("b.txt").write_text(f"A line of the second page, long enough to count.\n{shared}\n")
    done = _cli("index", "add", "--index", "site.dedup", "a.txt")
    assert (done.returncode, done.stderr) == (
        0,
        "dedup: site.dedup: added 2 of 2 paragraphs from 1 document\n",
    )
    info = dict(
        line.split(": ", 1)
        for line in _cli("index", "info", "--index", "site.dedup").stdout.splitlines()
    )
    assert (info["paragraphs"], info["documents"], info["format"]) == ("2", "1", "1")
    # check reads the index and adds nothing to it
    done = _cli("check", "-q", "--index", "site.dedup", "b.txt")
    assert done.returncode == 1 and "a.txt #0" in done.stdout
    # clean removes what the index holds, and adds what it keeps once delivered
    done = _cli("clean", "-q", "b.txt", "-o", "out.txt", env={"DEDUP_INDEX": "site.dedup"})
    assert done.returncode == 0
    assert Path("out.txt").read_text() == "A line of the second page, long enough to count.\n"
    info = dict(
        line.split(": ", 1)
        for line in _cli("index", "info", "--index", "site.dedup").stdout.splitlines()
    )
    assert info["paragraphs"] == "3"
    # a page cleaned again does not repeat its own earlier self
    done = _cli("clean", "-q", "--index", "site.dedup", "a.txt")
    assert done.stdout == Path("a.txt").read_text()
    # a run that fails delivers nothing, and adds nothing
    before = _info()["paragraphs"]
    Path("c.txt").write_bytes(b"A third page line that is long enough to count.\ncaf\xe9\n")
    done = _cli("clean", "-q", "--index", "site.dedup", "--output-dir", "out", "c.txt")
    assert done.returncode == 2
    assert _info()["paragraphs"] == before
    # what cannot go with an index
    done = _cli("clean", "--index", "site.dedup", "--scope", "document", "a.txt")
    assert (done.returncode, done.stderr) == (
        2,
        "Error: --index holds paragraphs across documents: it goes with --scope corpus\n",
    )
    done = _cli("clean", "--index", "memcached://localhost/0", "a.txt")
    assert (done.returncode, done.stderr) == (
        2,
        "Error: index memcached://...: no such kind of index (a path for an index on disk, "
        "redis:// or rediss:// for one shared through Redis)\n",
    )
    done = _cli("clean", "--index", "site.dedup", "--shingle-size", "4", "a.txt")
    assert (done.returncode, done.stderr) == (
        2,
        "Error: the index was built with other settings: shingle_size: index 3, now 4 (use "
        "the same settings, or another index)\n",
    )
    # a settings file names it relative to its own folder
    Path("dedup.toml").write_text('index = "site.dedup"\n')
    Path("sub").mkdir()
    monkeypatch.chdir("sub")
    done = _cli("check", "-q", "--format", "json", "../b.txt")
    assert json.loads(done.stdout)["corpus"]["repeated"] == 2
    assert f"index: {tmp_path / 'site.dedup'}\n" in _cli("index", "info").stdout
    monkeypatch.chdir(tmp_path)
    assert _cli("index", "drop", "--index", "site.dedup").returncode == 2  # no --yes, no tty
    done = _cli("index", "drop", "--yes", "--index", "site.dedup")
    assert (done.returncode, done.stderr) == (0, "dedup: site.dedup: deleted\n")
    assert not Path("site.dedup").exists()


def test_an_index_is_held_while_it_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that opened the index while it was being deleted would read segments then
    deleted and commit a manifest naming them: the lock is held until its files are gone."""
    path = tmp_path / "site.dedup"
    with dedup.Deduplicator(index=str(path)) as d:
        d.clean("A line of the first page, long enough to count as one.", "a")
    remove = disk._remove_segment
    tried: list[str] = []

    def meanwhile(folder: Path) -> list[str]:
        with pytest.raises(dedup.IndexAccessError) as caught:
            dedup.Deduplicator(index=str(path))
        tried.append(str(caught.value))
        return remove(folder)

    monkeypatch.setattr(disk, "_remove_segment", meanwhile)
    index = dedup.open_index(str(path), dedup.Config())
    assert index.drop() == []
    assert tried == [f"{path}: in use by another dedup process"]
    assert not path.exists()


def test_dropping_an_index_deletes_its_own_files_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text("A line of the first page, long enough to count as one.\n")
    assert _cli("index", "add", "--index", "site.dedup", "a.txt").returncode == 0
    # A user's files put in the index's folder, named like the index's own or not.
    Path("site.dedup/notes.txt").write_text("mine\n")
    Path("site.dedup/seg-notes").write_text("mine too\n")
    segment = next(Path("site.dedup").glob("seg-0*"))
    (segment / "kept.txt").write_text("and this\n")
    done = _cli("index", "drop", "--yes", "--index", "site.dedup")
    assert (done.returncode, done.stderr) == (
        0,
        "dedup: site.dedup: deleted; left what the index did not write: "
        f"notes.txt, {segment.name}/kept.txt, seg-notes\n",
    )
    left = sorted(str(p.relative_to("site.dedup")) for p in Path("site.dedup").rglob("*"))
    assert left == sorted([segment.name, f"{segment.name}/kept.txt", "notes.txt", "seg-notes"])
    assert Path("site.dedup/notes.txt").read_text() == "mine\n"
    # Opened again, it is no index (no manifest) and nothing more is deleted.
    assert _cli("index", "drop", "--yes", "--index", "site.dedup").returncode == 2
    assert Path("site.dedup/notes.txt").exists()
