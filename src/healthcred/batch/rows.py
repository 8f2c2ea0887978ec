"""Batch input: CSV (with a header) or JSON-lines records read into rows, checked and bounded.

Each record becomes the credential it asks for, or a :class:`BadRow` with the
typed error's code and message; nothing here signs or writes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from healthcred.errors import BadInput, HealthCredError
from healthcred.flows.idcheck import normalise_id_number
from healthcred.model import (
    PAPER_LIFETIME,
    PAPER_MAX_LIFETIME,
    STATUS_BY_NAME,
    CredentialKind,
    DocumentType,
    HealthCode,
    Subject,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "MAX_LINE",
    "BadRow",
    "Kind",
    "Row",
    "input_format",
    "read_records",
    "row_credential",
    "row_household",
]

COLUMNS = (
    "name",
    "birth_date",
    "document_type",
    "document_number",
    "status",
    "region",
    "valid_days",
    "kind",
    "household",
)
"""Input columns; ``name``, ``birth_date``, ``document_number``, ``status`` and ``region`` are required."""
_REQUIRED = ("name", "birth_date", "document_number", "status", "region")

MAX_LINE = 4096
"""The longest input record accepted, in characters."""
KINDS = {"paper": CredentialKind.PAPER, "health": CredentialKind.HEALTH_STATUS}
"""The kinds a row may ask for, by the name in its ``kind`` column."""
Kind = Literal["paper", "health"]
"""A kind's name (``run_batch``'s ``kind``)."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """An input row that was not issued: its 1-based record number, file line, error code and message."""

    row: int
    line: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Row:
    """A checked row waiting to be signed: where it came from, its identity, household and credential."""

    row: int
    line: int
    identity: str
    household: str | None
    credential: HealthCode
    id_number: str


def input_format(path: Path, fmt: str | None) -> str:
    """``fmt``, or the format the file name's suffix tells (``.csv``; ``.jsonl`` or ``.ndjson``)."""
    chosen = fmt or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(path.suffix.lower())
    if chosen not in ("csv", "jsonl"):
        raise BadInput(f"cannot tell the format of {path.name}: name it .csv or .jsonl, or pass fmt=")
    return chosen


def read_records(path: Path, fmt: str) -> Iterator[tuple[int, int, str, dict[str, Any] | HealthCredError]]:
    """(row, line, raw record, fields or the error) for every record of a CSV or JSONL file."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        if fmt == "jsonl":
            row = 0
            for number, line in enumerate(handle, 1):
                raw = line.rstrip("\r\n")
                if not raw.strip():
                    continue
                row += 1
                try:
                    value = json.loads(raw)
                except ValueError as exc:
                    yield row, number, raw, BadInput(f"not a JSON object: {exc}")
                    continue
                if not isinstance(value, dict):
                    yield row, number, raw, BadInput("a JSONL row is one JSON object")
                    continue
                yield row, number, raw, value
            return
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for line in handle:
                consumed.append(line)
                yield line

        reader = csv.reader(lines())
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadInput(f"{path}: the CSV header cannot be read: {exc}") from exc
        unknown = [h for h in header if h not in COLUMNS]
        missing = [c for c in _REQUIRED if c not in header]
        if unknown or missing:
            raise BadInput(
                f"{path}: CSV header must name the columns {', '.join(COLUMNS)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
        row = 0
        while True:
            consumed.clear()
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row += 1
                yield row, reader.line_num, "".join(consumed), BadInput(f"malformed CSV: {exc}")
                continue
            raw = "".join(consumed).rstrip("\r\n")
            if not values or not "".join(values).strip():
                continue
            row += 1
            if len(values) != len(header):
                yield (
                    row,
                    reader.line_num,
                    raw,
                    BadInput(f"{len(values)} fields, the header has {len(header)}"),
                )
                continue
            yield row, reader.line_num, raw, {h: v for h, v in zip(header, values, strict=True) if v != ""}


def _text(fields: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = fields.get(name, default)
    if value is None:
        raise BadInput(f"column {name!r} is required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadInput(f"column {name!r} must be text")
    return str(value).strip()


def row_credential(
    fields: Mapping[str, Any], default_kind: Kind, issued_at: datetime, paper_days: int = PAPER_LIFETIME.days
) -> tuple[HealthCode, str]:
    """The credential a row asks for, and the clear document number; raises a typed error."""
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise BadInput(f"unknown field(s): {', '.join(unknown)}")
    kind_name = _text(fields, "kind", default_kind).lower()
    if kind_name not in KINDS:
        raise BadInput(f"kind must be 'paper' or 'health', not {kind_name!r}")
    kind = KINDS[kind_name]
    status_name = _text(fields, "status").lower()
    if status_name not in STATUS_BY_NAME:
        raise BadInput(f"status must be green, yellow or red, not {status_name!r}")
    doc_name = _text(fields, "document_type", "resident_id_card").lower()
    try:
        document_type = (
            DocumentType[doc_name.upper()] if not doc_name.isdigit() else DocumentType(int(doc_name))
        )
    except (KeyError, ValueError) as exc:
        raise BadInput(f"unknown document_type {doc_name!r}") from exc
    default_days = paper_days if kind is CredentialKind.PAPER else 1
    days_text = _text(fields, "valid_days", str(default_days))
    if not days_text.isdigit() or not 1 <= int(days_text) <= PAPER_MAX_LIFETIME.days:
        # The model enforces 180 days for paper codes; a batch holds health codes to it as well.
        raise BadInput(
            f"valid_days must be a whole number from 1 to {PAPER_MAX_LIFETIME.days}, not {days_text!r}"
        )
    number = _text(fields, "document_number")
    if kind is CredentialKind.PAPER:  # a mistyped number is a bad row now, not a failure while signing
        number = normalise_id_number(number, document_type)
    try:
        subject = Subject.create(_text(fields, "name"), _text(fields, "birth_date"), document_type, number)
        credential = HealthCode.create(
            subject=subject,
            status=STATUS_BY_NAME[status_name],
            region=_text(fields, "region"),
            kind=kind,
            issued_at=issued_at,
            valid_for=timedelta(days=int(days_text)),
        )
    except ValueError as exc:  # the model's InvalidField; mask_document_number's ValueError
        first = exc.errors()[0] if hasattr(exc, "errors") else None
        detail = f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else str(exc)
        raise BadInput(f"invalid row: {detail}") from exc
    return credential, number


def row_household(fields: Mapping[str, Any]) -> str | None:
    """The row's household (at most 64 characters), or ``None`` for a person printed alone."""
    value = fields.get("household")
    if value is None:
        return None
    text = _text(fields, "household")
    if len(text) > 64:
        raise BadInput("household is at most 64 characters")
    return text or None
