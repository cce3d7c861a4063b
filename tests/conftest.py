from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks import redis_server as local_redis

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


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A real redis-server on a free loopback port, and its URL. Skips the test where there
    is none, except in CI (CI=true), where a missing Redis fails the run."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    try:
        server, port = local_redis.start()
    except local_redis.NoRedis as error:
        pytest.fail(str(error))
    return server, f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The session's redis-server (see :func:`start_redis`): its URL."""
    server, url = start_redis()
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def redis_url(redis_server: str, request: pytest.FixtureRequest) -> str:
    """A namespace of its own in the session's Redis, for one test."""
    return f"{redis_server}?namespace=test-{abs(hash(request.node.nodeid)):x}"


def need_data() -> None:
    """Skip the calling test when the licensed evaluation data is not beside the project."""
    if not (DATA / "pages.jsonl.gz").exists():
        pytest.skip(f"evaluation data not found at {DATA} (CI always has it)")
