from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEED = FIXTURES / "000_65b17c22fac51871.txt"
SEED_EXPECTED = FIXTURES / "000_65b17c22fac51871.expected.txt"
DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def need_data() -> None:
    """Skip the calling test when the licensed evaluation data is not beside the project."""
    if not (DATA / "pages.jsonl.gz").exists():
        pytest.skip(f"evaluation data not found at {DATA} (CI always has it)")
