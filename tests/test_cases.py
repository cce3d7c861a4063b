"""Golden cases: ``fixtures/cases/*.json``, each a list of ``label``/``original``/``expected``.

Optional fields: ``removed`` (``[index, duplicate_of, kind]`` for each removal),
``options`` (passed to ``dedup.clean``), ``known_failure`` (a reason: the case is
recorded as failing today, and the test fails when it starts passing, so it is updated).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import dedup

CASES = Path(__file__).parent.parent / "fixtures" / "cases"


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            marks = []
            if case.get("known_failure"):
                marks.append(pytest.mark.xfail(reason=case["known_failure"], strict=True))
            params.append(pytest.param(case, id=f"{path.stem}: {case['label']}", marks=marks))
    return params


@pytest.mark.parametrize("case", _load())
def test_case(case: dict[str, Any]) -> None:
    result = dedup.clean(case["original"], **case.get("options", {}))
    assert result.text == case["expected"]
    if "removed" in case:
        got = [[r.index, r.duplicate_of, r.kind] for r in result.removed]
        assert got == case["removed"]
    assert dedup.restore(result.text, result.removed) == case["original"]


def test_at_least_thirty_golden_cases() -> None:
    cases = _load()
    assert len(cases) >= 30
