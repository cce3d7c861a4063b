"""The index shared through a real redis-server (started by the ``redis_server`` fixture):
it decides as the memory index does, is shared by processes, refuses what it must, and
loses nothing when a worker is killed (issue 11)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dedup
import dedup.index.redis
from dedup.normalize import normalize
from tests.conftest import start_redis
from tests.test_disk_index import _documents, _removals

ROOT = Path(__file__).resolve().parent.parent


def test_a_redis_index_decides_as_the_memory_index_across_processes(redis_url: str) -> None:
    docs = _documents(60)
    memory = dedup.Deduplicator(split="lines")
    expected = [memory.clean(text, name) for name, text in docs]
    got = []
    for part in range(3):  # three "processes", one after another
        with dedup.Deduplicator(split="lines", index=redis_url) as d:
            for name, text in docs[part * 20 : (part + 1) * 20]:
                got.append(d.clean(text, name))
                d.commit()
    assert _removals(got) == _removals(expected)
    with dedup.Deduplicator(split="lines", index=redis_url) as d:
        info = d.index.info()  # type: ignore[attr-defined]
        names = set(d.index.documents(np.arange(len(d.index))))
    # the documents that kept a paragraph
    assert (info["paragraphs"], info["documents"]) == (len(d.index), len(names))


def test_what_another_process_committed_is_seen_from_the_next_document(redis_url: str) -> None:
    shared = "A paragraph that two workers both meet, long enough to be compared."
    one = dedup.Deduplicator(index=redis_url)
    two = dedup.Deduplicator(index=redis_url)
    assert one.clean(f"{shared}\nOwn line of the first worker, long enough.", "a").removed == ()
    one.commit()
    result = two.clean(f"Own line of the second worker, long enough here.\n{shared}", "b")
    assert [(r.index, r.duplicate_of_document) for r in result.removed] == [(1, "a")]
    uncommitted = one.clean("Never delivered: this line is not in the index at all.", "c")
    assert uncommitted.removed == ()
    assert two.clean("Never delivered: this line is not in the index at all.", "d").removed == ()
    one.close()
    two.close()


def test_a_redis_index_refuses_other_settings_and_a_missing_index(redis_url: str) -> None:
    with dedup.Deduplicator(index=redis_url) as d:
        d.clean("A first paragraph with enough words in it to be kept.", "a")
    with pytest.raises(dedup.IndexMismatchError) as caught:
        dedup.Deduplicator(index=redis_url, seed=2)
    assert str(caught.value) == (
        "the index was built with other settings: seed: index 1, now 2 "
        "(use the same settings, or another index)"
    )
    missing = redis_url.replace("namespace=", "namespace=none-")
    with pytest.raises(dedup.IndexAccessError, match="no dedup index here"):
        dedup.open_index(missing, dedup.Config(), writable=False)


def test_a_commit_larger_than_redis_takes_as_one_value_is_cut_into_segments(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    rng = random.Random(3)
    docs = [
        (
            f"page-{n}",
            "".join(f"{rng.getrandbits(256):x} line {i} of page {n}\n" for i in range(1000)),
        )
        for n in range(10)
    ]
    again = [(f"copy-{name}", text) for name, text in docs[::3]]
    memory = dedup.Deduplicator(split="lines")
    expected = [memory.clean(text, name) for name, text in docs + again]
    address, _, namespace = redis_url.partition("?namespace=")
    server = redis.Redis.from_url(address)
    limit = server.config_get("proto-max-bulk-len")["proto-max-bulk-len"]
    server.config_set("proto-max-bulk-len", 1 << 20)  # the least Redis allows
    monkeypatch.setattr(dedup.index.redis, "SEGMENT_BYTES", 256 << 10)
    try:
        with dedup.Deduplicator(split="lines", index=redis_url) as d:
            got = [d.clean(text, name) for name, text in docs]
            d.commit()  # more than the server takes as one value
        segments = server.lrange(f"{namespace}:segments", 0, -1)
        assert len(segments) > 4 and sum(map(len, segments)) > 1 << 20
        with dedup.Deduplicator(split="lines", index=redis_url) as d:
            got += [d.clean(text, name) for name, text in again]
            assert d.index.info()["paragraphs"] == 10_000  # type: ignore[attr-defined]
    finally:
        server.config_set("proto-max-bulk-len", limit)
    assert _removals(got) == _removals(expected)
    assert sum(len(result.removed) for result in got) == 4000


def test_a_large_index_is_read_in_pieces_and_not_its_own_segments_again(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that joins a large index reads it a piece at a time (its memory, and the
    server's reply buffer, hold one piece beside the replica, not the whole index twice),
    and a worker never reads back a segment it appended itself."""
    rng = random.Random(5)
    docs = [
        (f"page-{n}", "".join(f"{rng.getrandbits(128):x} line {i} of {n}\n" for i in range(200)))
        for n in range(12)
    ]
    again = [(f"copy-{name}", text) for name, text in docs[::4]]
    memory = dedup.Deduplicator(split="lines")
    expected = [memory.clean(text, name) for name, text in docs + again]
    replies: list[list[int]] = []
    connect = dedup.index.redis._connect

    def counted(url: str, shown: str) -> tuple[Any, str]:
        client, namespace = connect(url, shown)
        lrange = client.lrange

        def recorded(*args: Any) -> Any:
            blobs = lrange(*args)
            replies.append([len(blob) for blob in blobs])
            return blobs

        client.lrange = recorded
        return client, namespace

    monkeypatch.setattr(dedup.index.redis, "_connect", counted)
    with dedup.Deduplicator(split="lines", index=redis_url) as d:
        got = []
        for name, text in docs:
            got.append(d.clean(text, name))
            d.commit()  # a segment a page
    assert sum(map(sum, replies)) == 0  # its own segments were not read back
    replies.clear()
    segment = 30_000  # about each page's segment, in bytes
    monkeypatch.setattr(dedup.index.redis, "READ_BYTES", 3 * segment)
    with dedup.Deduplicator(split="lines", index=redis_url) as d:
        assert len(d.index) == 2400
        got += [d.clean(text, name) for name, text in again]
    sizes = [size for reply in replies for size in reply]
    assert len(sizes) == len(docs) and min(sizes) > segment // 2 and max(sizes) < 2 * segment
    pieces = [len(reply) for reply in replies if reply]
    assert len(pieces) >= 4 and max(pieces) >= 2  # in pieces of several segments ...
    assert max(map(sum, replies)) <= 3 * max(sizes)  # ... of at most READ_BYTES or so
    assert _removals(got) == _removals(expected)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("namespace=", "the namespace is empty (name one, or leave it out for 'dedup')"),
        ("namespace=site&foo=bar", "unknown setting 'foo' in the URL"),
        ("timeout=abc", "timeout must be a number of seconds"),
    ],
)
def test_a_url_with_a_setting_that_cannot_be_is_refused_before_connecting(
    query: str, problem: str
) -> None:
    url = f"redis://:s3cret@127.0.0.1:1/0?{query}"
    with pytest.raises(dedup.ConfigError) as caught:
        dedup.open_index(url, dedup.Config())
    assert str(caught.value) == f"{url.replace('s3cret', '****')}: {problem}"


def test_a_redis_that_is_not_there_is_one_clear_error(tmp_path: Path) -> None:
    Path(tmp_path / "a.txt").write_text("A line of text that is long enough to count.\n")
    url = "redis://:s3cret@127.0.0.1:1/0?timeout=2"
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "clean", "--index", url, str(tmp_path / "a.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "Error: redis://:****@127.0.0.1:1/0?timeout=2: connection refused\n",
    )


def test_a_redis_that_goes_away_mid_run_is_one_clear_error() -> None:
    server, url = start_redis()
    try:
        d = dedup.Deduplicator(index=f"{url}?timeout=2")
        d.clean("A first paragraph with enough words in it to be kept.", "a")
        d.commit()
    finally:
        server.kill()
        server.wait(timeout=20)
    with pytest.raises(dedup.IndexAccessError) as caught:
        d.clean("Another paragraph with enough words in it to be kept.", "b")
    assert str(caught.value) == f"{url}?timeout=2: connection refused"


def test_the_command_line_uses_a_redis_index(redis_url: str, tmp_path: Path) -> None:
    shared = "The quick brown fox jumps over the lazy dog near the river bank today."
    (tmp_path / "a.txt").write_text(f"{shared}\nA line of the first page, long enough.\n")
    (tmp_path / "b.txt").write_text(f"A line of the second page, long enough.\n{shared}\n")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dedup", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, "DEDUP_INDEX": redis_url},
        )

    assert cli("index", "add", "-q", "a.txt").returncode == 0
    done = cli("clean", "-q", "b.txt")
    assert done.stdout == "A line of the second page, long enough.\n"
    info = dict(line.split(": ", 1) for line in cli("index", "info").stdout.splitlines())
    assert (info["paragraphs"], info["documents"]) == ("3", "2")
    assert cli("index", "drop", "--yes").returncode == 0
    assert cli("index", "info").stderr.endswith(": no dedup index here\n")


WORKER = """
import json, sys, time
sys.path.insert(0, {root!r})
import dedup
out = open({out!r}, "a", encoding="utf-8")
with dedup.Deduplicator(index={url!r}) as d:
    for name, text in json.load(open({stream!r})):
        if name in {done!r}:
            continue
        cleaned = d.clean(text, name).text
        out.write(json.dumps([name, cleaned]) + "\\n")   # delivered ...
        out.flush()
        d.commit()                                     # ... then committed
        time.sleep(0.05)
"""


def _streams(seed: int) -> tuple[list[list[tuple[str, str]]], list[str]]:
    """Four overlapping streams of articles sharing boilerplate and quotes."""
    rng = random.Random(seed)
    words = [f"w{n}" for n in range(2000)]

    def line() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(9, 15)))

    shared = [line() for _ in range(60)]
    articles = []
    for n in range(160):
        own = [line() for _ in range(rng.randint(3, 8))]
        body = own + rng.sample(shared, 3)
        rng.shuffle(body)
        articles.append((f"article-{n}", "\n".join(body) + "\n"))
    streams = [[a for i, a in enumerate(articles) if i % 4 == k or i % 7 == k] for k in range(4)]
    return streams, shared


def test_four_workers_and_one_killed_keep_a_copy_of_everything(
    redis_url: str, tmp_path: Path
) -> None:
    streams, shared = _streams(3)
    for k, stream in enumerate(streams):
        (tmp_path / f"stream{k}.json").write_text(json.dumps(stream))

    def start(k: int, done: set[str]) -> subprocess.Popen[bytes]:
        code = WORKER.format(
            root=str(ROOT), out=str(tmp_path / f"out{k}.jsonl"), url=redis_url,
            stream=str(tmp_path / f"stream{k}.json"), done=done,
        )  # fmt: skip
        return subprocess.Popen([sys.executable, "-c", code])

    processes = [start(k, set()) for k in range(4)]
    time.sleep(1.5)
    processes[1].send_signal(signal.SIGKILL)
    processes[1].wait()
    delivered = (
        {json.loads(line)[0] for line in (tmp_path / "out1.jsonl").read_text().splitlines()}
        if (tmp_path / "out1.jsonl").exists()
        else set()
    )
    assert len(delivered) < len(streams[1])  # killed midway
    processes[1] = start(1, delivered)  # restarted: goes on after what it delivered
    for process in processes:
        assert process.wait(timeout=300) == 0
    delivered_texts, names = [], set()
    for k in range(4):
        for line in (tmp_path / f"out{k}.jsonl").read_text().splitlines():
            name, text = json.loads(line)
            names.add(name)
            delivered_texts.append(text)
    originals = dict(a for stream in streams for a in stream)
    assert names == set(originals)  # every article delivered, the killed worker's too
    kept: dict[str, int] = defaultdict(int)
    for text in delivered_texts:
        for paragraph in text.splitlines():
            if paragraph.strip():
                kept[normalize(paragraph)] += 1
    every = {normalize(p) for text in originals.values() for p in text.splitlines() if p}
    # Every group of repeated paragraphs keeps a copy in what was delivered, and no
    # paragraph went that was not repeated: each distinct paragraph is there at least once.
    assert every == set(kept)
    occurrences = sum(len(t.splitlines()) for s in streams for _, t in s)
    assert sum(kept.values()) < occurrences * 0.7  # and the repeats did go
    assert max(kept[normalize(p)] for p in shared) <= 4  # at most one copy a worker (a race)
