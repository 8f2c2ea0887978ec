"""The batch folder's own files: its id (``batch.json``), the journal, leftovers, and the report.

The journal is what makes a batch exactly-once: one JSON line per issued row
(its identity, file stem, household and issued text), appended and fsync'd a
chunk at a time *before* any of the chunk's files are written. A torn last
line (the process died while writing it) belongs to a chunk whose files were
never written, so :func:`read_journal` cuts it off. Every other file is
written whole or not at all (:func:`healthcred.files.write_atomic`); a
temporary left by an interruption is removed by :func:`clean_temporaries`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from healthcred.batch.rows import BadRow
from healthcred.errors import BadInput
from healthcred.files import TEMPORARY_SUFFIX, write_atomic

__all__ = [
    "BATCH_FILE_FORMAT",
    "JOURNAL_FORMAT",
    "Entry",
    "append_entries",
    "clean_temporaries",
    "codes_present",
    "open_batch",
    "read_journal",
    "sheet_present",
    "write_report",
]

BATCH_FILE_FORMAT = "healthcred-batch/1"
"""The ``format`` value of ``batch.json``."""
JOURNAL_FORMAT = 1
"""The ``v`` value of each journal line."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal line: an issued row."""

    row: int
    identity: str
    stem: str
    household: str | None
    text: str


def clean_temporaries(out: Path) -> None:
    """Remove the temporary files an interrupted run left in the batch folder."""
    for folder in (out, out / "codes", out / "sheets"):
        if folder.is_dir():
            for stale in folder.glob(f".*{TEMPORARY_SUFFIX}"):
                stale.unlink(missing_ok=True)


def open_batch(out: Path, batch_id: str | None) -> str:
    """The batch id of ``out``: read from ``batch.json``, or chosen (``batch_id`` or random) and written."""
    path = out / "batch.json"
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = data["batch_id"]
            if data.get("format") != BATCH_FILE_FORMAT or not isinstance(found, str):
                raise ValueError("not a batch file")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"{path} is not a {BATCH_FILE_FORMAT} file: {exc}") from exc
        if batch_id is not None and batch_id != found:
            raise BadInput(f"{out} holds batch {found!r}, not {batch_id!r}: use another output folder")
        return found
    chosen = batch_id if batch_id is not None else secrets.token_hex(8)
    if not isinstance(chosen, str) or not re.fullmatch(r"[0-9A-Za-z_.-]{1,64}", chosen):
        raise BadInput("a batch id is 1–64 letters, digits, '_', '.' or '-'")
    for folder in (out, out / "codes", out / "sheets"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where the folder belongs, a read-only disk
            raise BadInput(f"cannot create the output folder {folder}: {exc.strerror or exc}") from exc
    record = {"format": BATCH_FILE_FORMAT, "batch_id": chosen, "created": datetime.now(UTC).isoformat()}
    write_atomic(path, (json.dumps(record) + "\n").encode())
    return chosen


def read_journal(path: Path) -> dict[str, Entry]:
    """The journal's entries by identity; a torn last line is cut off the file."""
    entries: dict[str, Entry] = {}
    if not path.exists():
        return entries
    data = path.read_bytes()
    *complete, tail = data.split(b"\n")  # tail: after the last newline, empty unless torn
    for number, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            if item.get("v") != JOURNAL_FORMAT:
                raise ValueError(f"journal version {item.get('v')!r}")
            entry = Entry(item["row"], item["id"], item["stem"], item["household"], item["text"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadInput(f"{path} is damaged at line {number}; restore it or use a new folder") from exc
        entries[entry.identity] = entry
    if tail:
        # The torn end of a write that an interruption cut short: no file of its rows was
        # written yet (files follow the fsync), so dropping it loses nothing.
        with open(path, "r+b") as handle:
            handle.truncate(len(data) - len(tail))
            handle.flush()
            os.fsync(handle.fileno())
    return entries


def append_entries(handle: IO[bytes], entries: Iterable[Entry]) -> None:
    """Append one journal line per entry to the open journal and fsync it: durable before any file."""
    lines = [
        json.dumps(
            {
                "v": JOURNAL_FORMAT,
                "row": entry.row,
                "id": entry.identity,
                "stem": entry.stem,
                "household": entry.household,
                "text": entry.text,
            }
        )
        for entry in entries
    ]
    if lines:
        handle.write(("\n".join(lines) + "\n").encode())
        handle.flush()
        os.fsync(handle.fileno())


def codes_present(codes: Path, entry: Entry) -> bool:
    """Whether an entry's text and PNG are in ``codes`` whole: the text as journaled, the PNG to its end."""
    try:
        text = (codes / f"{entry.stem}.txt").read_text(encoding="utf-8")
        return text.rstrip("\n") == entry.text and _ends_with(codes / f"{entry.stem}.png", _PNG_END)
    except (OSError, UnicodeDecodeError):
        return False


def sheet_present(path: Path) -> bool:
    """Whether a PDF sheet is there whole (it ends with the ``%%EOF`` marker)."""
    return _ends_with(path, _PDF_END)


_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk and its CRC: the last 8 bytes of every PNG
_PDF_END = b"%%EOF"


def _ends_with(path: Path, marker: bytes) -> bool:
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < len(marker):
                return False
            handle.seek(max(0, size - len(marker) - 2))
            return handle.read().rstrip(b"\r\n").endswith(marker)
    except OSError:
        return False


def write_report(out: Path, bad: Sequence[BadRow]) -> None:
    """Write ``report.csv``: the rows not issued, with their error code and message."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "line", "code", "message"])
    for item in bad:
        writer.writerow([item.row, item.line, item.code, item.message])
    write_atomic(out / "report.csv", buffer.getvalue().encode())
