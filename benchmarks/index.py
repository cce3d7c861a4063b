"""Issue 11's targets for the index on disk, against the memory index in the same run.

    python -m benchmarks.index                 # 1M paragraphs of the scale corpus
    python -m benchmarks.index --size 200000   # quicker
    python -m benchmarks.index --write         # and write the table to RESULTS.md

Builds an index on disk from the first SIZE lines of the scale corpus (``dedup index add``),
then measures: its size per paragraph held; reopening it (median of 5); and cleaning the
next 100,000 lines against it, against the memory index holding the same paragraphs, in
turns (median of 3 each): the disk index must run at 60% of the memory index's speed or
better. The decisions of both must be identical. The first million lines hold some 450,000
distinct paragraphs; ``--mirror`` adds each line again with its words in reverse order (no
copy of anything), for an index of about a million paragraphs.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dedup
from benchmarks.results import write_section
from dedup.index import DiskIndex, MemoryIndex

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCALE = DATA / "scale-paragraphs.txt.gz"
CONFIG = dedup.Config(split="lines")
NEXT = 100_000


def _lines(start: int, count: int) -> str:
    with gzip.open(SCALE, "rt", encoding="utf-8") as source:
        return "".join(itertools.islice(source, start, start + count))


def _clean(index: dedup.Index, text: str) -> tuple[float, list[dict[str, object]]]:
    d = dedup.Deduplicator(CONFIG, index=index)
    start = time.perf_counter()
    result = d.clean(text, "next")
    return time.perf_counter() - start, [r.to_dict() for r in result.removed]


def run(size: int, write: bool, mirror: bool = False) -> str:
    if not SCALE.exists():
        raise SystemExit(f"the scale corpus is not at {SCALE}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        corpus = folder / "corpus.txt"
        text = _lines(0, size)
        if mirror:
            text += "".join(" ".join(line.split()[::-1]) + "\n" for line in text.splitlines())
        corpus.write_text(text, encoding="utf-8")
        path = folder / "site.dedup"
        start = time.perf_counter()
        subprocess.run(
            [
                *(sys.executable, "-m", "dedup", "index", "add", "-q", "--split", "lines"),
                *("--index", str(path), str(corpus)),
            ],
            check=True,
        )
        build = time.perf_counter() - start
        held_bytes = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        opens = []
        for _ in range(5):
            start = time.perf_counter()
            disk = DiskIndex(path, CONFIG)
            opens.append(time.perf_counter() - start)
            held = len(disk)
            disk.close()
        text = _lines(size, NEXT)
        disk_times, memory_times = [], []
        for _ in range(3):  # in turns, so that the machine's load falls on both alike
            disk = DiskIndex(path, CONFIG)
            memory = MemoryIndex(CONFIG)  # the same paragraphs, in memory
            memory.load(*disk.arrays())
            seconds, disk_removed = _clean(disk, text)  # uncommitted: the index stays as built
            disk_times.append(seconds)
            disk.close()
            seconds, memory_removed = _clean(memory, text)
            memory_times.append(seconds)
            if disk_removed != memory_removed:
                raise SystemExit("the disk and memory indexes decided differently")
    ratio = statistics.median(memory_times) / statistics.median(disk_times)
    per = held_bytes / held
    rows = [
        f"| index on disk built from {size:,} lines{' and their mirror' if mirror else ''} "
        f"(`dedup index add`) | {build:.1f} s, "
        f"{held:,} paragraphs held | |",
        f"| its size per paragraph held | {per:,.0f} B | ≤ 600 B: {_verdict(per <= 600)} |",
        f"| reopening it (median of 5) | {statistics.median(opens):.3f} s | < 1 s: "
        f"{_verdict(statistics.median(opens) < 1)} |",
        f"| cleaning the next {NEXT:,} lines: memory index (median of 3) | "
        f"{statistics.median(memory_times):.2f} s | |",
        f"| the same against the disk index | {statistics.median(disk_times):.2f} s = "
        f"{ratio:.0%} of the memory index's speed | ≥ 60%: {_verdict(ratio >= 0.6)} |",
        "| removals, disk and memory | identical | identical: PASS |",
    ]
    body = "\n".join(
        [
            "## The index on disk against the memory index (issue 11)",
            "",
            f"`python -m benchmarks.index --size {size}{' --mirror' if mirror else ''}`, "
            f"{time.strftime('%Y-%m-%d')}, "
            "this 2-core machine; the scale corpus in its own order.",
            "",
            "| measure | result | target |",
            "|---|---:|---|",
            *rows,
        ]
    )
    print(body)
    if write:
        write_section("index", body)
    return body


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--mirror", action="store_true", help="each line again, words reversed")
    parser.add_argument("--write", action="store_true", help="write the table to RESULTS.md")
    arguments = parser.parse_args()
    run(arguments.size, arguments.write, arguments.mirror)


if __name__ == "__main__":
    main()
