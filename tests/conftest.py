from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
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


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A real redis-server on a free loopback port, and its URL. Skips the test where there
    is none, except in CI (CI=true), where a missing Redis fails the run."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return server, f"redis://127.0.0.1:{port}/0"
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)


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
