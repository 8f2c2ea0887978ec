"""What a verification returns, for any format: :class:`VerificationResult`, and the foreign credential.

A native code's credential is a :class:`~healthcred.model.credential.HealthCode`; an EU DCC or
a SMART Health Card becomes a :class:`ForeignCredential` naming a :class:`Person`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from healthcred.model.credential import CredentialKind, HealthCode, Subject, mask_name
from healthcred.model.status import Status

__all__ = ["ForeignCredential", "Person", "SourceFormat", "VerificationResult"]


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
