"""Files written one way: whole or not at all, and secrets readable by their owner only.

:func:`write_atomic` writes a temporary file beside the target, flushes and
fsyncs it, renames it onto the target (``os.replace``) and then fsyncs the
folder, so a crash at any moment leaves the old file or the new one, never a
torn one. :func:`write_secret` does the same for private keys, ID-check keys
and scan-log keys, with the temporary file created mode 0600 (never readable
by others, not even for a moment).

The overwrite policy, one for every file: :func:`write_atomic` replaces an
existing file unless ``overwrite=False``; :func:`write_secret` refuses to
replace one unless ``overwrite=True``, because a lost key cannot be
recreated. A refused overwrite is atomic too (a hard link, which fails if the
name exists), so two writers racing for one name cannot both win.

Every failure is raised as ``error`` (a :class:`~healthcred.errors.HealthCredError`
subclass, :class:`~healthcred.errors.BadInput` unless the caller names its own,
so each caller keeps the stable code it always raised); the temporary file is
removed on any failure.

Files are read one way too: :func:`read_bounded` reads a regular file of at most
a given size, checked on the open file before any byte is read, and never reads
more than that (a FIFO or device is refused without blocking on it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from healthcred.errors import BadInput, HealthCredError

__all__ = [
    "SECRET_MODE",
    "TEMPORARY_SUFFIX",
    "list_bounded",
    "read_bounded",
    "sync_folder",
    "write_atomic",
    "write_secret",
]

SECRET_MODE = 0o600
"""The mode of every secret file: read and write by its owner only."""

TEMPORARY_SUFFIX = ".tmp"
"""Temporary files are ``.NAME.RANDOM.tmp`` beside their target (so ``.*.tmp`` finds leftovers)."""

# Folder fsync is refused by some file systems; the rename is then as durable as they make it.
_NO_FOLDER_SYNC = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int | None = None,
    overwrite: bool = True,
    durable: bool = True,
    error: type[HealthCredError] = BadInput,
) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically and durably; raise ``error`` on failure.

    ``mode`` sets the file's permission bits (default: a new file's, 0666 less the umask).
    With ``overwrite=False`` an existing ``path`` is left alone and ``error`` is raised.
    ``durable=False`` skips both fsyncs: still whole or absent for every reader, but a power
    loss may leave it empty; only for files derived from a durable record that a reader checks
    and rewrites (batch outputs, from the fsync'd journal). The folder must exist.
    """
    _write(Path(path), data, 0o666 if mode is None else mode, mode, overwrite, error, durable)


def write_secret(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    overwrite: bool = False,
    error: type[HealthCredError] = BadInput,
) -> None:
    """Write a secret file: mode 0600 from its creation, atomic, replacing a file only if ``overwrite``."""
    _write(Path(path), data, SECRET_MODE, SECRET_MODE, overwrite, error, True)


def _write(
    target: Path,
    data: bytes | str,
    create_mode: int,
    mode: int | None,
    overwrite: bool,
    error: type[HealthCredError],
    durable: bool,
) -> None:
    body = data.encode("utf-8") if isinstance(data, str) else data
    if not isinstance(body, bytes):
        raise BadInput(f"data must be bytes or str, not {type(data).__name__}")
    if not overwrite and os.path.lexists(target):
        raise _exists(target, error)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
    moved = False
    try:
        _write_temporary(temporary, body, create_mode, mode, durable)
        _move(temporary, target, overwrite, error)
        moved = True
        if durable:
            sync_folder(target.parent)
    except OSError as exc:
        raise error(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if not (moved and overwrite):  # a rename leaves nothing behind; a hard link leaves the temporary
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_temporary(temporary: Path, body: bytes, create_mode: int, mode: int | None, durable: bool) -> None:
    fd = os.open(temporary, _CREATE_FLAGS, create_mode)  # the mode applies from the first moment
    try:
        if mode is not None and hasattr(os, "fchmod"):  # the umask may have cleared bits asked for
            os.fchmod(fd, mode)
        view = memoryview(body)
        while view:  # os.write may write less than asked (a signal, a full pipe): write the rest
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _move(temporary: Path, target: Path, overwrite: bool, error: type[HealthCredError]) -> None:
    if overwrite:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # fails if the name exists: a refusal without a race
    except FileExistsError as exc:
        raise _exists(target, error) from exc
    except OSError as exc:  # no hard links here (some file systems): check, then rename
        if os.path.lexists(target):
            raise _exists(target, error) from exc
        os.replace(temporary, target)


def _exists(target: Path, error: type[HealthCredError]) -> HealthCredError:
    return error(f"{target} exists; refusing to overwrite it (pass overwrite=True to replace it)")


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Make the rename durable: fsync the folder that holds the name (Windows cannot open one)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_FOLDER_SYNC:
            raise
    finally:
        os.close(fd)


def read_bounded(
    path: str | os.PathLike[str],
    limit: int,
    *,
    error: type[HealthCredError] = BadInput,
    too_large: type[HealthCredError] | None = None,
    within: str | os.PathLike[str] | None = None,
) -> bytes:
    """The bytes of the regular file ``path``: at most ``limit``, else ``too_large`` (default ``error``).

    The size is checked on the open file before reading, and at most ``limit`` + 1 bytes are
    ever read, so a huge file, or one that grows meanwhile, costs no more than the limit. A
    folder, FIFO or device is refused (opened without blocking). With ``within``, a path that
    resolves (through symbolic links) outside that folder is refused. Failures raise ``error``.
    """
    name = os.fspath(path)
    if within is not None:
        base = os.path.realpath(within)
        if os.path.commonpath([os.path.realpath(name), base]) != base:
            raise error(f"{name} links outside {os.fspath(within)}")
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror or exc}") from exc
    try:
        return _read_open(fd, name, limit, error, too_large or error)
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def _read_open(
    fd: int, name: str, limit: int, error: type[HealthCredError], too_large: type[HealthCredError]
) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{name} is not a regular file")
    if info.st_size > limit:
        raise too_large(f"{name} is larger than {limit} bytes")
    chunks: list[bytes] = []
    left = limit + 1  # one byte more than allowed tells a file that grew after fstat
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise too_large(f"{name} is larger than {limit} bytes")
    return b"".join(chunks)


def list_bounded(folder: str | os.PathLike[str], limit: int, *, error: type[HealthCredError]) -> list[str]:
    """The names in ``folder``, listed no further than ``limit``; ``error`` past it or when unreadable.

    The listing stops at the cap, so a huge folder costs no more than ``limit`` names.
    """
    names: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if len(names) == limit:
                    raise error(f"{os.fspath(folder)} holds more than {limit} names")
                names.append(entry.name)
    except OSError as exc:
        raise error(f"cannot list {os.fspath(folder)}: {exc.strerror or exc}") from exc
    return names
