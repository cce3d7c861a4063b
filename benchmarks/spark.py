"""The Spark job against the one-machine cleaner (issue 14), whole processes, interleaved,
median of ``--rounds``: ``dedup clean --jsonl --scope corpus --split lines`` with ``--jobs 1``
and ``2`` against the job on ``local[1]`` and ``local[2]``, on the first N lines of the
shuffled scale corpus (``benchmarks/speed.py``) as JSONL documents of 50 lines each. Every
run's output is checked against ``clean``'s, byte for byte; the job's stages (time, shuffle
written) are read from Spark's own REST API before it stops.

    python -m benchmarks.spark --sizes 100000 1000000 [--rounds 3] [--write]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.results import write_section
from benchmarks.speed import _shuffled

DOCUMENT = 50  # lines a document

JOB = r"""
import json, sys, time, urllib.request
from dedup.config import Config
from dedup.spark import clean_jsonl, jsonl_inputs, session
master, source, output, report = sys.argv[1:5]
spark = session(master)
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter()
stats = clean_jsonl(spark, jsonl_inputs([source]), output, Config(split="lines"))
seconds = time.perf_counter() - started
base = spark.sparkContext.uiWebUrl + "/api/v1/applications/" + spark.sparkContext.applicationId
stages = json.load(urllib.request.urlopen(base + "/stages?status=complete"))
json.dump({"seconds": seconds, "stats": stats._asdict(), "stages": [
    {key: stage.get(key, 0) for key in ("stageId", "name", "executorRunTime",
     "shuffleWriteBytes", "shuffleReadBytes", "numTasks")} for stage in stages]},
    open(report, "w"))
spark.stop()
"""


def documents(size: int, folder: Path) -> Path:
    """The first ``size`` lines of the shuffled corpus as JSONL, ``DOCUMENT`` lines each."""
    lines = _shuffled()[:size]
    path = folder / f"docs-{len(lines)}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for at in range(0, len(lines), DOCUMENT):
            text = "\n".join(lines[at : at + DOCUMENT])
            out.write(json.dumps({"id": f"d{at // DOCUMENT}", "text": text}) + "\n")
    return path


def _timed(command: list[str], out: Path | None = None) -> float:
    started = time.perf_counter()
    with open(out or "/dev/null", "wb") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="into benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for size in args.sizes:
            source = documents(size, folder)
            want = folder / f"clean-{size}.jsonl"
            times: dict[str, list[float]] = {}
            reports: dict[str, list[dict]] = {}  # type: ignore[type-arg]
            for _ in range(args.rounds):
                for jobs in (1, 2):
                    clean = [sys.executable, "-m", "dedup", "clean", "--jsonl", "--scope"]
                    clean += ["corpus", "--split", "lines", "-q", "-j", str(jobs), str(source)]
                    times.setdefault(f"clean -j{jobs}", []).append(_timed(clean, want))
                for cores in (1, 2):
                    out, report = folder / f"out-{size}-{cores}", folder / "report.json"
                    subprocess.run(["rm", "-rf", str(out)], check=True)
                    job = [sys.executable, "-c", JOB, f"local[{cores}]", str(source)]
                    times.setdefault(f"local[{cores}]", []).append(
                        _timed([*job, str(out), str(report)])
                    )
                    got = "".join(p.read_text() for p in sorted(out.glob("part-*")))
                    if got != want.read_text():
                        raise SystemExit(f"local[{cores}], {size} lines: not clean's output")
                    reports.setdefault(f"local[{cores}]", []).append(json.loads(report.read_text()))
            median = {name: statistics.median(values) for name, values in times.items()}
            last = reports["local[2]"][-1]
            stats = last["stats"]
            shuffled = sum(s["shuffleWriteBytes"] for s in last["stages"])
            rows.append(
                f"| {size:,} | {stats['paragraphs']:,} | {stats['removed']:,} "
                f"| {median['clean -j1']:.1f} | {median['clean -j2']:.1f} "
                f"| {median['local[1]']:.1f} | {median['local[2]']:.1f} "
                f"| {median['local[2]'] / median['clean -j2']:.1f}x | {stats['rounds']} "
                f"| {shuffled / size:,.0f} |"
            )
            costly = sorted(last["stages"], key=lambda s: -s["executorRunTime"])[:6]
            notes.append(
                f"{size:,} lines, local[2], the costliest stages (executor time, shuffle "
                "written): "
                + "; ".join(
                    f"{s['name'].split(' at ')[0]} at {s['name'].rsplit('/', 1)[-1]} "
                    f"{s['executorRunTime'] / 1000:.0f} s, {s['shuffleWriteBytes'] / 1e6:.0f} MB"
                    for s in costly
                )
                + f" (of {len(last['stages'])} stages)."
            )
    table = "\n".join(
        [
            "| lines | with words | removed | clean -j1: s | clean -j2: s | local[1]: s "
            "| local[2]: s | local[2] / clean -j2 | rounds | shuffle B / line |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    body = (
        f"`python -m benchmarks.spark --sizes {' '.join(map(str, args.sizes))} --rounds "
        f"{args.rounds}`: whole processes (the job's JVM start included), interleaved, "
        "median; every run's output identical to `clean`'s.\n\n"
        + table
        + "\n\n"
        + "\n\n".join(notes)
        + "\n"
    )
    print(body)
    if args.write:
        write_section("Spark (issue 14)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
