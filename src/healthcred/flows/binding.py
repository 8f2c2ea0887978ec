"""Relatives binding ("one person binds many"): a guardian shows the codes of up to 8 dependents.

Each dependent keeps their own credential. A *binding* — a COSE_Sign1 by a
regional key, content type :data:`BINDING_CONTENT_TYPE` — links the guardian
and one dependent by salted hashes of their subjects (name, birth date,
document type and masked number, exactly as their codes carry them), with the
relation, a slot 1–8 and a validity window. It holds no personal data in
clear, and it cannot be moved to another person: the dependent's code must
hash to the binding's dependent hash, and a guardian's code (when shown) to
its guardian hash (``docs/format.md`` §13). One file of a guardian's code and
the dependents' codes and bindings is a family bundle: :mod:`healthcred.flows.family`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from healthcred._deprecated import moved
from healthcred.clock import DEFAULT_SKEW, epoch_seconds
from healthcred.codec.cbor import dumps
from healthcred.codec.qr import Backend
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Signer, open_content, parse_sign1, sign_content
from healthcred.errors import (
    BadBinding,
    BadInput,
    BindingMismatch,
    HealthCredError,
    TooManyDependents,
)
from healthcred.flows.checks import allowances, check_window, issue_window
from healthcred.flows.verify import verify
from healthcred.limits import MAX_EPOCH
from healthcred.model import HealthCode, Subject, VerificationResult
from healthcred.trust.grants import permitting_entry
from healthcred.trust.store import TrustStore

__all__ = [
    "BINDING_CONTENT_TYPE",
    "BINDING_GRANT_KIND",
    "BINDING_MAX_LIFETIME",
    "MAX_BINDING_BYTES",
    "MAX_DEPENDENTS",
    "Binding",
    "BindingKey",
    "DependentResult",
    "Relation",
    "check_subjects",
    "make_binding",
    "open_binding",
    "read_binding",
    "subject_hash",
    "verify_dependent",
]

BINDING_CONTENT_TYPE = "application/vnd.healthcred.binding+cbor"
"""COSE content type of a relatives binding."""
BINDING_GRANT_KIND = 17
"""Grant kind (trust-list entry key 7) a restricted key must list to sign bindings."""
BINDING_FORMAT = 1
"""Version of the binding payload."""
MAX_DEPENDENTS = 8
"""Most dependents one guardian may hold (national guidance: one person binds several, bounded)."""
BINDING_MAX_LIFETIME = timedelta(days=366)
"""Longest validity of a binding: relations and guardianship are re-confirmed at least yearly."""
MAX_BINDING_BYTES = 1024
"""Largest signed binding accepted (a real one is ~190 bytes)."""
_ID_BYTES = 16
_HASH_BYTES = 16
_HASH_DOMAIN = b"healthcred/binding-subject/v1\x00"


class BindingKey(IntEnum):
    """Keys of the signed binding payload (``docs/format.md`` §13), in their required order."""

    FORMAT = 1
    ID = 2
    REGION = 3
    ISSUED = 4
    EXPIRES = 5
    GUARDIAN = 6
    DEPENDENT = 7
    RELATION = 8
    SLOT = 9


_B_KEYS = tuple(BindingKey)


class Relation(IntEnum):
    """What the dependent is to the guardian (codes as on the wire)."""

    PARENT = 1
    CHILD = 2
    SPOUSE = 3
    GRANDPARENT = 4
    GRANDCHILD = 5
    SIBLING = 6
    OTHER = 9
    """Another relative or a carer the issuer registered."""


_RELATIONS = {int(r): r for r in Relation}


@dataclass(frozen=True, slots=True)
class Binding:
    """A verified binding: which guardian and dependent (as hashes), how related, and when valid."""

    id: bytes
    region: str
    issued_at: datetime
    expires_at: datetime
    guardian: bytes
    dependent: bytes
    relation: Relation
    slot: int
    kid: bytes
    key_region: str


@dataclass(frozen=True, slots=True)
class DependentResult:
    """A dependent's verified code, the binding that lets a guardian show it, and the guardian's code."""

    dependent: VerificationResult
    binding: Binding
    guardian: VerificationResult | None
    """The guardian's verified code, or ``None`` when only the dependent's code was checked."""

    @property
    def relation(self) -> Relation:
        """What the dependent is to the guardian."""
        return self.binding.relation

    def summary(self) -> dict[str, Any]:
        """JSON-ready, personal data masked (as :meth:`VerificationResult.summary`)."""
        return {
            "dependent": self.dependent.summary(),
            "relation": self.binding.relation.name.lower(),
            "slot": self.binding.slot,
            "binding_id": self.binding.id.hex(),
            "binding_region": self.binding.region,
            "binding_expires_at": self.binding.expires_at.isoformat(),
            "guardian": None if self.guardian is None else self.guardian.summary(),
            "guardian_checked": self.guardian is not None,
        }


def _subject(value: Subject | HealthCode | VerificationResult) -> Subject:
    if isinstance(value, VerificationResult):
        value = value.credential  # type: ignore[assignment]
    if isinstance(value, HealthCode):
        return value.subject
    if isinstance(value, Subject):
        return value
    raise BadInput(
        f"a binding names native subjects (Subject, HealthCode or its result), not {type(value).__name__}"
    )


def subject_hash(subject: Subject | HealthCode | VerificationResult, binding_id: bytes) -> bytes:
    """The 16-byte hash naming ``subject`` in the binding ``binding_id`` (the id salts it).

    Over the subject exactly as a code carries it, so a verifier computes it
    from the code alone; salted so one person's hashes in two bindings differ.
    """
    who = _subject(subject)
    identity = dumps([who.name, who.birth_date, int(who.document_type), who.document_number])
    return hashlib.sha256(_HASH_DOMAIN + binding_id + identity).digest()[:_HASH_BYTES]


def make_binding(
    guardian: Subject | HealthCode,
    dependent: Subject | HealthCode,
    relation: Relation,
    key: PrivateKey | Signer,
    *,
    region: str,
    slot: int,
    valid_for: timedelta = timedelta(days=365),
    issued_at: datetime | None = None,
    binding_id: bytes | None = None,
) -> bytes:
    """Sign a binding of ``dependent`` to ``guardian`` with the regional ``key``; return the COSE bytes.

    ``slot`` (1–8) is the dependent's place among the guardian's: the issuer
    keeps one binding per slot, which bounds a guardian to
    :data:`MAX_DEPENDENTS` even for a verifier that sees one binding at a time.
    """
    if not isinstance(relation, Relation):
        raise BadInput("relation must be a Relation")
    if type(slot) is not int or not 1 <= slot <= MAX_DEPENDENTS:
        raise TooManyDependents(f"slot must be 1–{MAX_DEPENDENTS}: a guardian holds at most {MAX_DEPENDENTS}")
    if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit()):
        raise BadInput(f"region {region!r} is not a 6-digit GB/T 2260 code")
    issued, expires = issue_window(issued_at, valid_for, BINDING_MAX_LIFETIME, "binding")
    bid = os.urandom(_ID_BYTES) if binding_id is None else binding_id
    if not isinstance(bid, bytes) or len(bid) != _ID_BYTES:
        raise BadInput(f"binding_id must be {_ID_BYTES} bytes")
    guardian_hash, dependent_hash = subject_hash(guardian, bid), subject_hash(dependent, bid)
    if guardian_hash == dependent_hash:
        raise BadInput("a person cannot be their own dependent")
    payload = {
        BindingKey.FORMAT: BINDING_FORMAT,
        BindingKey.ID: bid,
        BindingKey.REGION: region,
        BindingKey.ISSUED: issued,
        BindingKey.EXPIRES: expires,
        BindingKey.GUARDIAN: guardian_hash,
        BindingKey.DEPENDENT: dependent_hash,
        BindingKey.RELATION: int(relation),
        BindingKey.SLOT: slot,
    }
    return sign_content(payload, key, BINDING_CONTENT_TYPE)


def _field(body: dict[int, Any], key: int, kind: type, what: str) -> Any:
    value = body[key]
    if type(value) is not kind:
        raise BadBinding(f"binding {what} must be a {kind.__name__}")
    return value


def _parse_body(data: bytes) -> tuple[Any, dict[int, Any]]:
    if not isinstance(data, bytes):
        raise BadInput(f"a binding is bytes, not {type(data).__name__}")
    if len(data) > MAX_BINDING_BYTES:
        raise BadBinding(f"binding is larger than {MAX_BINDING_BYTES} bytes")
    try:
        message = parse_sign1(data)
        body = open_content(message, BINDING_CONTENT_TYPE, "binding")
    except HealthCredError as exc:
        raise BadBinding(f"not a signed binding: {exc.message}") from exc
    if type(body) is not dict or tuple(body) != _B_KEYS:
        raise BadBinding("binding must be a map with exactly keys 1–9, in order")
    if body[BindingKey.FORMAT] != BINDING_FORMAT:
        raise BadBinding(f"unsupported binding format {body[BindingKey.FORMAT]!r}")
    return message, body


def _binding(body: dict[int, Any], kid: bytes, key_region: str) -> Binding:
    # The shape rules of docs/format.md §13, in one place for verified and unverified reads.
    bid = _field(body, BindingKey.ID, bytes, "id")
    region = _field(body, BindingKey.REGION, str, "region")
    issued, expires = (
        _field(body, BindingKey.ISSUED, int, "issue time"),
        _field(body, BindingKey.EXPIRES, int, "expiry"),
    )
    guardian, dependent = (
        _field(body, BindingKey.GUARDIAN, bytes, "guardian"),
        _field(body, BindingKey.DEPENDENT, bytes, "dependent"),
    )
    relation, slot = (
        _RELATIONS.get(_field(body, BindingKey.RELATION, int, "relation")),
        _field(body, BindingKey.SLOT, int, "slot"),
    )
    if len(bid) != _ID_BYTES or len(guardian) != _HASH_BYTES or len(dependent) != _HASH_BYTES:
        raise BadBinding(f"binding id and hashes must be {_ID_BYTES} and {_HASH_BYTES} bytes")
    if not (len(region) == 6 and region.isascii() and region.isdigit()) or relation is None:
        raise BadBinding("binding region must be 6 digits and its relation a known code")
    if not 0 <= issued < expires <= MAX_EPOCH or expires - issued > BINDING_MAX_LIFETIME.total_seconds():
        raise BadBinding(f"binding window must be positive and at most {BINDING_MAX_LIFETIME.days} days")
    if not 1 <= slot <= MAX_DEPENDENTS:
        raise TooManyDependents(f"binding slot {slot}: a guardian holds at most {MAX_DEPENDENTS} dependents")
    return Binding(
        bid,
        region,
        datetime.fromtimestamp(issued, UTC),
        datetime.fromtimestamp(expires, UTC),
        guardian,
        dependent,
        relation,
        slot,
        kid,
        key_region,
    )


def read_binding(data: bytes) -> Binding:
    """Decode a binding and check its shape WITHOUT verifying its signature, signer or window.

    For displays that label the result unverified (``healthcred family show``):
    ``kid`` is the header's claim and ``key_region`` is empty. Raises
    ``bad_binding`` or ``too_many_dependents``. Use :func:`open_binding` to trust one.
    """
    message, body = _parse_body(data)
    return _binding(body, message.kid, "")


def open_binding(
    data: bytes,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
) -> Binding:
    """Verify a signed binding against ``trust`` at ``at``: signature, regional grant, shape, window, slot.

    Raises trust errors (``unknown_kid``, ``bad_signature``, ``region_not_allowed``…),
    ``bad_binding``, ``too_many_dependents`` (slot above 8), ``expired`` or ``not_yet_valid``.
    """
    allow_skew, allow_grace = allowances(trust, skew, grace)
    now = epoch_seconds(at)
    message, body = _parse_body(data)
    entries = trust.resolve(message, now, allow_grace)
    shape = _binding(body, message.kid, "")
    issued, expires = int(shape.issued_at.timestamp()), int(shape.expires_at.timestamp())
    entry = permitting_entry(
        entries, region=shape.region, issued=issued, kind=BINDING_GRANT_KIND, what="binding"
    )
    check_window(issued, expires, now, allow_skew, "binding")
    return dataclasses.replace(shape, kid=entry.kid, key_region=entry.region)


def check_subjects(
    binding: Binding, dependent: VerificationResult, guardian: VerificationResult | None
) -> None:
    """Raise ``binding_mismatch`` unless ``binding`` names the subjects of ``dependent`` and ``guardian``.

    ``guardian`` ``None``: only the dependent is compared (the guardian's code was not shown).
    """
    if subject_hash(dependent, binding.id) != binding.dependent:
        raise BindingMismatch("the binding is for another dependent than the person this code names")
    if guardian is not None and subject_hash(guardian, binding.id) != binding.guardian:
        raise BindingMismatch("the binding is for another guardian than the person this code names")


def verify_dependent(
    code: Any,
    binding: bytes,
    trust: TrustStore,
    *,
    guardian: Any = None,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
    qr_backend: Backend = "zxing",
) -> DependentResult:
    """Verify a dependent's ``code`` shown by a guardian, with the ``binding`` that links them.

    ``code`` and ``guardian`` (the guardian's own code, optional but
    recommended: without it anyone holding the binding file could show the
    code) are anything :func:`~healthcred.flows.verify.verify` takes. Both codes
    and the binding are verified at ``at``; the binding must name both
    subjects (``binding_mismatch`` otherwise).
    """
    dependent = verify(code, trust, at=at, skew=skew, grace=grace, qr_backend=qr_backend)
    shown = (
        None
        if guardian is None
        else verify(guardian, trust, at=at, skew=skew, grace=grace, qr_backend=qr_backend)
    )
    opened = open_binding(binding, trust, at=at, skew=skew, grace=grace)
    check_subjects(opened, dependent, shown)
    return DependentResult(dependent, opened, shown)


# The family-bundle names lived here before flows.family took them.
__getattr__ = moved(__name__, "healthcred.flows.family")
