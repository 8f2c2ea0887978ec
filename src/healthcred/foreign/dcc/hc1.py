"""EU Digital COVID Certificates (``HC1:``): decode and verify against signing certificates (DSCs).

The pipeline mirrors the native one — prefix, Base45, bounded zlib, COSE_Sign1,
CWT claims — but follows the HCERT specification where it differs: the body is
usually zlib (bare COSE is accepted), the message may be tagged, untagged or
double-tagged, the kid may sit in the protected or only the unprotected header,
PS256 (RSA-PSS, salt length 32) is allowed besides ES256, and CBOR need not be
deterministic (it must still be one complete, bounded item). Trust entries are
X.509 DSCs: kid = first 8 bytes of SHA-256 over the certificate DER; every
certificate sharing a kid is tried; a DSC's extended key usage may restrict it
to test, vaccination or recovery certificates.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from healthcred._deprecated import renamed
from healthcred.clock import DEFAULT_SKEW_SECONDS
from healthcred.codec.base45 import b45decode
from healthcred.codec.compression import decompress
from healthcred.codec.prefix import HC1_PREFIX, strip_prefix
from healthcred.crypto.algorithms import Alg, verifier_for
from healthcred.crypto.cose import sig_structure
from healthcred.errors import (
    AlgorithmMismatch,
    BadCertificate,
    BadSignature,
    ClaimsError,
    CodeExpired,
    CodeNotYetValid,
    KeyUsageMismatch,
    MalformedCBOR,
    MalformedCOSE,
    TooLarge,
    UnknownKid,
    UnsupportedAlgorithm,
)
from healthcred.foreign.dcc.dsc import Dsc, load_dsc, load_dsc_list, read_dsc
from healthcred.limits import MAX_COSE_BYTES, MAX_TEXT_CHARS
from healthcred.model import ForeignCredential, Person, SourceFormat

__all__ = [
    "HC1_PREFIX",
    "Dsc",
    "Hc1Credential",
    "Hc1Message",
    "decode_hc1",
    "hc1_signer",
    "load_dsc",
    "load_dsc_list",
    "parse_hc1_cose",
    "read_dsc",
    "read_hc1",
    "to_foreign",
    "verify_hc1",
]

PS256 = -37
"""COSE alg of RSASSA-PSS with SHA-256 (HCERT allows it besides ES256)."""

_HCERT_CLAIM, _DGC_KEY = -260, 1  # CWT claim holding the health certificate, and its DGC entry


@dataclass(frozen=True, slots=True)
class Hc1Message:
    """A parsed HCERT COSE_Sign1 (kid and alg from the protected header, else the unprotected one)."""

    protected: bytes
    alg: int | None
    kid: bytes | None
    payload: bytes
    signature: bytes


def _one_item(data: bytes, what: str) -> Any:
    # Lenient about map order and encodings (HCERT does not require deterministic CBOR), strict about
    # trailing bytes; the input is already bounded by the decompression limit.
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise MalformedCBOR(f"{what} is not well-formed CBOR: {exc}") from exc
    if stream.tell() != len(data):
        raise MalformedCBOR(f"{len(data) - stream.tell()} bytes follow the {what}")
    return value


def parse_hc1_cose(data: bytes) -> Hc1Message:
    """Parse a tagged, untagged or double-tagged COSE_Sign1; raise :class:`MalformedCOSE`."""
    try:
        item = _one_item(data, "COSE message")
    except MalformedCBOR as exc:
        raise MalformedCOSE(exc.message) from exc
    for _ in range(2):  # CWT tag 61 around COSE tag 18 occurs in the wild
        if isinstance(item, cbor2.CBORTag):
            if item.tag not in (18, 61):
                raise MalformedCOSE(f"CBOR tag {item.tag} is not COSE_Sign1")
            item = item.value
    # cbor2 6 decodes the contents of a tag as immutable tuples and frozendicts, cbor2 5 as lists and dicts.
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise MalformedCOSE("COSE_Sign1 must be an array of 4 items")
    protected, unprotected, payload, signature = item
    if not isinstance(protected, bytes) or not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise MalformedCOSE("protected header, payload and signature must be byte strings")
    if not isinstance(unprotected, Mapping):
        raise MalformedCOSE("the unprotected header must be a map")
    try:
        headers = _one_item(protected, "protected header") if protected else {}
    except MalformedCBOR as exc:
        raise MalformedCOSE(exc.message) from exc
    if not isinstance(headers, Mapping):
        raise MalformedCOSE("the protected header must be a map")
    alg = headers.get(1, unprotected.get(1))
    kid = headers.get(4, unprotected.get(4))
    return Hc1Message(
        protected,
        alg if type(alg) is int else None,
        kid if isinstance(kid, bytes) else None,
        payload,
        signature,
    )


def read_hc1(text: str) -> Hc1Message:
    """Prefix → Base45 → zlib (bounded; bare COSE accepted) → COSE_Sign1; its signature is NOT checked."""
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        raise TooLarge("an HC1 code is at most one QR code of text")
    body = b45decode(strip_prefix(text, HC1_PREFIX))
    cose = body if body[:1] in (b"\xd2", b"\x84", b"\xd8") else decompress(body, MAX_COSE_BYTES)
    return parse_hc1_cose(cose)


decode_hc1 = renamed(read_hc1, "decode_hc1")


def _verify_with(dsc: Dsc, alg: int, message: Hc1Message) -> None:
    to_be_signed = sig_structure(message.protected, message.payload)
    if alg == PS256:
        if not isinstance(dsc.public_key, rsa.RSAPublicKey):
            raise AlgorithmMismatch("PS256 needs an RSA certificate")
        try:
            dsc.public_key.verify(
                message.signature,
                to_be_signed,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            )
        except InvalidSignature as exc:
            raise BadSignature("PS256 signature does not verify") from exc
        return
    if alg != Alg.ES256:
        raise UnsupportedAlgorithm(f"HC1 alg {alg} is not allowed (ES256, PS256)")
    if not isinstance(dsc.public_key, ec.EllipticCurvePublicKey):
        raise AlgorithmMismatch("ES256 needs an EC certificate")
    verifier_for(Alg.ES256, dsc.public_key)(to_be_signed, message.signature)


@dataclass(frozen=True, slots=True)
class Hc1Credential:
    """A verified EU DCC: the issuing country, times, the DGC payload and the certificate that signed it."""

    issuer: str | None
    issued_at: datetime | None
    expires_at: datetime | None
    dgc: Mapping[str, Any] = field(repr=False)
    dsc: Dsc = field(repr=False)

    @property
    def kind(self) -> str:
        """``vaccination``, ``test`` or ``recovery`` (from the DGC's ``v``/``t``/``r`` entry)."""
        for key, name in (("v", "vaccination"), ("t", "test"), ("r", "recovery")):
            if self.dgc.get(key):
                return name
        return "unknown"


def _claims(message: Hc1Message) -> dict[Any, Any]:
    claims = _one_item(message.payload, "CWT claims")
    if not isinstance(claims, dict):
        raise ClaimsError("HC1 payload must be a CWT claims map")
    hcert = claims.get(_HCERT_CLAIM)
    if not isinstance(hcert, dict) or not isinstance(hcert.get(_DGC_KEY), dict):
        raise ClaimsError("HC1 payload lacks the hcert claim (-260) with a DGC (1)")
    return claims


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if type(value) is int and 0 <= value < 2**34 else None


def hc1_signer(message: Hc1Message, dscs: Iterable[Dsc]) -> Dsc:
    """The DSC whose key verifies ``message`` (the signature alone: no time, no key usage).

    Every DSC sharing the kid is tried. Raises :class:`UnsupportedAlgorithm`,
    :class:`MalformedCOSE` (no 8-byte kid), :class:`UnknownKid` or :class:`BadSignature`.
    """
    if message.alg is None or message.alg not in (Alg.ES256, PS256):
        raise UnsupportedAlgorithm(f"HC1 alg {message.alg} is not allowed (ES256, PS256)")
    if message.kid is None or len(message.kid) != 8:
        raise MalformedCOSE("an HC1 kid is 8 bytes, in the protected or unprotected header")
    candidates = [d for d in dscs if d.kid == message.kid]
    if not candidates:
        raise UnknownKid(f"no DSC has kid {message.kid.hex()}")
    for dsc in candidates:
        try:
            _verify_with(dsc, message.alg, message)
        except (BadSignature, AlgorithmMismatch):
            continue
        return dsc
    raise BadSignature(f"no DSC with kid {message.kid.hex()} verifies the signature")


def verify_hc1(
    code: str | Hc1Message,
    dscs: Iterable[Dsc],
    *,
    at: datetime | int | None = None,
    check_usage: bool = True,
    skew: int = DEFAULT_SKEW_SECONDS,
) -> Hc1Credential:
    """Verify an HC1 code against DSCs at ``at`` (default now); every DSC sharing the kid is tried.

    Raises the usual typed errors; :class:`KeyUsageMismatch` when the DSC may
    not sign this certificate type, :class:`BadCertificate` when the DSC is not
    valid at the issue time.
    """
    message = code if isinstance(code, Hc1Message) else read_hc1(code)
    signer = hc1_signer(message, dscs)
    claims = _claims(message)
    issued, expires = _time(claims.get(6)), _time(claims.get(4))
    credential = Hc1Credential(
        claims.get(1) if isinstance(claims.get(1), str) else None,
        issued,
        expires,
        claims[_HCERT_CLAIM][_DGC_KEY],
        signer,
    )
    # Trust first (may this certificate sign this type, was it valid then), then time.
    if check_usage:
        kinds = {k for k in ("v", "t", "r") if credential.dgc.get(k)}
        if not kinds <= signer.usages:
            raise KeyUsageMismatch(
                f"DSC {signer.kid.hex()} may sign {sorted(signer.usages)}, not {sorted(kinds)}"
            )
    if issued is not None and not signer.not_before <= issued <= signer.not_after:
        raise BadCertificate(f"DSC {signer.kid.hex()} was not valid when the certificate was issued")
    now = at if isinstance(at, int) else int((at or datetime.now(UTC)).timestamp())
    if expires is not None and now > expires.timestamp() + skew:
        raise CodeExpired(f"certificate expired at {expires.isoformat()}")
    if issued is not None and issued.timestamp() > now + skew:
        raise CodeNotYetValid(f"certificate issued at {issued.isoformat()}, in the future")
    return credential


# DGC entry fields → the common facts (docs/interop.md "What maps to what"); one table per kind.
_FACTS = {
    "v": ("vaccination", {"tg": "disease", "vp": "vaccine_type", "mp": "product", "ma": "manufacturer",
                          "dn": "dose", "sd": "doses_required", "dt": "date", "co": "country"}),
    "t": ("test", {"tg": "disease", "tt": "test_type", "nm": "test_name", "ma": "manufacturer",
                   "sc": "sampled_at", "tc": "centre", "co": "country"}),
    "r": ("recovery", {"tg": "disease", "fr": "first_positive", "df": "valid_from", "du": "valid_until",
                       "co": "country"}),
}  # fmt: skip
# SNOMED CT codes HCERT uses for a test result (value set "test-result").
_TEST_RESULTS = {"260415000": "negative", "260373001": "positive"}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _person(dgc: Mapping[str, Any]) -> Person:
    nam = dgc.get("nam")
    if not isinstance(nam, Mapping):
        nam = {}
    family = _text(nam.get("fn")) or _text(nam.get("fnt"))
    given = _text(nam.get("gn")) or _text(nam.get("gnt"))
    name = ", ".join(part for part in (family, given) if part) or "(no name)"
    return Person(name=name, birth_date=_text(dgc.get("dob")), family_name=family, given_name=given)


def to_foreign(credential: Hc1Credential) -> ForeignCredential:
    """Map a verified EU DCC into the common result: person, kind, facts of its (first) entry, times."""
    dgc = credential.dgc
    kind, facts, ident = "unknown", {}, None
    for key, (name, fields) in _FACTS.items():
        entries = dgc.get(key)
        if isinstance(entries, list | tuple) and entries and isinstance(entries[0], Mapping):
            entry = entries[0]
            kind = name
            facts = {common: entry[field] for field, common in fields.items() if field in entry}
            if key == "t":
                facts["result"] = _TEST_RESULTS.get(str(entry.get("tr")), "other")
            ident = _text(entry.get("ci"))
            break
    return ForeignCredential(
        format=SourceFormat.HC1,
        kind=kind,
        subject=_person(dgc),
        issuer=credential.issuer or credential.dsc.country or "",
        issued_at=credential.issued_at,
        expires_at=credential.expires_at,
        id=ident,
        facts=facts,
        raw=dgc,
    )
