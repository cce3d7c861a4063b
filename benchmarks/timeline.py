"""Where a ``dedup clean`` run's time goes with worker processes, timed inside: the
deciding process's steps and the workers' jobs, each start and end, then how they
overlap, by the millisecond (what the README's "timed inside" figures come from).

    python -m benchmarks.timeline FILE                  # --split lines --jobs 2 -q
    python -m benchmarks.timeline FILE --jobs 3 --split blank

The run is ``dedup clean`` in this process (its output thrown away), with a wall clock
around the functions below; the worker processes are forked from it and time their
jobs the same way, each into a file of its own. Printed: each step's total; the
deciding process busy or waiting for a worker, against how many workers were busy
(0, 1, 2, ...); and what it did while no worker was busy. A step's time includes the
interpreter lock waited for. The run timed leaves the command's start-up out: on 300k
shuffled lines 6.2 s where the whole command took 6.4 s untimed (three interleaved runs,
medians): the clocks cost less than the noise.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: What is timed: (module, owner, function, name). ``W:`` steps run in the workers.
STEPS = (
    ("dedup.deduplicator", None, "_fingerprint_batch", "W:fingerprints"),
    ("dedup.deduplicator", None, "_verify_sent", "W:verdicts"),
    ("dedup.deduplicator", "Deduplicator", "_decide", "deciding"),
    ("dedup.index.memory", "MemoryIndex", "query", "query"),
    ("dedup.index.memory", "MemoryIndex", "insert", "insert"),
    ("dedup.deduplicator", "Deduplicator", "_triage", "triage"),
    ("dedup.deduplicator", None, "batch_pairs", "inner pairs"),
    ("dedup.deduplicator", "Deduplicator", "_ahead", "sending pairs"),
    ("dedup.deduplicator", None, "_result", "waiting"),
)
MAIN_STEPS = ("query", "insert", "triage", "inner pairs", "sending pairs", "waiting")


def _timed(folder: Path, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            end = time.perf_counter()
            # One file a process (the workers are forked): appended line by line, as a
            # worker ends without flushing what it holds.
            with open(folder / f"{os.getpid()}.txt", "a", encoding="utf-8") as out:
                out.write(f"{name}\t{start:.6f}\t{end:.6f}\n")

    return timed


def run(argv: list[str], folder: Path) -> tuple[int, float, float]:
    """``dedup clean`` with ``argv``, its steps timed into ``folder``: this process's id
    and the run's start and end."""
    import importlib

    from dedup.cli import cli

    for module_name, owner, function, name in STEPS:
        module = importlib.import_module(module_name)
        holder = getattr(module, owner) if owner else module
        setattr(holder, function, _timed(folder, name, getattr(holder, function)))
    saved = os.dup(1)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 1)  # the cleaned text
        start = time.perf_counter()
        try:
            cli.main(["clean", *argv], prog_name="dedup", standalone_mode=False)
        finally:
            end = time.perf_counter()
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    return os.getpid(), start, end


def report(folder: Path, main: int, start: float, end: float) -> list[str]:
    """The steps' totals and overlaps, as lines."""
    events: dict[int, list[tuple[str, float, float]]] = {}
    for path in folder.glob("*.txt"):
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        events[int(path.stem)] = [(name, float(a), float(b)) for name, a, b in rows]
    bins = int((end - start) * 1000) + 1

    def busy(pid: int, names: set[str]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        mask = np.zeros(bins, dtype=bool)
        for name, a, b in events.get(pid, []):
            if name in names:
                mask[int((a - start) * 1000) : int((b - start) * 1000) + 1] = True
        return mask

    workers = [pid for pid in events if pid != main]
    jobs = {"W:fingerprints", "W:verdicts"}
    working = sum((busy(pid, jobs).astype(int) for pid in workers), np.zeros(bins, int))
    waiting = busy(main, {"waiting"})
    totals: Counter[str] = Counter()
    for pid_events in events.values():
        for name, a, b in pid_events:
            totals[name] += b - a
    lines = [f"run {end - start:.2f} s, {len(workers)} worker processes"]
    lines += [f"  {name:16} {seconds:8.2f} s" for name, seconds in sorted(totals.items())]
    counts = range(len(workers) + 1)
    lines.append("deciding process, ms, against workers busy " + "/".join(map(str, counts)))
    for label, mask in (("busy", ~waiting), ("waiting", waiting)):
        lines.append(
            f"  {label:16} " + " ".join(f"{int((mask & (working == k)).sum()):>7}" for k in counts)
        )
    lines.append("deciding process busy with no worker busy, ms:")
    idle = ~waiting & (working == 0)
    rest = idle & busy(main, {"deciding"})
    for name in MAIN_STEPS[:-1]:
        step = busy(main, {name})
        lines.append(f"  {name:16} {int((idle & step).sum()):>7}")
        rest &= ~step
    lines.append(f"  {'deciding, other':16} {int(rest.sum()):>7}  (the loop, the sketches' triage)")
    outside = idle & ~busy(main, {"deciding"})
    lines.append(f"  {'not deciding':16} {int(outside.sum()):>7}  (reading, cutting, writing)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--split", default="lines")
    args, more = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        pid, start, end = run(
            ["-q", "--jobs", args.jobs, "--split", args.split, *more, args.file], Path(folder)
        )
        print("\n".join(report(Path(folder), pid, start, end)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
