"""Issue 10's inputs that used to blow up memory, each run by ``dedup clean`` in a child
process whose peak RSS (and its workers') is read from ``getrusage``, as ``/usr/bin/time -v``
reports it. A ceiling, not a timing: the figures are what a run on this machine took.

    python -m benchmarks.memory            # print the table
    python -m benchmarks.memory --write    # and write it to RESULTS.md

Cases: 200,000 copies of one line (was 7 GB); the scale corpus, 1.4M lines and no blank
line, with ``--split auto`` (was 5.2 GB); its first 300,000 lines with a line of U+FEFF
only (were 11 paragraphs in 398 s and 6.3 GB); one 200 MB line (was killed at 23.7 GB).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.results import write_section

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCALE = DATA / "scale-paragraphs.txt.gz"
LIMIT = 1 << 30  # issue 10: under 1 GB
LINE = "The quick brown fox jumps over the lazy dog near the river bank and on it goes."


def _measured(args: list[str]) -> tuple[float, int]:
    """Seconds, and peak RSS in bytes of the run and its workers."""
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.monotonic()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([done.returncode, time.monotonic() - start, usage.ru_maxrss * 1024]))\n"
    )
    command = [sys.executable, "-m", "dedup", "clean", "-q", *args]
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True)
    code, seconds, peak = json.loads(out.stdout)
    if code != 0:
        raise SystemExit(f"dedup exited {code}: {' '.join(args)}")
    return seconds, peak


def _paragraphs(report: Path) -> tuple[int, int, str]:
    document = json.loads(report.read_text())["documents"][0]
    return document["paragraphs"], len(document["removed"]), document["split"]


def run(write: bool) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cases: list[tuple[str, Path, list[str]]] = []
        same = folder / "same.txt"
        same.write_text((LINE + "\n") * 200_000)
        cases.append(("200,000 copies of one line", same, []))
        if SCALE.exists():
            corpus = folder / "corpus.txt"
            with gzip.open(SCALE, "rb") as source, corpus.open("wb") as target:
                shutil.copyfileobj(source, target)
            cases.append(("scale corpus: 1,409,150 lines, no blank line", corpus, []))
            head = folder / "head.txt"
            with corpus.open(encoding="utf-8") as source:
                first = [next(source) for _ in range(300_000)]
            head.write_text("".join(first[:1000]) + "\ufeff\n" + "".join(first[1000:]))
            cases.append(("its first 300,000 lines, a U+FEFF line among them", head, []))
            cases.append(("the same, --split lines", head, ["--split", "lines"]))
        huge = folder / "huge.txt"
        words = " ".join(f"w{n}" for n in range(1000))
        with huge.open("w") as handle:
            handle.write("first line\n")
            for _ in range(200_000_000 // (len(words) + 1)):
                handle.write(words + " ")
            handle.write("\nfirst line\n")
        cases.append(("one line of 200 MB between two short ones", huge, []))
        for name, path, extra in cases:
            report = folder / "report.json"
            seconds, peak = _measured([*extra, "--report", str(report), str(path)])
            paragraphs, removed, split = _paragraphs(report)
            size = path.stat().st_size
            rows.append(
                f"| {name} | {size / 1e6:,.0f} MB | {split} | {paragraphs:,} | {removed:,} | "
                f"{seconds:,.1f} s | {peak / 1e6:,.0f} MB | "
                f"{'PASS' if peak < LIMIT else 'FAIL'} |"
            )
            print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## Memory on inputs that blew up (issue 10)",
            "",
            f"`python -m benchmarks.memory --write`, {time.strftime('%Y-%m-%d')}: `dedup clean` "
            "with its defaults (auto split, all cores), peak RSS of the run and its workers "
            "(`getrusage`, as `/usr/bin/time -v` reports it). Target: under 1 GB each.",
            "",
            "| input | size | split | paragraphs | removed | time | peak RSS | < 1 GB |",
            "|---|---:|---|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    if write:
        write_section("memory", body)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the table to RESULTS.md")
    run(parser.parse_args().write)


if __name__ == "__main__":
    main()
