"""Verification in worker processes: :class:`VerifierPool`, behind ``verify_all(..., workers=N)``.

A gate or a back end that verifies batches keeps one pool::

    with VerifierPool(trust, workers=2) as pool:
        outcomes = pool.verify_all(codes)          # one result or error per code, in order

``workers=N`` runs N − 1 processes of the pool's own and this one: the calling process
verifies codes too, a few at a time, and between them looks at its workers' sockets — takes
the outcomes that have come back, sends each worker its next chunk — so no thread of this
process ever competes with it for the interpreter (an executor's feeder and result threads
did: measured, ``docs/parallel.md``). The trust store goes to each worker **once**, as the
argument it starts with (:mod:`healthcred.flows.pool_worker`). Codes go in chunks that shrink as
the batch runs out; outcomes come back **compact** (:mod:`healthcred.flows.packing`) and are
rebuilt here without the checks the worker already made. An ``executor`` the caller made (a
Dask or Ray one) gets the store pickled with each chunk, unpickled once per worker.

Only codes that pickle as plain data go to the workers: text (``str``), bytes,
:class:`pathlib.PurePath` image paths and lists or tuples of those (SHC chunks).
Anything else (a PIL image, a parsed ``ShcMessage``, a wrong type) is verified
here, in order, exactly as :func:`~healthcred.flows.verify.verify_all` does.
"""

from __future__ import annotations

import collections
import functools
import itertools
import os
import pickle
import selectors
import socket
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.process import BaseProcess
from pathlib import PosixPath, PurePosixPath, PureWindowsPath, WindowsPath
from types import TracebackType
from typing import Any

from healthcred.clock import DEFAULT_SKEW, NO_GRACE, epoch_seconds
from healthcred.errors import BadInput, HealthCredError, TooLarge, WorkerFailed
from healthcred.flows.checks import allowances
from healthcred.flows.frames import Channel
from healthcred.flows.packing import Packed, unpack
from healthcred.flows.pool_worker import Settings, serve, verify_chunk
from healthcred.flows.verify import MAX_BATCH, verify
from healthcred.model import Status, VerificationResult
from healthcred.trust.store import TrustStore
from healthcred.workers import (
    MAIN_GUARD,
    check_executor,
    process_context,
    refused_work,
    unguarded_main,
    worker_count,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from healthcred.codec.qr import Backend

__all__ = ["VerifierPool", "verify_in_workers"]

_MAX_CHUNK = 1_000  # codes per chunk at most: ~70 ms of one core, a chunk's cost paid ~1,000 times over
_MIN_CHUNK = 32  # the last chunks: ~2 ms of one core, so the cores finish within a few ms of each other
_AHEAD = 2  # chunks a worker holds: the one it verifies and the next, waiting in its socket
_HERE = 16  # codes this process verifies between looks at its workers (~1 ms of native codes)
_EXECUTOR_CHUNK = 500  # per task of a foreign executor, whose worker count this side cannot know
_STOP_WAIT = 5.0  # seconds a closed worker has to finish its chunk and exit before it is killed
_EXIT_WAIT = 1.0  # seconds a worker whose socket closed has to be reaped, for its exit status
_UNCAUGHT = 1  # the exit status of a Python process that died of an exception (its own, on stderr)
_PLAIN = (str, bytes, PurePosixPath, PureWindowsPath, PosixPath, WindowsPath)  # exactly: no subclass


def _chunk_size(remaining: int, workers: int) -> int:
    """The next chunk's size: a quarter of each worker's share of what is left, within bounds."""
    return max(_MIN_CHUNK, min(_MAX_CHUNK, -(-remaining // (4 * max(1, workers)))))


def _outcome(
    here: Callable[..., VerificationResult], code: Any, trust: TrustStore
) -> VerificationResult | HealthCredError:
    """One code verified in this process: its result, or the error it raised."""
    try:
        return here(code, trust)
    except HealthCredError as exc:
        return exc


def _plain(code: object) -> bool:
    """Whether ``code`` pickles as plain data (and may go to a worker).

    Exact types: a subclass (of ``str``, say) may be one pickle cannot name, defined in a function.
    """
    if type(code) in _PLAIN:
        return True
    return (
        isinstance(code, list | tuple)
        and type(code) in (list, tuple)
        and all(type(p) in _PLAIN for p in code)
    )


@dataclass(eq=False)
class _Worker:
    """One process of a pool's own, its channel, and the positions of the chunks it holds."""

    process: BaseProcess
    channel: Channel
    chunks: collections.deque[list[int]] = field(default_factory=collections.deque)
    watching: int = selectors.EVENT_READ  # what the selector waits for on its socket
    answered: bool = False  # whether it has ever answered: one that never did most likely failed to start

    def stopped(self) -> WorkerFailed:
        """The error for a worker whose end closed: it stopped (its exit status, when known)."""
        self.process.join(timeout=_EXIT_WAIT)
        status = self.process.exitcode
        how = "" if status is None else f", exit status {status}" if status >= 0 else f", signal {-status}"
        died = status == _UNCAUGHT and not self.answered
        why = (
            f"; it died of an error before its first answer, printed on stderr ({MAIN_GUARD})" if died else ""
        )
        return WorkerFailed(
            f"a verifying process stopped ({self.process.name}{how}): nothing of this batch is returned{why}"
        )


class _Run:
    """One batch spread over this process and the pool's workers (see the module doc)."""

    def __init__(
        self,
        batch: list[Any],
        sent: list[int],
        outcomes: list[VerificationResult | HealthCredError | None],
        workers: list[_Worker],
        selector: selectors.BaseSelector,
        settings: Settings,
    ) -> None:
        self.batch, self.sent, self.outcomes = batch, sent, outcomes
        self.workers, self.selector, self.settings = workers, selector, settings
        self.cursor = 0  # sent[:cursor] are verified here or in a worker's hands
        self.statuses: dict[tuple[int, str], Status] = {}

    def run(self, here: Callable[..., VerificationResult], trust: TrustStore) -> None:
        """Verify ``_HERE`` codes at a time here, looking at the workers in between; then wait for theirs."""
        sent, batch, outcomes = self.sent, self.batch, self.outcomes
        while self.cursor < len(sent):
            self.look(0.0)
            mine = sent[self.cursor : self.cursor + _HERE]
            self.cursor += len(mine)
            for i in mine:
                outcomes[i] = _outcome(here, batch[i], trust)
        while any(worker.chunks for worker in self.workers):
            self.look(None)

    def look(self, timeout: float | None) -> None:
        """Take what came back (waiting at most ``timeout``), then send what each worker can take."""
        self.answers(timeout)
        self.feed()

    def answers(self, timeout: float | None) -> None:
        """Whole answers into their places, and queued bytes out, as the sockets allow."""
        for key, events in self.selector.select(timeout):
            worker: _Worker = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    worker.channel.flush()
                if events & selectors.EVENT_READ:
                    for frame in worker.channel.receive():
                        self.take(worker, frame)
            except EOFError:
                raise worker.stopped() from None

    def feed(self) -> None:
        """Each worker its next chunks, up to ``_AHEAD``; the selector told what to wait for."""
        for worker in self.workers:
            try:
                while len(worker.chunks) < _AHEAD and self.cursor < len(self.sent):
                    self.send(worker)
            except EOFError:
                raise worker.stopped() from None
            watching = selectors.EVENT_READ | (selectors.EVENT_WRITE if worker.channel.sending else 0)
            if watching != worker.watching:
                self.selector.modify(worker.channel.sock, watching, worker)
                worker.watching = watching

    def send(self, worker: _Worker) -> None:
        """The next chunk, to ``worker``."""
        chunk = self.sent[
            self.cursor : self.cursor + _chunk_size(len(self.sent) - self.cursor, len(self.workers) + 1)
        ]
        self.cursor += len(chunk)
        codes = [self.batch[i] for i in chunk]
        worker.channel.put(pickle.dumps((codes, self.settings), protocol=pickle.HIGHEST_PROTOCOL))
        worker.chunks.append(chunk)

    def take(self, worker: _Worker, frame: bytearray) -> None:
        """A chunk's outcomes, into their places."""
        try:
            done, body = pickle.loads(frame)  # noqa: S301  (this pool's own worker)
            chunk = worker.chunks.popleft()
        except Exception as exc:  # not what this pool's worker sends: a defect, one typed error
            raise WorkerFailed(
                f"a verifying worker's answer could not be read: {type(exc).__name__}: {exc}"
            ) from exc
        if not done:
            raise WorkerFailed(f"a verifying worker failed: {body}")
        if len(body) != len(chunk):
            raise WorkerFailed(f"a verifying worker answered {len(body)} outcomes for {len(chunk)} codes")
        worker.answered = True
        statuses, outcomes = self.statuses, self.outcomes
        for i, packed in zip(chunk, body, strict=True):
            outcomes[i] = unpack(packed, statuses)


class VerifierPool:
    """Worker processes that each hold one trust store and verify codes in chunks; reuse it.

    ``workers`` processes, this one counted (default: one per CPU; ``1`` verifies
    in this process, no pool): N − 1 started on first use with the spawn method
    (:mod:`healthcred.workers`), or ``executor``: any
    :class:`concurrent.futures.Executor` (a Dask ``Client.get_executor()``), which
    the caller keeps and closes. Start-up (a process imports healthcred, ~0.2–0.5 s)
    dominates small batches: a gate or back end keeps one pool for its life.
    Close it with :meth:`close` or a ``with`` block. The store is fixed: a new
    trust store needs a new pool. Threads may share a pool: their batches take turns.
    """

    def __init__(
        self, trust: TrustStore, *, workers: int | None = None, executor: Executor | None = None
    ) -> None:
        """Check the arguments; no process starts before the first :meth:`verify_all`."""
        if not isinstance(trust, TrustStore):
            raise BadInput(f"trust must be a TrustStore (see load_trust), not {type(trust).__name__}")
        if executor is not None and workers is not None:
            raise BadInput("give workers or executor, not both")
        self._trust = trust
        self._token = uuid.uuid4().hex
        self._given: Executor | None = check_executor(executor) if executor is not None else None
        self._payload = (
            pickle.dumps(trust, protocol=pickle.HIGHEST_PROTOCOL) if executor is not None else None
        )
        self.workers: int = (
            0 if executor is not None else worker_count((os.cpu_count() or 1) if workers is None else workers)
        )
        """Processes verifying, this one counted (0 with an ``executor``; 1: only this process).

        ``workers=N`` starts N − 1 processes: the calling process verifies codes too while
        they verify theirs, so N cores do N workers' work (measured: the caller's unpacking
        otherwise took CPU from two busy processes on two cores)."""
        self._own: list[_Worker] | None = None
        self._selector: selectors.BaseSelector | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None  # stops them if the pool is dropped
        self._owner = os.getpid()  # a forked child must not talk on its parent's sockets
        self._lock = threading.Lock()
        self._closed = False

    def _workers(self) -> tuple[list[_Worker], selectors.BaseSelector]:
        if self._own is None or self._selector is None:
            self._own, self._selector = self._start()
            self._finalizer = weakref.finalize(self, _end, self._own, self._selector, wait=0.0)
        return self._own, self._selector

    def _start(self) -> tuple[list[_Worker], selectors.BaseSelector]:
        """N − 1 processes started, and a selector over their sockets; all or none."""
        context = process_context()
        started: list[_Worker] = []
        selector: selectors.BaseSelector | None = None
        try:
            for n in range(1, self.workers):
                mine, theirs = socket.socketpair()
                process = context.Process(
                    target=serve, args=(theirs, self._trust), name=f"healthcred-verifier-{n}", daemon=True
                )
                try:
                    process.start()
                finally:
                    theirs.close()  # the worker holds its own copy: its end closes when it dies
                started.append(_Worker(process, Channel(mine)))
            selector = selectors.DefaultSelector()
            for worker in started:
                selector.register(worker.channel.sock, worker.watching, worker)
        except BaseException as exc:
            _end(started, selector, wait=0.0)
            if unguarded_main(exc):
                raise WorkerFailed(refused_work(exc)) from exc
            if isinstance(exc, Exception):  # no fds left, a store that cannot be pickled, ...
                raise WorkerFailed(
                    f"the verifying processes could not start: {type(exc).__name__}: {exc}"
                ) from exc
            raise  # Ctrl-C
        return started, selector

    def _forget_parents(self) -> None:
        """In a forked child: the parent's processes are not this one's; its lock may be held."""
        own, selector = self._let_go()
        _close(own, selector)  # this process's copies of the sockets only: the parent's work on
        self._lock = threading.Lock()
        self._owner = os.getpid()

    def _let_go(self) -> tuple[list[_Worker], selectors.BaseSelector | None]:
        """This pool's processes and selector, no longer its own (and no longer stopped on its drop)."""
        own, selector, finalizer = self._own or [], self._selector, self._finalizer
        self._own = self._selector = self._finalizer = None
        if finalizer is not None:
            finalizer.detach()
        return own, selector

    def verify_all(
        self,
        codes: Iterable[Any],
        *,
        at: datetime | int | float | None = None,
        skew: timedelta = DEFAULT_SKEW,
        grace: timedelta = NO_GRACE,
        palette: Mapping[int, Status] | None = None,
        qr_backend: Backend = "zxing",
    ) -> list[VerificationResult | HealthCredError]:
        """What :func:`healthcred.verify_all` returns for ``codes``, verified by the workers.

        Raises :class:`WorkerFailed` when a worker stops or fails (nothing of the batch is
        returned; the next call starts new processes) and what ``verify_all`` raises for its
        arguments.
        """
        if self._closed:
            raise BadInput("this VerifierPool is closed")
        if self._owner != os.getpid():
            self._forget_parents()
        if isinstance(codes, str | bytes) or not isinstance(codes, Iterable):
            raise BadInput("codes must be an iterable of codes (a str is one code: use verify)")
        allowances(self._trust, skew, grace)
        if palette is not None and not isinstance(palette, Mapping):
            raise BadInput("palette must map status codes to Status")
        if qr_backend not in ("zxing", "pyzbar"):
            raise BadInput(f"qr_backend must be 'zxing' or 'pyzbar', not {qr_backend!r}")
        moment = epoch_seconds(at)  # one clock for the whole batch
        batch = list(itertools.islice(codes, MAX_BATCH + 1))
        if len(batch) > MAX_BATCH:
            raise TooLarge(f"a batch holds at most {MAX_BATCH} codes")
        settings: Settings = (moment, skew, grace, palette, qr_backend)
        outcomes: list[VerificationResult | HealthCredError | None] = [None] * len(batch)
        here = functools.partial(
            verify, at=moment, skew=skew, grace=grace, palette=palette, qr_backend=qr_backend
        )
        # One worker is this process: no pool, no pickling.
        sent = [i for i, code in enumerate(batch) if _plain(code)] if self.workers != 1 else []
        if sent:  # refused whatever the batch's size, so that a bigger one cannot fail where this did not
            _check_pickles(settings)
        if self._given is None and len(sent) <= _MIN_CHUNK:
            sent = []  # a round trip to a worker costs more than these few codes (a gate's one scan)
        for i in sorted(set(range(len(batch))).difference(sent)):  # what cannot travel stays here
            outcomes[i] = _outcome(here, batch[i], self._trust)
        if not sent:
            return outcomes  # type: ignore[return-value]  # every slot is filled above
        if self._given is not None:  # a foreign executor: every chunk sent at once, none verified here
            chunks = [sent[i : i + _EXECUTOR_CHUNK] for i in range(0, len(sent), _EXECUTOR_CHUNK)]
            return self._gather(
                [(chunk, self._submit([batch[i] for i in chunk], settings)) for chunk in chunks], outcomes
            )
        with self._lock:  # one batch at a time on the sockets
            workers, selector = self._workers()
            try:
                _Run(batch, sent, outcomes, workers, selector, settings).run(here, self._trust)
            except BaseException:
                self._discard()  # chunks in flight would answer the next batch: these processes go
                raise
        return outcomes  # type: ignore[return-value]  # every slot is filled above

    def _submit(self, codes: list[Any], settings: Settings) -> Future[list[Packed]]:
        assert self._given is not None
        try:
            return self._given.submit(verify_chunk, (self._token, self._payload, codes, settings))
        except RuntimeError as exc:  # an executor that was shut down
            raise WorkerFailed(refused_work(exc)) from exc

    def _gather(
        self,
        flight: list[tuple[list[int], Future[list[Packed]]]],
        outcomes: list[VerificationResult | HealthCredError | None],
    ) -> list[VerificationResult | HealthCredError]:
        """Every task's outcomes into their places, in order of submission."""
        statuses: dict[tuple[int, str], Status] = {}
        try:
            for positions, future in flight:
                for i, packed in zip(positions, _result(future), strict=True):
                    outcomes[i] = unpack(packed, statuses)
        finally:
            for _, future in flight:
                future.cancel()
        return outcomes  # type: ignore[return-value]  # every slot is filled

    def _discard(self) -> None:
        # Workers that stopped, failed or hold chunks of an abandoned batch: the next call starts anew.
        _end(*self._let_go(), wait=0.0)

    def close(self) -> None:
        """Stop this pool's own processes (an ``executor`` given is the caller's to shut down)."""
        self._closed = True
        if self._owner != os.getpid():
            self._forget_parents()
        with self._lock:
            _end(*self._let_go(), wait=_STOP_WAIT)

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _close(workers: Sequence[_Worker], selector: selectors.BaseSelector | None) -> None:
    """Close this process's end of each worker's socket, and the selector over them."""
    if selector is not None:
        selector.close()
    for worker in workers:
        worker.channel.close()


def _end(workers: Sequence[_Worker], selector: selectors.BaseSelector | None, *, wait: float) -> None:
    """Close each worker's channel (it exits at its next read); kill what still runs after ``wait`` s."""
    _close(workers, selector)
    for worker in workers:
        worker.process.join(timeout=wait)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()


def _check_pickles(settings: Settings) -> None:
    """A palette that cannot travel to the workers is the caller's error, said before any work."""
    try:
        pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise BadInput(
            f"the palette cannot be sent to worker processes ({type(exc).__name__}: {exc});"
            " give a plain dict of Status values, or workers=1"
        ) from exc


def _result(future: Future[list[Packed]]) -> list[Packed]:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise WorkerFailed(f"a verifying process stopped ({exc}): nothing of this batch is returned") from exc
    except WorkerFailed:
        raise
    except Exception as exc:  # whatever an executor or its transport raised: one typed error
        raise WorkerFailed(f"a verifying worker failed: {type(exc).__name__}: {exc}") from exc


def verify_in_workers(
    codes: Iterable[Any],
    trust: TrustStore,
    *,
    workers: int | None,
    executor: Executor | None,
    at: datetime | int | float | None,
    skew: timedelta,
    grace: timedelta,
    palette: Mapping[int, Status] | None,
    qr_backend: Backend,
) -> list[VerificationResult | HealthCredError]:
    """One batch through a pool made for it and closed after it (``verify_all(workers=N)``)."""
    with VerifierPool(trust, workers=workers, executor=executor) as pool:
        return pool.verify_all(codes, at=at, skew=skew, grace=grace, palette=palette, qr_backend=qr_backend)
