"""The scan log's readers: ``open_log``, ``stats`` and ``export_rows`` on a database a hostile or
broken disk could hold, and ``load_log_key`` on a key file.

The first byte picks the mode. Mode 0: the rest is the whole SQLite file. Otherwise the rest
drives a :class:`atheris.FuzzedDataProvider`-like reader that writes rows of any SQLite type
(integers of any size, reals, text, blobs, nulls) straight into a valid log's ``scans`` table,
as another program, an old version or a bit flip could leave them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import struct
from collections.abc import Iterator
from functools import cache
from typing import Any

from fuzz.harness import Target, expect, put, scratch
from healthcred.flows.scanlog import close_log, export_rows, load_log_key, open_log, record_scan, stats

KEY = bytes(range(32))
"""The log key of every fuzzed log."""
_SCRATCH = scratch()
_DB = _SCRATCH / "scans.db"
_KEY_FILE = _SCRATCH / "log.key"
_DB_FILES = [f"{_DB}{suffix}" for suffix in ("", "-wal", "-shm")]
_OUTCOMES = ("admit", "deny", "not_checked", "error")
_INSERT = (
    "INSERT INTO scans (at, place, credential, kind, colour, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _clear() -> None:
    for name in _DB_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


class _Reader:
    """Values out of the input bytes, as a fuzzed-data provider gives them (zeros once exhausted)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk.ljust(n, b"\x00")

    def value(self) -> Any:
        kind = self.take(1)[0] % 6
        if kind == 0:
            return None
        if kind == 1:
            return struct.unpack(">q", self.take(8))[0]
        if kind == 2:
            return struct.unpack(">d", self.take(8))[0]
        if kind == 3:
            return self.take(self.take(1)[0] % 40).decode("utf-8", errors="replace")
        if kind == 4:
            return self.take(self.take(1)[0] % 40)
        return int.from_bytes(self.take(2), "big") * 86400  # a plausible time


@cache
def _fresh_log() -> bytes:
    # A fresh, valid log's file, made once by the library: any failure here is a finding. Each
    # row input starts from a copy of it, rather than from a log created anew on every input.
    _clear()
    close_log(open_log(_DB, KEY))
    fresh = _DB.read_bytes()
    _clear()
    return fresh


def _write_rows(data: bytes) -> None:
    # The raw table, past the library, as a foreign writer would: rows go into a copy of the fresh
    # log's file held in memory (SQLite's own pages, no disk or WAL round trip), written out whole.
    reader = _Reader(data)
    conn = sqlite3.connect(":memory:")
    conn.deserialize(_as_wal(_fresh_log(), False))
    with conn:
        for _ in range(reader.take(1)[0] % 8):
            row = [reader.value() for _ in range(6)]
            row.insert(5, _OUTCOMES[reader.take(1)[0] % 4])  # the table's CHECK keeps outcome sane
            try:
                conn.execute(_INSERT, row)
            except sqlite3.IntegrityError:  # NOT NULL and CHECK: rows the schema itself refuses
                continue
    image = conn.serialize()
    conn.close()
    put(_DB, _as_wal(image, True))


def _as_wal(image: bytes, wal: bool) -> bytes:
    # Header bytes 18 and 19 (file format write and read versions): 2 in WAL mode, 1 in rollback
    # mode. A log's file is in WAL mode; an in-memory database takes (and gives) rollback mode only.
    # With its WAL emptied into it, as closing the last connection leaves it, a log's file is the
    # same either way but for these two bytes.
    return image[:18] + (b"\x02\x02" if wal else b"\x01\x01") + image[20:]


def _read_back() -> None:
    log = expect(lambda: open_log(_DB, KEY))
    if log is None:
        return
    try:
        expect(lambda: stats(log))
        for fmt in ("jsonl", "csv"):
            expect(lambda f=fmt: export_rows(log, io.StringIO(), fmt=f))  # type: ignore[misc]
        expect(lambda: export_rows(log, io.StringIO(), credential_id=b"\x01" * 16, since=0, until=2**40))
    finally:
        close_log(log)


def run(data: bytes) -> None:
    """Write the database (mode 0: the bytes; else rows into a fresh log), then read it back every way."""
    _clear()
    if data[:1] == b"\x00":
        put(_DB, data[1:])
    else:
        _write_rows(data[1:])
    _read_back()
    put(_KEY_FILE, data[1:80])
    expect(lambda: load_log_key(_KEY_FILE))


def seed_inputs() -> Iterator[bytes]:
    """A real log's file (three rows), and row inputs of each value type."""
    _clear()
    log = open_log(_DB, KEY)
    record_scan(log, place="HZ-XH-0001", outcome="admit", credential_id=b"\x01" * 16, at=1795392000)
    record_scan(log, place="HZ-XH-0001", outcome="deny", credential_id=b"\x02" * 16, at=1795392001)
    record_scan(log, place="HZ-XH-0002", outcome="error", error="expired", at=1795392002)
    close_log(log)
    yield b"\x00" + _DB.read_bytes()
    _clear()
    for kind in range(6):
        yield b"\x01\x03" + bytes([kind, 5]) + b"hello" * 20
    yield b"\x01" + KEY.hex().encode()


TARGET = Target("scan_log", run, seed_inputs)
