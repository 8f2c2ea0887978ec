"""The machine's own ceiling for N cores on verification: N independent processes, no IPC at all.

``bench/all.py`` prints it beside the ``VerifierPool`` row, so a 2-core ratio below the target
can be read against what two cores of this machine give when nothing at all is shared. A module
of its own because spawned processes must import the function they run by its module's name.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from typing import Any

import healthcred
from bench import bench as harness

__all__ = ["independent_rate"]


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
