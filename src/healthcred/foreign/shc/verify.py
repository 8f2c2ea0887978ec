"""SMART Health Cards against trusted issuers: signature, claims, revocation and time.

Verification finds the issuer by ``iss`` (:class:`~healthcred.foreign.shc.issuers.ShcIssuer`),
the key by ``kid`` (its RFC 7638 thumbprint), checks the ES256 signature (raw ``r ‖ s``), the
card's revocation id ``vc.rid`` against the issuer's CRL for that key, then ``nbf`` and ``exp``
with a clock-skew allowance, and maps the card's FHIR bundle into the common result
(:mod:`healthcred.foreign.shc.fhir`).
"""

from __future__ import annotations

import math
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

__all__ = ["shc_signer", "verify_shc"]


# --- trust -------------------------------------------------------------------------------------


def _issuers_of(message: ShcMessage, issuers: Iterable[ShcIssuer]) -> list[ShcIssuer]:
    iss = message.iss
    if iss is None:
        raise ClaimsError("the SHC payload has no 'iss' URL")
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
        raise UnknownKid(f"issuer {matching[0].iss} has no key {message.kid[:60]!r}")
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


def _vc(payload: Mapping[str, Any]) -> tuple[list[str], Mapping[str, Any], str | None]:
    # (types, FHIR bundle, rid)
    vc = payload.get("vc")
    subject = vc.get("credentialSubject") if isinstance(vc, dict) else None
    bundle = subject.get("fhirBundle") if isinstance(subject, dict) else None
    if not isinstance(vc, dict) or not isinstance(bundle, dict):
        raise ClaimsError("the SHC payload needs vc.credentialSubject.fhirBundle")
    types, rid = vc.get("type", []), vc.get("rid")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ClaimsError("SHC vc.type must be an array of strings")
    if rid is not None and not isinstance(rid, str):
        raise ClaimsError("SHC vc.rid must be a string")
    return types, bundle, rid


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
    (``bad_signature``), claims (``bad_claims``), revocation of ``vc.rid`` by every trusted
    entry of that issuer for that key (``revoked``), then ``nbf`` (``not_yet_valid``) and
    ``exp`` (``expired``), each with ``skew`` seconds allowance. The signing key's kid is the
    message's :attr:`ShcMessage.kid` (decode first to keep it).
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
