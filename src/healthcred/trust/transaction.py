"""Changes to a trust folder that survive a crash at any instant: a roll-forward journal.

A writer takes the folder's lock (``.lock``, ``flock``), finishes any change a
crashed writer left (:func:`recover`), then stages the new contents of every
file it changes under ``.staging/`` (same relative path, fsync'd), and writes
one small intent record, ``.transaction``, atomically: the files to put (path,
SHA-256, size), the files to delete, and the version floor to merge into
``state.json``. Writing the record is the commit point. The writer then
applies it (renames from ``.staging/``, unlinks, the state, each folder
fsync'd) and deletes the record.

A reader (:func:`read_folder` around :func:`folder_view`) never writes. It
holds a shared ``flock`` on ``.readers.lock`` while it reads, and a writer
takes that lock exclusively only to write and apply its record (the apply
phase, a few renames), so a reader sees the folder before a change or after
it, never halfway. A writer takes ``.turnstile.lock`` before it waits for the
readers to leave, and readers pass through it before they share
``.readers.lock``, so a stream of readers cannot starve a writer. Each side
waits for the other at most :data:`LOCK_WAIT_SECONDS`, then gets
``trust_folder_busy``. When a reader finds
a record (a writer died after its commit point), it presents the folder as if
the record had been applied — a put is read from
``.staging/`` while it is still there, else from its place; a deleted file is
not there; the record's floor is merged into the state's. So after a kill at
any instant a folder reads as exactly the old or the new state. Staged files
without a record are a change that never committed: readers ignore them and
the next writer removes them. ``docs/trust.md`` describes the record for
other implementations.

:func:`build_folder` creates a whole folder (``trust init``) under a hidden
name beside its place and renames it there, so a folder exists complete or
not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from healthcred.errors import HealthCredError, TrustEquivocation, TrustFolderBusy, TrustStoreError
from healthcred.files import TEMPORARY_SUFFIX, sync_folder, write_atomic
from healthcred.trust.state import (
    STATE_FILE,
    merge_digests,
    merge_state,
    parse_digests,
    read_state,
    save_state,
)

__all__ = [
    "LOCK_FILE",
    "LOCK_WAIT_SECONDS",
    "MAX_RECORD_BYTES",
    "READ_LOCK_FILE",
    "RECORD_FILE",
    "RECORD_FORMAT",
    "STAGING_DIR",
    "TURNSTILE_FILE",
    "FolderView",
    "Transaction",
    "build_folder",
    "folder_transaction",
    "folder_view",
    "read_folder",
    "recover",
]

RECORD_FILE = ".transaction"
"""The intent record of a change being applied (JSON); present only between commit and completion."""
STAGING_DIR = ".staging"
"""Where a writer stages new file contents, under their paths relative to the folder."""
LOCK_FILE = ".lock"
"""The file writers lock (``flock``) so that one writer at a time changes a folder."""
READ_LOCK_FILE = ".readers.lock"
"""The file readers lock shared while they read, and a writer exclusively while it applies a change."""
TURNSTILE_FILE = ".turnstile.lock"
"""The file a writer locks before it waits for readers to leave; readers pass it first, so none cuts in."""
LOCK_WAIT_SECONDS = 10.0
"""Longest a reader waits for a writer's apply phase, or a writer for readers: then ``trust_folder_busy``."""
RECORD_FORMAT = 2
"""Version of the record's layout (its ``format`` member); format 1 (no ``digests``) is still read."""
_RECORD_MEMBERS = {
    1: {"format", "puts", "deletes", "versions"},
    2: {"format", "puts", "deletes", "versions", "digests"},
}
_FIRST_PAUSE, _LONGEST_PAUSE = 0.001, 0.05  # seconds between lock attempts: doubling, capped
T = TypeVar("T")
MAX_RECORD_BYTES = 1024 * 1024
"""A larger record is refused as damaged (``trust_store_error``): 1 MiB holds thousands of changes."""
_INIT_SUFFIX = ".init"


def _relative(text: object) -> str:
    # A record names files inside the folder only: one or two plain, visible path parts.
    if not isinstance(text, str) or "\\" in text or "\0" in text:
        raise TrustStoreError(f"{RECORD_FILE}: {text!r} is not a path inside the folder")
    parts = PurePosixPath(text).parts
    if not 1 <= len(parts) <= 2 or "/".join(parts) != text or any(p.startswith(".") for p in parts):
        raise TrustStoreError(f"{RECORD_FILE}: {text!r} is not a path inside the folder")
    return text


@dataclass(frozen=True, slots=True)
class _Record:
    puts: dict[str, tuple[str, int]]  # path → (sha256 hex, size)
    deletes: frozenset[str]
    versions: dict[str, int]
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)  # series → (version, sha256 hex)

    def document(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "puts": [{"path": p, "sha256": h, "size": n} for p, (h, n) in sorted(self.puts.items())],
            "deletes": sorted(self.deletes),
            "versions": dict(sorted(self.versions.items())),
            "digests": {s: {"version": v, "sha256": h} for s, (v, h) in sorted(self.digests.items())},
        }


def _parse_record(data: bytes) -> _Record:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise TrustStoreError(f"{RECORD_FILE} is not JSON: {exc}") from exc
    form = doc.get("format") if isinstance(doc, dict) else None
    members = _RECORD_MEMBERS.get(form) if type(form) is int else None  # a list is no key: type first
    if not isinstance(doc, dict) or members is None or set(doc) != members:
        raise TrustStoreError(f"{RECORD_FILE} is not a format-1 or format-2 transaction record")
    puts, deletes, versions = doc["puts"], doc["deletes"], doc["versions"]
    if not (isinstance(puts, list) and isinstance(deletes, list) and isinstance(versions, dict)):
        raise TrustStoreError(f"{RECORD_FILE}: puts and deletes are arrays, versions an object")
    parsed: dict[str, tuple[str, int]] = {}
    for put in puts:
        if not isinstance(put, dict) or set(put) != {"path", "sha256", "size"}:
            raise TrustStoreError(f"{RECORD_FILE}: a put is {{path, sha256, size}}")
        digest, size = put["sha256"], put["size"]
        if not (isinstance(digest, str) and len(digest) == 64 and type(size) is int and size >= 0):
            raise TrustStoreError(f"{RECORD_FILE}: a put's sha256 is 64 hex digits, its size a count")
        parsed[_relative(put["path"])] = (digest, size)
    removed = frozenset(_relative(d) for d in deletes)
    if len(parsed) != len(puts) or len(removed) != len(deletes) or removed & set(parsed):
        raise TrustStoreError(f"{RECORD_FILE}: a path is named twice")
    if not all(isinstance(k, str) and type(v) is int and v >= 0 for k, v in versions.items()):
        raise TrustStoreError(f"{RECORD_FILE}: versions map series to counts")
    return _Record(parsed, removed, dict(versions), parse_digests(doc.get("digests", {}), RECORD_FILE))


def _read_record(root: Path) -> _Record | None:
    path = root / RECORD_FILE
    try:
        with path.open("rb") as record:
            data = record.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TrustStoreError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_RECORD_BYTES:
        raise TrustStoreError(f"{path} is larger than {MAX_RECORD_BYTES} bytes")
    return _parse_record(data)


@dataclass(frozen=True, slots=True)
class FolderView:
    """A trust folder's files as they are once its pending change (if any) is applied; read-only.

    ``sources`` maps a changed file (its path relative to the folder) to the file holding
    its new content; ``deletes`` are files that are gone; ``floor`` the version state.
    """

    root: Path
    sources: Mapping[str, Path] = field(default_factory=dict)
    deletes: frozenset[str] = frozenset()
    floor: Mapping[str, int] = field(default_factory=dict)

    def listing(self, folder: Path) -> list[Path]:
        """The files of ``folder`` (a sub-folder of the root), sorted by name: visible regular files only."""
        found = [p for p in (folder.iterdir() if folder.is_dir() else ()) if p.is_file()]
        return self.effective(folder, found)

    def effective(self, folder: Path, entries: Iterable[Path]) -> list[Path]:
        """``entries`` (what ``folder`` holds on disk) as this view presents them, sorted by name.

        Hidden names (``.…``) are dropped; a pending put adds or replaces its file, a delete removes it.
        """
        sub = folder.name
        names = {p.name: p for p in entries if not p.name.startswith(".")}
        for rel, source in self.sources.items():
            if PurePosixPath(rel).parent.name == sub:
                names[PurePosixPath(rel).name] = source
        for rel in self.deletes:
            if PurePosixPath(rel).parent.name == sub:
                names.pop(PurePosixPath(rel).name, None)
        return [names[n] for n in sorted(names)]

    def file(self, name: str) -> Path | None:
        """The file to read for ``name`` (relative to the root), or ``None`` if the folder holds none."""
        if name in self.deletes:
            return None
        path = self.sources.get(name, self.root / name)
        return path if path.is_file() else None

    def read(self, name: str) -> bytes | None:
        """The content of ``name`` as the folder holds it, or ``None``."""
        path = self.file(name)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise TrustStoreError(f"cannot read {path}: {exc.strerror}") from exc


def folder_view(root: str | os.PathLike[str]) -> FolderView:
    """The folder at ``root`` as a reader must see it: its pending change applied, virtually.

    The view stays true only while no writer applies a change: read it inside :func:`read_folder`.
    """
    base = Path(root)
    state = read_state(base / STATE_FILE).versions
    record = _read_record(base)
    if record is None:
        return FolderView(base, floor=state)
    sources = {}
    for rel in record.puts:
        staged = base / STAGING_DIR / rel
        sources[rel] = staged if staged.is_file() else base / rel  # moved into place already
    return FolderView(base, sources, record.deletes, merge_state(state, record.versions))


class Transaction:
    """One all-or-nothing change to a trust folder, made inside :func:`folder_transaction`."""

    def __init__(self, root: Path) -> None:
        """Start an empty change of the folder at ``root`` (whose lock the caller holds)."""
        self.root = root
        self._puts: dict[str, tuple[str, int]] = {}
        self._deletes: set[str] = set()
        self._versions: dict[str, int] = {}
        self._digests: dict[str, tuple[int, str]] = {}
        self._base = folder_view(root)  # no record is pending: the writer recovered first
        self._held = read_state(root / STATE_FILE).digests

    @property
    def changed(self) -> bool:
        """Whether anything is staged to change."""
        return bool(self._puts or self._deletes)

    @property
    def floor(self) -> dict[str, int]:
        """The version floor the folder will hold: its state with this change's raised floors."""
        return merge_state(self._base.floor, self._versions)

    def view(self) -> FolderView:
        """The folder as it will be once this change is committed (for checks before committing)."""
        staged = {rel: self.root / STAGING_DIR / rel for rel in self._puts}
        return FolderView(self.root, staged, frozenset(self._deletes), self.floor)

    def put(self, rel: str, data: bytes) -> None:
        """Stage ``data`` as the new content of ``rel`` (``lists/x.cose``, ``bundle.cose``)."""
        self._deletes.discard(_relative(rel))
        staged = self.root / STAGING_DIR / rel
        try:
            staged.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(staged, data, error=TrustStoreError)
        except OSError as exc:
            raise TrustStoreError(f"cannot stage {rel}: {exc.strerror}") from exc
        self._puts[rel] = (hashlib.sha256(data).hexdigest(), len(data))

    def delete(self, rel: str) -> None:
        """Stage the removal of ``rel``."""
        if self._puts.pop(_relative(rel), None) is not None:
            with contextlib.suppress(OSError):
                (self.root / STAGING_DIR / rel).unlink()
        self._deletes.add(rel)

    def raise_floor(self, versions: Mapping[str, int]) -> None:
        """Record ``versions`` (series → version) in the state, never lowering one."""
        self._versions = merge_state(self._versions, versions)

    def accept(self, series: str, version: int, data: bytes, what: str) -> None:
        """Remember ``data`` as the content of ``series`` at ``version`` (state ``digests``).

        Raises :class:`TrustEquivocation` if the folder's state, or this change, remembers other
        content for that series and version: even after its file was deleted, one version of a
        series stands for one content. The floor is raised separately (:meth:`raise_floor`).
        """
        digest = hashlib.sha256(data).hexdigest()
        pending = self._digests.get(series)
        for known in (pending, self._held.get(series)):
            if known is not None and known[0] == version and known[1] != digest:
                raise TrustEquivocation(
                    f"{what} version {version} was accepted before with other content "
                    f"(sha256 {known[1][:16]}…): refusing a second {what} with one version"
                )
        if pending is None or version >= pending[0]:
            self._digests[series] = (version, digest)

    @property
    def digests(self) -> dict[str, tuple[int, str]]:
        """The digests the state will hold: the folder's and this change's, at the new floor."""
        return merge_digests(self.floor, self._held, self._digests)

    def commit(self) -> None:
        """Write the intent record (the commit point), apply it and remove it.

        Both happen under the exclusive readers' lock (:func:`read_folder`), so no reader
        is halfway through the folder while it changes.
        """
        held = merge_digests(self._base.floor, self._held, {})
        if not self.changed and self.floor == dict(self._base.floor) and self.digests == held:
            return  # nothing to do: the folder stays as it is, byte for byte
        record = _Record(dict(self._puts), frozenset(self._deletes), self.floor, self.digests)
        staging = self.root / STAGING_DIR
        if staging.is_dir():
            for folder in {staging, *((staging / r).parent for r in self._puts)}:
                _sync(folder)
        text = json.dumps(record.document(), indent=1) + "\n"
        with _applying(self.root):
            write_atomic(self.root / RECORD_FILE, text, error=TrustStoreError)
            _apply(self.root, record)


def _sync(folder: Path) -> None:
    try:
        sync_folder(folder)
    except OSError as exc:
        raise TrustStoreError(f"cannot sync {folder}: {exc.strerror}") from exc


def _apply(root: Path, record: _Record) -> None:
    # Idempotent: a writer finishing a crashed writer's change runs this again from the start.
    touched = {root}
    try:
        for rel, (digest, size) in sorted(record.puts.items()):
            staged, target = root / STAGING_DIR / rel, root / rel
            if staged.is_file():
                if not target.parent.is_dir():
                    target.parent.mkdir()
                    _sync(root)
                os.replace(staged, target)
                touched.add(target.parent)
            elif not _holds(target, digest, size):
                raise TrustStoreError(f"cannot finish the change in {RECORD_FILE}: {rel} was altered")
        for rel in sorted(record.deletes):
            (root / rel).unlink(missing_ok=True)
            touched.add((root / rel).parent)
        for folder in sorted(touched):
            _sync(folder)
        save_state(root / STATE_FILE, record.versions, record.digests)
        (root / RECORD_FILE).unlink()
        _sync(root)
    except OSError as exc:
        raise TrustStoreError(f"cannot apply the change to {root}: {exc.strerror}") from exc
    _clean(root)


def _holds(path: Path, digest: str, size: int) -> bool:
    try:
        return path.stat().st_size == size and hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except OSError:
        return False


def _clean(root: Path) -> None:
    # Staged files of a change that never committed, and torn temporary files: nobody reads them.
    shutil.rmtree(root / STAGING_DIR, ignore_errors=True)
    for path in root.iterdir():
        if path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX) and path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()


def recover(root: str | os.PathLike[str]) -> None:
    """Finish a change a crashed writer committed, and remove what an uncommitted one staged.

    The caller holds the folder's lock (see :func:`folder_transaction`).
    """
    base = Path(root)
    if _read_record(base) is None:
        if (base / STAGING_DIR).exists():
            _clean(base)  # staged files without a record: no reader looks at them
        return
    with _applying(base):
        record = _read_record(base)  # read again under the lock: a reader may not see it change
        if record is not None:
            _apply(base, record)


# A lock file is opened without following a link and without blocking (a FIFO named like it
# would block the open), and must be a regular file: a lock file is an empty file, nothing else.
_OPEN_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
_READER_LOCKS = (TURNSTILE_FILE, READ_LOCK_FILE)  # in the order both sides take them


def _open_lock(path: Path, flags: int) -> int:
    fd = os.open(path, flags | _OPEN_FLAGS, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TrustStoreError(f"{path} is not a regular file: a trust folder's lock file is an empty file")
    return fd


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    # flock, not an O_EXCL file: the kernel drops the lock when its holder dies, even by kill -9.
    try:
        fd = _open_lock(root / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise TrustStoreError(f"cannot lock {root}: {exc.strerror}") from exc
    try:
        _lock(fd, root)
        _create_read_lock(root)  # before any change: a reader that finds none knows no writer came
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _create_read_lock(root: Path) -> None:
    for name in _READER_LOCKS:
        try:
            os.close(_open_lock(root / name, os.O_RDONLY | os.O_CREAT))
        except OSError as exc:
            raise TrustStoreError(f"cannot create {root / name}: {exc.strerror}") from exc


def _lock(fd: int, root: Path) -> None:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise TrustFolderBusy(f"{root}: another command is changing this trust folder") from exc
    except OSError as exc:
        raise TrustStoreError(f"cannot lock {root}: {exc.strerror}") from exc


def _pause(seconds: float) -> None:
    """Sleep between two lock attempts (a seam for tests that need to see a reader waiting)."""
    time.sleep(seconds)


def _wait_lock(fd: int, *, shared: bool, busy: str) -> None:
    # Poll a non-blocking flock: a blocking one cannot be given up, and a stopped writer must not hang a gate.
    import fcntl

    operation = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    deadline, pause = time.monotonic() + LOCK_WAIT_SECONDS, _FIRST_PAUSE
    while True:
        try:
            fcntl.flock(fd, operation)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TrustFolderBusy(busy) from None
        _pause(pause)
        pause = min(2 * pause, _LONGEST_PAUSE)


@contextmanager
def _applying(root: Path) -> Iterator[None]:
    # The apply phase: no reader is inside the folder while its files move. The turnstile first:
    # readers arriving meanwhile wait at it, so a stream of readers cannot starve the writer.
    if sys.platform == "win32":  # msvcrt has no shared locks: readers there cannot wait (docs/trust.md)
        yield
        return
    busy = f"{root}: readers kept the folder busy for {LOCK_WAIT_SECONDS:g} s; nothing changed, try again"
    fds: list[int] = []
    try:
        for name in _READER_LOCKS:
            try:
                fds.append(_open_lock(root / name, os.O_RDWR | os.O_CREAT))
                _wait_lock(fds[-1], shared=False, busy=busy)
            except OSError as exc:
                raise TrustStoreError(f"cannot lock {root / name}: {exc.strerror}") from exc
        yield
    finally:
        for fd in fds:
            os.close(fd)  # closing releases the lock


def read_folder(root: str | os.PathLike[str], read: Callable[[], T]) -> T:
    """``read()`` while no writer applies a change to the folder at ``root``: the old or the new state.

    Holds a shared ``flock`` on :data:`READ_LOCK_FILE` (opened read-only: a verifier may not
    write) for the whole read, waiting at most :data:`LOCK_WAIT_SECONDS` for a writer's apply
    phase (then :class:`TrustFolderBusy`). A folder without the lock file has never been
    changed by a writer (read-only media, a copy): it is read as it is, and read again under
    the lock if a first writer created the file meanwhile. Where the file system cannot lock,
    no writer can change the folder either (writers lock first), so it is read as it is.
    """
    base = Path(root)
    if sys.platform == "win32":  # msvcrt has no shared locks
        return read()
    fd = _open_read_lock(base)
    if fd is None:
        try:
            result = read()
        except HealthCredError:
            if not (base / READ_LOCK_FILE).exists():
                raise
        else:
            if not (base / READ_LOCK_FILE).exists():
                return result
        fd = _open_read_lock(base)  # a first writer came while we read: read again, under its lock
        if fd is None:
            return read()  # the lock file came and went: a hand-made folder, read as it is
    try:
        _enter(base, fd)
        return read()
    finally:
        os.close(fd)


def _enter(base: Path, fd: int) -> None:
    # Pass the turnstile (held by a writer about to apply), then share the readers' lock.
    busy = f"{base}: a change to this trust folder was applied for {LOCK_WAIT_SECONDS:g} s; try again"
    gate = _open_read_lock(base, TURNSTILE_FILE)
    try:
        with contextlib.suppress(OSError):  # no locks on this file system: no writer locked it either
            if gate is not None:
                _wait_lock(gate, shared=True, busy=busy)
            _wait_lock(fd, shared=True, busy=busy)
    finally:
        if gate is not None:
            os.close(gate)  # through the turnstile: a writer may queue behind this reader now


def _open_read_lock(base: Path, name: str = READ_LOCK_FILE) -> int | None:
    try:
        return _open_lock(base / name, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TrustStoreError(f"cannot open {base / name} to read: {exc.strerror}") from exc


@contextmanager
def folder_transaction(root: str | os.PathLike[str]) -> Iterator[Transaction]:
    """Lock the folder, finish any pending change, and yield a :class:`Transaction` to fill and commit.

    Leaving the block without :meth:`Transaction.commit` changes nothing (what was staged is removed).
    Raises :class:`TrustFolderBusy` while another writer holds the folder.
    """
    base = Path(root)
    if not base.is_dir():
        raise TrustStoreError(f"{base} is not a folder")
    with _locked(base):
        recover(base)
        try:
            yield Transaction(base)
        finally:
            if not (base / RECORD_FILE).exists():  # a failed apply leaves its record to be finished
                _clean(base)


def build_folder(target: str | os.PathLike[str], populate: Callable[[Path], None]) -> None:
    """Create the folder ``target``, whole or not at all: ``populate`` fills it under a hidden name.

    The folder is built beside ``target`` (``.NAME.RANDOM.init``), fsync'd, and renamed into
    place; an existing ``target`` is refused unless it is an empty folder. Leftovers of a
    crashed build are removed first.
    """
    final = Path(target)
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(parent, final.name)
        building = parent / f".{final.name}.{secrets.token_hex(4)}{_INIT_SUFFIX}"
        building.mkdir()
    except OSError as exc:
        raise TrustStoreError(f"cannot create {final}: {exc.strerror}") from exc
    try:
        populate(building)
        for name in (LOCK_FILE, *_READER_LOCKS):  # there from the start: every reader of it locks
            os.close(os.open(building / name, os.O_WRONLY | os.O_CREAT, 0o644))
        for folder in sorted({building, *(p.parent for p in building.rglob("*"))}):
            _sync(folder)
        os.rename(building, final)  # onto an empty folder, or none: atomic
        _sync(parent)
    except OSError as exc:
        raise TrustStoreError(f"cannot create {final}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _remove_leftovers(parent: Path, name: str) -> None:
    prefix = f".{name}."
    for path in parent.iterdir():
        if path.name.startswith(prefix) and path.name.endswith(_INIT_SUFFIX) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
