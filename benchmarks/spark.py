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
import ast
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.results import write_section
from benchmarks.speed import documents

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


def _timed(command: list[str], out: Path | None = None) -> float:
    started = time.perf_counter()
    with open(out or "/dev/null", "wb") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def _step(name: str) -> str:
    """A stage's step: the statement of ``dedup`` whose RDD (or action) it ends at, named by
    its function and what it assigns (``job.decide: planned``) or its start, else the
    stage's own name. A stage does the narrow steps before it too."""
    action, _, where = name.partition(" at ")
    path, _, line = where.rpartition(":")
    if "/dedup/" not in path or not line.isdigit():
        return action
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    at, function, label = int(line), "", action
    for node in ast.walk(tree):
        if not hasattr(node, "end_lineno") or not node.lineno <= at <= (node.end_lineno or 0):
            continue
        if isinstance(node, ast.FunctionDef) and node.lineno >= 0:
            function = node.name  # the innermost, as walk goes down
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            label = ", ".join(ast.unparse(t) for t in targets)
        elif isinstance(node, ast.Expr | ast.Return):
            label = ast.unparse(node).split("(")[0]
    return f"{Path(path).stem}.{function}: {label}"


def _steps(stages: list[dict], size: int) -> str:  # type: ignore[type-arg]
    """The stages summed by step, in the order the steps first ran."""
    steps: dict[str, list[float]] = {}
    for stage in sorted(stages, key=lambda s: s["stageId"]):
        row = steps.setdefault(_step(stage["name"]), [0, 0.0, 0.0])
        row[0] += 1
        row[1] += stage["executorRunTime"] / 1000
        row[2] += stage["shuffleWriteBytes"]
    total = sum(row[1] for row in steps.values())
    rows = [
        f"| {step} | {n:.0f} | {seconds:.1f} | {seconds / total:.0%} | {written / size:,.0f} |"
        for step, (n, seconds, written) in steps.items()
    ]
    head = "| step | stages | executor s | share | shuffle written B / line |"
    return "\n".join([head, "|---|---:|---:|---:|---:|", *rows])


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
                f"| {stats['planned']:,} | {shuffled / size:,.0f} |"
            )
            notes.append(
                f"{size:,} lines, `local[2]`: the job's stages by the step of the code they "
                f"end at (executor time, summed over tasks; shuffle written), of "
                f"{len(last['stages'])} stages:\n\n" + _steps(last["stages"], size)
            )
    table = "\n".join(
        [
            "| lines | with words | removed | clean -j1: s | clean -j2: s | local[1]: s "
            "| local[2]: s | local[2] / clean -j2 | rounds | plans | shuffle B / line |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
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
        + "\n\nA stage runs the narrow steps before the shuffle or action it ends at: "
        "`decide: cuts` cuts the documents into paragraphs where they were read and sends "
        "them as written to their partitions, where `count` fingerprints them; `firsts` "
        "finds the first paragraph of each text; `_trimmed: found` sends each partition's "
        "keys to the keys' partitions, with how many texts post each there, `back` a bit a "
        "key (whether another text posts it), and `digests.count` trims the keys no other "
        "text posts and makes every paragraph's view; `exact` sends the "
        "digests (the first round) or the statuses that changed to the digests' "
        "partitions, `told` what a digest tells where that changed; `tables` sends the "
        "postings that do something (not those of a later copy of a text kept before) to "
        "their keys and sorts them there (the first round), `blocks` the pairs found in "
        "their buckets (the first round); `_verified: wanted` works out the plans "
        "(`_plans`) or the decisions (`_decided`) and asks for the earlier paragraphs of "
        "the pairs they miss, `sent` sends those paragraphs' texts; `_count` verifies the "
        "pairs; `changed` names the outcomes (`_settled`) and finds the statuses that "
        "changed; in a later round `changes` works out the views and sends the postings "
        "whose flags changed, `marks` the paragraphs whose pairs moved in a key partition "
        "and those pairs; `clean_jsonl: removed` cuts the documents. The time and bytes of "
        "every round are summed.\n"
    )
    print(body)
    if args.write:
        write_section("Spark (issue 14)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
