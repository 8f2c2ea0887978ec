"""The scan log: keyed hashes only, concurrent writers, tracing export, retention purge."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from healthcred import HealthCredError, verify
from healthcred.errors import BadInput
from healthcred.flows.scanlog import (
    DEFAULT_RETENTION_DAYS,
    close_log,
    credential_hash,
    export_text,
    generate_log_key,
    load_log_key,
    open_log,
    purge,
    record_scan,
    save_log_key,
    stats,
)
from tests.helpers.world import CHECKED, World, ts

KEY = bytes(range(32))
WRITERS = 4
ROWS_PER_WRITER = 150


def _code(exc: pytest.ExceptionInfo[HealthCredError]) -> str:
    return exc.value.code


def test_rows_hold_no_personal_data(world: World, tmp_path: Path) -> None:
    credential, text = world.code()
    log = open_log(tmp_path / "scans.db", KEY)
    record_scan(
        log, place="hz-mall-01", outcome="admit", result=verify(text, world.store, at=CHECKED), at=CHECKED
    )
    record_scan(log, place="hz-mall-01", outcome="error", error="expired", at=CHECKED)
    close_log(log)
    raw = (tmp_path / "scans.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("scans.db-*"))
    for clear in (credential.id, credential.id.hex().encode(), "张三丰".encode(), b"3301**"):
        assert clear not in raw
    rows = sqlite3.connect(tmp_path / "scans.db").execute("SELECT * FROM scans ORDER BY id").fetchall()
    assert rows[0][3] == credential_hash(KEY, credential.id) and rows[0][4:7] == (
        "health_status",
        "green",
        "admit",
    )
    assert rows[1][3] is None and rows[1][6:] == ("error", "expired", None)


def test_log_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    log = open_log(tmp_path / "scans.db", KEY)
    assert log.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert log.connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    close_log(log)


def _writer(path: str, worker: int, start: multiprocessing.synchronize.Event) -> None:
    log = open_log(path, KEY)
    start.wait()
    for i in range(ROWS_PER_WRITER):
        record_scan(
            log,
            place=f"gate-{worker}",
            outcome="admit",
            credential_id=bytes([worker, i % 256]) * 8,
            at=ts(CHECKED) + i,
        )
    close_log(log)


def test_concurrent_writers_lose_no_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    close_log(open_log(path, KEY))  # create the schema once, as a post's installer would
    context = multiprocessing.get_context("spawn")  # no inherited SQLite handles
    start = context.Event()
    workers = [context.Process(target=_writer, args=(path, n, start)) for n in range(WRITERS)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    log = open_log(path, KEY)
    summary = stats(log)
    assert summary["rows"] == WRITERS * ROWS_PER_WRITER
    assert summary["places"] == WRITERS
    close_log(log)


def test_tracer_finds_rows_only_with_the_key(world: World, tmp_path: Path) -> None:
    wanted, other = bytes(16), b"\x01" * 16
    log = open_log(tmp_path / "scans.db", KEY)
    for i, cid in enumerate((wanted, other, wanted)):
        record_scan(log, place=f"p{i}", outcome="admit", credential_id=cid, at=ts(CHECKED) + i)
    lines = export_text(log, credential_id=wanted).splitlines()
    assert [json.loads(line)["place"] for line in lines] == ["p0", "p2"]
    assert json.loads(lines[0])["credential"] == credential_hash(KEY, wanted)
    assert wanted.hex() not in export_text(log)
    csv_text = export_text(log, fmt="csv", since=ts(CHECKED) + 1)
    assert csv_text.splitlines()[0] == "time,place,credential,kind,colour,outcome,error,policy"
    assert len(csv_text.splitlines()) == 3
    close_log(log)
    # Another key neither opens the log nor reproduces the hashes.
    with pytest.raises(HealthCredError) as exc:
        open_log(tmp_path / "scans.db", generate_log_key())
    assert _code(exc) == "scan_log_error"
    assert credential_hash(generate_log_key(), wanted) != credential_hash(KEY, wanted)


def test_retention_purge(tmp_path: Path) -> None:
    log = open_log(tmp_path / "scans.db", KEY)
    now = ts(CHECKED)
    for days in (0, 1, 20, 21, 22, 60):
        record_scan(log, place="p", outcome="deny", credential_id=bytes(16), at=now - days * 86400 - 1)
    assert DEFAULT_RETENTION_DAYS == 21
    assert purge(log, now=now) == 3  # 21 days + 1 s, 22 and 60 days old
    assert stats(log)["rows"] == 3
    assert purge(log, days=1, now=now) == 2
    assert purge(log, days=1, now=now) == 0
    with pytest.raises(HealthCredError) as exc:
        purge(log, days=0)
    assert _code(exc) == "bad_input"
    close_log(log)


def test_stats(tmp_path: Path) -> None:
    log = open_log(tmp_path / "scans.db", KEY)
    record_scan(log, place="a", outcome="admit", credential_id=b"x" * 16, at=ts(CHECKED))
    record_scan(
        log,
        place="b",
        outcome="not_checked",
        credential_id=b"y" * 16,
        at=ts(CHECKED) + timedelta(hours=1).seconds,
    )
    summary = stats(log)
    assert summary["rows"] == 2 and summary["outcomes"] == {"admit": 1, "not_checked": 1}
    assert summary["first"] == CHECKED.isoformat()
    assert summary["last"] == (CHECKED + timedelta(hours=1)).isoformat() and summary["places"] == 2
    close_log(log)


def test_bad_input_is_typed(tmp_path: Path) -> None:
    log = open_log(tmp_path / "scans.db", KEY)
    for kwargs in (
        {"place": "p", "outcome": "maybe"},
        {"place": "p", "outcome": "error"},
        {"place": "p", "outcome": "admit", "error": "expired"},
        {"place": "", "outcome": "admit"},
        {"place": "p", "outcome": "admit", "result": "JKM1:"},
    ):
        with pytest.raises(HealthCredError) as exc:
            record_scan(log, **kwargs)  # type: ignore[arg-type]
        assert _code(exc) == "bad_input"
    close_log(log)
    with pytest.raises(HealthCredError) as exc:
        open_log(tmp_path / "scans.db", b"short")
    assert _code(exc) == "bad_key"
    (tmp_path / "not.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(HealthCredError) as exc:
        open_log(tmp_path / "not.db", KEY)
    assert _code(exc) == "scan_log_error"
    with pytest.raises(HealthCredError) as exc:
        open_log(tmp_path / "missing-dir" / "x.db", KEY)
    assert _code(exc) == "scan_log_error"


def test_key_files(tmp_path: Path) -> None:
    key = generate_log_key()
    save_log_key(key, tmp_path / "log.key")
    assert (tmp_path / "log.key").stat().st_mode & 0o777 == 0o600
    assert load_log_key(tmp_path / "log.key") == key
    with pytest.raises(HealthCredError) as exc:
        save_log_key(key, tmp_path / "log.key")  # never overwritten: the old rows would become untraceable
    assert _code(exc) == "bad_key"
    (tmp_path / "short.key").write_text("abcd")
    with pytest.raises(HealthCredError) as exc:
        load_log_key(tmp_path / "short.key")
    assert _code(exc) == "bad_key"


def test_rows_name_their_policy_and_an_older_log_gains_the_column(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "old.db")
    old.executescript(
        "CREATE TABLE scans (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, place TEXT NOT NULL,"
        " credential TEXT, kind TEXT, colour TEXT, outcome TEXT NOT NULL, error TEXT);"
    )
    old.close()
    log = open_log(tmp_path / "old.db", KEY)
    record_scan(log, place="p", outcome="error", error="expired", at=CHECKED, policy="seed-policy v1")
    text = export_text(log, fmt="jsonl")
    close_log(log)
    assert '"policy": "seed-policy v1"' in text
    with pytest.raises(BadInput):
        record_scan(open_log(tmp_path / "old.db", KEY), place="p", outcome="admit", policy="")
