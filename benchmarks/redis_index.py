"""Issue 11's targets for the index shared through Redis, against datasketch's
``MinHashLSH`` with Redis storage on the same paragraphs and the same server.

    python -m benchmarks.redis_index                # 100,000 paragraphs
    python -m benchmarks.redis_index --write        # and write the table to RESULTS.md

Starts a redis-server on a free loopback port (``redis-server`` must be installed), cuts
the first SIZE lines of the scale corpus into pages of 100 lines (as a crawl delivers
them), and measures: one worker cleaning every page against the shared index and
committing after each (paragraphs/s end to end); Redis's ``used_memory`` before and after,
per paragraph indexed; four worker processes sharing a fresh namespace, each taking every
fourth page (paragraphs/s together, and how many fewer repeats they removed than one
worker: the documented race, a paragraph two workers meet at once is kept by both); and
datasketch's ``MinHashLSH`` with Redis storage (``insertion_session`` inserts, one query a
paragraph) on a sample, for its query rate.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import redis_server
from benchmarks.results import write_section

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCALE = DATA / "scale-paragraphs.txt.gz"
PAGE = 100
SAMPLE = 3000  # datasketch's paragraphs (it is slow)
ROUNDS = 3

WORKER = """
import json, sys, time
import dedup
pages = json.load(open(sys.argv[1]))
removed = paragraphs = 0
start = time.time()  # after the imports: a crawl's workers run for hours
with dedup.Deduplicator(split="lines", index=sys.argv[2]) as d:
    for n, (name, text) in enumerate(pages):
        if n % int(sys.argv[4]) != int(sys.argv[3]):
            continue
        result = d.clean(text, name)
        d.commit()
        paragraphs += len(result.paragraphs)
        removed += len(result.removed)
print(json.dumps([paragraphs, removed, start, time.time()]))
"""


def _workers(pages: Path, url: str, count: int) -> tuple[int, int, float]:
    """Paragraphs and removals of ``count`` workers, and the seconds from the first one's
    start of work (its imports done) to the last one's end."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(pages), url, str(k), str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(count)
    ]
    results = [json.loads(run.communicate()[0]) for run in runs]
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    return sum(r[0] for r in results), sum(r[1] for r in results), wall


def _datasketch(port: int, lines: list[str]) -> tuple[float, float]:
    """Inserts/s in an insertion session and queries/s, on ``lines``."""
    from datasketch import MinHash, MinHashLSH

    from dedup.normalize import normalize, tokenize

    hashes = []
    for line in lines:
        tokens = tokenize(normalize(line))
        shingles = {" ".join(tokens[i : i + 3]).encode() for i in range(max(1, len(tokens) - 2))}
        hashes.append(MinHash.bulk([list(shingles)], num_perm=128)[0])
    storage = {
        "type": "redis",
        "basename": b"datasketch-bench",
        "redis": {"host": "127.0.0.1", "port": port},
    }
    lsh = MinHashLSH(threshold=0.5, num_perm=128, storage_config=storage)
    half = len(hashes) // 2
    start = time.perf_counter()
    with lsh.insertion_session() as session:
        for n, minhash in enumerate(hashes[:half]):
            session.insert(f"p{n}", minhash)
    inserts = half / (time.perf_counter() - start)
    start = time.perf_counter()
    for minhash in hashes[half:]:
        lsh.query(minhash)
    queries = (len(hashes) - half) / (time.perf_counter() - start)
    return inserts, queries


def run(size: int, write: bool) -> str:
    import redis

    with gzip.open(SCALE, "rt", encoding="utf-8") as source:
        lines = list(itertools.islice(source, size))
    pages = [
        (f"page-{n}", "".join(lines[at : at + PAGE])) for n, at in enumerate(range(0, size, PAGE))
    ]
    try:
        server, port = redis_server.start()
    except redis_server.NoRedis as error:
        raise SystemExit(str(error)) from None
    try:
        client = redis.Redis(port=port)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "pages.json"
            path.write_text(json.dumps(pages))
            ones, fours = [], []
            for turn in range(ROUNDS):  # in turns, medians: the machine is shared
                before = client.info("memory")["used_memory"]
                ones.append(_workers(path, f"redis://127.0.0.1:{port}/0?namespace=one{turn}", 1))
                after = client.info("memory")["used_memory"]
                held = int(client.get(f"one{turn}:paragraphs") or 0)
                fours.append(_workers(path, f"redis://127.0.0.1:{port}/0?namespace=four{turn}", 4))
                client.flushall()
            one = sorted(ones, key=lambda r: r[2])[ROUNDS // 2]
            four = sorted(fours, key=lambda r: r[2])[ROUNDS // 2]
        inserts, queries = _datasketch(port, lines[:SAMPLE])
    finally:
        server.terminate()
        server.wait()
    rate_one = one[0] / one[2]
    rate_four = four[0] / four[2]
    per = (after - before) / max(held, 1)
    race = one[1] - four[1]
    rows = [
        f"| one worker, end to end, committing after each page | {rate_one:,.0f} paragraphs/s "
        f"({one[0]:,} in {one[2]:.1f} s) | ≥ 10,000/s: {_verdict(rate_one >= 10_000)} |",
        f"| datasketch `MinHashLSH`, Redis storage: queries | {queries:,.0f}/s (inserts in a "
        f"session {inserts:,.0f}/s; {SAMPLE:,} paragraphs) | |",
        f"| one worker against datasketch's query rate | {rate_one / queries:.1f}x | > 13x: "
        f"{_verdict(rate_one / queries > 13)} |",
        f"| four workers sharing one Redis, together | {rate_four:,.0f} paragraphs/s "
        f"({four[2]:.1f} s) | ≥ 15,000/s: {_verdict(rate_four >= 15_000)} |",
        f"| removals: one worker / four workers | {one[1]:,} / {four[1]:,} ({race:,} repeats "
        "kept by two workers that met them at once: the documented race) | |",
        f"| Redis memory per paragraph indexed (`used_memory`) | {per:,.0f} B ({held:,} "
        f"paragraphs) | ≤ 1,500 B: {_verdict(per <= 1500)} |",
    ]
    body = "\n".join(
        [
            "## The index shared through Redis (issue 11)",
            "",
            f"`python -m benchmarks.redis_index --size {size}`, {time.strftime('%Y-%m-%d')}, "
            f"this 2-core machine, a redis-server on loopback; pages of {PAGE} lines of the "
            "scale corpus in its own order; times from the first worker's start of work (its "
            f"imports done) to the last one's end, the median of {ROUNDS} rounds taken in turns.",
            "",
            "| measure | result | target |",
            "|---|---:|---|",
            *rows,
        ]
    )
    print(body)
    if write:
        write_section("redis", body)
    return body


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="write the table to RESULTS.md")
    arguments = parser.parse_args()
    run(arguments.size, arguments.write)


if __name__ == "__main__":
    main()
