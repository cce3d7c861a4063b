"""The library API: one-shot clean, the corpus-wide Deduplicator, settings and errors."""

from __future__ import annotations

import sys

import pytest

import dedup
from dedup.config import Config
from dedup.index import MemoryIndex

BOILERPLATE = "Subscribe to our newsletter for the latest news, offers and event invitations."


def test_deduplicator_removes_what_an_earlier_document_said() -> None:
    d = dedup.Deduplicator()
    first = d.clean(f"First story.\n{BOILERPLATE}\n", "a.txt")
    second = d.clean(f"Second story.\n{BOILERPLATE.upper()}\n", "b.txt")
    assert first.removed == ()
    assert second.text == "Second story.\n"
    (removal,) = second.removed
    assert (removal.duplicate_of_document, removal.duplicate_of, removal.kind) == (
        "a.txt",
        1,
        "exact",
    )
    assert second.to_dict()["removed"][0]["duplicate_of_document"] == "a.txt"
    assert dedup.restore(second.text, second.removed) == second.original


def test_a_document_name_is_used_once() -> None:
    d = dedup.Deduplicator()
    d.clean("Text.", "a")
    with pytest.raises(dedup.DedupError, match="already cleaned"):
        d.clean("Other text.", "a")


@pytest.mark.parametrize("text", [None, b"bytes", 5])
def test_a_text_that_is_no_str_is_refused_before_its_name_is_taken(text: object) -> None:
    d = dedup.Deduplicator()
    message = f"the text of a document is a str, not {type(text).__name__}"
    with pytest.raises(TypeError, match=message):
        d.clean(text, "a.txt")  # type: ignore[arg-type]
    assert d.clean(BOILERPLATE, "a.txt").text == BOILERPLATE  # the name is still free
    with pytest.raises(TypeError, match=message):
        dedup.clean(text)  # type: ignore[arg-type]
    cleaner = d.cleaner("b.txt", lambda _: None)
    with pytest.raises(TypeError, match=message):
        cleaner.feed(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [123, b"a.txt", ("a", 1)])
def test_a_document_name_that_is_no_str_is_refused(name: object) -> None:
    """A name is what removals, reports and an index name a document by: an int there
    would be another name than its text ("123" cleaned again would not be the same page)."""
    d = dedup.Deduplicator()
    message = f"the name of a document is a str, not {type(name).__name__}"
    with pytest.raises(TypeError, match=message):
        d.clean(BOILERPLATE, name)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        d.cleaner(name, lambda _: None)  # type: ignore[arg-type]
    assert d.clean(BOILERPLATE, "123").text == BOILERPLATE


def test_an_index_built_with_other_settings_is_refused() -> None:
    index = MemoryIndex(Config(num_perm=64))
    with pytest.raises(dedup.IndexMismatchError) as caught:
        dedup.Deduplicator(index=index)
    assert str(caught.value) == (
        "the index was built with other settings: num_perm: index 64, now 128 "
        "(use the same settings, or another index)"
    )


def test_settings_are_validated_with_a_hint() -> None:
    with pytest.raises(dedup.ConfigError, match="threshold must be a number in"):
        dedup.clean("x", threshold=0)
    with pytest.raises(dedup.ConfigError, match="unknown setting 'treshold'"):
        dedup.clean("x", treshold=0.5)
    with pytest.raises(dedup.ConfigError, match="unknown preset 'loose'"):
        Config.preset("loose")
    with pytest.raises(dedup.ConfigError, match=r"seed must be below 2\*\*32"):
        dedup.clean("x", seed=2**32)


def test_restore_refuses_a_report_that_does_not_fit() -> None:
    result = dedup.clean("Same paragraph here.\nOther.\nSame paragraph here.")
    entry = result.removed[0].to_dict()
    with pytest.raises(dedup.ReportError, match="does not fit"):
        dedup.restore("short", [{**entry, "cut_start": 999, "cut_end": 1020}])


def test_report_entry_names_the_split_mode_used() -> None:
    assert dedup.clean("a\n\nb\n\nc").to_dict()["split"] == "blank"
    assert dedup.clean("a\nb").to_dict()["split"] == "lines"


def test_a_removal_names_every_kept_paragraph_it_repeats() -> None:
    s1 = "The council met on Tuesday evening in the old town hall."
    s2 = "It approved the budget for schools and roads after a long debate."
    s3 = "The mayor thanked the members for their patience and their work."
    result = dedup.clean(f"{s1} {s2}\n{s2} {s3}\n{s2}\n")
    (removal,) = result.removed
    assert removal.index == 2
    assert {removal.duplicate_of, *(i for _, i in removal.also_repeats)} == {0, 1}
    entry = removal.to_dict()
    assert entry["also_repeats"] == [{"index": i} for _, i in removal.also_repeats]


def _near_copies(seed: int, count: int) -> str:
    """Lines of the seed article's words, and copies of them a word apart, with a word
    put in place of another or cut at an end, some in title case: many candidate pairs,
    close calls among them (a cut copy is no excerpt where it is the line of a wrapped
    sentence: most lines go on from an open one)."""
    import random

    from tests.conftest import SEED

    rng = random.Random(seed)
    words = [*SEED.read_text(encoding="utf-8").split()[:400], "XP", "GT", "not", "2024"]
    lines = [" ".join(rng.choices(words, k=rng.randint(3, 20))) for _ in range(count)]
    for _ in range(count):
        copy = rng.choice(lines).split()
        at = rng.randrange(len(copy))
        roll = rng.random()
        if roll < 0.25:
            del copy[at]
        elif roll < 0.55:
            copy[at] = rng.choice(words)
        elif roll < 0.8:
            copy.insert(at, rng.choice(words))
        else:
            copy = copy[: max(at, 3)]
        line = " ".join(copy)
        # Capitals, which normalizing folds, make a line a title or a name to some rules.
        lines.append(line.title() if rng.random() < 0.3 else line)
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("off", [(), ("code", "wrappers")])
def test_verdicts_worked_out_ahead_by_workers_decide_alike(
    monkeypatch: pytest.MonkeyPatch, off: tuple[str, ...]
) -> None:
    # With worker processes, the verdicts on a batch's likely pairs are worked out before
    # the batch is decided, in pieces, some by this process: the decisions, reasons and
    # close calls must be those of one process deciding as it goes (rules turned off
    # included).
    from dedup import deduplicator
    from dedup.verify import rules_off

    text = _near_copies(3, 6000)
    ahead: list[int] = []
    original = deduplicator.Deduplicator._ahead

    def spy(self: deduplicator.Deduplicator, *args: object) -> object:
        found = original(self, *args)  # type: ignore[arg-type]
        ahead.append(len(found))
        return found

    monkeypatch.setattr(deduplicator.Deduplicator, "_ahead", spy)
    results = []
    with rules_off(*off):
        for jobs in (1, 2):
            with dedup.Deduplicator(jobs=jobs, split="lines") as d:
                results.append(d.clean(text, "doc"))
    one, two = results
    assert sum(ahead) > 1000  # the workers did verify ahead
    assert one.text == two.text
    assert one.removed == two.removed
    assert one.close == two.close
    assert len(one.removed) > 1000 and len(one.close) > 100
    assert sum(c.reason.startswith("a line of a sentence wrapped") for c in one.close) > 20


@pytest.mark.parametrize("batch", [1, 2, 3, 4096])
def test_the_lines_around_a_line_are_seen_across_batches(
    monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # A line of a wrapped sentence is told by the lines above and below it, wherever the
    # batches are cut: on its batch's first or last row too.
    import dedup.stream

    monkeypatch.setattr(dedup.stream, "BATCH", batch)
    kept = (
        "The committee approved the new budget for the coming year after a long debate.\n"
        "Later that week the mayor said that\n"
        "the committee approved the new budget for the coming year.\n"  # goes on from above
        "The committee approved the new budget for the\n"  # left open, goes on below
        "coming year, as everyone expected.\n"
    )
    removed = "The new budget for the coming year after a long debate.\n"
    result = dedup.clean(kept + removed + "It rained.\n", split="lines")
    assert result.text == kept + "It rained.\n"


def test_a_document_fed_a_line_at_a_time_holds_only_what_is_not_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stream fed in small pieces (a scraper's lines): each piece is held apart, not
    # joined to all the text held, and what is written is let go.
    import dedup.stream

    monkeypatch.setattr(dedup.stream, "BATCH", 16)
    lines = [
        f"Line {i:05} of a long document, fed to the cleaner one at a time.\n" for i in range(3000)
    ]
    lines[2000] = lines[10]  # a repeat, removed
    out: list[str] = []
    cleaner = dedup.Deduplicator(split="lines").cleaner("doc", out.append, events=False)
    pieces = chars = 0
    for _ in range(1000):  # a stream's empty reads hold nothing
        cleaner.feed("")
    assert len(cleaner._parts) == 1
    for line in lines:
        cleaner.feed(line)
        held = cleaner._parts[cleaner._first :]
        pieces = max(pieces, len(cleaner._parts))
        chars = max(chars, sum(len(text) for _, text in held))
    cleaner.close()
    assert "".join(out) == "".join(lines[:2000] + lines[2001:])
    few = 4 * (16 + dedup.stream.LOOKAROUND)  # a few batches' lines
    assert pieces < few and chars < few * len(lines[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_the_worker_pools_pipes_hold_a_batchs_fingerprints() -> None:
    # A batch's fingerprints (megabytes) cross the result pipe in a few writes, not in
    # pieces of the default 64 KB each waking the other end.
    import fcntl

    from dedup.deduplicator import PIPE_BYTES

    text = "".join(f"line {n} of many words\n" for n in range(20_000))
    with dedup.Deduplicator(jobs=2, split="lines") as d:
        d.clean(text, "doc")
        pool = d._pool
        assert pool is not None
        for queue in (pool._call_queue, pool._result_queue):  # type: ignore[attr-defined]
            assert fcntl.fcntl(queue._reader.fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES


def _pages(seed: int) -> list[tuple[str, str]]:
    """160 pages of 60 lines drawn from 900, for threads to clean."""
    import random

    rng = random.Random(seed)
    pool = [
        f"line {n}: " + " ".join(f"w{rng.randrange(900)}" for _ in range(12)) for n in range(900)
    ]
    return [(f"d{n}", "".join(f"{rng.choice(pool)}\n" for _ in range(60))) for n in range(160)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_threads_may_share_a_deduplicator(jobs: int) -> None:
    # A scraper's threads (or asyncio.to_thread) cleaning pages with one deduplicator: each
    # document is decided whole, one at a time; the index is what one thread would build.
    import threading

    docs = _pages(4)
    alone = dedup.Deduplicator(split="lines")
    expected = sum(len(alone.clean(text, name).removed) for name, text in docs)
    removed: list[int] = []
    failed: list[BaseException] = []
    with dedup.Deduplicator(split="lines", jobs=jobs) as shared:

        def work(part: list[tuple[str, str]], streamed: bool) -> None:
            try:
                for name, text in part:
                    if not streamed:
                        removed.append(len(shared.clean(text, name).removed))
                        continue
                    cleaner = shared.cleaner(name, lambda piece: None)
                    events = [
                        e
                        for at in range(0, len(text), 700)
                        for e in cleaner.feed(text[at : at + 700])
                    ]
                    events += cleaner.close()
                    removed.append(sum(isinstance(e, dedup.Removal) for e in events))
            except BaseException as error:
                failed.append(error)

        threads = [threading.Thread(target=work, args=(docs[n::4], n == 3)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failed == []
        assert (sum(removed), len(shared.index)) == (expected, len(alone.index))


def test_deduplicators_in_threads_may_share_an_index() -> None:
    # One deduplicator a thread (a spider each), one index for all: a document is decided
    # whole against it, one at a time; the index is what one thread would build.
    import threading

    docs = _pages(5)
    alone = dedup.Deduplicator(split="lines")
    expected = sum(len(alone.clean(text, name).removed) for name, text in docs)
    index = MemoryIndex(Config(split="lines"))
    removed: list[int] = []
    failed: list[BaseException] = []

    def work(part: list[tuple[str, str]]) -> None:
        try:
            with dedup.Deduplicator(split="lines", index=index) as own:
                for name, text in part:
                    removed.append(len(own.clean(text, name).removed))
        except BaseException as error:
            failed.append(error)

    threads = [threading.Thread(target=work, args=(docs[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert (sum(removed), len(index)) == (expected, len(alone.index))


def test_worker_processes_are_counted_from_one_to_four_a_core() -> None:
    import os

    most = 4 * (os.cpu_count() or 1)
    for jobs in (0, most + 1, 100_000):  # a typo forking 100,000 processes
        with pytest.raises(dedup.ConfigError) as caught:
            dedup.Deduplicator(jobs=jobs)
        assert str(caught.value) == f"jobs must be from 1 to {most} (4 a core here), not {jobs}"
    dedup.Deduplicator(jobs=most).close()


def test_verdicts_sent_ahead_in_two_sets_are_found_by_pair() -> None:
    # The pairs sent as soon as the index's candidates are known and the batch's own, sent
    # after them, are one set of verdicts taken in by row, whichever set a pair is in.
    from dedup.deduplicator import _Ahead
    from dedup.verify import Verdict

    def verdict(code: int) -> Verdict:
        return Verdict(None, code % 97 / 97, f"pair {code}")

    outer = [[1 << 32 | 5, 1 << 32 | 9, 4 << 32 | 2], [7 << 32 | 3]]
    inner = [[1 << 32 | 100, 2 << 32 | 101], [7 << 32 | 102, 9 << 32 | 103]]
    sent = [
        _Ahead(codes, [[verdict(c) for c in piece] for piece in codes]) for codes in (outer, inner)
    ]
    joined = sent[0].joined(sent[1])
    assert len(joined) == 8
    for code in sorted(c for piece in outer + inner for c in piece):  # rows in order
        assert joined.get(code) == verdict(code)
    assert joined.get(9 << 32 | 5) is None  # not sent
