"""Start ``healthcred station`` as a subprocess on a free port, for the HTTP and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.station.conftest import Demo

__all__ = ["Station", "start_station"]


@dataclass(frozen=True)
class Station:
    """A running station: its demo folder, port and operator token."""

    demo: Demo
    port: int
    token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_token(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for _ in range(10):
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("operator token"):
            return line.rsplit(" ", 1)[1].strip()
    process.kill()
    raise AssertionError(f"the station did not start: {process.communicate(timeout=5)}")


@contextmanager
def start_station(demo: Demo, *extra: str) -> Iterator[Station]:
    """The demo's station (mall, high risk, its place code, ID key and scan log) until the block ends.

    On the way out the station is stopped, and its stderr must hold no traceback.
    """
    port = _free_port()
    command = [
        sys.executable, "-m", "healthcred", "station", "--trust", str(demo.trust), "--scene", "mall",
        "--level", "high", "--place", str(demo.root / "codes" / "place-mall.txt"), "--id-key",
        str(demo.id_key), "--log", str(demo.log), "--log-key", str(demo.log_key), "--port", str(port),
        "--repeat", "600", *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        yield Station(demo, port, _read_token(process))
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
        assert "Traceback" not in errors and "internal error" not in errors, errors
