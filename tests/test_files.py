"""healthcred.files: atomic writes, owner-only secrets, one overwrite policy, typed errors."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from healthcred import files
from healthcred.errors import BadInput, BadKey, HealthCredError
from healthcred.files import SECRET_MODE, TEMPORARY_SUFFIX, write_atomic, write_secret


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob(f".*{TEMPORARY_SUFFIX}"))


def test_content_is_written_as_bytes_or_utf8_text(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.bin", b"\x00\xff")
    write_atomic(tmp_path / "b.txt", "健康码\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\xff"
    assert (tmp_path / "b.txt").read_bytes() == "健康码\n".encode()
    write_atomic(tmp_path / "a.bin", b"new")  # replaces by default
    assert (tmp_path / "a.bin").read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_mode_is_set_and_a_plain_file_follows_the_umask(tmp_path: Path) -> None:
    write_atomic(tmp_path / "pub.pem", b"x", mode=0o644)
    assert _mode(tmp_path / "pub.pem") == 0o644
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "plain", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "plain") == 0o640


def test_a_secret_is_owner_only_from_its_creation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real_link = os.link

    def link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(_mode(Path(src)))  # the temporary file, before it takes the target's name
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    old = os.umask(0)  # a permissive umask must not widen a secret
    try:
        write_secret(tmp_path / "k.pem", b"secret")
    finally:
        os.umask(old)
    assert seen == [SECRET_MODE]
    assert _mode(tmp_path / "k.pem") == SECRET_MODE


def test_an_overwritten_secret_is_owner_only_while_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "id.key"
    target.write_bytes(b"old")
    target.chmod(0o644)
    seen: list[int] = []
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(_mode(Path(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    write_secret(target, b"new", overwrite=True)
    assert seen == [SECRET_MODE]
    assert _mode(target) == SECRET_MODE and target.read_bytes() == b"new"


def test_a_secret_is_not_overwritten_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "log.key"
    write_secret(target, "first\n")
    with pytest.raises(BadInput, match="refusing to overwrite"):
        write_secret(target, "second\n")
    with pytest.raises(BadKey):  # the caller's own error class, so its code stays stable
        write_secret(target, "second\n", error=BadKey)
    assert target.read_text() == "first\n"
    write_secret(target, "third\n", overwrite=True)
    assert target.read_text() == "third\n"
    with pytest.raises(BadInput):
        write_atomic(target, b"x", overwrite=False)
    assert target.read_text() == "third\n"
    assert _leftovers(tmp_path) == []


def test_a_name_taken_while_writing_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "k.pem"
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # another writer takes the name after the early check
        real_fsync(fd)
        if not target.exists():
            target.write_bytes(b"theirs")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(BadInput, match="refusing to overwrite"):
        write_secret(target, b"mine")
    assert target.read_bytes() == b"theirs"
    assert _leftovers(tmp_path) == []


def test_without_hard_links_a_refusal_still_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")  # e.g. a FAT or some network file systems

    monkeypatch.setattr(os, "link", no_links)
    write_secret(tmp_path / "k", b"one")
    assert (tmp_path / "k").read_bytes() == b"one" and _mode(tmp_path / "k") == SECRET_MODE
    with pytest.raises(BadInput, match="refusing to overwrite"):
        write_secret(tmp_path / "k", b"two")
    assert (tmp_path / "k").read_bytes() == b"one"
    assert _leftovers(tmp_path) == []


def test_a_folder_that_cannot_be_synced_is_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")  # some file systems refuse a folder fsync
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_atomic(tmp_path / "x", b"x")
    assert (tmp_path / "x").read_bytes() == b"x"


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_a_failure_mid_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    def half_written(temporary: Path, *args: object) -> None:
        temporary.write_bytes(b"ne")  # the disk filled up part way
        broken()

    if failing == "write":
        monkeypatch.setattr(files, "_write_temporary", half_written)
    else:
        monkeypatch.setattr(os, failing, broken)
    with pytest.raises(BadKey) as exc:
        write_atomic(target, b"new", error=BadKey)
    assert exc.value.code == "bad_key" and "No space left on device" in exc.value.message
    assert isinstance(exc.value.__cause__, OSError)
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_a_missing_folder_is_a_typed_error(tmp_path: Path) -> None:
    for write in (write_atomic, write_secret):
        with pytest.raises(HealthCredError) as exc:
            write(tmp_path / "missing" / "x", b"x")
        assert exc.value.code == "bad_input" and "cannot write" in exc.value.message
    assert not (tmp_path / "missing").exists()


def test_data_must_be_bytes_or_text(tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        write_atomic(tmp_path / "x", 42)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


_WRITER = """
import sys
from healthcred.files import write_atomic
path, size = sys.argv[1], int(sys.argv[2])
contents = [b"A" * size, b"B" * size]
n = 0
while True:
    write_atomic(path, contents[n % 2])
    n += 1
    print(n, flush=True)
"""


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_kill_9_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    size = 256 * 1024
    target.write_bytes(b"B" * size)
    for writes in (3, 7, 12):  # kill after different numbers of writes, so at different moments
        process = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target), str(size)], stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        for _ in range(writes):
            assert process.stdout.readline(), "the writer stopped by itself"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        process.stdout.close()
        assert target.read_bytes() in (b"A" * size, b"B" * size)
