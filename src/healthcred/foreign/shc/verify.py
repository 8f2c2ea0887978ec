"""SMART Health Cards against trusted issuers: signature, claims, revocation and time.

Verification finds the issuer by ``iss`` (:class:`~healthcred.foreign.shc.issuers.ShcIssuer`),
the key by ``kid`` (its RFC 7638 thumbprint), checks the ES256 signature (raw ``r ‖ s``), the
card's revocation id ``vc.rid`` against the issuer's CRL for that key, then ``nbf`` and ``exp``
with a clock-skew allowance, and maps the card's FHIR bundle into the common result
(:mod:`healthcred.foreign.shc.fhir`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from healthcred.clock import DEFAULT_SKEW_SECONDS
from healthcred.errors import (
    BadInput,
    BadSignature,
    ClaimsError,
    CodeExpired,
    CodeNotYetValid,
    Revoked,
    UnknownIssuer,
    UnknownKid,
)
from healthcred.foreign.shc.cards import ShcMessage, read_shc
from healthcred.foreign.shc.fhir import from_fhir
from healthcred.foreign.shc.issuers import ShcIssuer, ShcKey
from healthcred.limits import MAX_EPOCH
from healthcred.model import ForeignCredential, SourceFormat

__all__ = ["HEALTH_CARD", "shc_signer", "verify_shc"]

HEALTH_CARD = "https://smarthealth.cards#health-card"
"""The ``vc.type`` every SMART Health Card carries (the specification: it SHALL be present)."""
# A revocation id: the base64url alphabet, at most 24 characters (the specification's SHALL).
_RID = re.compile(r"[A-Za-z0-9_-]{1,24}")
# A FHIR version: semantic, "4.0.1" (credential modelling: "1.0.*" for DSTU2, "4.0.*" for R4).
_FHIR_VERSION = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}(?:-[0-9A-Za-z.-]{1,40})?")


# --- trust -------------------------------------------------------------------------------------


def _issuers_of(message: ShcMessage, issuers: Iterable[ShcIssuer]) -> list[ShcIssuer]:
    iss = message.iss
    if iss is None:
        raise ClaimsError("the SHC payload has no 'iss' URL")
    # Compared exactly: "https://a.example/issuer/" is not "https://a.example/issuer" (the spec's example).
    trusted = list(issuers)
    if not all(isinstance(i, ShcIssuer) for i in trusted):
        raise BadInput("issuers must be ShcIssuer objects (see load_shc_issuer)")
    matching = [i for i in trusted if i.iss == iss]
    if not matching:
        raise UnknownIssuer(f"SHC issuer {iss[:100]!r} is not trusted")
    return matching


def _signer(message: ShcMessage, matching: Sequence[ShcIssuer]) -> tuple[ShcIssuer, ShcKey]:
    candidates = [(issuer, key) for issuer in matching for key in issuer.keys if key.kid == message.kid]
    if not candidates:
        skipped = next((i.skipped_keys[message.kid] for i in matching if message.kid in i.skipped_keys), None)
        why = f": it was skipped when the issuer was loaded ({skipped})" if skipped else ""
        raise UnknownKid(f"issuer {matching[0].iss} has no key {message.kid}{why}")
    for issuer, key in candidates:
        try:
            key.verify(message.signing_input, message.signature)
        except BadSignature:
            continue
        return issuer, key
    raise BadSignature(f"key {message.kid} of {matching[0].iss} does not verify the signature")


def shc_signer(message: ShcMessage, issuers: Iterable[ShcIssuer]) -> tuple[ShcIssuer, ShcKey]:
    """The trusted issuer and key whose signature ``message`` carries (the signature alone: no time, no CRL).

    Every issuer entry with the card's ``iss`` and every key with its kid is tried. Raises
    :class:`ClaimsError` (no ``iss``), :class:`UnknownIssuer`, :class:`UnknownKid` or
    :class:`BadSignature`.
    """
    return _signer(message, _issuers_of(message, issuers))


# --- claims and time ---------------------------------------------------------------------------


def _seconds(value: object, name: str) -> float:
    if type(value) not in (int, float) or not 0 <= value <= MAX_EPOCH:  # type: ignore[operator]
        raise ClaimsError(f"SHC '{name}' must be a number of seconds since 1970, not {str(value)[:30]!r}")
    return float(value)  # type: ignore[arg-type]


def _subject(vc: Mapping[str, Any]) -> Mapping[str, Any]:
    # credentialSubject: a FHIR version and a FHIR Bundle (any Bundle.type since SHC 1.3.0).
    subject = vc.get("credentialSubject")
    bundle = subject.get("fhirBundle") if isinstance(subject, dict) else None
    if not isinstance(subject, dict) or not isinstance(bundle, dict):
        raise ClaimsError("the SHC payload needs vc.credentialSubject.fhirBundle")
    version = subject.get("fhirVersion")
    if not isinstance(version, str) or not _FHIR_VERSION.fullmatch(version):
        shown = repr(version)[:30] if version is not None else "missing"
        raise ClaimsError(f"SHC credentialSubject.fhirVersion must be a version like '4.0.1', not {shown}")
    if bundle.get("resourceType") != "Bundle":
        raise ClaimsError("SHC vc.credentialSubject.fhirBundle must be a FHIR resource of type 'Bundle'")
    return bundle


def _vc(payload: Mapping[str, Any]) -> tuple[list[str], Mapping[str, Any], str | None]:
    # (types, FHIR bundle, rid)
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        raise ClaimsError("the SHC payload needs a 'vc' object")
    types, rid = vc.get("type"), vc.get("rid")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ClaimsError("SHC vc.type must be an array of strings")
    if HEALTH_CARD not in types:  # other types are ignored when not understood, as the spec says
        raise ClaimsError(f"SHC vc.type must include {HEALTH_CARD!r}: this is no health card")
    if rid is not None and not (isinstance(rid, str) and _RID.fullmatch(rid)):
        raise ClaimsError("SHC vc.rid must be 1 to 24 characters of the base64url alphabet")
    return types, _subject(vc), rid


def _now(at: datetime | int | None) -> float:
    if at is None:
        return datetime.now(UTC).timestamp()
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise BadInput("the validation time must be timezone-aware")
        return at.timestamp()
    if type(at) is int:
        return float(at)
    raise BadInput(f"the validation time is a datetime or Unix seconds, not {type(at).__name__}")


def _check_time(nbf: float, exp: float | None, now: float, skew: int) -> None:
    if nbf > now + skew:
        raise CodeNotYetValid(f"card valid from {_time(nbf).isoformat()}, in the future")
    if exp is not None and now > exp + skew:
        raise CodeExpired(f"card expired at {_time(exp).isoformat()}")


def _time(seconds: float) -> datetime:
    # Whole seconds, like the other formats (SHC issuers often write milliseconds as a fraction).
    return datetime.fromtimestamp(math.floor(seconds), UTC)


def verify_shc(
    code: str | Sequence[str] | ShcMessage,
    issuers: Iterable[ShcIssuer],
    *,
    at: datetime | int | None = None,
    skew: int = DEFAULT_SKEW_SECONDS,
) -> ForeignCredential:
    """Verify a SMART Health Card against trusted issuers at ``at`` (default now), as the common result.

    Order: issuer by ``iss`` (``unknown_issuer``), key by ``kid`` (``unknown_kid``), signature
    (``bad_signature``), claims (``bad_claims``: ``nbf``, ``exp``, ``vc.type`` with
    :data:`HEALTH_CARD`, ``vc.rid``, ``credentialSubject.fhirVersion`` and a FHIR ``Bundle``),
    revocation of ``vc.rid`` by every trusted entry of that issuer for that key (``revoked``),
    then ``nbf`` (``not_yet_valid``) and ``exp`` (``expired``), each with ``skew`` seconds
    allowance. The signing key's kid is the message's :attr:`ShcMessage.kid` (decode first to keep it).
    """
    if type(skew) is not int or skew < 0:
        raise BadInput("skew is a non-negative number of seconds")
    message = code if isinstance(code, ShcMessage) else read_shc(code)
    matching = _issuers_of(message, issuers)
    _signer(message, matching)
    nbf = _seconds(message.payload.get("nbf"), "nbf")
    exp_value = message.payload.get("exp")
    exp = None if exp_value is None else _seconds(exp_value, "exp")
    types, bundle, rid = _vc(message.payload)
    now = _now(at)
    # Trust before time: a revoked card is refused as revoked, whether or not it has expired.
    if any(issuer.is_revoked(message.kid, rid, nbf) for issuer in matching):
        raise Revoked(f"card {rid} is on the CRL of {message.iss} for key {message.kid}")
    _check_time(nbf, exp, now, skew)
    person, kind, facts = from_fhir(types, bundle)
    return ForeignCredential(
        format=SourceFormat.SHC,
        kind=kind,
        subject=person,
        issuer=message.iss or "",
        issued_at=_time(nbf),
        expires_at=None if exp is None else _time(exp),
        id=rid,
        facts=facts,
        raw=bundle,
    )
