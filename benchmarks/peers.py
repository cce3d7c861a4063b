"""The tools people would pick instead of ``dedup``, as they would use them: a line a
paragraph in, the lines they keep out (stdout), first seen wins. ``benchmarks/speed.py``
runs each as a whole process beside ``dedup clean --split lines``.

    python -m benchmarks.peers rensa FILE       # rensa's RMinHashDeduplicator (Rust)
    python -m benchmarks.peers datasketch FILE  # MinHash.bulk + MinHashLSH

Both sign word 3-shingles of the lower-cased, whitespace-split line (its words when it has
fewer than three), with 128 permutations, and call a line a copy when LSH tuned to a
Jaccard of 0.8 finds a kept line with it (rensa then also checks its estimated Jaccard):
neither reads what differs, so "+11" is a copy of "11". Install them with the ``bench``
extra (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

NUM_PERM = 128
THRESHOLD = 0.8
CHUNK = 4096


def shingles(line: str) -> list[str]:
    words = line.lower().split()
    if len(words) < 3:
        return words
    return [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]


def chunks(path: str) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as lines:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def run_rensa(path: str) -> None:
    from rensa import RMinHash, RMinHashDeduplicator

    seen = RMinHashDeduplicator(threshold=THRESHOLD, num_perm=NUM_PERM, use_lsh=True)
    out = sys.stdout
    key = 0
    for chunk in chunks(path):
        kept = []
        for line in chunk:
            minhash = RMinHash(num_perm=NUM_PERM, seed=42)
            minhash.update(shingles(line))
            if seen.add(str(key), minhash):
                kept.append(line)
            key += 1
        out.write("".join(kept))


def run_datasketch(path: str) -> None:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    out = sys.stdout
    key = 0
    for chunk in chunks(path):
        signed = MinHash.bulk(
            [[s.encode("utf-8") for s in shingles(line)] for line in chunk], num_perm=NUM_PERM
        )
        kept = []
        for line, minhash in zip(chunk, signed, strict=True):
            if not lsh.query(minhash):
                lsh.insert(key, minhash, check_duplication=False)
                kept.append(line)
            key += 1
        out.write("".join(kept))


PEERS = {"rensa": run_rensa, "datasketch": run_datasketch}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in PEERS:
        print(f"usage: python -m benchmarks.peers {{{','.join(PEERS)}}} FILE", file=sys.stderr)
        return 2
    PEERS[args[0]](args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
