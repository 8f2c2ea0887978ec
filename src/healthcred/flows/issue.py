"""The issuing flow: credential → claims → deterministic CBOR → COSE_Sign1 → zlib (if shorter)
→ Base45 → text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from healthcred.codec.cbor import dumps_ordered
from healthcred.crypto.algorithms import PrivateKey, alg_of
from healthcred.crypto.cose import Signer, sign1
from healthcred.crypto.keys import kid_of, public_key_der
from healthcred.errors import BadInput, HealthCredError, TrustConflict, UnknownKid
from healthcred.flows.idcheck import IdCheckKey, id_tag, normalise_id_number
from healthcred.model import PAPER_MAX_LIFETIME, CredentialKind, HealthCode, mask_document_number
from healthcred.native.claims import to_claims
from healthcred.native.text import encode_text
from healthcred.rules.declaration import Background, Declaration
from healthcred.rules.status import Determination, StatusRuleSet, determine
from healthcred.trust.grants import TrustEntry, permitting_entry
from healthcred.trust.store import TrustStore

__all__ = ["check_grant", "issue", "issue_from_declaration", "issue_paper"]


def check_grant(
    trust: TrustStore,
    key: PrivateKey | Signer,
    *,
    region: str,
    issued_at: datetime,
    kind: int,
    status: int | None = None,
    what: str = "code",
) -> TrustEntry:
    """The entry of ``trust`` that would accept a ``what`` signed by ``key``; raise if none would.

    Checked before signing, so that an issuer never hands out a code its verifiers refuse: the
    key must be on a list of ``trust`` valid at ``issued_at`` with its own algorithm, not in a
    conflict, and granted (region, kind, status, window, not compromised) by the one check verifiers
    make (:func:`healthcred.trust.grants.permitting_entry`). Raises that check's error, with
    ``refused to sign`` in front of its message. A :class:`Signer` is matched by its kid and
    algorithm; a private key also by its public key.
    """
    if isinstance(key, Signer):
        kid, alg, der = key.kid, key.alg, None
    else:
        kid, alg, der = kid_of(key), alg_of(key), public_key_der(key.public_key())
    at = int(issued_at.timestamp())
    try:
        if kid in trust.conflicts:
            raise TrustConflict(f"kid {kid.hex()}: {trust.conflicts[kid]}")
        entries = tuple(e for e in trust.entries(kid) if der in (None, e.key_der) and e.alg == alg)
        if not entries:
            raise UnknownKid(
                f"the trust folder holds no key {kid.hex()}, so no verifier holding it accepts it"
            )
        live = tuple(e for e in entries if e.list_issued_at <= at <= e.list_expires_at)
        if not live:
            raise UnknownKid(
                f"no trust list holding key {kid.hex()} is valid at the issue time"
                f" {issued_at.astimezone(UTC).isoformat(timespec='seconds')}"
            )
        return permitting_entry(live, region=region, issued=at, kind=kind, status=status, what=what)
    except HealthCredError as exc:
        raise type(exc)(f"refused to sign this {what}: {exc.message}") from exc


def issue(credential: HealthCode, key: PrivateKey | Signer, *, compression_level: int = 9) -> str:
    """Sign ``credential`` with the issuing region's ``key`` and return the QR text (``JKM1:…``).

    The key's type fixes the algorithm (Ed25519 → EdDSA, P-256 → ES256); its kid
    goes in the protected header. Pass a :class:`~healthcred.crypto.cose.Signer`
    (``Signer.for_key(key)``) when issuing many codes, to prepare the key once. The body is the zlib stream at
    ``compression_level`` when that is shorter than the message, else the bare
    message (usual for short codes: signatures and ids do not compress).
    """
    if not isinstance(credential, HealthCode):
        raise BadInput(f"issue() takes a HealthCode, not {type(credential).__name__}")
    if type(compression_level) is not int or not 0 <= compression_level <= 9:
        raise BadInput("compression_level must be 0–9")
    if credential.kind is CredentialKind.PAPER and credential.id_tag is None:
        raise BadInput("a paper code must carry an ID tag: issue it with issue_paper(…, id_number=…)")
    # to_claims builds every map in deterministic key order, so order-keeping encoding is exact.
    message = sign1(dumps_ordered(to_claims(credential)), key)
    return encode_text(message, level=compression_level)


def issue_from_declaration(
    declaration: Declaration,
    background: Background,
    key: PrivateKey | Signer,
    *,
    region: str,
    rules: StatusRuleSet | None = None,
) -> tuple[str, Determination]:
    """Review a declaration (default rules: the seed policy) and issue the resulting code.

    The code is issued at the declaration time and valid until the determination's
    end: the end of observation or isolation, or the green code's validity.
    Returns the QR text and the determination (status, end, reasons).
    """
    outcome = determine(declaration, background, rules)
    issued = declaration.declared_at.astimezone(UTC).replace(microsecond=0)
    credential = HealthCode.create(
        subject=declaration.subject,
        status=outcome.status,
        region=region,
        reason=outcome.reason,
        issued_at=issued,
        valid_for=outcome.until - issued,
    )
    return issue(credential, key), outcome


def issue_paper(
    credential: HealthCode,
    key: PrivateKey | Signer,
    *,
    id_number: str,
    id_key: IdCheckKey,
    valid_for: timedelta | None = None,
    rules: StatusRuleSet | None = None,
    compression_level: int = 9,
) -> str:
    """Issue ``credential`` as a paper code (kind 3) bound to the holder's ID number; return the QR text.

    For people without a smartphone: the sheet is printed once and checked
    against the holder's ID document at each door. ``credential`` is a
    ``HealthCode.create(kind=CredentialKind.PAPER, …)`` (14 days by default) or
    a health-status credential, which becomes a paper code with the same id,
    subject, status and times. ``valid_for`` (from the issue time) replaces its
    lifetime; without it, ``rules`` (the region's status rule set) sets it by its
    ``paper_valid_days``; at most 180 days either way. ``id_number`` is the holder's clear
    document number: it is normalised (GB 11643 check digit for resident ID
    cards), must match the subject's masked number, and goes into the code only
    as a keyed tag under ``id_key`` (the ID-check key verifiers hold), never in
    clear. ``key`` signs as in :func:`issue`; pass one prepared ``Signer`` for a
    batch. Raises ``bad_id_number``, ``bad_input`` (kind, lifetime, mismatch).
    """
    if not isinstance(credential, HealthCode):
        raise BadInput(f"issue_paper() takes a HealthCode, not {type(credential).__name__}")
    if credential.kind not in (CredentialKind.PAPER, CredentialKind.HEALTH_STATUS):
        raise BadInput(f"a {credential.kind.name.lower()} credential cannot become a paper code")
    if valid_for is not None and not isinstance(valid_for, timedelta):
        raise BadInput("valid_for must be a timedelta")
    if rules is not None and not isinstance(rules, StatusRuleSet):
        raise BadInput("rules must be a StatusRuleSet")
    if valid_for is None and rules is not None:
        valid_for = rules.paper_lifetime
    number = normalise_id_number(id_number, credential.subject.document_type)
    # Catches a batch row whose number belongs to someone else before a wrong sheet is printed.
    if mask_document_number(number) != credential.subject.document_number:
        raise BadInput("id_number does not match the subject's masked document number")
    expires = credential.issued_at + valid_for if valid_for is not None else credential.expires_at
    if expires - credential.issued_at > PAPER_MAX_LIFETIME:
        raise BadInput(f"a paper code may be valid for at most {PAPER_MAX_LIFETIME.days} days")
    tag = id_tag(id_key, credential.id, credential.subject.document_type, number)
    try:
        paper = credential.model_copy(
            update={"kind": CredentialKind.PAPER, "expires_at": expires, "id_tag": tag}
        )
    except ValueError as exc:  # the model's InvalidField is a ValueError
        raise BadInput(f"cannot make a paper code: {exc}") from exc
    return issue(paper, key, compression_level=compression_level)
