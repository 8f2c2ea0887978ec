"""The verifier-side scan log of a collection point: who-was-here records without personal data.

One SQLite file (stdlib ``sqlite3``, no server) per post or venue. A row holds
the time, the place, a *keyed* hash of the credential id, the credential kind
and colour and the outcome — never a name, a document number or the code. The
hash is HMAC-SHA256 under the log's key, which the operator keeps apart from
the database (a key file, mode 0600): a stolen database alone links no row to
a credential, while a tracer given a credential id (by the issuing region, for
a confirmed case) and the key finds that credential's rows and no others.

WAL mode and a busy timeout let several processes (gates sharing one log) write
at once; each record is one short ``BEGIN IMMEDIATE`` transaction. Rows older
than the retention (default :data:`DEFAULT_RETENTION_DAYS`) are purged with
``secure_delete`` on and the WAL truncated, so purged rows do not linger in
free pages. ``docs/privacy.md`` explains the choices.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from healthcred.clock import epoch_seconds
from healthcred.errors import BadInput, BadKey, HealthCredError, ScanLogError
from healthcred.files import read_bounded, write_secret
from healthcred.limits import MAX_EPOCH
from healthcred.model import VerificationResult

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "OUTCOMES",
    "ScanLog",
    "close_log",
    "credential_hash",
    "export_rows",
    "export_text",
    "generate_log_key",
    "load_log_key",
    "open_log",
    "outcome_counts",
    "purge",
    "record_scan",
    "save_log_key",
    "stats",
]

DEFAULT_RETENTION_DAYS = 21
"""Days a row is kept: a 14-day incubation window plus 7 days for a case to be confirmed and traced."""
OUTCOMES = ("admit", "deny", "not_checked", "error")
"""What a row says happened; ``error`` rows also carry the error code."""
LOG_FORMAT = 1
"""Schema version, stored in the ``meta`` table."""

_KEY_BYTES = 32
_KEY_FILE_LIMIT = 200  # 64 hex digits and a newline
_HASH_BYTES = 16
_HASH_DOMAIN = b"healthcred/scan-log/v1\x00"
_KEY_ID_DOMAIN = b"healthcred/scan-log-key/v1\x00"
_BUSY_MS = 10_000  # a writer waits up to 10 s for another's transaction: ample for one-row inserts
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    place TEXT NOT NULL,
    credential TEXT,
    kind TEXT,
    colour TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('admit', 'deny', 'not_checked', 'error')),
    error TEXT,
    policy TEXT
);
CREATE INDEX IF NOT EXISTS scans_at ON scans (at);
CREATE INDEX IF NOT EXISTS scans_credential ON scans (credential);
"""
# SQLite hands stored text (and its own messages, which quote a damaged file's names) back as bytes
# that Python decodes as UTF-8: a damaged or foreign file can make that decoding fail too.
_READ_ERRORS = (sqlite3.Error, UnicodeDecodeError)
_COLUMNS = ("at", "place", "credential", "kind", "colour", "outcome", "error", "policy")
# Fixed statements (no SQL is built from input; values are always bound parameters).
_INSERT = (
    "INSERT INTO scans (at, place, credential, kind, colour, outcome, error, policy)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT at, place, credential, kind, colour, outcome, error, policy FROM scans"
    " WHERE (?1 IS NULL OR credential = ?1) AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at <= ?3)"
    " ORDER BY at, id"
)
Outcome = Literal["admit", "deny", "not_checked", "error"]


@dataclass(frozen=True, slots=True)
class ScanLog:
    """An open scan log: the SQLite connection and the key that hashes credential ids."""

    path: Path
    connection: sqlite3.Connection = field(repr=False)
    key: bytes = field(repr=False)


def generate_log_key() -> bytes:
    """A fresh random 32-byte log key."""
    return secrets.token_bytes(_KEY_BYTES)


def _key_id(key: bytes) -> str:
    return hashlib.sha256(_KEY_ID_DOMAIN + key).hexdigest()[:16]


def save_log_key(key: bytes, path: str | os.PathLike[str]) -> None:
    """Write a log key as hex to ``path``, readable only by its owner (mode 0600); never overwrite one."""
    if not isinstance(key, bytes) or len(key) != _KEY_BYTES:
        raise BadKey(f"a log key is {_KEY_BYTES} bytes")
    write_secret(path, key.hex() + "\n", error=BadKey)


def load_log_key(source: bytes | str | os.PathLike[str]) -> bytes:
    """Read a log key file written by :func:`save_log_key` (a path or its bytes); raise :class:`BadKey`."""
    path = "the log key" if isinstance(source, bytes) else os.fspath(source)
    # A file is read bounded and never blocking on a FIFO; bytes are bounded by the length check below.
    raw = source if isinstance(source, bytes) else read_bounded(source, _KEY_FILE_LIMIT, error=BadKey)
    try:
        key = bytes.fromhex(raw.decode("ascii").strip())
    except ValueError:
        key = b""
    if len(key) != _KEY_BYTES:
        raise BadKey(f"{path}: a log key is {_KEY_BYTES} bytes of hex")
    return key


def credential_hash(key: bytes, credential_id: bytes) -> str:
    """The hex hash under which a credential's rows are stored: HMAC-SHA256(key, domain || id)[:16]."""
    if not isinstance(credential_id, bytes) or not 1 <= len(credential_id) <= 64:
        raise BadInput("a credential id is 1–64 bytes")
    return hmac.digest(key, _HASH_DOMAIN + credential_id, "sha256")[:_HASH_BYTES].hex()


def open_log(path: str | os.PathLike[str], key: bytes) -> ScanLog:
    """Open (creating if needed) the scan log at ``path`` with its hashing ``key``.

    A log remembers the id of the key it was created with and refuses any
    other (``scan_log_error``), so rows hashed under two keys never mix.
    """
    if not isinstance(key, bytes) or len(key) != _KEY_BYTES:
        raise BadKey(f"a log key is {_KEY_BYTES} bytes")
    where = Path(path)
    try:
        # isolation_level=None: transactions are explicit, so BEGIN IMMEDIATE takes the write lock.
        conn = sqlite3.connect(where, timeout=_BUSY_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise ScanLogError(f"cannot open scan log {where}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise ScanLogError(f"scan log {where} cannot use WAL mode (a network file system?)")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable except on power loss
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA.split(";"):  # one by one: executescript would commit first
            if statement.strip():
                conn.execute(statement)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(scans)")}
        if "policy" not in columns:  # a log made before rows named their policy: the column is added
            conn.execute("ALTER TABLE scans ADD COLUMN policy TEXT")
        row = conn.execute("SELECT value FROM meta WHERE name = 'key_id'").fetchone()
        key_id = _key_id(key)
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('format', ?), ('key_id', ?)", (str(LOG_FORMAT), key_id))
        elif row[0] != key_id:
            raise ScanLogError(f"scan log {where} was created with log key {row[0]}, not this one")
        conn.execute("COMMIT")
    except _READ_ERRORS as exc:
        conn.close()
        raise ScanLogError(f"scan log {where} is not usable: {exc}") from exc
    except HealthCredError:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
        raise
    return ScanLog(where, conn, key)


def close_log(log: ScanLog) -> None:
    """Close the log's connection."""
    log.connection.close()


def record_scan(
    log: ScanLog,
    *,
    place: str,
    outcome: Outcome,
    result: VerificationResult | None = None,
    credential_id: bytes | None = None,
    error: str | None = None,
    at: datetime | int | float | None = None,
    policy: str | None = None,
) -> None:
    """Append one scan: ``outcome`` at ``place``, for the credential of ``result`` (or ``credential_id``).

    ``policy`` names the signed policy that decided (``"ID vVERSION"``, as a gate's decision says).

    Only the keyed hash of the id, the kind and the colour are stored. An
    ``error`` row stores its error code; for an invalid code (no trusted id) it
    has no credential hash, while one given a verified ``result`` (a paper code
    whose holder's ID was not checked: ``id_not_checked``) keeps the hash.
    """
    if outcome not in OUTCOMES:
        raise BadInput(f"outcome must be one of {OUTCOMES}")
    if (outcome == "error") != (error is not None):
        raise BadInput("an error row, and only an error row, names its error code")
    if not isinstance(place, str) or not 1 <= len(place) <= 64:
        raise BadInput("place is 1–64 characters (the venue id)")
    kind = colour = None
    if result is not None:
        if not isinstance(result, VerificationResult):
            raise BadInput("result must be a VerificationResult")
        raw_id = result.credential.id  # bytes for native codes; text (or None) for foreign ones
        credential_id = raw_id if isinstance(raw_id, bytes) else raw_id.encode() if raw_id else None
        kind = result.kind
        colour = None if result.status is None else result.status.name
    if policy is not None and (not isinstance(policy, str) or not 1 <= len(policy) <= 128):
        raise BadInput("policy is 1–128 characters (the policy's id and version)")
    hashed = None if credential_id is None else credential_hash(log.key, credential_id)
    row = (epoch_seconds(at), place, hashed, kind, colour, outcome, error, policy)
    try:
        log.connection.execute("BEGIN IMMEDIATE")
        log.connection.execute(_INSERT, row)
        log.connection.execute("COMMIT")
    except sqlite3.Error as exc:
        if log.connection.in_transaction:
            log.connection.execute("ROLLBACK")
        raise ScanLogError(f"cannot write to scan log {log.path}: {exc}") from exc


def _stored_time(log: ScanLog, value: Any) -> str:
    # The file is the disk's, not ours: SQLite keeps any type in any column, so check what comes back.
    if type(value) is not int or not 0 <= value <= MAX_EPOCH:
        raise ScanLogError(f"scan log {log.path} holds a row whose time {value!r} is not a time in seconds")
    return datetime.fromtimestamp(value, UTC).isoformat()


def _stored_text(log: ScanLog, value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise ScanLogError(f"scan log {log.path} holds a {type(value).__name__} where text belongs")
    return value


def _rows(
    log: ScanLog, credential_id: bytes | None, since: int | None, until: int | None
) -> Iterator[dict[str, Any]]:
    hashed = None if credential_id is None else credential_hash(log.key, credential_id)
    try:
        for at, *texts in log.connection.execute(_SELECT, (hashed, since, until)):
            row = dict(zip(_COLUMNS[1:], (_stored_text(log, v) for v in texts), strict=True))
            row["time"] = _stored_time(log, at)
            yield row
    except _READ_ERRORS as exc:
        raise ScanLogError(f"cannot read scan log {log.path}: {exc}") from exc


_EXPORT_COLUMNS = ("time", "place", "credential", "kind", "colour", "outcome", "error", "policy")


def export_rows(
    log: ScanLog,
    out: IO[str],
    *,
    fmt: Literal["csv", "jsonl"] = "jsonl",
    credential_id: bytes | None = None,
    since: datetime | int | None = None,
    until: datetime | int | None = None,
) -> int:
    """Write rows (all, or one credential's: its id is hashed with the log key) as CSV or JSON lines.

    The export holds the hashes, not the ids: a tracer matches further ids by
    hashing them with the same key. Returns the number of rows written.
    """
    if fmt not in ("csv", "jsonl"):
        raise BadInput("export format is csv or jsonl")
    lower = None if since is None else epoch_seconds(since)
    upper = None if until is None else epoch_seconds(until)
    count = 0
    writer = csv.DictWriter(out, fieldnames=_EXPORT_COLUMNS, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in _rows(log, credential_id, lower, upper):
        if writer is not None:
            writer.writerow(row)
        else:
            out.write(json.dumps({k: row[k] for k in _EXPORT_COLUMNS}, ensure_ascii=False) + "\n")
        count += 1
    return count


def purge(log: ScanLog, *, days: int = DEFAULT_RETENTION_DAYS, now: datetime | int | None = None) -> int:
    """Delete rows older than ``days`` days before ``now``; return how many were deleted.

    ``secure_delete`` overwrites the freed pages and the WAL is truncated
    afterwards, so purged rows are gone from the files, not only from queries.
    """
    if type(days) is not int or days < 1:
        raise BadInput("retention is a whole number of days, at least 1")
    cutoff = epoch_seconds(now) - days * 86400
    try:
        log.connection.execute("BEGIN IMMEDIATE")
        deleted = log.connection.execute("DELETE FROM scans WHERE at < ?", (cutoff,)).rowcount
        log.connection.execute("COMMIT")
        log.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        if log.connection.in_transaction:
            log.connection.execute("ROLLBACK")
        raise ScanLogError(f"cannot purge scan log {log.path}: {exc}") from exc
    return int(deleted)


def stats(log: ScanLog) -> dict[str, Any]:
    """Row count, time span, and counts per outcome and colour (no hashes)."""
    try:
        conn = log.connection
        total, first, last = conn.execute("SELECT COUNT(*), MIN(at), MAX(at) FROM scans").fetchone()
        outcomes = dict(conn.execute("SELECT outcome, COUNT(*) FROM scans GROUP BY outcome ORDER BY outcome"))
        colours = dict(
            conn.execute(
                "SELECT colour, COUNT(*) FROM scans WHERE colour IS NOT NULL GROUP BY colour ORDER BY colour"
            )
        )
        places = conn.execute("SELECT COUNT(DISTINCT place) FROM scans").fetchone()[0]
    except _READ_ERRORS as exc:
        raise ScanLogError(f"cannot read scan log {log.path}: {exc}") from exc

    def when(t: Any) -> str | None:
        return None if t is None else _stored_time(log, t)

    return {
        "rows": total,
        "first": when(first),
        "last": when(last),
        "places": places,
        "outcomes": {_stored_text(log, k): n for k, n in outcomes.items()},
        "colours": {_stored_text(log, k): n for k, n in colours.items()},
        "retention_days": DEFAULT_RETENTION_DAYS,
    }


def outcome_counts(log: ScanLog, *, since: datetime | int) -> dict[str, int]:
    """Rows at or after ``since``, counted by outcome (a station's count of the day)."""
    try:
        found = log.connection.execute(
            "SELECT outcome, COUNT(*) FROM scans WHERE at >= ? GROUP BY outcome", (epoch_seconds(since),)
        )
        return {str(_stored_text(log, k)): int(n) for k, n in found}
    except _READ_ERRORS as exc:
        raise ScanLogError(f"cannot read scan log {log.path}: {exc}") from exc


def export_text(log: ScanLog, **options: Any) -> str:
    """:func:`export_rows` into a string (for small exports and tests)."""
    buffer = io.StringIO()
    export_rows(log, buffer, **options)
    return buffer.getvalue()
