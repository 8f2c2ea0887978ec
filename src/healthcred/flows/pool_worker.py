"""What runs in a verifying worker: a pool's own process (:func:`serve`) or an executor's task.

A process a :class:`~healthcred.flows.pool.VerifierPool` starts gets its trust store once, as
the argument it starts with (keys travel as DER; each worker rebuilds its prepared verify
functions, see ``TrustEntry.__reduce__``), then serves chunks over a socket until the pool
closes its end. A worker of an executor the caller made (a Dask or Ray cluster's) gets the store
pickled with each chunk and unpickles it once, kept by the pool's token.
"""

from __future__ import annotations

import pickle
import signal
import socket
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from healthcred.errors import HealthCredError, WorkerFailed
from healthcred.flows.frames import read_frame, send_frame
from healthcred.flows.packing import Packed, pack, pack_error
from healthcred.flows.verify import verify
from healthcred.model import Status
from healthcred.trust.store import TrustStore

__all__ = ["Settings", "serve", "verify_chunk", "verify_codes"]

Settings = tuple[int, timedelta, timedelta, Mapping[int, Status] | None, Any]
"""What a batch verifies its codes with: ``at`` (epoch seconds), skew, grace, palette, QR backend."""

_KEPT_STORES = 4  # stores a worker of a shared executor keeps (by token) for pools that use it
_STORES: dict[str, TrustStore] = {}  # an executor worker's trust stores, by the token of their pool


def verify_codes(trust: TrustStore, codes: Sequence[Any], settings: Settings) -> list[Packed]:
    """Verify ``codes`` with ``trust``; every outcome packed, in order."""
    at, skew, grace, palette, backend = settings
    packed: list[Packed] = []
    for code in codes:
        try:
            result = verify(code, trust, at=at, skew=skew, grace=grace, palette=palette, qr_backend=backend)
        except HealthCredError as exc:
            packed.append(pack_error(exc))
        else:
            packed.append(pack(result))
    return packed


def serve(sock: socket.socket, trust: TrustStore) -> None:
    """A pool process's life: verify each chunk its pool sends and answer with the packed outcomes.

    It ends when the pool closes its end of ``sock``. It ignores Ctrl-C: a terminal sends
    SIGINT to every process of its group, and the pool, which gets it too, stops its workers
    itself; a worker that died of it would only print a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with sock:
        while True:
            try:
                task = read_frame(sock)
            except (EOFError, OSError):  # the pool closed its end, or its process is gone
                return
            try:
                send_frame(sock, _answer(task, trust))
            except OSError:
                return


def _answer(task: bytearray, trust: TrustStore) -> bytes:
    """``(True, outcomes)``; ``(False, why)`` for a failure that is no code's (the pool raises it)."""
    try:
        codes, settings = pickle.loads(task)  # noqa: S301  (from this worker's own pool)
        reply: tuple[bool, Any] = (True, verify_codes(trust, codes, settings))
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a defect, not a code's error: one typed error in the pool, not a hang
        return pickle.dumps((False, f"{type(exc).__name__}: {exc}"), protocol=pickle.HIGHEST_PROTOCOL)


def verify_chunk(task: tuple[str, bytes | None, Sequence[Any], Settings]) -> list[Packed]:
    """An executor's task: verify one chunk with the pool's store (unpickled once per worker)."""
    token, payload, codes, settings = task
    return verify_codes(_store(token, payload), codes, settings)


def _store(token: str, payload: bytes | None) -> TrustStore:
    store = _STORES.get(token)
    if store is None:
        if payload is None:
            raise WorkerFailed("a verifying worker holds no trust store for this pool")
        if len(_STORES) >= _KEPT_STORES:
            _STORES.pop(next(iter(_STORES)))
        # The pool sent it: pickled by VerifierPool from a loaded TrustStore.
        store = _STORES[token] = pickle.loads(payload)  # noqa: S301
    return store
