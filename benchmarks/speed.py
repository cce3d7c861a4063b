"""Speed and memory of ``dedup`` against the anchors and its peers, measured side by side
in one run.

    python -m benchmarks.speed                      # issue 13's run (~22 min here)
    python -m benchmarks.speed --sizes 3000,10000 --rounds 1    # a quick look
    python -m benchmarks.speed --write              # into the speed section of RESULTS.md

a. signatures: dedup's batch path (one core, and a worker per core as ``--jobs`` runs it)
   against the loop datasketch users write (``MinHash()`` then ``update()`` per shingle),
   ``MinHash.bulk`` and ``update_batch``, all from text and doing the same work
   (normalize, tokenize, shingle, sign); the whole batch fingerprint the pipeline computes
   (which adds digests, LSH band keys, edge keys and token sketches) is listed beside them;
b. end to end, whole processes, interleaved, the median of ``--rounds`` runs each (three
   times as many at the smallest size, whose runs take seconds), on two corpora:
   *shuffled*, the real scale corpus (``../shared/data/scale-paragraphs.txt.gz``) shuffled
   once with a fixed seed, so that every size has the same mix (64% of its lines repeat an
   earlier one exactly: a digest settles them); *distinct*, its first million lines with
   exact repeats dropped (first occurrence kept), where every line has to be compared.
   Rows: ``dedup clean --split lines`` with one and all cores (every run's output must be
   the same), rensa's ``RMinHashDeduplicator`` and a datasketch ``MinHashLSH`` script
   (``benchmarks/peers.py``, the ``bench`` extra), and ``awk '!seen[$0]++'``; on the
   largest files, dedup's output and report with close calls (``--report --explain``, all
   cores), and the timed ``-q`` runs' output, against the reference
   (``benchmarks/reference.json``, recorded with ``--record-reference``): what main wrote
   when issue 13 began, recorded again only when a quality rule of issue 12 changed
   decisions on purpose (last: session 18's rules, 4358eac); and, at the smallest size,
   what two processes gain on this machine at most (two ``--jobs 1`` runs on the file's
   halves at once against one after the other): the bound for ``--jobs``
   (:func:`ceiling`);
c. LSH candidates against brute-force Jaccard on a sample;
d. scaling, and the cold start of ``dedup clean`` on the seed article against
   ``python -c "import numpy"``;
e. a corpus of short documents (JSONL records of 50 lines of the shuffled corpus, the
   smallest size), cleaned as one corpus (``--jsonl --scope corpus``) with one and all
   cores, interleaved: what scraped pages look like, decided many documents to a batch
   (informational; every run's output must be the same).

Every target of issue 13 (and issue 4's signature targets) is printed with PASS or FAIL.
Rates are lines (paragraphs) per second on this machine; targets are ratios measured in the
same run. A synthetic corpus stands in when the data is absent.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import gzip
import hashlib
import importlib.util
import json
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

import dedup
from benchmarks.results import write_section
from dedup.config import Config
from dedup.files import write_atomic
from dedup.fingerprint import fingerprint_batch, sign_batch
from dedup.normalize import normalize, tokenize
from dedup.shingles import TokenHasher, shingle_hash
from dedup.stream import BATCH

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "scale-paragraphs.txt.gz"
SEED = ROOT / "fixtures" / "000_65b17c22fac51871.txt"
TIME = "/usr/bin/time"
LARGEST = 1_000_000
CORPORA = ("shuffled", "distinct")
REFERENCE = ROOT / "benchmarks" / "reference.json"
DEDUP_ONE = "dedup clean --split lines --jobs 1"
DEDUP_ALL = f"dedup clean --split lines --jobs {os.cpu_count() or 1}"
PEERS = {
    "rensa": "rensa 0.5 RMinHashDeduplicator (Rust)",
    "datasketch": "datasketch MinHash.bulk + MinHashLSH",
}
AWK = "awk '!seen[$0]++'"
#: Lines a document of the short-document corpus (:func:`documents`).
DOCUMENT = 50
#: ``dedup clean`` as every end-to-end row runs it (``--jobs`` and the file follow).
CLEAN_LINES = [sys.executable, "-m", "dedup", "clean", "-q", "--split", "lines"]
SIGNED_ONE = "dedup signatures (normalize, tokenize, shingle, sign in batches), one core"
SIGNED_ALL = f"dedup signatures, {os.cpu_count()} worker processes (as --jobs)"


@functools.lru_cache(maxsize=1)
def _shuffled() -> list[str]:
    """The scale corpus shuffled once with a fixed seed (or a synthetic corpus with
    injected copies when the data is absent)."""
    if CORPUS.exists():
        with gzip.open(CORPUS, "rt", encoding="utf-8") as src:
            lines = src.read().splitlines()
        random.Random(1).shuffle(lines)
        return lines
    rng = random.Random(1)
    words = [f"w{n}" for n in range(5000)]
    lines = []
    for _ in range(LARGEST):
        roll = rng.random()
        if lines and roll < 0.1:
            lines.append(rng.choice(lines))
        elif lines and roll < 0.2:
            copy = rng.choice(lines).split()
            del copy[rng.randrange(len(copy))]
            lines.append(" ".join(copy))
        else:
            lines.append(" ".join(rng.choices(words, k=rng.randint(8, 30))))
    return lines


@functools.lru_cache(maxsize=1)
def _distinct() -> list[str]:
    """The first million lines of the shuffled corpus without exact repeats (the first
    occurrence kept): text a digest cannot settle (403,274 lines of the real corpus)."""
    return list(dict.fromkeys(_shuffled()[:LARGEST]))


def corpus(size: int, folder: Path, kind: str = "shuffled") -> Path:
    """The first ``size`` lines (at most all) of corpus ``kind``, ``shuffled`` or
    ``distinct``, as a file in ``folder`` named after them: sizes are nested, and every size
    has the same mix of sources."""
    lines = (_shuffled() if kind == "shuffled" else _distinct())[:size]
    path = folder / f"{kind}-{len(lines)}.txt"
    if not path.exists():
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def documents(size: int, folder: Path) -> Path:
    """The first ``size`` lines of the shuffled corpus as JSONL, ``DOCUMENT`` lines each."""
    lines = _shuffled()[:size]
    path = folder / f"docs-{len(lines)}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for at in range(0, len(lines), DOCUMENT):
            text = "\n".join(lines[at : at + DOCUMENT])
            out.write(json.dumps({"id": f"d{at // DOCUMENT}", "text": text}) + "\n")
    return path


def short_documents(path: Path, folder: Path, rounds: int) -> tuple[dict[int, float], bool]:
    """Median seconds of ``dedup clean --jsonl --scope corpus -q`` on ``path`` with one
    core and with all, the runs interleaved, and whether every run wrote the same."""
    walls: dict[int, list[float]] = {1: [], os.cpu_count() or 1: []}
    digests: set[str] = set()
    out = folder / "out.jsonl"
    for _ in range(rounds):
        for jobs, measured in walls.items():
            command = [sys.executable, "-m", "dedup", "clean", "--jsonl", "--scope", "corpus"]
            wall, _ = timed([*command, "-q", "--jobs", str(jobs), path.name], out, folder)
            measured.append(wall)
            digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    medians = {jobs: statistics.median(measured) for jobs, measured in walls.items()}
    return medians, len(digests) == 1


def rate(count: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def signature_rates(texts: list[str]) -> dict[str, float]:
    """Paragraphs per second for each way of signing, from text, on one core."""
    from datasketch import MinHash

    def shingles(text: str) -> list[tuple[str, ...]]:
        tokens = tokenize(normalize(text))
        return [tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)]

    small = texts[:5000]
    config = Config()

    def naive() -> None:
        for text in small:
            m = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)
            for shingle in shingles(text):
                m.update(shingle)

    def batch() -> None:
        for text in small:
            MinHash(num_perm=128, seed=1, hashfunc=shingle_hash).update_batch(shingles(text))

    def bulk() -> None:
        MinHash.bulk(
            [shingles(text) for text in texts[:20000]], num_perm=128, seed=1, hashfunc=shingle_hash
        )

    batches = [texts[start : start + BATCH] for start in range(0, len(texts), BATCH)]

    def ours() -> None:
        hasher = TokenHasher()
        for chunk in batches:
            sign_batch(chunk, config, hasher)

    def ours_pool() -> None:
        workers = os.cpu_count() or 1
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for _ in pool.map(_sign, batches, [config] * len(batches)):
                pass

    def whole() -> None:
        hasher = TokenHasher()
        for chunk in batches:
            fingerprint_batch(chunk, config, hasher)

    return {
        "datasketch loop: MinHash() + update() per shingle": rate(len(small), naive),
        "datasketch update_batch()": rate(len(small), batch),
        "datasketch MinHash.bulk()": rate(min(len(texts), 20000), bulk),
        SIGNED_ONE: rate(len(texts), ours),
        SIGNED_ALL: rate(len(texts), ours_pool),
        "dedup whole batch fingerprint (signatures + digests, band keys, edge keys, token "
        "sketches), one core": rate(len(texts), whole),
    }


_WORKER_HASHER = TokenHasher()


def _sign(texts: list[str], config: Config) -> int:
    """Sign ``texts`` in a worker process (its token cache kept, as ``--jobs`` keeps it)."""
    return len(sign_batch(texts, config, _WORKER_HASHER).signatures)


def lsh_quality(texts: list[str]) -> list[tuple[str, float, float, int]]:
    """LSH candidates against brute-force Jaccard on the same shingle sets.

    For each setting: recall (pairs at or above the LSH threshold that share a band) and
    precision (candidate pairs that are at or above it), and the number of true pairs.
    """
    from collections import Counter
    from itertools import combinations

    from dedup.lsh import band_keys, lsh_params
    from dedup.minhash import signatures
    from dedup.shingles import shingle_set

    sets = [shingle_set(tokenize(normalize(t)), 3) for t in texts]
    sets = [s for s in sets if s.size >= 6]
    postings: dict[int, list[int]] = {}
    for i, s in enumerate(sets):
        for h in s.tolist():
            postings.setdefault(h, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for ids in postings.values():
        shared.update(combinations(ids, 2))
    jaccard = {
        pair: n / (sets[pair[0]].size + sets[pair[1]].size - n) for pair, n in shared.items()
    }
    out = []
    for threshold, num_perm in ((0.5, 128), (0.8, 128), (0.5, 64), (0.5, 256)):
        bands, rows = lsh_params(threshold, num_perm)
        keys = band_keys(signatures(sets, num_perm, 1), bands, rows)
        buckets: dict[int, list[int]] = {}
        for i, row in enumerate(keys.tolist()):
            for key in row:
                buckets.setdefault(key, []).append(i)
        candidates = {pair for ids in buckets.values() for pair in combinations(ids, 2)}
        true = {pair for pair, j in jaccard.items() if j >= threshold}
        recall = len(true & candidates) / len(true) if true else 1.0
        precision = len(true & candidates) / len(candidates) if candidates else 1.0
        name = f"threshold {threshold}, {num_perm} permutations ({bands} bands x {rows} rows)"
        out.append((name, recall, precision, len(true)))
    return out


def _env() -> dict[str, str]:
    """The environment of a timed command: this checkout's ``dedup`` first."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def timed(command: list[str], stdout: Path, cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of ``command`` run in ``cwd`` (its output to
    ``stdout``)."""
    with stdout.open("wb") as out:
        started = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M", *command],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
            cwd=cwd,
            env=_env(),
        )
        wall = time.perf_counter() - started
    errors = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n" + "\n".join(errors[-8:]))
    return wall, int(errors[-1]) * 1024


def peers() -> list[str]:
    """The peers installed (the ``bench`` extra installs both)."""
    return [name for name in PEERS if importlib.util.find_spec(name) is not None]


def commands(path: Path, cores: int, with_peers: list[str]) -> dict[str, list[str]]:
    """What is timed on a corpus: ``dedup clean`` with one and all cores, the peers that
    are installed, awk."""
    runs = {
        DEDUP_ONE: [*CLEAN_LINES, "--jobs", "1", path.name],
        DEDUP_ALL: [*CLEAN_LINES, "--jobs", str(cores), path.name],
    }
    for name in with_peers:
        runs[PEERS[name]] = [sys.executable, "-m", "benchmarks.peers", name, path.name]
    runs[AWK] = ["awk", "!seen[$0]++", path.name]
    return runs


class Measured(NamedTuple):
    wall: float
    rss: int
    removed: int


#: How many times as many rounds the smallest files get (see :func:`end_to_end`).
SMALL_ROUNDS = 3


def end_to_end(
    paths: list[Path], folder: Path, rounds: int, with_peers: list[str], slow_upto: int
) -> tuple[dict[tuple[str, str], Measured], list[str], dict[str, str]]:
    """Median (seconds, peak RSS, lines removed) of each command on each corpus file,
    the runs interleaved: every round runs every command once, in turn, so that a slow
    spell of the shared machine hits them alike. A peer slower than the others
    (datasketch) runs only on files of at most ``slow_upto`` lines, where the others
    run ``SMALL_ROUNDS`` times as many rounds (a few seconds a run: the machine's noise
    moves one run most, and the time from the smallest size to the largest is a target).
    Also the problems found: dedup's outputs must be the same for every ``--jobs`` and
    every run; and that output's sha256, by file (what ``-q`` alone writes: nobody reads
    what a removal repeats, and the search for it is cut short)."""
    cores = os.cpu_count() or 1
    runs: dict[tuple[str, str], list[Measured]] = {}
    digests: dict[str, set[str]] = {}
    out = folder / "out.txt"
    for turn in range(rounds * SMALL_ROUNDS):
        for path in paths:
            lines = path.read_bytes().count(b"\n")
            if lines > slow_upto and turn >= rounds:
                continue
            for name, command in commands(path, cores, with_peers).items():
                if name == PEERS["datasketch"] and (lines > slow_upto or turn >= rounds):
                    continue
                wall, rss = timed(command, out, folder)
                data = out.read_bytes()
                if name.startswith("dedup"):
                    digests.setdefault(path.name, set()).add(hashlib.sha256(data).hexdigest())
                runs.setdefault((path.name, name), []).append(
                    Measured(wall, rss, lines - data.count(b"\n"))
                )
    problems = [
        f"{name}: dedup's output differs between runs or --jobs"
        for name, found in digests.items()
        if len(found) > 1
    ]
    medians = {
        key: Measured(
            statistics.median(m.wall for m in measured),
            int(statistics.median(m.rss for m in measured)),
            measured[0].removed,
        )
        for key, measured in runs.items()
    }
    outputs = {name: min(found) for name, found in digests.items()}
    return medians, problems, outputs


def ceiling(paths: list[Path], folder: Path, rounds: int) -> dict[str, float]:
    """How much faster this machine runs two busy processes at once than one after the
    other, by corpus file: two ``dedup clean --jobs 1`` on the two halves of the file,
    together against in turn (medians of ``rounds`` interleaved runs each). Nothing is
    shared between them, so it bounds what ``--jobs`` can gain here: two vCPUs of a shared
    host, or two cores whose cache and memory bandwidth the processes share, give less
    than 2x."""
    out: dict[str, float] = {}
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        halves = [folder / f"half{k}-{path.name}" for k in (1, 2)]
        middle = len(lines) // 2
        for half, part in zip(halves, (lines[:middle], lines[middle:]), strict=True):
            half.write_text("".join(part), encoding="utf-8")
        runs = [[*CLEAN_LINES, "--jobs", "1", h.name, "-o", f"{h.name}.out"] for h in halves]
        env = _env()
        apart, together = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            for run in runs:
                subprocess.run(run, cwd=folder, env=env, check=True)
            apart.append(time.perf_counter() - started)
            started = time.perf_counter()
            running = [subprocess.Popen(run, cwd=folder, env=env) for run in runs]
            if any([process.wait() != 0 for process in running]):  # both waited for
                raise SystemExit(f"{' '.join(runs[0])} failed")
            together.append(time.perf_counter() - started)
        out[path.name] = statistics.median(apart) / statistics.median(together)
        for half in halves:
            half.unlink()
            (folder / f"{half.name}.out").unlink()
    return out


def written(path: Path, jobs: int) -> dict[str, str]:
    """The sha256 of what ``dedup clean --jobs JOBS`` writes for ``path`` (run in its
    folder): the cleaned text, and the report with close calls (``--report --explain``)."""
    folder = path.parent
    command = [*CLEAN_LINES, "--jobs", str(jobs), "--explain", "--report", "report.json", path.name]
    timed(command, folder / "out.txt", folder)
    return {
        name: hashlib.sha256((folder / file).read_bytes()).hexdigest()
        for name, file in (("output", "out.txt"), ("report", "report.json"))
    }


def same_as_reference(path: Path, quiet: str | None = None) -> tuple[bool | None, str]:
    """Whether ``dedup clean`` with all cores writes what the code on main wrote when issue
    13 began, byte for byte (``REFERENCE``; None when it holds nothing for this file), with
    a report and close calls; and, when given, whether ``quiet`` (the sha256 of what the
    timed ``-q`` runs wrote) is that output too. With one core it writes the same output:
    :func:`end_to_end` checks that every run agrees."""
    expected = json.loads(REFERENCE.read_text(encoding="utf-8")).get(path.name)
    if expected is None:
        return None, "no reference for this file"
    jobs = os.cpu_count() or 1
    wrong = [
        f"{name} with --jobs {jobs}"
        for name, digest in written(path, jobs).items()
        if digest != expected[name]
    ]
    if quiet is not None and quiet != expected["output"]:
        wrong.append("output of the timed runs (-q)")
    return not wrong, ", ".join(wrong) or "output and report identical (and the -q runs' output)"


def reference(paths: list[Path]) -> None:
    """Record what the code checked out writes for ``paths`` as the reference."""
    known = json.loads(REFERENCE.read_text(encoding="utf-8")) if REFERENCE.exists() else {}
    for path in paths:
        known[path.name] = written(path, 1)
    # Whole or not at all: a run killed here leaves the reference it had.
    write_atomic(REFERENCE, (json.dumps(known, indent=1, sort_keys=True) + "\n").encode())


def cold_start() -> tuple[float, float]:
    """Median wall seconds of ``dedup clean`` on the seed article and of importing numpy.

    dedup's bytecode is compiled first, as ``pip install`` leaves it (an editable install
    under ``PYTHONDONTWRITEBYTECODE``, as on CI machines, would otherwise compile every
    module from source at each start, which no installed copy does).
    """
    compileall.compile_dir(Path(dedup.__file__).parent, quiet=1)
    commands = (
        [sys.executable, "-m", "dedup", "clean", "-q", str(SEED)],
        [sys.executable, "-c", "import numpy"],
    )
    runs: tuple[list[float], list[float]] = ([], [])
    for _ in range(11):  # interleaved: the machine's load changes under both alike
        for command, times in zip(commands, runs, strict=True):
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - started)
    return statistics.median(runs[0]), statistics.median(runs[1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="corpus sizes [100000,1000000]")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command [3]")
    parser.add_argument(
        "--write", action="store_true", help="write the speed section of RESULTS.md"
    )
    parser.add_argument(
        "--record-reference",
        action="store_true",
        help="record what this checkout writes on the largest corpora as the reference "
        "later code must write byte for byte (when issue 13 began, and again only when a "
        "quality rule changes decisions on purpose), and stop",
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if not Path(TIME).exists() or shutil.which("awk") is None:
        print(f"needs {TIME} (Debian package 'time') and awk", file=sys.stderr)
        return 2
    with_peers = peers()
    cores = os.cpu_count() or 1
    out: list[str] = [
        "## Speed and memory",
        "",
        f"Written by `python -m benchmarks.speed --sizes {args.sizes} --rounds {args.rounds}` "
        f"on {time.strftime('%Y-%m-%d')}: dedup {dedup.__version__}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, {cores} cores "
        f"({platform.machine()}). Corpus: "
        + ("the real scale corpus." if CORPUS.exists() else "synthetic (data absent)."),
        "",
    ]
    targets: list[tuple[str, bool, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        largest = [corpus(max(sizes), folder, kind) for kind in CORPORA]
        if args.record_reference:
            reference(largest)
            print(f"recorded {', '.join(p.name for p in largest)} in {REFERENCE}")
            return 0
        texts = largest[0].read_text(encoding="utf-8").splitlines()[:100000]
        rates = signature_rates(texts)
        naive = next(iter(rates.values()))
        out += [
            f"### a. Signatures from text ({len(texts):,} paragraphs; slow paths on a sample)",
            "",
            "| path | paragraphs/s | x the loop |",
            "|---|---:|---:|",
        ]
        out += [f"| {name} | {r:,.0f} | {r / naive:.1f} |" for name, r in rates.items()]
        one, both = rates[SIGNED_ONE], rates[SIGNED_ALL]
        targets.append(
            (
                "signatures ≥ 14x the loop, one core (issue 4)",
                one >= 14 * naive,
                f"{one / naive:.1f}x",
            )
        )
        targets.append(
            (
                "signatures ≥ 25x the loop, both cores (issue 4)",
                both >= 25 * naive,
                f"{both / naive:.1f}x",
            )
        )

        sample = texts[:5000]
        out += [
            "",
            f"### c. LSH against brute-force Jaccard ({len(sample):,}-paragraph sample)",
            "",
            "Pairs of paragraphs with at least 6 shingles; a pair is true when its exact "
            "Jaccard reaches the threshold, a candidate when it shares a band.",
            "",
            "| setting | recall | precision | true pairs |",
            "|---|---:|---:|---:|",
        ]
        out += [
            f"| {name} | {recall:.3f} | {precision:.3f} | {n:,} |"
            for name, recall, precision, n in lsh_quality(sample)
        ]

        paths = list(
            dict.fromkeys(corpus(size, folder, kind) for kind in CORPORA for size in sizes)
        )
        slow_upto = min(sizes)
        medians, problems, outputs = end_to_end(paths, folder, args.rounds, with_peers, slow_upto)
        out += [
            "",
            "### b. End to end, one index over the whole file",
            "",
            f"Whole processes, median of {args.rounds} interleaved runs each "
            f"({args.rounds * SMALL_ROUNDS} at {slow_upto:,} lines but the datasketch "
            "script's: runs of a few seconds, which the machine's noise moves most). "
            "*shuffled*: the "
            "scale corpus shuffled once (64% of its lines repeat an earlier one exactly); "
            "*distinct*: its first million lines without exact repeats (the first occurrence "
            "kept), text a digest cannot settle. Peak RSS per line counts the input file out. "
            f"{PEERS['datasketch']} runs at the smallest size only (it is the slowest row)."
            + (
                ""
                if len(with_peers) == len(PEERS)
                else f' Not installed (`pip install -e ".[bench]"`): '
                f"{', '.join(sorted(set(PEERS) - set(with_peers)))}."
            ),
            "",
            "| corpus | lines | command | seconds | lines/s | peak RSS MB | RSS B/line | removed |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for path in paths:
            kind, lines = path.stem.rsplit("-", 1)
            size = int(lines)
            for (name_of, command), m in medians.items():
                if name_of != path.name:
                    continue
                per = (m.rss - path.stat().st_size) / size
                out.append(
                    f"| {kind} | {size:,} | {command} | {m.wall:.2f} | {size / m.wall:,.0f} | "
                    f"{m.rss / 1e6:.0f} | {per:,.0f} | {m.removed:,} |"
                )
        smallest = [path for path in paths if int(path.stem.rsplit("-", 1)[1]) == min(sizes)]
        bounds = ceiling(smallest, folder, args.rounds)
        out += [
            "",
            "Two busy processes at once on this machine (two `--jobs 1` runs on the halves "
            "of the file, nothing shared, together against one after the other; median of "
            f"{args.rounds} interleaved): "
            + "; ".join(
                f"{path.stem.rsplit('-', 1)[0]}, {int(path.stem.rsplit('-', 1)[1]):,} lines: "
                f"{bounds[path.name]:.2f}x, where `--jobs {cores}` gains "
                f"{medians[path.name, DEDUP_ONE].wall / medians[path.name, DEDUP_ALL].wall:.2f}x"
                for path in smallest
            )
            + ". No `--jobs` gains more here than the first figure.",
        ]
        short = documents(min(sizes), folder)
        records = short.read_bytes().count(b"\n")
        walls, same = short_documents(short, folder, args.rounds)
        out += [
            "",
            "### e. Short documents, one corpus",
            "",
            f"{records:,} JSONL records of {DOCUMENT} lines of the shuffled corpus "
            f"({min(sizes):,} lines), `dedup clean --jsonl --scope corpus -q`: median of "
            f"{args.rounds} interleaved runs each.",
            "",
            "| command | seconds | lines/s |",
            "|---|---:|---:|",
        ]
        out += [
            f"| `--jobs {jobs}` | {wall:.2f} | {min(sizes) / wall:,.0f} |"
            for jobs, wall in walls.items()
        ]
        if len(walls) > 1:
            gain = walls[1] / walls[cores]
            out += ["", f"`--jobs {cores}` gains {gain:.2f}x over `--jobs 1` here."]
        if not same:
            problems.append(f"{short.name}: dedup's output differs between runs or --jobs")
        targets += [(problem, False, "") for problem in problems]
        targets += _targets(paths, medians, with_peers)
        for path in largest:
            same, said = same_as_reference(path, outputs.get(path.name))
            if same is not None:
                targets.append(
                    (f"{path.name}: the same output and report as the reference", same, said)
                )

    dedup_cold, numpy_cold = cold_start()
    out += [
        "",
        "### Cold start",
        "",
        f"`dedup clean -q` on the seed article: {dedup_cold:.3f} s; "
        f'`python -c "import numpy"`: {numpy_cold:.3f} s; ratio {dedup_cold / numpy_cold:.2f}.',
    ]
    targets.append(
        (
            "cold start ≤ 1.6x `import numpy`",
            dedup_cold <= 1.6 * numpy_cold,
            f"{dedup_cold / numpy_cold:.2f}x",
        )
    )
    if not problems:
        targets.insert(0, ("dedup's output the same for every --jobs and run", True, ""))
    out += ["", "### Targets", "", "| target | result | measured |", "|---|---|---|"]
    out += [f"| {name} | {verdict(ok)} | {value} |" for name, ok, value in targets]
    text = "\n".join(out) + "\n"
    print(text)
    if args.write:
        write_section("speed", text)
    return 0


def _targets(
    paths: list[Path], medians: dict[tuple[str, str], Measured], with_peers: list[str]
) -> list[tuple[str, bool, str]]:
    """Issue 13's targets (and issue 4's end-to-end ones), from the medians."""
    out: list[tuple[str, bool, str]] = []
    by_kind: dict[str, list[Path]] = {}
    for path in paths:
        by_kind.setdefault(path.stem.rsplit("-", 1)[0], []).append(path)

    def rate(path: Path, command: str) -> float:
        return int(path.stem.rsplit("-", 1)[1]) / medians[path.name, command].wall

    for kind, files in by_kind.items():
        big = files[-1]
        lines = int(big.stem.rsplit("-", 1)[1])
        ours = rate(big, DEDUP_ALL)
        if "rensa" in with_peers:
            theirs = rate(big, PEERS["rensa"])
            want = 1.5 if kind == "shuffled" else 1.0
            out.append(
                (
                    f"{kind}, {lines:,} lines, {DEDUP_ALL} ≥ {want}x rensa",
                    ours >= want * theirs,
                    f"{ours:,.0f}/s against {theirs:,.0f}/s: {ours / theirs:.2f}x",
                )
            )
        else:
            out.append((f"{kind}: rensa to compare with", False, "rensa not installed"))
        gain = ours / rate(big, DEDUP_ONE)
        out.append(
            (
                f"{kind}, {lines:,} lines: {DEDUP_ALL} ≥ 1.6x --jobs 1",
                gain >= 1.6,
                f"{gain:.2f}x",
            )
        )
        rss = medians[big.name, DEDUP_ALL].rss
        per = (rss - big.stat().st_size) / lines
        if lines >= 400000:
            limit = 400 if kind == "shuffled" else 800
            out.append(
                (
                    f"{kind}, {lines:,} lines: peak RSS ≤ {limit} B a line",
                    per <= limit,
                    f"{per:,.0f} B",
                )
            )
        if len(files) > 1 and kind == "shuffled":
            small = files[0]
            factor = lines / int(small.stem.rsplit("-", 1)[1])
            grown = medians[big.name, DEDUP_ALL].wall / medians[small.name, DEDUP_ALL].wall
            out.append(
                (
                    f"{kind}: time grows ≤ {1.05 * factor:.1f}x for {factor:.0f}x the lines",
                    grown <= 1.05 * factor,
                    f"{grown:.1f}x",
                )
            )
    return out


if __name__ == "__main__":
    sys.exit(main())
