"""Verification in worker processes: :class:`VerifierPool`, behind ``verify_all(..., workers=N)``.

A gate or a back end that verifies batches keeps one pool::

    with VerifierPool(trust, workers=2) as pool:
        outcomes = pool.verify_all(codes)          # one result or error per code, in order

The trust store goes to each worker **once**: as the pool initializer's argument
(``workers=N``: pickled once per process; keys travel as DER and each worker
rebuilds its prepared verify functions, see ``TrustEntry.__reduce__``), or, for
an executor this module did not make (``executor=``: a Dask or Ray executor),
pickled once here and sent with each chunk, unpickled once per worker and kept
there by a token. Codes go in chunks; outcomes come back **compact** — a native
result as a tuple of its plain fields, an error as its class, arguments and
attributes — and are rebuilt here without the checks the worker already made.
Pickling whole results cost more than verifying on one core (``docs/architecture.md``).

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
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from types import TracebackType
from typing import Any

from healthcred.clock import DEFAULT_SKEW, NO_GRACE, epoch_seconds
from healthcred.errors import BadInput, HealthCredError, TooLarge, WorkerFailed
from healthcred.flows.checks import allowances
from healthcred.flows.verify import MAX_BATCH, moment_at, verify
from healthcred.model import (
    HealthCode,
    IdTag,
    Status,
    Subject,
    VerificationResult,
)
from healthcred.model.credential import DOCUMENT_TYPE_BY_CODE, KIND_BY_CODE
from healthcred.model.record import unchecked_builder
from healthcred.trust.store import TrustStore
from healthcred.workers import check_executor, process_context, refused_work, worker_count

TYPE_CHECKING = False
if TYPE_CHECKING:
    from healthcred.codec.qr import Backend

__all__ = ["VerifierPool", "verify_in_workers"]

_NATIVE, _WHOLE, _ERROR = 0, 1, 2  # the first field of a packed outcome
_MAX_CHUNK = 1_000  # codes per task at most: ~0.2 s of one core, a task's cost paid ~1,000 times over
_MIN_CHUNK = 32  # the last tasks: ~6 ms of one core, so the cores finish within a few ms of each other
_EXECUTOR_CHUNK = 500  # per task of a foreign executor, whose worker count this side cannot know
_KEPT_STORES = 4  # stores a worker of a shared executor keeps (by token) for pools that use it

Packed = tuple[Any, ...]
"""One outcome as a worker sends it (see :func:`_pack`)."""


# --- the worker side ------------------------------------------------------------------------------

_STORES: dict[str, TrustStore] = {}  # a worker's trust stores, by the token of the pool that sent them


def _install(token: str, trust: TrustStore) -> None:
    """Pool initializer: the store arrives once per process."""
    _STORES[token] = trust


def _store(token: str, payload: bytes | None) -> TrustStore:
    store = _STORES.get(token)
    if store is None:
        if payload is None:
            raise WorkerFailed("a verifying worker holds no trust store for this pool")
        if len(_STORES) >= _KEPT_STORES:
            _STORES.pop(next(iter(_STORES)))
        # This process's own pool sent it: pickled by VerifierPool from a loaded TrustStore.
        store = _STORES[token] = pickle.loads(payload)  # noqa: S301
    return store


def _verify_chunk(
    task: tuple[
        str, bytes | None, Sequence[Any], int, timedelta, timedelta, Mapping[int, Status] | None, Any
    ],
) -> list[Packed]:
    """Verify one chunk of codes with the pool's store; outcomes packed, in order."""
    token, payload, codes, at, skew, grace, palette, backend = task
    trust = _store(token, payload)
    packed: list[Packed] = []
    for code in codes:
        try:
            result = verify(code, trust, at=at, skew=skew, grace=grace, palette=palette, qr_backend=backend)
        except HealthCredError as exc:
            packed.append(_pack_error(exc))
        else:
            packed.append(_pack(result))
    return packed


def _pack(result: VerificationResult) -> Packed:
    """A native result as a tuple of plain fields; a foreign one pickled whole (rare, and richer)."""
    code = result.credential
    if not isinstance(code, HealthCode):
        return (_WHOLE, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    subject, tag = code.subject, code.id_tag
    # One flat tuple of plain values: unpickling many small containers costs more than the fields.
    return (
        _NATIVE,
        code.version,
        int(code.kind),
        code.id,
        code.status.code,
        code.status.name,
        code.reason,
        subject.name,
        subject.birth_date,
        int(subject.document_type),
        subject.document_number,
        code.region,
        code.issued_at.timestamp(),
        code.expires_at.timestamp(),
        code.source_region,
        code.source_id,
        None if tag is None else tag.key_id,
        None if tag is None else tag.tag,
        result.kid,
        result.alg,
        result.key_region,
        result.trust_list_version,
        int(result.verified_at.timestamp()),
        result.warnings,
    )


def _pack_error(error: HealthCredError) -> Packed:
    """An error as its class (pickled by name), its arguments and its attributes (message, field…)."""
    return (_ERROR, type(error), error.args, dict(vars(error)))


# --- the parent side ------------------------------------------------------------------------------

# The worker checked every field; rebuilding skips the constructors' checks (docs/architecture.md).
_STATUS = unchecked_builder(Status)
_SUBJECT = unchecked_builder(Subject)
_ID_TAG = unchecked_builder(IdTag)
_HEALTH_CODE = unchecked_builder(HealthCode)
_RESULT = unchecked_builder(VerificationResult)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _unpack(packed: Packed, statuses: dict[tuple[int, str], Status]) -> VerificationResult | HealthCredError:
    """The outcome a worker packed, rebuilt; a worker already checked every field."""
    if packed[0] == _ERROR:
        _, cls, args, state = packed
        error: HealthCredError = cls.__new__(cls)
        error.args = args
        error.__dict__.update(state)
        return error
    if packed[0] == _WHOLE:
        return pickle.loads(packed[1])  # type: ignore[no-any-return]  # noqa: S301  (our worker's)
    (
        _,
        version,
        kind,
        ident,
        status_code,
        status_name,
        reason,
        name,
        birth,
        document,
        number,
        region,
        issued,
        expires,
        source_region,
        source_id,
        tag_kid,
        tag,
        kid,
        alg,
        key_region,
        list_version,
        verified,
        warnings,
    ) = packed
    status = statuses.get((status_code, status_name))
    if status is None:
        status = statuses[status_code, status_name] = _STATUS(status_code, status_name)
    credential = _HEALTH_CODE(
        version,
        KIND_BY_CODE[kind],
        ident,
        status,
        reason,
        _SUBJECT(name, birth, DOCUMENT_TYPE_BY_CODE[document], number),
        region,
        _moment(issued),
        _moment(expires),
        source_region,
        source_id,
        None if tag is None else _ID_TAG(tag_kid, tag),
    )
    return _RESULT(credential, kid, alg, key_region, list_version, moment_at(verified), warnings)


def _chunk_size(remaining: int, workers: int) -> int:
    """The next task's size: a quarter of each worker's share of what is left, within bounds."""
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
    """Whether ``code`` pickles as plain data (and may go to a worker)."""
    if isinstance(code, str | bytes | PurePath):
        return True
    return isinstance(code, list | tuple) and all(isinstance(part, str | bytes | PurePath) for part in code)


class VerifierPool:
    """Worker processes that each hold one trust store and verify codes in chunks; reuse it.

    ``workers`` processes of its own (default: one per CPU; ``1`` verifies in this
    process, no pool), started on first use with the spawn method
    (:mod:`healthcred.workers`), or ``executor``: any
    :class:`concurrent.futures.Executor` (a Dask ``Client.get_executor()``), which
    the caller keeps and closes. Start-up (a process imports healthcred, ~0.2–0.5 s)
    dominates small batches: a gate or back end keeps one pool for its life.
    Close it with :meth:`close` or a ``with`` block. The store is fixed: a new
    trust store needs a new pool.
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
        """Workers of its own, this process counted (0 with an ``executor``; 1: only this process).

        ``workers=N`` starts N − 1 processes: the calling process verifies chunks too while
        they verify theirs, so N cores do N workers' work (measured: the caller's unpacking
        otherwise took CPU from two busy processes on two cores)."""
        self._own: ProcessPoolExecutor | None = None
        self._closed = False

    def _executor(self) -> Executor:
        if self._closed:
            raise BadInput("this VerifierPool is closed")
        if self._given is not None:
            return self._given
        if self._own is None:
            self._own = ProcessPoolExecutor(
                self.workers - 1,  # this process is the N-th worker (see verify_all)
                mp_context=process_context(),
                initializer=_install,
                initargs=(self._token, self._trust),
            )
        return self._own

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
        outcomes: list[VerificationResult | HealthCredError | None] = [None] * len(batch)
        here = functools.partial(
            verify, at=moment, skew=skew, grace=grace, palette=palette, qr_backend=qr_backend
        )
        # One worker is this process: no pool, no pickling.
        sent = [i for i, code in enumerate(batch) if _plain(code)] if self.workers != 1 else []
        for i in sorted(set(range(len(batch))).difference(sent)):  # what cannot travel stays here
            outcomes[i] = _outcome(here, batch[i], self._trust)
        args = (moment, skew, grace, palette, qr_backend)
        if self._given is not None:  # a foreign executor: every chunk sent at once, none verified here
            chunks = [sent[i : i + _EXECUTOR_CHUNK] for i in range(0, len(sent), _EXECUTOR_CHUNK)]
            return self._gather(
                [(chunk, self._submit([batch[i] for i in chunk], *args)) for chunk in chunks], outcomes
            )
        # In flight: (positions, future). This process is one of the ``workers``: it verifies the
        # next chunk itself whenever every process has two queued, so N processes' worth of work
        # runs on N cores and no core waits for this one's unpacking. Chunks shrink as the batch
        # runs out (guided scheduling), so at the end no core idles while another finishes a
        # large chunk: the last ones hold ~_MIN_CHUNK codes.
        flight: collections.deque[tuple[list[int], Future[list[Packed]]]] = collections.deque()
        depth = 2 * max(1, self.workers - 1)
        statuses: dict[tuple[int, str], Status] = {}
        done = 0
        try:
            while done < len(sent):
                chunk = sent[done : done + _chunk_size(len(sent) - done, self.workers)]
                done += len(chunk)
                while flight and flight[0][1].done():
                    self._take(flight.popleft(), outcomes, statuses)
                if len(flight) < depth:
                    flight.append((chunk, self._submit([batch[i] for i in chunk], *args)))
                else:
                    for i in chunk:
                        outcomes[i] = _outcome(here, batch[i], self._trust)
            while flight:
                self._take(flight.popleft(), outcomes, statuses)
        finally:
            for _, future in flight:
                future.cancel()
        return outcomes  # type: ignore[return-value]  # every slot is filled above

    def _submit(
        self,
        codes: list[Any],
        at: int,
        skew: timedelta,
        grace: timedelta,
        palette: Mapping[int, Status] | None,
        backend: Any,
    ) -> Future[list[Packed]]:
        executor = self._executor()
        try:
            return executor.submit(
                _verify_chunk, (self._token, self._payload, codes, at, skew, grace, palette, backend)
            )
        except BrokenProcessPool as exc:
            self._discard()
            raise WorkerFailed(f"the verifying processes stopped: {exc}") from exc
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
            for task in flight:
                self._take(task, outcomes, statuses)
        finally:
            for _, future in flight:
                future.cancel()
        return outcomes  # type: ignore[return-value]  # every slot is filled

    def _take(
        self,
        task: tuple[list[int], Future[list[Packed]]],
        outcomes: list[VerificationResult | HealthCredError | None],
        statuses: dict[tuple[int, str], Status],
    ) -> None:
        positions, future = task
        for i, packed in zip(positions, self._result(future), strict=True):
            outcomes[i] = _unpack(packed, statuses)

    def _result(self, future: Future[list[Packed]]) -> list[Packed]:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._discard()
            raise WorkerFailed(
                f"a verifying process stopped ({exc}): nothing of this batch is returned"
            ) from exc
        except WorkerFailed:
            raise
        except Exception as exc:  # whatever an executor or its transport raised: one typed error
            raise WorkerFailed(f"a verifying worker failed: {type(exc).__name__}: {exc}") from exc

    def _discard(self) -> None:
        # A broken process pool takes no more work: the next call starts a new one.
        if self._own is not None:
            self._own.shutdown(wait=False, cancel_futures=True)
            self._own = None

    def close(self) -> None:
        """Stop this pool's own processes (an ``executor`` given is the caller's to shut down)."""
        self._closed = True
        if self._own is not None:
            self._own.shutdown(wait=True, cancel_futures=True)
            self._own = None

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


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
