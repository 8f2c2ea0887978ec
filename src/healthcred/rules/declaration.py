"""What a citizen declares, and the background data an issuer checks it against.

The declaration never leaves the issuer: the code carries only the resulting
status. The key-personnel control list is keyed by an HMAC of the document
number (:func:`personnel_key`), never by the clear number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)

from healthcred.model import DocumentType, Subject
from healthcred.regions import REGION_PATTERN
from healthcred.rules.validation import validated

__all__ = [
    "Background",
    "Declaration",
    "LabTest",
    "RiskArea",
    "Stay",
    "parse_background",
    "parse_declaration",
    "personnel_key",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_REGION = REGION_PATTERN


def _subject(value: object) -> Subject:
    """A :class:`Subject`, or its fields as a JSON declaration gives them (the document type by number)."""
    if isinstance(value, Mapping) and type(value.get("document_type")) is int:
        value = {**value, "document_type": DocumentType(value["document_type"])}
    return Subject.model_validate(value)  # InvalidField is a ValueError: pydantic reports it


RiskLevel = Literal["low", "medium", "high"]
ContactKind = Literal["none", "suspected", "confirmed"]


class Stay(BaseModel):
    """A stay in a region (GB/T 2260 code), first and last day included."""

    model_config = _FROZEN

    region: Annotated[str, Field(pattern=_REGION)]
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Stay:
        if self.end < self.start:
            raise ValueError("a stay ends on or after its first day")
        return self


class LabTest(BaseModel):
    """A nucleic-acid (PCR) or antigen test."""

    model_config = _FROZEN

    kind: Literal["pcr", "antigen"]
    result: Literal["positive", "negative"]
    taken: date


class Declaration(BaseModel):
    """One health declaration, as the citizen (or a guardian) filed it."""

    model_config = _FROZEN

    subject: Annotated[Subject, PlainValidator(_subject), PlainSerializer(Subject.model_dump)]
    document_number: Annotated[str, Field(min_length=3, max_length=32)]
    """In clear: the issuer needs it to check the key-personnel list; it is never encoded."""
    declared_at: AwareDatetime
    """With its offset: a day's risk depends on where the clock is."""
    temperature: Annotated[float | None, Field(ge=30.0, le=45.0)] = None
    symptoms: tuple[
        Literal["fever", "cough", "sore_throat", "fatigue", "loss_of_smell", "diarrhoea"], ...
    ] = ()
    stays: Annotated[tuple[Stay, ...], Field(max_length=64)] = ()
    contact: ContactKind = "none"
    contact_date: date | None = None
    tests: Annotated[tuple[LabTest, ...], Field(max_length=32)] = ()
    vaccine_doses: Annotated[int, Field(ge=0, le=10)] = 0

    @model_validator(mode="after")
    def _contact_dated(self) -> Declaration:
        if (self.contact != "none") != (self.contact_date is not None):
            raise ValueError("a contact, and only a contact, has a date")
        return self


class RiskArea(BaseModel):
    """A region's risk level over a period (end None: still in force)."""

    model_config = _FROZEN

    region: Annotated[str, Field(pattern=_REGION)]
    level: RiskLevel
    start: date
    end: date | None = None


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
    list_key: bytes = b""
    key_personnel: frozenset[str] = frozenset()
    """:func:`personnel_key` values of the people under control."""


def parse_declaration(document: object, what: str = "declaration") -> Declaration:
    """A declaration from its JSON form (ISO dates and times, the document type by number).

    JSON has no dates or enums, so it is validated in lax mode; a mistake raises
    :class:`~healthcred.errors.InvalidField` in the user's terms (``declaration: stays[0].end: …``).
    """
    return validated(Declaration, document, what, strict=False)


def parse_background(document: object, what: str = "background") -> Background:
    """Background data from its JSON form (``list_key`` as text), as :func:`parse_declaration`."""
    return validated(Background, document, what, strict=False)
