"""Worker processes: how many a caller may ask for, how they start, and which executors are taken.

One place for what :func:`healthcred.verify_all` (``workers=``, ``executor=``),
:class:`healthcred.flows.pool.VerifierPool` and batch issuance
(:func:`healthcred.batch.run.run_batch`) share. Processes start with **spawn**: a
forked child would inherit the parent's threads' locks (a Dask client, a log
handler) and an initialised PKCS#11 module, and spawn is what macOS and Windows
use anyway, so the three behave alike everywhere. As everywhere with spawn, a
script that starts workers does so under ``if __name__ == "__main__":`` (a
spawned child imports the main script again). What a worker needs comes to
it pickled: plain functions and data, never lambdas or open files.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor
from multiprocessing.context import SpawnContext
from typing import Final

from healthcred.errors import BadInput

__all__ = [
    "MAIN_GUARD",
    "MAX_WORKERS",
    "START_METHOD",
    "check_executor",
    "process_context",
    "refused_work",
    "unguarded_main",
    "worker_count",
]

MAX_WORKERS = 256
"""Most worker processes one call may ask for: beyond any machine's cores, short of a typo's 10**6."""

START_METHOD: Final = "spawn"
"""How every healthcred worker process starts (see the module doc for why not fork)."""


MAIN_GUARD = (
    "a script that starts worker processes (verify_all(workers=…), run_batch) must do so under"
    ' `if __name__ == "__main__":`'
)
"""What to do when spawn re-imported an unguarded main script: said wherever that shows."""


def unguarded_main(error: BaseException) -> bool:
    """Whether ``error`` is spawn refusing to start a process from a re-imported, unguarded main script."""
    return isinstance(error, RuntimeError) and "bootstrapping phase" in str(error)


def refused_work(error: BaseException) -> str:
    """Why an executor refused a task (its ``RuntimeError``) or spawn a process, in the caller's terms."""
    if unguarded_main(error):
        return f"worker processes start with spawn, which imports the main script again: {MAIN_GUARD}"
    return f"the executor takes no work: {error}"


def process_context() -> SpawnContext:
    """The multiprocessing context every healthcred process pool uses."""
    return multiprocessing.get_context(START_METHOD)


def worker_count(workers: object, *, name: str = "workers", least: int = 1) -> int:
    """``workers`` checked: an ``int`` from ``least`` to :data:`MAX_WORKERS`; else :class:`BadInput`.

    ``True``, ``"2"`` and ``2.0`` are refused rather than read as a number.
    """
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise BadInput(f"{name} must be an integer, not {type(workers).__name__} {workers!r}")
    if not least <= workers <= MAX_WORKERS:
        raise BadInput(f"{name} must be an integer from {least} to {MAX_WORKERS}, not {workers}")
    return workers


def check_executor(executor: object) -> Executor:
    """``executor`` if it is a :class:`concurrent.futures.Executor`; else :class:`BadInput`.

    A process pool, a Dask ``distributed.Client(...).get_executor()`` or a Ray executor all are.
    """
    if not isinstance(executor, Executor):
        raise BadInput(
            f"executor must be a concurrent.futures.Executor (a ProcessPoolExecutor, a Dask client's"
            f" get_executor()), not {type(executor).__name__}"
        )
    return executor
