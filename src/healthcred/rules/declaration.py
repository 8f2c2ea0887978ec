"""What a citizen declares, and the background data an issuer checks it against.

The declaration never leaves the issuer: the code carries only the resulting
status. The key-personnel control list is keyed by an HMAC of the document
number (:func:`personnel_key`), never by the clear number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    model_validator,
)
from pydantic_core import core_schema

from healthcred.errors import InvalidField
from healthcred.model import DocumentType, Subject
from healthcred.regions import REGION_PATTERN
from healthcred.rules.validation import HEX_DIGEST_PATTERN, validated

__all__ = [
    "Background",
    "Declaration",
    "DeclaredSubject",
    "LabTest",
    "RiskArea",
    "Stay",
    "parse_background",
    "parse_declaration",
    "personnel_key",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
_REGION = REGION_PATTERN
Region = Annotated[str, Field(pattern=_REGION)]


class DeclaredSubject(BaseModel):
    """The person declaring, as a declaration file gives them (checked again as a :class:`Subject`)."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=64)
    """The full name: 1–64 characters, no white space at either end, no line break."""
    birth_date: str = Field(min_length=4, max_length=10)
    """YYYY, YYYY-MM or YYYY-MM-DD (a real calendar date)."""
    document_type: DocumentType
    """The identity document, by number: 1 resident ID card, 2 passport, 3 Hong Kong/Macao permit,
    4 Taiwan permit, 5 foreigner's permanent residence card, 9 other."""
    document_number: str = Field(min_length=1, max_length=24)
    """The document number masked as it is printed (3301**********1234); the clear number is
    the declaration's own ``document_number``."""


def _as_subject(value: object, validate: Callable[[Any], Any]) -> Subject:
    """A :class:`Subject`, or one from its fields as a JSON declaration gives them (validated first)."""
    if isinstance(value, Subject):
        return value
    if isinstance(value, Mapping):
        given = value.get("document_type")
        if type(given) is int and given in DocumentType.__members__.values():  # JSON has no enums
            value = {**value, "document_type": DocumentType(given)}
    fields: DeclaredSubject = validate(value)
    try:
        return Subject(**dict(fields))
    except InvalidField as exc:  # a ValueError: pydantic reports it at "subject"
        raise ValueError(exc.message) from None


class _SubjectField:
    """The ``subject`` field: a :class:`Subject` in Python, :class:`DeclaredSubject`'s shape in JSON."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_wrap_validator_function(
            _as_subject,
            handler.generate_schema(DeclaredSubject),
            serialization=core_schema.plain_serializer_function_ser_schema(Subject.model_dump),
        )


RiskLevel = Literal["low", "medium", "high"]
ContactKind = Literal["none", "suspected", "confirmed"]
_M = TypeVar("_M", bound=BaseModel)
Symptom = Literal["fever", "cough", "sore_throat", "fatigue", "loss_of_smell", "diarrhoea"]


class Stay(BaseModel):
    """A stay in a region (GB/T 2260 code), first and last day included."""

    model_config = _FROZEN

    region: Region
    """Where: a GB/T 2260 region code (six digits)."""
    start: date
    """The first day of the stay (YYYY-MM-DD)."""
    end: date
    """The last day of the stay (YYYY-MM-DD), on or after ``start``."""

    @model_validator(mode="after")
    def _ordered(self) -> Stay:
        if self.end < self.start:
            raise ValueError("a stay ends on or after its first day")
        return self


class LabTest(BaseModel):
    """A nucleic-acid (PCR) or antigen test."""

    model_config = _FROZEN

    kind: Literal["pcr", "antigen"]
    """``pcr`` (nucleic acid) or ``antigen``."""
    result: Literal["positive", "negative"]
    """``positive`` or ``negative``."""
    taken: date
    """The day the sample was taken (YYYY-MM-DD)."""


class Declaration(BaseModel):
    """One health declaration, as the citizen (or a guardian) filed it."""

    model_config = _FROZEN

    subject: Annotated[Subject, _SubjectField]
    """The person the code will be issued to."""
    document_number: Annotated[str, Field(min_length=3, max_length=32)]
    """In clear: the issuer needs it to check the key-personnel list; it is never encoded."""
    declared_at: AwareDatetime
    """When the declaration was filed: ISO 8601 with a time zone (2026-05-01T08:30:00+08:00)."""
    temperature: Annotated[float | None, Field(ge=30.0, le=45.0)] = None
    """Body temperature in °C (30–45), if taken."""
    symptoms: Annotated[tuple[Symptom, ...], Field(max_length=6)] = ()
    """Declared symptoms."""
    stays: Annotated[tuple[Stay, ...], Field(max_length=64)] = ()
    """Where the person stayed recently (at most 64 stays)."""
    contact: ContactKind = "none"
    """Contact with a case: ``none``, ``suspected`` or ``confirmed``."""
    contact_date: date | None = None
    """The day of the contact (YYYY-MM-DD): given exactly when ``contact`` is not ``none``."""
    tests: Annotated[tuple[LabTest, ...], Field(max_length=32)] = ()
    """Recent tests (at most 32)."""
    vaccine_doses: Annotated[int, Field(ge=0, le=10)] = 0
    """Vaccine doses received (0–10)."""

    @model_validator(mode="after")
    def _contact_dated(self) -> Declaration:
        if (self.contact != "none") != (self.contact_date is not None):
            raise ValueError("contact_date is given exactly when contact is suspected or confirmed")
        return self


class RiskArea(BaseModel):
    """A region's risk level over a period (end None: still in force)."""

    model_config = _FROZEN

    region: Region
    """The area: a GB/T 2260 region code (six digits); it covers only that code, not its sub-regions."""
    level: RiskLevel
    """``low``, ``medium`` or ``high``."""
    start: date
    """The first day of the level (YYYY-MM-DD)."""
    end: date | None = None
    """The last day (YYYY-MM-DD); absent or null: still in force."""


def personnel_key(list_key: bytes, document_number: str) -> str:
    """The control-list key of a document number: HMAC-SHA256 under the list's key, hex.

    A plain hash of a Chinese ID number (region + birth date + sequence) is
    brute-forced in minutes; the HMAC key stays with the list's publisher and
    the issuers that check it.
    """
    return hmac.new(list_key, document_number.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


class Background(BaseModel):
    """Background data for the review: risk areas and the key-personnel control list."""

    model_config = _FROZEN

    risk_areas: Annotated[tuple[RiskArea, ...], Field(max_length=100_000)] = ()
    """Regions and their risk levels over time (at most 100,000)."""
    list_key: bytes = b""
    """The key-personnel list's HMAC key, as text (its UTF-8 bytes are the key)."""
    key_personnel: frozenset[Annotated[str, Field(pattern=HEX_DIGEST_PATTERN)]] = frozenset()
    """:func:`personnel_key` values of the people under control: HMAC-SHA256 of each document number
    under ``list_key``, as 64 lowercase hex digits."""


def parse_declaration(document: object, what: str = "declaration") -> Declaration:
    """A :class:`Declaration` from its JSON document; :class:`BadInput` names the field, value and rule."""
    return validated(Declaration, document, what, strict=False)  # JSON has no dates or enums: lax


def parse_background(document: object, what: str = "background data") -> Background:
    """:class:`Background` data from its JSON document; :class:`BadInput` names the field, value and rule."""
    return validated(Background, document, what, strict=False)
