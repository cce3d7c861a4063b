"""Short documents decided together (scope corpus) decide as each would alone, one after
another: the same cleaned text, removals and close calls, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dedup import Deduplicator, InputError
from dedup.config import Config
from dedup.corpus import Outcome, clean_documents
from dedup.decision import Places
from dedup.deduplicator import _Pairs, _verify_pairs
from dedup.fingerprint import fingerprint_batch
from dedup.index import MemoryIndex, open_index
from dedup.result import CloseCall, Removal
from dedup.sources import Document, Source

from .test_spark import PAGES, _corpus, real_pages


def _documents(pairs: list[tuple[str, str]]) -> Iterator[Document]:
    for name, text in pairs:
        yield Document(name, Source(name, None, Path(name)), iter([(text, len(text))]))


class _Grouped:
    """``clean_documents`` in scope corpus: each document's text and events."""

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = {}
        self.events: dict[str, list[Removal | CloseCall]] = {}

    def writer(self, document: Document) -> Any:
        return self.texts.setdefault(document.name, []).append

    def run(self, documents: Iterator[Document], config: Config, **options: Any) -> list[Outcome]:
        return list(
            clean_documents(
                documents,
                config,
                scope="corpus",
                writer=self.writer,
                events=lambda document, found: self.events.setdefault(document.name, []).extend(
                    found
                ),
                keep_removals=True,
                **options,
            )
        )


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many documents each call of ``decide_groups`` decided."""
    sizes: list[int] = []
    decide_groups = Deduplicator.decide_groups

    def counted(self: Deduplicator, batch: Any, places: Places, *args: Any) -> Any:
        sizes.append(len(places.documents))
        return decide_groups(self, batch, places, *args)

    monkeypatch.setattr(Deduplicator, "decide_groups", counted)
    return sizes


def _same(pairs: list[tuple[str, str]], config: Config, jobs: int = 1, **options: Any) -> None:
    grouped = _Grouped()
    outcomes = grouped.run(_documents(pairs), config, jobs=jobs, **options)
    alone = Deduplicator(config, **options)
    assert [outcome.document.name for outcome in outcomes] == [name for name, _ in pairs]
    for (name, text), outcome in zip(pairs, outcomes, strict=True):
        want = alone.clean(text, name)
        events = grouped.events.get(name, [])
        assert "".join(grouped.texts.get(name, [])) == want.text, name
        removals = [r.to_dict() for r in events if isinstance(r, Removal)]
        assert removals == [r.to_dict() for r in want.removed], name
        assert [c.to_dict() for c in events if isinstance(c, CloseCall)] == [
            c.to_dict() for c in want.close
        ], name
        assert outcome.paragraphs == len(want.paragraphs)
        assert [r.to_dict() for r in outcome.removals] == removals


@pytest.mark.parametrize("seed", range(3))
def test_short_documents_decided_together_decide_as_each_alone(
    seed: int, groups: list[int]
) -> None:
    _same(_corpus(seed, 300, 40), Config(split="lines"))
    assert max(groups) > 100  # many documents a batch


def test_the_same_with_blocks_and_worker_processes(groups: list[int]) -> None:
    documents = [(name, text.replace("\n", "\n\n")) for name, text in _corpus(7, 300, 40)]
    _same(documents, Config(split="auto"), jobs=2)
    assert max(groups) > 100


def test_a_long_document_among_short_ones_is_decided_in_its_own_batches(
    groups: list[int],
) -> None:
    documents = _corpus(11, 40, 40)
    documents[20] = ("long", "\n".join(text for _, text in _corpus(12, 120, 70)))
    assert documents[20][1].count("\n") > 4200
    _same(documents, Config(split="lines"))
    assert len(groups) == 2  # the short ones before the long one, and after it


@pytest.mark.skipif(not PAGES.exists(), reason="needs ../shared/data/pages.jsonl.gz")
@pytest.mark.parametrize("jobs", [1, 2])
def test_real_pages_decided_together_decide_as_each_alone(jobs: int, groups: list[int]) -> None:
    _same(real_pages(150), Config(split="auto"), jobs=jobs)
    assert max(groups) > 1


def test_a_document_cleaned_again_does_not_repeat_itself(tmp_path: Path) -> None:
    """With a persistent index, a document cleaned in an earlier run is no repeat of what
    it kept itself then, in a group as alone."""
    config = Config(split="lines")
    first = _corpus(3, 20, 30)
    index = tmp_path / "index"
    with Deduplicator(config, index=index) as earlier:
        for name, text in first:
            earlier.clean(text, name)
    again = first[5:8] + [(f"new-{name}", text) for name, text in _corpus(4, 20, 30)]
    grouped = _Grouped()
    shared = open_index(index, config)
    try:
        outcomes = grouped.run(_documents(again), config, index=shared)
    finally:
        shared.close()
    alone = Deduplicator(config, index=index)
    try:
        for (name, text), outcome in zip(again, outcomes, strict=True):
            want = alone.clean(text, name)
            assert "".join(grouped.texts.get(name, [])) == want.text, name
            assert [r.to_dict() for r in outcome.removals] == [r.to_dict() for r in want.removed]
    finally:
        alone.close()


def test_documents_read_before_a_bad_one_are_delivered_first(groups: list[int]) -> None:
    pairs = _corpus(5, 10, 20)

    def documents() -> Iterator[Document]:
        yield from _documents(pairs)
        raise InputError("bad.jsonl", "line 11: not JSON")

    grouped = _Grouped()
    delivered = []
    with pytest.raises(InputError):
        for outcome in clean_documents(
            documents(), Config(split="lines"), scope="corpus", writer=grouped.writer
        ):
            delivered.append(outcome.document.name)
    assert delivered == [name for name, _ in pairs]
    assert groups == [10]


@pytest.mark.parametrize("groups_of", [[0, 1], [0, 0]])
def test_a_kept_paragraph_of_an_earlier_document_is_read_as_the_index_has_it(
    groups_of: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verifying a pair whose kept paragraph is another document's, in a group, reads
    its normalized text only (as the index holds it when documents are decided one by
    one); a pair within a document reads its text as written too."""
    import dedup.deduplicator as module

    config = Config(split="lines")
    texts = ["The Quick Brown Fox Jumps Over The Lazy Dog Today", "the quick brown fox jumps today"]
    batch = fingerprint_batch(texts, config)
    starts = [0, 1, 2] if groups_of == [0, 1] else [0, 2]
    places = Places(["a", "b"][: len(starts) - 1], [0] * (len(starts) - 1), starts)
    seen: list[str] = []

    def compare(earlier: Any, later: Any, *args: Any, **options: Any) -> Any:
        seen.append(earlier.raw)
        return real(earlier, later, *args, **options)

    real = module.compare
    monkeypatch.setattr(module, "compare", compare)
    job = _Pairs.of(np.array([1 << 32 | 0]), batch, 0, MemoryIndex(config), (), places)
    _verify_pairs(job, config, module._Recent(8))
    written = "" if groups_of == [0, 1] else texts[0]
    assert seen == [written]
    # And as the deciding process verifies it itself.
    seen.clear()
    Deduplicator(config)._verdict_now(batch, 1, 0, 0, {}, places)
    assert seen == [written]
