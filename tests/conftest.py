from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEED = FIXTURES / "000_65b17c22fac51871.txt"
SEED_EXPECTED = FIXTURES / "000_65b17c22fac51871.expected.txt"
DATA = ROOT.parent / "shared" / "data"


#: A line, a text that repeats it, and that text cleaned (issue 10's example).
P = "The quick brown fox jumps over the lazy dog near the river bank today."
TEXT = f"{P}\nunique line long enough to count here\n{P}\n"
CLEANED = f"{P}\nunique line long enough to count here\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder, the current one, holding ``a.txt`` (``TEXT``)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(TEXT)
    return tmp_path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def need_data() -> None:
    """Skip the calling test when the licensed evaluation data is not beside the project."""
    if not (DATA / "pages.jsonl.gz").exists():
        pytest.skip(f"evaluation data not found at {DATA} (CI always has it)")
