"""Two checkouts of dedup side by side: ``dedup clean --split lines -q --jobs 1`` on the
same files, interleaved, median wall time, CPU time (user and system, all processes: less
shaken by other load than the wall time) and peak RSS of each (issue 12: the rules may
cost at most 10% of speed and memory), and whether the two cleaned the files alike (issue
13: a change for speed keeps every output byte for byte).

    git worktree add /tmp/before <commit>
    python -m benchmarks.versus /tmp/before . FILE... [--rounds 3] [--jobs 2]

With ``--jobs 2`` the peak RSS is the largest process's (``/usr/bin/time``), not the sum.

Each run is a whole process that imports the checkout given (the installed one is set
aside), measured with ``/usr/bin/time``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = """
import sys
root = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, root)
import dedup
assert dedup.__file__.startswith(root), dedup.__file__
from dedup.cli import cli
sys.argv[0] = "dedup"
cli()
"""


def _once(root: Path, path: Path, out: Path, jobs: int) -> tuple[float, int, float]:
    command = ["/usr/bin/time", "-f", "%e %M %U %S", sys.executable, "-c", RUN, str(root)]
    command += ["clean", "--split", "lines", "-q", "--jobs", str(jobs), "-o", str(out), str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    *errors, measured = done.stderr.strip().splitlines()
    if done.returncode != 0:  # /usr/bin/time reports a failed run too: it must not count
        raise SystemExit(f"{root}: dedup failed on {path}:\n" + "\n".join(errors[-5:]))
    seconds, kilobytes, user, system = measured.split()
    return float(seconds), int(kilobytes) * 1024, float(user) + float(system)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    roots = {"before": args.before.resolve(), "after": args.after.resolve()}
    runs: dict[tuple[str, Path], list[tuple[float, int, float]]] = {}
    alike: dict[Path, bool] = {}
    with tempfile.TemporaryDirectory() as scratch:  # the outputs, thrown away
        for _ in range(args.rounds):
            for name, root in roots.items():
                for n, path in enumerate(args.files):
                    out = Path(scratch) / f"{name}-{n}.txt"
                    runs.setdefault((name, path), []).append(_once(root, path, out, args.jobs))
        for n, path in enumerate(args.files):
            outputs = (Path(scratch) / f"{name}-{n}.txt" for name in roots)
            alike[path] = next(outputs).read_bytes() == next(outputs).read_bytes()
    print(f"`--jobs {args.jobs}`, median of {args.rounds} interleaved runs each")
    print()
    print(
        "| file | before: s | after: s | time | CPU time | before: MB | after: MB | memory "
        "| output |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for path in args.files:
        before, after = runs[("before", path)], runs[("after", path)]
        t0, t1 = (statistics.median(r[0] for r in x) for x in (before, after))
        m0, m1 = (statistics.median(r[1] for r in x) / 1e6 for x in (before, after))
        c0, c1 = (statistics.median(r[2] for r in x) for x in (before, after))
        print(
            f"| {path.name} | {t0:.1f} | {t1:.1f} | {t1 / t0 - 1:+.0%} | {c1 / c0 - 1:+.0%} "
            f"| {m0:.0f} | {m1:.0f} "
            f"| {m1 / m0 - 1:+.0%} | {'identical' if alike[path] else 'DIFFERS'} |"
        )
    return 0 if all(alike.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
