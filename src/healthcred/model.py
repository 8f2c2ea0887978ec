"""The credential and the verification result, as immutable pydantic models.

The model knows nothing of CBOR or signatures: :mod:`healthcred.native.claims` maps it
to the wire, the flows sign and verify it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from healthcred.regions import REGION_PATTERN

__all__ = [
    "GREEN",
    "NATIONAL_PALETTE",
    "RED",
    "STATUS_BY_NAME",
    "YELLOW",
    "CredentialKind",
    "DocumentType",
    "ForeignCredential",
    "HealthCode",
    "IdTag",
    "Person",
    "SourceFormat",
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

_FROZEN = ConfigDict(frozen=True, extra="forbid", strict=True)


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

STATUS_BY_NAME: Mapping[str, Status] = {s.name: s for s in NATIONAL_PALETTE.values()}
"""The national colours by name (``"green"`` → :data:`GREEN`): the one map from a name to a colour."""


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


class IdTag(BaseModel):
    """A keyed tag of the holder's ID number: lets a verifier holding the ID-check key confirm it.

    ``tag`` is HMAC-SHA256 under the key named by ``key_id`` over the credential
    id and the normalised number (see :mod:`healthcred.flows.idcheck`); the
    number itself is never in the code.
    """

    model_config = _FROZEN

    key_id: Annotated[bytes, Field(min_length=ID_KEY_ID_BYTES, max_length=ID_KEY_ID_BYTES)]
    tag: Annotated[bytes, Field(min_length=ID_TAG_BYTES, max_length=ID_TAG_BYTES)]


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


class SourceFormat(StrEnum):
    """The wire format a verified credential came in."""

    NATIVE = "native"
    """healthcred's own ``JKM1:`` code."""
    HC1 = "hc1"
    """EU Digital COVID Certificate (``HC1:``)."""
    SHC = "shc"
    """SMART Health Card (``shc:/``)."""


@dataclass(frozen=True, slots=True)
class Person:
    """The person a foreign credential names: as the issuer wrote it, nothing more.

    Foreign formats carry no document number, so a checker compares name and
    birth date with an ID document.
    """

    name: str
    """Display form, family name first (``MUSTERMANN, ERIKA``; ``Anyperson, John B.``)."""
    birth_date: str | None
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the issuer wrote it; ``None`` if absent."""
    family_name: str | None = None
    given_name: str | None = None

    @property
    def masked_name(self) -> str:
        """The name as a display should show it: each word masked like a Chinese name, punctuation kept."""
        words = []
        for word in self.name.split(" "):
            core = word.rstrip(",.")
            words.append(mask_name(core) + word[len(core) :])
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class ForeignCredential:
    """A verified EU DCC or SMART Health Card mapped into the common result.

    ``facts`` holds what the kind carries, under stable keys (see
    ``docs/interop.md``): for ``vaccination`` ``disease``, ``product``,
    ``dose``, ``doses_required``, ``date``; for ``test`` ``disease``,
    ``test_type``, ``result`` (``positive``/``negative``/``other``),
    ``sampled_at``; for ``recovery`` ``disease``, ``first_positive``,
    ``valid_from``, ``valid_until``. Values the issuer did not give are absent.
    ``raw`` is the payload as decoded (DGC map, or FHIR bundle), for callers
    that need more.
    """

    format: SourceFormat
    kind: str
    """``vaccination``, ``test``, ``recovery`` or ``unknown``."""
    subject: Person
    issuer: str
    """Country (ISO 3166 alpha-2) for HC1; the ``iss`` URL for SHC."""
    issued_at: datetime | None
    expires_at: datetime | None
    id: str | None
    """Certificate identifier (HC1 ``ci``), or the SHC revocation id ``rid`` if any."""
    facts: Mapping[str, Any]
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a successful verification tells, for any format: the credential and what vouched for it.

    ``credential`` is a :class:`HealthCode` for a native code and a
    :class:`ForeignCredential` for an EU DCC or a SMART Health Card; the
    properties below read the same way for all three. A plain frozen
    dataclass, not a pydantic model: the verifier builds it only from parts it
    has already validated, on its hot path.
    """

    credential: HealthCode | ForeignCredential
    kid: bytes
    """The signing key's id (native and HC1: 8 bytes; SHC: the 32-byte JWK thumbprint)."""
    alg: str
    key_region: str
    """Native: the region the key is granted; HC1: the DSC's country; SHC: the issuer URL."""
    trust_list_version: int
    """Native: version of the trust list that granted the key; foreign: 0 (DSCs and JWKS have none)."""
    verified_at: datetime
    warnings: tuple[str, ...] = ()
    """Things an operator should know although the code is valid (e.g. a trust list in grace)."""

    @property
    def health_code(self) -> HealthCode | None:
        """The native credential, or ``None`` for a foreign one."""
        return self.credential if isinstance(self.credential, HealthCode) else None

    @property
    def format(self) -> SourceFormat:
        """The wire format the code came in."""
        cred = self.credential
        return SourceFormat.NATIVE if isinstance(cred, HealthCode) else cred.format

    @property
    def kind(self) -> str:
        """The kind: a native `CredentialKind` name, or `vaccination`, `test`, `recovery`, `unknown`."""
        cred = self.credential
        return cred.kind.name.lower() if isinstance(cred, HealthCode) else cred.kind

    @property
    def status(self) -> Status | None:
        """The health-code colour; ``None`` for a foreign credential, which has none."""
        cred = self.credential
        return cred.status if isinstance(cred, HealthCode) else None

    @property
    def subject(self) -> Subject | Person:
        """The person the credential names (``name``, ``birth_date``, ``masked_name`` for every format)."""
        return self.credential.subject

    @property
    def region(self) -> str | None:
        """The issuing region's GB/T 2260 code; ``None`` for a foreign credential."""
        cred = self.credential
        return cred.region if isinstance(cred, HealthCode) else None

    @property
    def issuer(self) -> str:
        """Who issued it: the region code (native), the country (HC1) or the ``iss`` URL (SHC)."""
        cred = self.credential
        return cred.region if isinstance(cred, HealthCode) else cred.issuer

    @property
    def issued_at(self) -> datetime | None:
        """When the credential was issued (always set for native codes)."""
        return self.credential.issued_at

    @property
    def expires_at(self) -> datetime | None:
        """When the credential expires (always set for native codes; SHC often has none)."""
        return self.credential.expires_at

    @property
    def facts(self) -> Mapping[str, Any]:
        """What the credential's kind carries (colour and reason for native codes; see ForeignCredential)."""
        cred = self.credential
        if isinstance(cred, HealthCode):
            return {"status": cred.status.name, "status_code": cred.status.code, "reason": cred.reason}
        return cred.facts

    @property
    def id_check_required(self) -> bool:
        """Whether the holder must be checked against an ID document (a paper code: no phone to trust)."""
        cred = self.credential
        return isinstance(cred, HealthCode) and cred.kind is CredentialKind.PAPER

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary with personal data masked, for displays and ``--json``.

        The same keys for every format, then the ones a format adds: a native code's colour,
        document, region and derivation; a foreign credential's issuer and facts.
        """
        cred = self.credential
        issued, expires = self.issued_at, self.expires_at
        common: dict[str, Any] = {
            "valid": True,
            "format": self.format.value,
            "kind": self.kind,
            "name": cred.subject.masked_name,
            "birth_date": cred.subject.birth_date,
            "issued_at": issued.isoformat() if issued else None,
            "expires_at": expires.isoformat() if expires else None,
            "kid": self.kid.hex(),
            "alg": self.alg,
            "key_region": self.key_region,
            "verified_at": self.verified_at.isoformat(),
            "warnings": list(self.warnings),
        }
        if not isinstance(cred, HealthCode):
            return {**common, "issuer": cred.issuer, "credential_id": cred.id, "facts": dict(cred.facts)}
        return {
            **common,
            "status": cred.status.name,
            "status_code": cred.status.code,
            "reason": cred.reason,
            "document_type": cred.subject.document_type.name.lower(),
            "document_number": cred.subject.document_number,
            "region": cred.region,
            "credential_id": cred.id.hex(),
            "trust_list_version": self.trust_list_version,
            "source_region": cred.source_region,
            "source_credential_id": cred.source_id.hex() if cred.source_id else None,
            "id_check_required": self.id_check_required,
            "id_tag": cred.id_tag is not None,
        }
