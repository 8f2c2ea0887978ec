"""A reader loading a trust folder while a writer changes it sees exactly the old or the new state.

Readers share ``.readers.lock`` while they read; a writer takes it alone only for its apply phase
(after passing ``.turnstile.lock``, which readers pass first). These tests run a writer and readers
side by side (bounded loops), and pause either side at a chosen step with events (no timing
asserts: every wait on an event has a generous guard and is asserted to have happened).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healthcred.cli.main import main
from healthcred.crypto.keys import save_public_key
from healthcred.errors import TrustFolderBusy, TrustStoreError
from healthcred.trust import transaction
from healthcred.trust.folder import load_folder_view, load_trust
from healthcred.trust.revocation import make_revocation_list
from healthcred.trust.store import TrustStore
from healthcred.trust.transaction import (
    LOCK_FILE,
    READ_LOCK_FILE,
    STAGING_DIR,
    TURNSTILE_FILE,
    folder_transaction,
    folder_view,
    read_folder,
)
from tests.helpers.world import T0, World, ts

GUARD = 60.0
"""Seconds an event wait may take before the test fails (a liveness guard; it never decides a pass)."""
READS = 60
"""Loads the reader makes while the writer keeps changing the folder."""
OLD, NEW = (0, 0), (1, 1)
"""(trust lists, revocation series) of the folder before and after the writer's change."""


def _cli(*args: object) -> None:
    main.main([str(a) for a in args], standalone_mode=False)


@pytest.fixture
def folder(world: World, tmp_path: Path) -> Path:
    save_public_key(world.root.public_key(), tmp_path / "root.pub.pem")
    _cli("trust", "init", tmp_path / "trust", "--anchor", tmp_path / "root.pub.pem")
    (tmp_path / "a.cose").write_bytes(world.trust_list)
    revoked = make_revocation_list(
        world.root, version=1, added=[b"\x01" * 16], issued_at=ts(T0), expires_at=2**31
    )
    (tmp_path / "r.cose").write_bytes(revoked)
    return tmp_path / "trust"


def _add(folder: Path) -> None:
    # One change, two sub-folders: a reader halfway through it would see one file but not the other.
    _cli("trust", "add", folder, folder.parent / "a.cose", folder.parent / "r.cose")


def _remove(folder: Path) -> None:
    _cli("trust", "remove", folder, "a.cose", "r.cose")


def _shape(store: TrustStore) -> tuple[int, int]:
    return len(store.lists), len(store.revocations)


@pytest.fixture
def widened(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stretch both sides' windows (a short sleep after each rename and each folder listing).

    Threads share the GIL, so a race that real processes run side by side is rare here; the sleeps
    make the reader's listings and the writer's renames interleave, and decide nothing themselves.
    """
    real_replace, real_scandir = os.replace, os.scandir

    def replace(*args: Any, **kwargs: Any) -> None:
        real_replace(*args, **kwargs)
        time.sleep(0.002)

    def scandir(*args: Any, **kwargs: Any) -> Any:
        entries = real_scandir(*args, **kwargs)
        time.sleep(0.001)
        return entries

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.usefixtures("widened")
def test_reader_in_a_loop_sees_old_or_new_while_a_writer_changes(folder: Path) -> None:
    """A load racing a writer got trust_store_error, or a mix of old and new files; now old or new."""
    stop, changes, errors = threading.Event(), [0], []

    def write() -> None:
        try:
            while not stop.is_set():
                (_remove if changes[0] % 2 else _add)(folder)
                changes[0] += 1
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    seen: list[object] = []
    try:
        for _ in range(READS):
            try:
                seen.append(_shape(load_trust(folder)))
            except TrustStoreError as exc:  # what a racing reader got before: counted as a failure
                seen.append(exc.code)
    finally:
        stop.set()
        writer.join(GUARD)
    assert not writer.is_alive() and not errors, errors
    assert set(seen) <= {OLD, NEW}, f"a reader saw neither state: {[s for s in seen if s not in (OLD, NEW)]}"
    assert changes[0] >= 1, "the writer changed nothing while the reader read: the test proved nothing"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def paused_rename(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Pause a writer thread right after its first rename into ``lists/`` (so before the next one)."""
    paused, resume = threading.Event(), threading.Event()
    real = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        real(src, dst, *args, **kwargs)
        writer = threading.current_thread() is not threading.main_thread()  # readers never rename
        into_place = Path(dst).parent.name == "lists" and Path(dst).parent.parent.name != STAGING_DIR
        if writer and into_place and not paused.is_set():
            paused.set()
            resume.wait(GUARD)

    monkeypatch.setattr(os, "replace", replace)
    yield paused, resume
    resume.set()


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> dict[str, threading.Event]:
    """An event per thread name, set when that thread first waits for a lock (the pause seam)."""
    events: dict[str, threading.Event] = {name: threading.Event() for name in ("reader", "writer")}
    real = transaction._pause

    def pause(seconds: float) -> None:
        event = events.get(threading.current_thread().name.split("-")[0])
        if event is not None:
            event.set()
        real(seconds)

    monkeypatch.setattr(transaction, "_pause", pause)
    return events


def _named(thread_name: str, work: Callable[[], object], results: list[object]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(work())
        except BaseException as exc:  # handed to the test thread, which checks it
            results.append(exc)

    thread = threading.Thread(target=run, name=thread_name, daemon=True)
    thread.start()
    return thread


def test_reader_waits_while_the_writer_is_between_two_renames(
    folder: Path,
    paused_rename: tuple[threading.Event, threading.Event],
    pauses: dict[str, threading.Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader could list lists/ after one rename and revocations/ before the next: now it waits."""
    paused, resume = paused_rename
    written: list[object] = []
    writer = _named("writer-add", lambda: _add(folder), written)
    assert paused.wait(GUARD), "the writer never reached its first rename"
    assert (folder / "lists" / "a.cose").exists() and not (folder / "revocations" / "r.cose").exists()

    with monkeypatch.context() as short:  # a reader that may not wait gives up, typed; it reads no mix
        short.setattr(transaction, "LOCK_WAIT_SECONDS", 0.0)
        with pytest.raises(TrustFolderBusy, match="was applied"):
            load_trust(folder)

    seen: list[object] = []
    reader = _named("reader-1", lambda: _shape(load_trust(folder)), seen)
    assert pauses["reader"].wait(GUARD), "the reader did not wait for the writer's lock"
    assert reader.is_alive() and not seen  # still waiting: the writer holds the folder
    resume.set()
    reader.join(GUARD)
    writer.join(GUARD)
    assert seen == [NEW] and written == [None]


def test_writer_waits_for_a_reader_that_built_its_view_before_the_change(
    folder: Path, pauses: dict[str, threading.Event]
) -> None:
    """A reader's view built before the record existed met files renamed later: now the writer waits."""
    reading, go = threading.Event(), threading.Event()

    def slow_read() -> tuple[int, int]:
        view = folder_view(folder)  # the folder as it is now: no record, no new files
        reading.set()
        go.wait(GUARD)
        return _shape(load_folder_view(view))

    seen: list[object] = []
    reader = _named("slowreader", lambda: read_folder(folder, slow_read), seen)
    assert reading.wait(GUARD)
    written: list[object] = []
    writer = _named("writer-add", lambda: _add(folder), written)
    assert pauses["writer"].wait(GUARD), "the writer did not wait for the reader"
    assert not (folder / ".transaction").exists() and not (folder / "lists" / "a.cose").exists()
    with open(folder / TURNSTILE_FILE, "rb") as gate, pytest.raises(BlockingIOError):
        fcntl.flock(gate.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)  # a reader arriving now queues
    go.set()
    reader.join(GUARD)
    writer.join(GUARD)
    assert seen == [OLD] and written == [None]
    assert _shape(load_trust(folder)) == NEW


def test_writer_gives_up_on_readers_after_the_bound_and_changes_nothing(
    folder: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer waiting for readers gives up with trust_folder_busy; nothing was committed or left staged."""
    reading, go = threading.Event(), threading.Event()

    def held_read() -> None:
        reading.set()
        go.wait(GUARD)

    reader = _named("slowreader", lambda: read_folder(folder, held_read), [])
    assert reading.wait(GUARD)
    before = _snapshot(folder)
    monkeypatch.setattr(transaction, "LOCK_WAIT_SECONDS", 0.0)
    try:
        with pytest.raises(TrustFolderBusy, match="readers kept the folder busy"):
            _put_and_commit(folder, "lists/a.cose", world.trust_list)
    finally:
        go.set()
        reader.join(GUARD)
    assert _snapshot(folder) == before and not (folder / ".staging").exists()


def _put_and_commit(folder: Path, rel: str, data: bytes) -> None:
    with folder_transaction(folder) as change:
        change.put(rel, data)
        change.commit()


def test_a_writers_own_validation_load_does_not_wait_for_itself(folder: Path) -> None:
    """flock locks of one process conflict across open files: the writer's own loads take no lock it holds."""
    with folder_transaction(folder):
        assert _shape(load_trust(folder)) == OLD
        assert _shape(read_folder(folder, lambda: load_trust(folder))) == OLD


def test_a_folder_without_lock_files_is_read_as_it_is(folder: Path, tmp_path: Path) -> None:
    """Read-only media hold no lock file (and are never written): a reader skips the lock, creates nothing."""
    _add(folder)
    copy = tmp_path / "media"
    shutil.copytree(folder, copy)
    for name in (LOCK_FILE, READ_LOCK_FILE, TURNSTILE_FILE):
        (copy / name).unlink()
    for sub in (copy, *(p for p in copy.iterdir() if p.is_dir())):
        sub.chmod(0o555)
    try:
        assert _shape(load_trust(copy)) == NEW
        assert not any(p.name.endswith(".lock") for p in copy.iterdir())
    finally:
        for sub in (copy, *(p for p in copy.iterdir() if p.is_dir())):
            sub.chmod(0o755)


def test_a_first_writer_during_a_lockless_read_makes_it_read_again(folder: Path) -> None:
    """A folder without lock files, and a first writer creating them mid-read: the read runs again, locked."""
    for name in (READ_LOCK_FILE, TURNSTILE_FILE):
        (folder / name).unlink()
    calls: list[int] = []

    def read() -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            with folder_transaction(folder):  # a writer's first step creates the readers' lock files
                pass
        return len(calls)

    assert read_folder(folder, read) == 2 and calls == [0, 1]
    assert (folder / READ_LOCK_FILE).is_file()


@pytest.mark.parametrize("name", [READ_LOCK_FILE, TURNSTILE_FILE, LOCK_FILE])
def test_a_lock_file_that_is_not_a_regular_file_is_refused_without_blocking(folder: Path, name: str) -> None:
    """A FIFO named like a lock file: opened without blocking, refused as trust_store_error."""
    (folder / name).unlink()
    os.mkfifo(folder / name)
    with pytest.raises(TrustStoreError, match="not a regular file"):
        _write_or_read(folder, write=name == LOCK_FILE)


def _write_or_read(folder: Path, *, write: bool) -> None:
    if not write:
        load_trust(folder)
        return
    with folder_transaction(folder):
        pass
