"""Relatives binding ("one person binds many"): a guardian shows the codes of up to 8 dependents.

Each dependent keeps their own credential. A *binding* — a COSE_Sign1 by a
regional key, content type :data:`BINDING_CONTENT_TYPE` — links the guardian
and one dependent by salted hashes of their subjects (name, birth date,
document type and masked number, exactly as their codes carry them), with the
relation, a slot 1–8 and a validity window. It holds no personal data in
clear, and it cannot be moved to another person: the dependent's code must
hash to the binding's dependent hash, and a guardian's code (when shown) to
its guardian hash. A *family bundle* is one file of the guardian's code, the
dependents' codes and their bindings (``docs/format.md`` §13–14).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

from healthcred.clock import DEFAULT_SKEW, epoch_seconds
from healthcred.codec.cbor import dumps, loads
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
    "MAX_DEPENDENTS",
    "Binding",
    "BindingKey",
    "DependentResult",
    "FamilyBundle",
    "FamilyKey",
    "FamilyResult",
    "Relation",
    "load_family_bundle",
    "make_binding",
    "make_family_bundle",
    "open_binding",
    "read_binding",
    "read_family_bundle",
    "subject_hash",
    "verify_dependent",
    "verify_family",
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
FAMILY_MAGIC = "healthcred-family"
"""First value of a family-bundle file, so a stray CBOR file is not mistaken for one."""
FAMILY_FORMAT = 1
"""Version of the family-bundle file."""
MAX_FAMILY_BYTES = 64 * 1024
"""Largest family-bundle file read: 9 codes of at most 4296 characters and 8 bindings fit."""

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


class FamilyKey(IntEnum):
    """Keys of the family-bundle file (``docs/format.md`` §14), in their required order."""

    MAGIC = 1
    FORMAT = 2
    GUARDIAN = 3
    MEMBERS = 4


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


@dataclass(frozen=True, slots=True)
class FamilyBundle:
    """A family-bundle file's contents, not yet verified: the guardian's code and (code, binding) pairs."""

    guardian: str
    members: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class FamilyResult:
    """A verified family bundle: the guardian's result and each dependent's."""

    guardian: VerificationResult
    dependents: tuple[DependentResult, ...]

    def summary(self) -> dict[str, Any]:
        """JSON-ready, personal data masked."""
        return {
            "guardian": self.guardian.summary(),
            "dependents": [
                {k: v for k, v in d.summary().items() if k not in ("guardian", "guardian_checked")}
                for d in self.dependents
            ],
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


def _match(binding: Binding, dependent: VerificationResult, guardian: VerificationResult | None) -> None:
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
    _match(opened, dependent, shown)
    return DependentResult(dependent, opened, shown)


def make_family_bundle(guardian_code: str, members: Iterable[tuple[str, bytes]]) -> bytes:
    """The family-bundle file (deterministic CBOR) of a guardian's code and (code, binding) pairs.

    Refuses more than :data:`MAX_DEPENDENTS` members (``too_many_dependents``)
    and anything larger than :data:`MAX_FAMILY_BYTES`; verifies nothing (see
    :func:`verify_family`).
    """
    listed = list(members)
    if len(listed) > MAX_DEPENDENTS:
        raise TooManyDependents(f"{len(listed)} dependents: a guardian holds at most {MAX_DEPENDENTS}")
    if not isinstance(guardian_code, str):
        raise BadInput("the guardian's code is its QR text")
    for item in listed:
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], bytes)
        ):
            raise BadInput("each member is a (code text, binding bytes) pair")
    data = dumps(
        {
            FamilyKey.MAGIC: FAMILY_MAGIC,
            FamilyKey.FORMAT: FAMILY_FORMAT,
            FamilyKey.GUARDIAN: guardian_code,
            FamilyKey.MEMBERS: [list(m) for m in listed],
        }
    )
    if len(data) > MAX_FAMILY_BYTES:
        raise BadBinding(f"family bundle would be {len(data)} bytes; at most {MAX_FAMILY_BYTES}")
    return data


def read_family_bundle(data: bytes) -> FamilyBundle:
    """Parse a family-bundle file (shape, version, size); raise ``bad_binding`` or ``too_many_dependents``."""
    if not isinstance(data, bytes):
        raise BadInput(f"a family bundle is bytes, not {type(data).__name__}")
    if len(data) > MAX_FAMILY_BYTES:
        raise BadBinding(f"family bundle is larger than {MAX_FAMILY_BYTES} bytes")
    try:
        body = loads(data, "family bundle", max_depth=4, max_items=64)
    except HealthCredError as exc:
        raise BadBinding(exc.message) from exc
    if type(body) is not dict or tuple(body) != tuple(FamilyKey) or body[FamilyKey.MAGIC] != FAMILY_MAGIC:
        raise BadBinding(
            f"not a family bundle (a map {{1: {FAMILY_MAGIC!r}, 2: format, 3: code, 4: members}})"
        )
    if body[FamilyKey.FORMAT] != FAMILY_FORMAT:
        raise BadBinding(f"unsupported family-bundle format {body[FamilyKey.FORMAT]!r}")
    guardian, members = body[FamilyKey.GUARDIAN], body[FamilyKey.MEMBERS]
    if type(guardian) is not str or type(members) is not list:
        raise BadBinding("family bundle: the guardian's code is text and the members an array")
    if len(members) > MAX_DEPENDENTS:
        raise TooManyDependents(f"family bundle holds {len(members)} dependents; at most {MAX_DEPENDENTS}")
    pairs: list[tuple[str, bytes]] = []
    for m in members:
        if type(m) is not list or len(m) != 2 or type(m[0]) is not str or type(m[1]) is not bytes:
            raise BadBinding("family bundle: each member is [code text, binding bytes]")
        pairs.append((m[0], m[1]))
    return FamilyBundle(guardian, tuple(pairs))


def load_family_bundle(path: str | os.PathLike[str]) -> FamilyBundle:
    """Read and parse a family-bundle file (at most :data:`MAX_FAMILY_BYTES` are read)."""
    try:
        with open(Path(path), "rb") as source:
            data = source.read(MAX_FAMILY_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"cannot read family bundle {path}: {exc.strerror or exc}") from exc
    return read_family_bundle(data)


def verify_family(
    bundle: bytes | FamilyBundle,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
) -> FamilyResult:
    """Verify a whole family bundle: the guardian's code, each dependent's code and binding.

    Every binding must name the guardian; slots and dependents must not repeat
    (``bad_binding``), and there are at most 8 (``too_many_dependents``).
    """
    family = bundle if isinstance(bundle, FamilyBundle) else read_family_bundle(bundle)
    if len(family.members) > MAX_DEPENDENTS:
        raise TooManyDependents(
            f"family bundle holds {len(family.members)} dependents; at most {MAX_DEPENDENTS}"
        )
    guardian = verify(family.guardian, trust, at=at, skew=skew, grace=grace)
    results: list[DependentResult] = []
    for code, binding in family.members:
        dependent = verify(code, trust, at=at, skew=skew, grace=grace)
        opened = open_binding(binding, trust, at=at, skew=skew, grace=grace)
        _match(opened, dependent, guardian)
        results.append(DependentResult(dependent, opened, guardian))
    _distinct(results)
    return FamilyResult(guardian, tuple(results))


def _distinct(results: Sequence[DependentResult]) -> None:
    slots = [r.binding.slot for r in results]
    people = [r.dependent.credential.subject for r in results]
    if len(set(slots)) != len(slots) or len(set(people)) != len(people):
        raise BadBinding("family bundle repeats a slot or a dependent")
