"""Quality on real pages (the licensed data beside the project; skipped when absent).

Realistic repeats injected into real articles in many languages are removed, and
nothing else is: the article comes back byte for byte.
"""

from __future__ import annotations

from collections import Counter

from benchmarks import inject
from tests.conftest import need_data

FLOOR = 0.95


def test_injected_repeats_are_removed_and_nothing_else() -> None:
    need_data()
    stats = inject.run(limit_per_lang=12, seed=7)
    found, total = stats["found"], stats["total"]
    assert isinstance(found, Counter) and isinstance(total, Counter)
    assert len(stats["languages"]) >= 12  # type: ignore[arg-type]
    assert stats["extra"] == 0
    rate = sum(found.values()) / sum(total.values())
    assert rate >= FLOOR, f"removed {rate:.1%} of the injected copies; misses: {stats['misses']}"
