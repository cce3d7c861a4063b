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

    from dedup import compiled, native

    pure = os.environ.get("DEDUP_PURE_PYTHON", "") not in ("", "0")
    if os.environ.get("CI") != "true":
        pytest.skip("only where CI runs (CI=true)")
    assert native.COMPILED is not pure
    # and the modules Cython compiles: every one runs compiled, or none at all.
    assert compiled.built()
    assert compiled.running() == ([] if pure else compiled.built())


def test_a_module_runs_from_its_source_when_edited_since_compiled_or_asked_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A compiled build is never stale: Python would import it before its source."""
    from dedup import compiled

    monkeypatch.delenv("DEDUP_PURE_PYTHON", raising=False)
    path = compiled.source_path("dedup.verify")
    now = compiled.source_sum(path)
    assert compiled._SourceFirst({"dedup.verify": now}).source("dedup.verify") is None
    edited = compiled._SourceFirst({"dedup.verify": now ^ 1})
    assert edited.source("dedup.verify") == path
    spec = edited.find_spec("dedup.verify")
    assert spec is not None and spec.origin == path
    assert edited.source("dedup.config") is None  # never compiled: the usual finders'
    monkeypatch.setenv("DEDUP_PURE_PYTHON", "1")
    assert compiled._SourceFirst({"dedup.verify": now}).source("dedup.verify") == path


def test_the_doctests_of_the_modules_that_run_compiled_pass() -> None:
    """pytest runs the doctests of the modules from their sources, which it cannot for a
    module that runs compiled (see conftest.py): here from the compiled module itself."""
    import doctest
    import importlib

    from dedup import compiled

    modules = compiled.running()
    if not modules:
        pytest.skip("no module runs compiled (their doctests ran from the sources)")
    for name in modules:
        module = importlib.import_module(name)
        assert not module.__file__.endswith(".py")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
