"""The native credential: its kinds, the subject (masked), the ID tag and :class:`HealthCode`.

The model knows nothing of CBOR or signatures: :mod:`healthcred.native.claims` maps it
to the wire, the flows sign and verify it.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from healthcred.model.status import FROZEN, Status
from healthcred.regions import REGION_PATTERN

__all__ = [
    "CREDENTIAL_ID_BYTES",
    "FORMAT_VERSION",
    "ID_KEY_ID_BYTES",
    "ID_TAG_BYTES",
    "PAPER_LIFETIME",
    "PAPER_MAX_LIFETIME",
    "CredentialKind",
    "DocumentType",
    "HealthCode",
    "IdTag",
    "Subject",
    "mask_document_number",
    "mask_name",
]

FORMAT_VERSION: Literal[1] = 1
"""Version of the health-code claim map this library writes and reads."""

CREDENTIAL_ID_BYTES = 16
"""Length of the random credential id (128 bits: unique at national scale without coordination)."""

# Checked by pydantic-core (Rust) rather than Python validators: verification builds these
# models on its hot path.
PAPER_LIFETIME = timedelta(days=14)
"""Default lifetime of a paper code (a sheet is printed once and carried for weeks)."""
PAPER_MAX_LIFETIME = timedelta(days=180)
"""Longest lifetime a paper code may have: refused when issuing and when verifying."""

ID_KEY_ID_BYTES = 8
"""Length of an ID-check key's id in an ID tag."""
ID_TAG_BYTES = 16
"""Length of the truncated HMAC-SHA256 in an ID tag (128 bits: no online guessing of a tag)."""

_REGION = REGION_PATTERN
_BIRTH_DATE = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"
_MASKED_DOC = r"^[0-9A-Za-z]{0,6}\*+[0-9A-Za-z]{0,4}$"
_NAME = r"^\S(.*\S)?$"


class CredentialKind(IntEnum):
    """What a credential asserts (codes as on the wire). Later kinds (paper code) extend this list."""

    HEALTH_STATUS = 1
    """A region's health code."""
    NATIONAL = 2
    """The national platform's epidemic prevention information code, derived from a regional one."""
    PAPER = 3
    """A long-lived printed code for people without a phone; the holder is checked against an ID document."""


class DocumentType(IntEnum):
    """The identity document a subject is registered with (codes as on the wire)."""

    RESIDENT_ID_CARD = 1
    PASSPORT = 2
    HK_MACAO_PERMIT = 3
    TAIWAN_PERMIT = 4
    FOREIGNER_PERMANENT_RESIDENCE = 5
    OTHER = 9


def mask_name(name: str) -> str:
    """Mask a name for display: ``张三丰`` → ``张*丰``, ``张三`` → ``张*``."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_document_number(number: str) -> str:
    """Keep the first 4 and last 4 characters of a document number, mask the rest.

    ``330106198503121234`` → ``3301**********1234``. Short numbers keep less.
    """
    number = number.strip()
    if len(number) < 3:
        raise ValueError("document number is too short to mask")
    keep = min(4, (len(number) - 1) // 2)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[len(number) - keep :]


class Subject(BaseModel):
    """The person a code belongs to, as little as a checker needs.

    The document number is held only in masked form; the name is held in full
    for comparison with a document and shown masked by default.
    """

    model_config = FROZEN

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=_NAME)]
    birth_date: Annotated[str, Field(pattern=_BIRTH_DATE, description="YYYY, YYYY-MM or YYYY-MM-DD")]
    document_type: DocumentType
    document_number: Annotated[
        str, Field(max_length=24, pattern=_MASKED_DOC, description="masked: 3301**********1234")
    ]

    @field_validator("birth_date", mode="after")
    @classmethod
    def _real_date(cls, value: str) -> str:
        if len(value) == 10:
            date.fromisoformat(value)  # the pattern admits 2023-02-30; the calendar does not
        return value

    @classmethod
    def create(cls, name: str, birth_date: str, document_type: DocumentType, document_number: str) -> Subject:
        """Build a subject from a clear document number, which is masked here and never kept."""
        return cls(
            name=name,
            birth_date=birth_date,
            document_type=document_type,
            document_number=mask_document_number(document_number),
        )

    @property
    def masked_name(self) -> str:
        """The name as a display should show it."""
        return mask_name(self.name)


class IdTag(BaseModel):
    """A keyed tag of the holder's ID number: lets a verifier holding the ID-check key confirm it.

    ``tag`` is HMAC-SHA256 under the key named by ``key_id`` over the credential
    id and the normalised number (see :mod:`healthcred.flows.idcheck`); the
    number itself is never in the code.
    """

    model_config = FROZEN

    key_id: Annotated[bytes, Field(min_length=ID_KEY_ID_BYTES, max_length=ID_KEY_ID_BYTES)]
    tag: Annotated[bytes, Field(min_length=ID_TAG_BYTES, max_length=ID_TAG_BYTES)]


def _utc_seconds(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


class HealthCode(BaseModel):
    """One health-code credential: who, which colour, where issued, and when valid."""

    model_config = FROZEN

    version: Literal[1] = FORMAT_VERSION
    kind: CredentialKind = CredentialKind.HEALTH_STATUS
    id: Annotated[bytes, Field(min_length=CREDENTIAL_ID_BYTES, max_length=CREDENTIAL_ID_BYTES)]
    status: Status
    reason: Annotated[int | None, Field(ge=0, le=0xFFFF)] = None
    subject: Subject
    region: Annotated[str, Field(pattern=_REGION, description="GB/T 2260 code, e.g. 330000")]
    issued_at: datetime
    expires_at: datetime
    source_region: Annotated[str | None, Field(pattern=_REGION)] = None
    """For a national code: the region whose code it was derived from."""
    source_id: Annotated[
        bytes | None, Field(min_length=CREDENTIAL_ID_BYTES, max_length=CREDENTIAL_ID_BYTES)
    ] = None
    """For a national code: the credential id of the regional code it was derived from."""
    id_tag: IdTag | None = None
    """Keyed tag of the holder's ID number; required on the wire for a paper code, optional otherwise."""

    @model_validator(mode="after")
    def _times(self) -> HealthCode:
        for moment in (self.issued_at, self.expires_at):
            if moment.tzinfo is None or moment.utcoffset() or moment.microsecond:
                raise ValueError("times must be UTC with whole seconds (the wire carries seconds)")
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        derived = self.kind is CredentialKind.NATIONAL
        if derived != (self.source_region is not None) or derived != (self.source_id is not None):
            raise ValueError("a national code, and only a national code, names its source region and id")
        if self.kind is CredentialKind.PAPER and self.expires_at - self.issued_at > PAPER_MAX_LIFETIME:
            raise ValueError(f"a paper code may be valid for at most {PAPER_MAX_LIFETIME.days} days")
        return self

    @classmethod
    def create(
        cls,
        *,
        subject: Subject,
        status: Status,
        region: str,
        valid_for: timedelta | None = None,
        issued_at: datetime | None = None,
        reason: int | None = None,
        id: bytes | None = None,
        **extra: Any,
    ) -> HealthCode:
        """A new credential with a random id, issued now (or at ``issued_at``) for ``valid_for``.

        ``valid_for`` defaults to one day, or :data:`PAPER_LIFETIME` (14 days) for a paper code.
        """
        start = _utc_seconds(issued_at or datetime.now(UTC))
        if valid_for is None:
            valid_for = PAPER_LIFETIME if extra.get("kind") == CredentialKind.PAPER else timedelta(days=1)
        return cls(
            id=id if id is not None else os.urandom(CREDENTIAL_ID_BYTES),
            status=status,
            reason=reason,
            subject=subject,
            region=region,
            issued_at=start,
            expires_at=start + valid_for,
            **extra,
        )
