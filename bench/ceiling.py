"""The machine's own ceiling for N cores on verification: N independent processes, no IPC at all.

``bench/all.py`` prints it beside the ``VerifierPool`` row, so a 2-core ratio below the target
can be read against what two cores of this machine give when nothing at all is shared. A module
of its own because spawned processes must import the function they run by its module's name.
"""

from __future__ import annotations

import multiprocessing
import queue
import re
import shutil
import subprocess
import time
from typing import Any

import healthcred
from bench import bench as harness

__all__ = ["independent_rate", "openssl_verify_rate", "verifies_per_second"]


def _share(store: Any, share: list[str], barrier: Any, out: Any) -> None:
    """One process's part: warm up, wait for the others, verify its share, report its times."""
    healthcred.verify_all(share[:50], store, at=harness.CHECKED)  # imports and caches, untimed
    barrier.wait()
    began = time.perf_counter()  # CLOCK_MONOTONIC on Linux: one clock for every process
    outcomes = healthcred.verify_all(share, store, at=harness.CHECKED)
    out.put((began, time.perf_counter(), all(isinstance(o, healthcred.VerificationResult) for o in outcomes)))


def independent_rate(store: Any, codes: list[str], workers: int) -> float:
    """Codes per second when ``workers`` separate processes each verify their share of ``codes``.

    The processes start together on a barrier and each times only its own ``verify_all``; the
    rate is all codes over the first start to the last end. A process that dies raises.
    """
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_share, args=(store, codes[i::workers], barrier, out)) for i in range(workers)
    ]
    for process in processes:
        process.start()
    times: list[tuple[float, float, bool]] = []
    try:
        while len(times) < workers:
            try:
                times.append(out.get(timeout=1))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise RuntimeError("a ceiling process died (see its traceback above)") from None
    finally:
        for process in processes:
            if process.is_alive() and len(times) < workers:
                process.terminate()
            process.join()
    assert all(ok for _, _, ok in times)
    return len(codes) / (max(end for _, end, _ in times) - min(began for began, _, _ in times))


_SPEED_LINE = re.compile(r"nistp256\)\s+\S+s\s+\S+s\s+[\d.]+\s+([\d.]+)\s*$")  # sign/s, verify/s last


def openssl_verify_rate(processes: int, seconds: int = 2) -> float | None:
    """P-256 verifies per second of ``openssl speed -multi N ecdsap256``: no Python at all.

    The same ratio taken from OpenSSL's own loop (N forked processes, nothing shared) tells
    whether a 2-core figure below 2× is the interpreter's or the machine's. ``None`` when no
    ``openssl`` command is installed, it cannot run or hangs, or its output has no P-256 line.
    """
    command = shutil.which("openssl")
    if command is None:
        return None
    args = [command, "speed", "-seconds", str(seconds), "-multi", str(processes), "ecdsap256"]
    try:
        run = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60 + 4 * seconds)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return verifies_per_second(run.stdout)


def verifies_per_second(speed_output: str) -> float | None:
    """The verify/s column of the P-256 line in ``openssl speed`` output (the last such line), or None."""
    rates = [float(m.group(1)) for line in speed_output.splitlines() if (m := _SPEED_LINE.search(line))]
    return rates[-1] if rates else None
