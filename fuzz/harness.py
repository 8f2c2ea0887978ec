"""What every target asserts, and the per-input cost record the campaign reports.

A call under :func:`expect` returns its result, or ``None`` when it raised a
:class:`~healthcred.errors.HealthCredError` whose ``code`` is listed in ``ERROR_CODES``; any
other exception — an untyped one, or a typed one with an unlisted code — propagates, so
libFuzzer reports it with the input. A result with ``summary()`` must serialise as JSON.

:class:`Target` wraps a target's one-input function with a CPU-time meter
(:func:`time.process_time`): the slowest input so far, its time and its bytes, are written to
``$HEALTHCRED_FUZZ_WORST/<target>.{bin,json}`` each time a new maximum is seen (rare after the
first seconds, so cheap; only inputs of at least :data:`RECORD_FROM` seconds are written, with
``write_atomic(durable=False)``), and the campaign reads them back as "worst input".
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fuzz.tmpfs import SCRATCH_ENV, memory_folder
from healthcred.errors import ERROR_CODES, HealthCredError
from healthcred.files import write_atomic

__all__ = [
    "FINDINGS_ENV",
    "RECORD_FROM",
    "WORST_ENV",
    "Finding",
    "Target",
    "attempt",
    "expect",
    "put",
    "refusal",
    "scratch",
    "summarised",
]

WORST_ENV = "HEALTHCRED_FUZZ_WORST"
"""Environment variable naming the folder where each target records its slowest input."""

FINDINGS_ENV = "HEALTHCRED_FUZZ_FINDINGS"
"""Environment variable naming a folder: when set, a finding is recorded there and fuzzing goes on.

Unset (the smoke, a plain ``python -m fuzz.run``), a finding propagates and libFuzzer stops on
it. Set (the campaign), each distinct finding — its exception type and the innermost
``healthcred`` frame — is written once, as the smallest input seen and its traceback, so one
known defect does not end a target's campaign. (libFuzzer's own ``-fork`` mode, which would
do this, does not work under atheris.)
"""
RECORD_FROM = 0.005
"""Inputs faster than this (CPU seconds) are never written out as the worst: they tell nothing."""

T = TypeVar("T")


class Finding(AssertionError):
    """The library broke its promise on this input (a typed error with an unlisted code, bad JSON)."""


def expect(call: Callable[[], T]) -> T | None:
    """``call()``'s result, or ``None`` if it raised a listed :class:`HealthCredError`; else it propagates."""
    return attempt(call)[0]


def attempt(call: Callable[[], T]) -> tuple[T | None, HealthCredError | None]:
    """As :func:`expect`, and the error too: ``(result, None)`` or ``(None, the listed error)``."""
    try:
        return call(), None
    except HealthCredError as exc:
        return None, refusal(exc)


def refusal(exc: HealthCredError) -> HealthCredError:
    """``exc``, after checking that its code is listed and its message is text (else a :class:`Finding`)."""
    if exc.code not in ERROR_CODES:
        raise Finding(f"{type(exc).__name__} has code {exc.code!r}, not in ERROR_CODES") from exc
    if not isinstance(exc.message, str):
        raise Finding(f"{type(exc).__name__}.message is not text") from exc
    return exc


def scratch() -> Path:
    """A fresh private folder (mode 0700) for a target's files, removed when the process ends.

    It lives in memory (:data:`fuzz.tmpfs.SHM`, a tmpfs) where the system has one: a file-based
    target writes and reads its files on every input, and on a disk each ``rename`` and each
    SQLite commit waits for the file system's journal — cost that is the disk's, not the
    library's. Elsewhere it is the system's temporary folder. Under atheris the process ends in
    libFuzzer's ``exit``, past Python's clean-up: ``fuzz.run`` and the campaign name a folder to
    hold it (:data:`~fuzz.tmpfs.SCRATCH_ENV`) and remove that folder when the target is done.
    """
    folder = Path(
        tempfile.mkdtemp(prefix="healthcred-fuzz-", dir=os.environ.get(SCRATCH_ENV) or memory_folder())
    )
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def put(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a file of a :func:`scratch` folder, in place.

    Not :func:`~healthcred.files.write_atomic`: nothing reads a scratch folder while a target
    writes it, and a temporary file and a rename on every input are cost the library never sees.
    """
    with open(path, "wb") as file:
        file.write(data)


def summarised(result: Any) -> Any:
    """``result`` after checking that its ``summary()`` (where it has one) is JSON; ``None`` passes."""
    summary = getattr(result, "summary", None)
    if result is not None and callable(summary):
        try:
            json.dumps(summary(), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise Finding(f"{type(result).__name__}.summary() is not JSON: {exc}") from exc
    return result


@dataclass
class Target:
    """One fuzz target: its entry point, seeds, and (optionally) a structure-aware mutator."""

    name: str
    run: Callable[[bytes], None]
    """The one-input function: raises only on a finding."""
    seeds: Callable[[], Iterable[bytes]]
    """Seed inputs, built at call time from ``vectors/`` and ``tests/data/`` (never stored)."""
    mutate: Callable[[bytes, int, int], bytes] | None = None
    """A libFuzzer custom mutator ``(data, max_size, seed) -> data``, or ``None`` for the default."""
    worst: float = field(default=0.0, init=False)
    """The most CPU seconds one input took in this process."""

    def one_input(self, data: bytes) -> None:
        """Run one input, metered; record it when it is the slowest so far."""
        start = time.process_time()
        try:
            self.run(data)
        except Exception as exc:  # the harness's job: a finding is recorded or reported, never lost
            if not os.environ.get(FINDINGS_ENV):
                raise
            self._finding(data, exc)
        finally:
            spent = time.process_time() - start
            if spent > self.worst:
                self.worst = spent
                self._record(data, spent)

    def _record(self, data: bytes, spent: float) -> None:
        folder = os.environ.get(WORST_ENV)
        if not folder or spent < RECORD_FROM:
            return
        where = Path(folder)
        where.mkdir(parents=True, exist_ok=True)
        # The input first, then its time: a reader that sees the time also finds its input.
        write_atomic(where / f"{self.name}.bin", data, durable=False)
        record = {"cpu_seconds": round(spent, 6), "bytes": len(data)}
        write_atomic(where / f"{self.name}.json", json.dumps(record), durable=False)

    def _finding(self, data: bytes, exc: Exception) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/healthcred/" in f.filename] or frames
        top = ours[-1]
        signature = f"{type(exc).__name__} at {Path(top.filename).name}:{top.lineno} ({top.name})"
        if isinstance(exc, Finding):  # raised by the harness itself: its message tells findings apart
            signature += f": {str(exc)[:80]}"
        where = Path(os.environ[FINDINGS_ENV]) / self.name
        stem = hashlib.sha1(signature.encode(), usedforsecurity=False).hexdigest()[:12]
        known = where / f"{stem}.bin"
        if known.exists() and known.stat().st_size <= len(data):
            return
        where.mkdir(parents=True, exist_ok=True)
        write_atomic(known, data, durable=False)
        text = "".join(traceback.format_exception(exc))
        write_atomic(where / f"{stem}.txt", f"{signature}\n\n{text}", durable=False)
