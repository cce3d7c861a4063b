"""Speed and memory of ``dedup`` against the anchors, measured side by side in one run.

    python -m benchmarks.speed                      # 10k and 100k paragraphs (~2 min)
    python -m benchmarks.speed --sizes 10000,100000,1000000 --write

a. signatures: dedup's batch path (one core, and a worker per core as ``--jobs`` runs it)
   against the loop datasketch users write (``MinHash()`` then ``update()`` per shingle),
   ``MinHash.bulk`` and ``update_batch``, all from text and doing the same work
   (normalize, tokenize, shingle, sign); the whole batch fingerprint the pipeline computes
   (which adds digests, LSH band keys, edge keys and token sketches) is listed beside them;
b. end to end: the ``dedup clean --split lines`` command (``--jobs 1`` and all cores, whose
   outputs must be byte-identical) on N paragraphs of the real scale corpus
   (``../shared/data/scale-paragraphs.txt.gz``, shuffled once with a fixed seed so that
   every N has the same mix; a synthetic corpus with injected copies when it is absent),
   next to ``awk '!seen[$0]++'`` and a Python set; and, for the largest N, the corpus's
   own first N paragraphs;
d. scaling from each size to the next; and the cold start of ``dedup clean`` on the seed
   article against ``python -c "import numpy"``.

Every target of issue 4 is printed with PASS or FAIL; ``--write`` puts the tables in the
speed section of RESULTS.md. Rates are paragraphs per second on this machine; targets are
ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
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

import numpy as np

import dedup
from benchmarks.results import write_section
from dedup.config import Config
from dedup.fingerprint import fingerprint_batch, sign_batch
from dedup.normalize import normalize, tokenize
from dedup.shingles import TokenHasher, shingle_hash
from dedup.stream import BATCH

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "scale-paragraphs.txt.gz"
SEED = ROOT / "fixtures" / "000_65b17c22fac51871.txt"
TIME = "/usr/bin/time"
ALL_CORES = "dedup clean --split lines (all cores)"
SIGNED_ONE = "dedup signatures (normalize, tokenize, shingle, sign in batches), one core"
SIGNED_ALL = f"dedup signatures, {os.cpu_count()} worker processes (as --jobs)"


@functools.lru_cache(maxsize=1)
def _real_corpus(in_order: bool) -> list[str]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as src:
        lines = src.read().splitlines()
    if not in_order:
        random.Random(1).shuffle(lines)
    return lines


def corpus(size: int, folder: Path, in_order: bool = False) -> Path:
    """``size`` paragraphs of the scale corpus, one a line: the first ones of the corpus
    shuffled once with a fixed seed, so that every size has the same mix of sources and
    sizes are nested (or, ``in_order``, the corpus's own first ones); a synthetic corpus
    when the data is absent."""
    path = folder / f"corpus-{size}{'-in-order' if in_order else ''}.txt"
    if CORPUS.exists():
        lines = _real_corpus(in_order)
        path.write_text("".join(line + "\n" for line in lines[:size]), encoding="utf-8")
        return path
    rng = random.Random(size)
    words = [f"w{n}" for n in range(5000)]
    lines: list[str] = []
    for _ in range(size):
        roll = rng.random()
        if lines and roll < 0.1:
            lines.append(rng.choice(lines))
        elif lines and roll < 0.2:
            copy = rng.choice(lines).split()
            del copy[rng.randrange(len(copy))]
            lines.append(" ".join(copy))
        else:
            lines.append(" ".join(rng.choices(words, k=rng.randint(8, 30))))
    path.write_text("\n".join(lines) + "\n")
    return path


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


def timed(command: list[str], stdout: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of ``command`` (its output to ``stdout``)."""
    with stdout.open("wb") as out:
        started = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M", *command], stdout=out, stderr=subprocess.PIPE, check=True
        )
        wall = time.perf_counter() - started
    return wall, int(done.stderr.decode().strip().splitlines()[-1]) * 1024


def end_to_end(path: Path, folder: Path) -> tuple[dict[str, tuple[float, int, int]], bool]:
    """(seconds, peak RSS, duplicates removed) for dedup (one and all cores), awk and a
    Python set; and whether dedup's output is the same with one and all cores."""
    lines = path.read_bytes().count(b"\n")
    out = folder / "out.txt"
    dedup_clean = [sys.executable, "-m", "dedup", "clean", "-q", "--split", "lines"]
    runs = {
        "dedup clean --split lines --jobs 1": [*dedup_clean, "--jobs", "1", str(path)],
        ALL_CORES: [*dedup_clean, str(path)],
        "awk '!seen[$0]++'": ["awk", "!seen[$0]++", str(path)],
        "python set (exact)": [
            sys.executable,
            "-c",
            "import sys\nseen=set()\nfor l in open(sys.argv[1], 'rb'):\n"
            " if l not in seen:\n  seen.add(l); sys.stdout.buffer.write(l)",
            str(path),
        ],
    }
    results = {}
    outputs = []
    for name, command in runs.items():
        wall, rss = timed(command, out)
        data = out.read_bytes()
        if name.startswith("dedup"):
            outputs.append(hashlib.sha256(data).digest())
        results[name] = (wall, rss, lines - data.count(b"\n"))
    return results, outputs[0] == outputs[1]


def cold_start() -> tuple[float, float]:
    """Median wall seconds of ``dedup clean`` on the seed article and of importing numpy."""

    def median(command: list[str]) -> float:
        runs = []
        for _ in range(7):
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    return (
        median([sys.executable, "-m", "dedup", "clean", "-q", str(SEED)]),
        median([sys.executable, "-c", "import numpy"]),
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes [10000,100000]")
    parser.add_argument(
        "--write", action="store_true", help="write the speed section of RESULTS.md"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if not Path(TIME).exists() or shutil.which("awk") is None:
        print(f"needs {TIME} (Debian package 'time') and awk", file=sys.stderr)
        return 2
    out: list[str] = [
        "## Speed and memory",
        "",
        f"Written by `python -m benchmarks.speed --sizes {args.sizes}` on "
        f"{time.strftime('%Y-%m-%d')}: dedup {dedup.__version__}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores "
        f"({platform.machine()}). Corpus: "
        + ("the real scale corpus." if CORPUS.exists() else "synthetic (data absent)."),
        "",
    ]
    targets: list[tuple[str, bool, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        biggest = corpus(max(sizes), folder)
        texts = biggest.read_text(encoding="utf-8").splitlines()[:100000]
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
            ("signatures ≥ 14x the loop, one core", one >= 14 * naive, f"{one / naive:.1f}x")
        )
        targets.append(
            ("signatures ≥ 25x the loop, both cores", both >= 25 * naive, f"{both / naive:.1f}x")
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

        out += [
            "",
            "### b, d. End to end, one index over the whole file",
            "",
            "| paragraphs | command | seconds | paragraphs/s | MB/s | peak RSS MB "
            "| duplicates removed |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        previous: tuple[int, float, int] | None = None
        for size in sizes:
            path = corpus(size, folder)
            megabytes = path.stat().st_size / 1e6
            results, same = end_to_end(path, folder)
            targets.append(
                (f"--jobs 1 and --jobs {os.cpu_count()} give the same output at {size:,}", same, "")
            )
            for name, (wall, rss, removed) in results.items():
                out.append(
                    f"| {size:,} | {name} | {wall:.2f} | {size / wall:,.0f} | "
                    f"{megabytes / wall:.1f} | {rss / 1e6:.0f} | {removed:,} |"
                )
            wall, rss, _ = results[ALL_CORES]
            if size >= 100000:
                targets.append(
                    (
                        f"≥ 40,000 paragraphs/s end to end at {size:,}",
                        size / wall >= 40000,
                        f"{size / wall:,.0f}/s",
                    )
                )
            # Peak RSS per paragraph, the input text excluded (as the issue counts it; the
            # input is streamed, so this is an upper bound).
            per = (rss - path.stat().st_size) / size
            if size >= 1000000:
                targets.append(
                    ("≤ 600 bytes of peak RSS per paragraph at 1M", per <= 600, f"{per:,.0f} B")
                )
            if previous:
                n0, t0, m0 = previous
                factor = size / n0
                targets.append(
                    (
                        f"time grows ≤ 1.1x linearly {n0:,} → {size:,}",
                        wall / t0 <= 1.1 * factor,
                        f"{wall / t0:.1f}x for {factor:.0f}x",
                    )
                )
                targets.append(
                    (
                        f"memory grows ≤ 1.1x linearly {n0:,} → {size:,}",
                        rss / m0 <= 1.1 * factor,
                        f"{rss / m0:.1f}x for {factor:.0f}x",
                    )
                )
            previous = (size, wall, rss)
        if CORPUS.exists():
            # The corpus in its own order: a run of near-copies (versions of the same
            # documentation) makes its 700,000th to 800,000th lines the costliest.
            size = max(sizes)
            path = corpus(size, folder, in_order=True)
            command = [sys.executable, "-m", "dedup", "clean", "-q", "--split", "lines", str(path)]
            wall, rss = timed(command, folder / "out.txt")
            removed = size - (folder / "out.txt").read_bytes().count(b"\n")
            out.append(
                f"| {size:,} (corpus order) | {ALL_CORES} | {wall:.2f} | {size / wall:,.0f} | "
                f"{path.stat().st_size / 1e6 / wall:.1f} | {rss / 1e6:.0f} | {removed:,} |"
            )

    dedup_cold, numpy_cold = cold_start()
    out += [
        "",
        "### Cold start",
        "",
        f"`dedup clean -q` on the seed article: {dedup_cold:.3f} s; "
        f'`python -c "import numpy"`: {numpy_cold:.3f} s; ratio {dedup_cold / numpy_cold:.2f}.',
    ]
    out += ["", "### Targets (issue 4)", "", "| target | result | measured |", "|---|---|---|"]
    out += [f"| {name} | {verdict(ok)} | {value} |" for name, ok, value in targets]
    text = "\n".join(out) + "\n"
    print(text)
    if args.write:
        write_section("speed", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
