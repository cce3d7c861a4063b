"""The code stays linted, formatted and type-checked (ruff, mypy; cli.py included), and CI
runs what it means to run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "ruff", "check", "dedup", "tests", "benchmarks", "docs"],
        [sys.executable, "-m", "ruff", "format", "--check", "dedup", "tests", "benchmarks", "docs"],
        [sys.executable, "-m", "mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_passes(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compiled_kernels_are_built_where_ci_runs() -> None:
    # CI builds the compiled path and runs the suite with it, then again with
    # DEDUP_PURE_PYTHON=1 against the pure-Python twins: a build that failed quietly must
    # not pass for the compiled run.
    import os

    from dedup import native

    pure = os.environ.get("DEDUP_PURE_PYTHON", "") not in ("", "0")
    if os.environ.get("CI") != "true":
        pytest.skip("only where CI runs (CI=true)")
    assert native.COMPILED is not pure
