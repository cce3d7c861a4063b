"""A throwaway redis-server on a free loopback port, for the Redis benchmark and tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time


class NoRedis(RuntimeError):
    """redis-server is not installed, or did not start."""


def start(wait: float = 20.0) -> tuple[subprocess.Popen[bytes], int]:
    """Start redis-server without persistence on a free port of 127.0.0.1, wait until it
    answers PING, and return it with its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise NoRedis("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return server, port
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            server.wait()
            raise NoRedis("redis-server did not start")
        time.sleep(0.05)
