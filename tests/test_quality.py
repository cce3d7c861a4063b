"""Quality on real pages (the licensed data beside the project; skipped when absent).

* Realistic repeats injected into real articles in many languages are removed, and
  nothing else is: the article comes back byte for byte.
* The labelled pairs score at or above the floors pinned in
  ``benchmarks/quality_floors.json``. Floors are raised when the tool gets better; lowering
  one means adding an entry to its history saying why, which this test checks.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from benchmarks import inject, quality
from tests.conftest import ROOT, need_data

FLOORS = ROOT / "benchmarks" / "quality_floors.json"
INJECTED_FLOOR = 0.95


def test_injected_repeats_are_removed_and_nothing_else() -> None:
    need_data()
    stats = inject.run(limit_per_lang=12, seed=7)
    found, total = stats["found"], stats["total"]
    assert isinstance(found, Counter) and isinstance(total, Counter)
    assert len(stats["languages"]) >= 12  # type: ignore[arg-type]
    assert stats["extra"] == 0
    rate = sum(found.values()) / sum(total.values())
    assert rate >= INJECTED_FLOOR, f"removed {rate:.1%} of the injected copies: {stats['misses']}"


def _floors() -> dict[str, Any]:
    return json.loads(Path(FLOORS).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_floors_are_never_lowered_silently() -> None:
    floors = _floors()
    history = floors["history"]
    assert history[-1]["floors"] == floors["floors"], "the last history entry is the floors"
    for before, after in pairwise(history):
        lowered = [m for m, v in after["floors"].items() if v < before["floors"].get(m, 0)]
        assert not lowered or "lowered" in after["why"], (
            f"{lowered} lowered on {after['date']} without saying why"
        )


def test_labelled_pairs_meet_the_floors_in_and_out_of_sample() -> None:
    need_data()
    floors = _floors()["floors"]
    labels = quality.load_labels()
    pages = quality.labelled_pages(labels)
    evaluation, _ = quality.evaluate(labels, {}, pages)
    oos = quality.out_of_sample(labels, pages)
    measured = {
        "pair_precision": evaluation.pairs.precision,
        "pair_recall": evaluation.pairs.recall,
        "pair_f1": evaluation.pairs.f1,
        "page_f1": evaluation.pages.f1,
    }
    for name in quality.SETS:
        measured[f"oos_{name}_precision"] = oos.scores[name].precision
        measured[f"oos_{name}_f1"] = oos.scores[name].f1
    assert set(measured) == set(floors)
    below = {m: round(v, 4) for m, v in measured.items() if v < floors[m]}
    assert not below, f"below the pinned floors {floors}: {below}"


@pytest.mark.parametrize("variant", ["main", "full"])
def test_every_substantive_exact_repeat_is_removed(variant: str) -> None:
    need_data()
    pages = (page for page in quality.load_pages() if page["variant"] == variant)
    exact = quality.exact_recall(pages, {})
    assert exact["substantive"] > 1000
    assert exact["substantive_removed"] == exact["substantive"], exact["missed"]
