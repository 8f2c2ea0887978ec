"""The credential and the verification result, as immutable pydantic models.

The model knows nothing of CBOR or signatures: :mod:`healthcred.claims` maps it
to the wire, the flows sign and verify it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "GREEN",
    "NATIONAL_PALETTE",
    "RED",
    "YELLOW",
    "CredentialKind",
    "DocumentType",
    "HealthCode",
    "Status",
    "Subject",
    "VerificationResult",
    "mask_document_number",
    "mask_name",
    "status_from_code",
]

FORMAT_VERSION: Literal[1] = 1
"""Version of the health-code claim map this library writes and reads."""

CREDENTIAL_ID_BYTES = 16
"""Length of the random credential id (128 bits: unique at national scale without coordination)."""

# Checked by pydantic-core (Rust) rather than Python validators: verification builds these
# models on its hot path.
_REGION = r"^[0-9]{6}$"
_BIRTH_DATE = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"
_MASKED_DOC = r"^[0-9A-Za-z]{0,6}\*+[0-9A-Za-z]{0,4}$"
_NAME = r"^\S(.*\S)?$"

_FROZEN = ConfigDict(frozen=True, extra="forbid", strict=True)


class CredentialKind(IntEnum):
    """What a credential asserts (codes as on the wire). Later kinds (paper code) extend this list."""

    HEALTH_STATUS = 1
    """A region's health code."""
    NATIONAL = 2
    """The national platform's epidemic prevention information code, derived from a regional one."""


class DocumentType(IntEnum):
    """The identity document a subject is registered with (codes as on the wire)."""

    RESIDENT_ID_CARD = 1
    PASSPORT = 2
    HK_MACAO_PERMIT = 3
    TAIWAN_PERMIT = 4
    FOREIGNER_PERMANENT_RESIDENCE = 5
    OTHER = 9


class Status(BaseModel):
    """A health-code colour: a small wire ``code`` and its ``name``.

    The national palette is green (1), yellow (2) and red (3). Regions used more
    colours, so any code 1–255 is representable; a verifier names unknown codes
    from a palette it is given, or as ``status-N``. Policies must treat an
    unknown colour as not passing.
    """

    model_config = _FROZEN

    code: Annotated[int, Field(ge=1, le=255)]
    name: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9-]*$")]

    def __str__(self) -> str:
        return self.name


GREEN = Status(code=1, name="green")
"""Pass."""
YELLOW = Status(code=2, name="yellow")
"""Observation (up to 7 days)."""
RED = Status(code=3, name="red")
"""Isolation (14 days)."""

NATIONAL_PALETTE: Mapping[int, Status] = {s.code: s for s in (GREEN, YELLOW, RED)}
"""The three colours every verifier knows."""


def status_from_code(code: int, palette: Mapping[int, Status] | None = None) -> Status:
    """Name the colour with wire code ``code``, from ``palette`` or else the national one."""
    found = (palette or NATIONAL_PALETTE).get(code) or NATIONAL_PALETTE.get(code)
    return found if found is not None else Status(code=code, name=f"status-{code}")


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

    model_config = _FROZEN

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


def _utc_seconds(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


class HealthCode(BaseModel):
    """One health-code credential: who, which colour, where issued, and when valid."""

    model_config = _FROZEN

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
        return self

    @classmethod
    def create(
        cls,
        *,
        subject: Subject,
        status: Status,
        region: str,
        valid_for: timedelta = timedelta(days=1),
        issued_at: datetime | None = None,
        reason: int | None = None,
        id: bytes | None = None,
        **extra: Any,
    ) -> HealthCode:
        """A new credential with a random id, issued now (or at ``issued_at``) for ``valid_for``."""
        start = _utc_seconds(issued_at or datetime.now(UTC))
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


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a successful verification tells: the credential and the key that vouched for it.

    A plain frozen dataclass, not a pydantic model: the verifier builds it only
    from parts it has already validated, on its hot path.
    """

    credential: HealthCode
    kid: bytes
    alg: str
    key_region: str
    trust_list_version: int
    verified_at: datetime
    warnings: tuple[str, ...] = ()
    """Things an operator should know although the code is valid (e.g. a trust list in grace)."""

    @property
    def status(self) -> Status:
        """The credential's colour."""
        return self.credential.status

    @property
    def subject(self) -> Subject:
        """The person the credential names."""
        return self.credential.subject

    @property
    def region(self) -> str:
        """The issuing region's GB/T 2260 code."""
        return self.credential.region

    @property
    def issued_at(self) -> datetime:
        """When the credential was issued."""
        return self.credential.issued_at

    @property
    def expires_at(self) -> datetime:
        """When the credential expires."""
        return self.credential.expires_at

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary with personal data masked, for displays and ``--json``."""
        cred = self.credential
        return {
            "valid": True,
            "status": cred.status.name,
            "status_code": cred.status.code,
            "reason": cred.reason,
            "kind": cred.kind.name.lower(),
            "name": cred.subject.masked_name,
            "birth_date": cred.subject.birth_date,
            "document_type": cred.subject.document_type.name.lower(),
            "document_number": cred.subject.document_number,
            "region": cred.region,
            "issued_at": cred.issued_at.isoformat(),
            "expires_at": cred.expires_at.isoformat(),
            "credential_id": cred.id.hex(),
            "kid": self.kid.hex(),
            "alg": self.alg,
            "key_region": self.key_region,
            "trust_list_version": self.trust_list_version,
            "verified_at": self.verified_at.isoformat(),
            "source_region": cred.source_region,
            "source_credential_id": cred.source_id.hex() if cred.source_id else None,
            "warnings": list(self.warnings),
        }
