"""Regressions for what the fuzz harness (fuzz/) found in code no other part owns.

Each test names the defect class and rebuilds the input the fuzzer found.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from healthcred.errors import ScanLogError
from healthcred.flows.scanlog import close_log, export_rows, open_log, record_scan, stats

KEY = bytes(range(32))
DATA = Path(__file__).resolve().parents[1] / "data" / "advisories" / "scan_log"
_INSERT = (
    "INSERT INTO scans (at, place, credential, kind, colour, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _log_with_row(tmp_path: Path, row: tuple[Any, ...]) -> Path:
    db = tmp_path / "scans.db"
    log = open_log(db, KEY)
    record_scan(log, place="HZ-XH-0001", outcome="admit", credential_id=b"\x01" * 16, at=1795392000)
    close_log(log)
    with sqlite3.connect(db) as conn:  # a foreign writer, an old version or a bit flip: past the library
        conn.execute(_INSERT, row)
    conn.close()
    return db


_HOSTILE_TIMES = {
    "time-as-blob": b"\x00" * 8,  # TypeError from datetime.fromtimestamp
    "time-as-real": 1.5e300,  # OverflowError
    "time-past-year-9999": 2**62,  # ValueError / OSError (EOVERFLOW)
    "time-negative": -(2**40),
    "time-as-text": "yesterday",
}


@pytest.mark.parametrize("at", _HOSTILE_TIMES.values(), ids=_HOSTILE_TIMES.keys())
def test_scan_log_with_a_hostile_time_is_a_scan_log_error(tmp_path: Path, at: Any) -> None:
    """Untrusted storage: a row's time of any SQLite type gives scan_log_error, not a Python error."""
    db = _log_with_row(tmp_path, (at, "HZ-XH-0001", None, None, None, "deny", None))
    log = open_log(db, KEY)
    try:
        with pytest.raises(ScanLogError, match="not a time in seconds"):
            stats(log)
        for fmt in ("jsonl", "csv"):
            with pytest.raises(ScanLogError, match="not a time in seconds"):
                export_rows(log, io.StringIO(), fmt=fmt)
    finally:
        close_log(log)


def test_scan_log_with_a_blob_where_text_belongs_is_a_scan_log_error(tmp_path: Path) -> None:
    """Untrusted storage: a blob in a text column gave a JSON export TypeError; now scan_log_error."""
    db = _log_with_row(tmp_path, (1795392001, b"\xff\xfe", None, b"kind", b"green", "admit", None))
    log = open_log(db, KEY)
    try:
        with pytest.raises(ScanLogError, match="bytes where text belongs"):
            export_rows(log, io.StringIO(), fmt="jsonl")
        with pytest.raises(ScanLogError, match="bytes where text belongs"):
            stats(log)
    finally:
        close_log(log)


def test_a_sound_scan_log_still_reads_back(tmp_path: Path) -> None:
    """The checks refuse only what no writer of this library stores."""
    db = _log_with_row(tmp_path, (1795392001, "HZ-XH-0001", None, "health_code", "green", "admit", None))
    log = open_log(db, KEY)
    try:
        assert stats(log)["rows"] == 2
        assert export_rows(log, io.StringIO(), fmt="jsonl") == 2
    finally:
        close_log(log)


def test_a_damaged_scan_log_whose_text_is_not_utf8_is_a_scan_log_error(tmp_path: Path) -> None:
    """Untrusted storage: a damaged file made PRAGMA journal_mode raise UnicodeDecodeError in open_log.

    The fuzzer's input (tests/data/advisories/scan_log), a log file with bytes flipped.
    """
    db = tmp_path / "scans.db"
    db.write_bytes(gzip.decompress((DATA / "undecodable-error.db.gz").read_bytes()))
    with pytest.raises(ScanLogError, match="not usable"):
        open_log(db, KEY)
