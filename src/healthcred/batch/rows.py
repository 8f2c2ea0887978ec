"""Batch input: CSV (with a header) or JSON-lines records read into rows, checked and bounded.

Each record becomes the credential it asks for, or a :class:`BadRow` with the
typed error's code and message; nothing here signs or writes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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
from healthcred.regions import REGION_PATTERN, check_known_region
from healthcred.rules.validation import validated

__all__ = [
    "COLUMNS",
    "ENCODINGS",
    "KINDS",
    "MAX_LINE",
    "BadRow",
    "BatchRow",
    "DocumentTypeName",
    "Kind",
    "Row",
    "Source",
    "StatusName",
    "input_format",
    "parse_row",
    "read_records",
    "row_credential",
    "row_household",
    "source_encoding",
    "source_label",
]

ENCODINGS = ("utf-8", "gb18030")
"""The encodings a CSV or JSONL source may be in, tried in this order (a UTF-8 BOM is dropped)."""
_PROBE = 1 << 20  # bytes decoded at a time while telling the encoding: the file is never held whole

StatusName = Literal["green", "yellow", "red"]
"""The colours a row may ask for (the national palette, :data:`healthcred.model.STATUS_BY_NAME`)."""
Kind = Literal["paper", "health"]
"""A kind's name (a row's ``kind``, ``run_batch``'s ``kind``)."""
DocumentTypeName = Literal[
    "resident_id_card",
    "passport",
    "hk_macao_permit",
    "taiwan_permit",
    "foreigner_permanent_residence",
    "other",
]
""":class:`~healthcred.model.DocumentType` members by their lowercase names."""
_ROW_TEXT = ConfigDict(
    frozen=True,
    extra="forbid",
    use_attribute_docstrings=True,
    coerce_numbers_to_str=True,  # JSONL may give a document number or region as a number
    str_strip_whitespace=True,
)


def _folded(value: object) -> object:
    """A name as a row may give it: case and surrounding space do not matter (``Green``, `` PAPER``)."""
    return value.strip().lower() if isinstance(value, str) else value


def _document_type(value: object) -> object:
    """A document type by name (``passport``) or by number (``2``, as on the wire)."""
    folded = _folded(value)
    number = str(folded) if isinstance(folded, int) and not isinstance(folded, bool) else folded
    if isinstance(number, str) and number.isdigit():
        try:
            return DocumentType(int(number)).name.lower()
        except ValueError:
            return number  # refused below, as the name it is not
    return folded


def _whole_days(value: object) -> object:
    """A day count as a number or its digits; ``true`` or ``14.5`` is no day count."""
    if isinstance(value, bool) or (isinstance(value, str) and not value.strip().isdigit()):
        raise ValueError("must be a whole number of days")
    return value


class BatchRow(BaseModel):
    """One input row of ``healthcred batch``: a JSONL object, or a CSV line under a header of these names."""

    model_config = _ROW_TEXT

    name: str = Field(min_length=1, max_length=64)
    """The holder's full name (1–64 characters, as on the document)."""
    birth_date: str = Field(min_length=4, max_length=10)
    """YYYY, YYYY-MM or YYYY-MM-DD (a real calendar date)."""
    document_type: Annotated[DocumentTypeName, BeforeValidator(_document_type)] = "resident_id_card"
    """The identity document, by name, or by number as on the wire (1 resident ID card, 2 passport,
    3 HK/Macao permit, 4 Taiwan permit, 5 foreigner's permanent residence card, 9 other)."""
    document_number: str = Field(min_length=1, max_length=32)
    """The document number in clear (a resident ID card's 18 characters are checked for a paper code);
    only its masked form is encoded."""
    status: Annotated[StatusName, BeforeValidator(_folded)]
    """The colour to issue: green, yellow or red (any case)."""
    region: str = Field(pattern=REGION_PATTERN)
    """The issuing region: a GB/T 2260 code (six digits) the key is granted."""
    valid_days: Annotated[int | None, BeforeValidator(_whole_days)] = Field(
        default=None, ge=1, le=PAPER_MAX_LIFETIME.days
    )
    """Days the code is valid (1–180; a number or its digits); default: the paper lifetime for a paper
    code, 1 for a health code."""
    kind: Annotated[Kind | None, BeforeValidator(_folded)] = None
    """``paper`` (a printed code with an ID check) or ``health``; default: the batch's ``--kind``."""
    household: str | None = Field(default=None, max_length=64)
    """Rows with the same household (at most 64 characters) are printed on one family sheet."""


COLUMNS: tuple[str, ...] = tuple(BatchRow.model_fields)
"""Input columns (:class:`BatchRow`'s fields); ``name``, ``birth_date``, ``document_number``, ``status``
and ``region`` are required."""
_REQUIRED = tuple(name for name, field in BatchRow.model_fields.items() if field.is_required())

MAX_LINE = 4096
"""The longest input record accepted, in characters."""
KINDS: dict[str, CredentialKind] = {"paper": CredentialKind.PAPER, "health": CredentialKind.HEALTH_STATUS}
"""The kinds a row may ask for, by the name in its ``kind`` column."""


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


Source = str | os.PathLike[str] | bytes
"""Where rows come from: a file, or the bytes of one (read from stdin, say)."""


def source_label(source: Source, name: str | None = None) -> str:
    """How messages name ``source``: ``name`` if given, else the path, else ``the rows``."""
    if name is not None:
        return name
    return "the rows" if isinstance(source, bytes) else os.fspath(source)


def input_format(source: Source, fmt: str | None, name: str | None = None) -> str:
    """``fmt``, or the format a file name's suffix tells (``.csv``; ``.jsonl`` or ``.ndjson``).

    Bytes have no name to tell it by: their format must be given.
    """
    suffix = "" if isinstance(source, bytes) else Path(source).suffix.lower()
    chosen = fmt or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix)
    if chosen in ("csv", "jsonl"):
        return chosen
    if not isinstance(source, bytes) and name is None:
        raise BadInput(
            f"cannot tell the format of {Path(source).name}:"
            " name it .csv or .jsonl, or give the format (--format)"
        )
    raise BadInput(f"cannot tell the format of {source_label(source, name)}: give it (--format csv or jsonl)")


def _open_binary(source: Source) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def source_encoding(source: Source, name: str | None = None) -> str:
    """The encoding ``source`` is in: ``utf-8`` (with or without a BOM) if it decodes so, else ``gb18030``.

    Raises :class:`BadInput` naming the first byte neither decodes (a binary or other file).
    """
    import codecs

    path = source_label(source, name)
    failures = []
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            with _open_binary(source) as handle:
                while chunk := handle.read(_PROBE):
                    decoder.decode(chunk)
                    offset += len(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            failures.append(f"{encoding} fails at byte {offset + exc.start}")
            continue
        except OSError as exc:
            raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
        return encoding
    raise BadInput(f"{path} is not UTF-8 or GB18030 text ({'; '.join(failures)}): save it as UTF-8 CSV")


def read_records(
    source: Source, fmt: str, encoding: str = "utf-8", name: str | None = None
) -> Iterator[tuple[int, int, str, dict[str, Any] | HealthCredError]]:
    """(row, line, raw record, fields or the error) for every record of a CSV or JSONL file (or its bytes).

    ``encoding`` is one of :data:`ENCODINGS` (see :func:`source_encoding`); a UTF-8 BOM is dropped.
    ``name`` names the source in messages (default: its path).
    """
    if encoding not in ENCODINGS:
        raise BadInput(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    path = source_label(source, name)
    text_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        handle = io.TextIOWrapper(_open_binary(source), encoding=text_encoding, newline="")
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


def parse_row(fields: Mapping[str, Any]) -> BatchRow:
    """A record's fields checked against :class:`BatchRow`; :class:`BadInput` names the field and value."""
    return validated(BatchRow, fields, "row")


def row_credential(
    fields: Mapping[str, Any], default_kind: Kind, issued_at: datetime, paper_days: int = PAPER_LIFETIME.days
) -> tuple[HealthCode, str]:
    """The credential a row asks for, and the clear document number; raises a typed error."""
    row = parse_row(fields)
    kind = KINDS[row.kind or default_kind]
    document_type = DocumentType[row.document_type.upper()]
    days = row.valid_days or (paper_days if kind is CredentialKind.PAPER else 1)
    number = row.document_number
    region = check_known_region(row.region, "region")
    if kind is CredentialKind.PAPER:  # a mistyped number is a bad row now, not a failure while signing
        number = normalise_id_number(number, document_type)
    try:
        subject = Subject.create(row.name, row.birth_date, document_type, number)
        credential = HealthCode.create(
            subject=subject,
            status=STATUS_BY_NAME[row.status],
            region=region,
            kind=kind,
            issued_at=issued_at,
            valid_for=timedelta(days=days),
        )
    except ValueError as exc:  # the model's InvalidField; mask_document_number's ValueError
        # The model's error already names the field, the value and what is allowed; keep only that.
        detail = exc.message if isinstance(exc, HealthCredError) else str(exc)
        raise BadInput(detail) from exc
    return credential, number


def row_household(fields: Mapping[str, Any]) -> str | None:
    """The row's household (at most 64 characters), or ``None`` for a person printed alone."""
    return parse_row(fields).household or None
