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

The DGC payload is converted to its JSON form where it is decoded (:func:`json_dgc`), so that
every result built from it serialises: text, booleans, null, finite numbers and integers within
±(2**53 - 1) stay as they are; arrays and maps with text keys stay, at most
:data:`MAX_DGC_DEPTH` deep; CBOR dates and date-times (tags 0, 1, 100, 1004) become ISO 8601
text, as the DCC's JSON schema writes them (``2021-06-15``, ``2021-06-15T09:24:02Z``). Anything
else — a byte string, another tag, a non-text map key, a larger integer, NaN or an infinity,
``undefined`` or a simple value — has no JSON form and is refused (``bad_claims``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeGuard

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from healthcred._deprecated import renamed
from healthcred.clock import DEFAULT_SKEW_SECONDS, iso_time
from healthcred.codec import fast
from healthcred.codec.base45 import b45decode
from healthcred.codec.compression import decompress
from healthcred.codec.prefix import HC1_PREFIX, strip_prefix
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.cose import sig_structure
from healthcred.errors import (
    AlgorithmMismatch,
    BadCertificate,
    BadSignature,
    ClaimsError,
    CodeExpired,
    CodeNotYetValid,
    HealthCredError,
    KeyUsageMismatch,
    MalformedCBOR,
    MalformedCOSE,
    TooLarge,
    UnknownKid,
    UnsupportedAlgorithm,
)
from healthcred.foreign.dcc.dsc import DSC_KID_BYTES, Dsc, load_dsc, load_dsc_list, read_dsc
from healthcred.limits import MAX_COSE_BYTES, MAX_TEXT_CHARS
from healthcred.model import ForeignCredential, Person, SourceFormat
from healthcred.model.record import unchecked_builder

__all__ = [
    "HC1_PREFIX",
    "MAX_DGC_DEPTH",
    "Dsc",
    "Hc1Credential",
    "Hc1Message",
    "decode_hc1",
    "hc1_signer",
    "json_dgc",
    "load_dsc",
    "load_dsc_list",
    "parse_hc1_cose",
    "read_dsc",
    "read_hc1",
    "to_foreign",
    "verify_hc1",
    "verify_hc1_text",
]

PS256 = -37
"""COSE alg of RSASSA-PSS with SHA-256 (HCERT allows it besides ES256)."""
_ES256 = int(Alg.ES256)

_HCERT_CLAIM, _DGC_KEY = -260, 1  # CWT claim holding the health certificate, and its DGC entry
_USAGE_KEYS = ("v", "t", "r")  # the DGC's entries, and the certificate types a DSC may be limited to
_ALL_USAGES = frozenset(_USAGE_KEYS)  # a DSC that may sign every type (most do)

MAX_DGC_DEPTH = 16
"""Deepest nesting of arrays and maps in a DGC payload (the schema's is 3: dgc, v, entry)."""
_JSON_INT = 2**53 - 1  # the integers JSON carries exactly (RFC 7493 §2.2)


@dataclass(frozen=True, slots=True)
class Hc1Message:
    """A parsed HCERT COSE_Sign1 (kid and alg from the protected header, else the unprotected one)."""

    protected: bytes
    alg: int | None
    kid: bytes | None
    payload: bytes
    signature: bytes


def _is_map(value: object) -> TypeGuard[Mapping[Any, Any]]:
    # isinstance(…, Mapping) is an ABC check (~0.3 µs); a decoded map is nearly always a dict
    return type(value) is dict or isinstance(value, Mapping)


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
    return _message(protected, headers, unprotected, payload, signature)


def _message(
    protected: bytes,
    headers: Mapping[Any, Any],
    unprotected: Mapping[Any, Any],
    payload: bytes,
    signature: bytes,
) -> Hc1Message:
    # alg and kid from the protected header, else the unprotected one (the C decoder's path too)
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
    native = fast.native
    if native is not None and (read := native.read_hc1(text, HC1_PREFIX)) is not None:
        # The C decoder took the shapes met in the wild (see _fast.c); else None, and the path below
        protected, headers, unprotected, payload, signature, _, _ = read
        return _message(protected, headers, unprotected, payload, signature)
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
    assert dsc.es256_verify is not None  # an EC certificate's key, prepared when it was loaded
    dsc.es256_verify(to_be_signed, message.signature)


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
        for key, name in zip(_USAGE_KEYS, ("vaccination", "test", "recovery"), strict=True):
            if self.dgc.get(key):
                return name
        return "unknown"


def _moment(value: date) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    text = value.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def _no_json(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return "a byte string"
    if isinstance(value, cbor2.CBORTag):
        return f"CBOR tag {value.tag}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, int):
        return f"an integer of {value.bit_length()} bits"  # never str(): huge ints cannot be printed
    return f"a {type(value).__name__}"


def _json(value: Any, where: str, depth: int) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int) and -_JSON_INT <= value <= _JSON_INT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, date):  # datetime too: tags 0 and 1, 100 and 1004
        return _moment(value)
    if isinstance(value, list | tuple | Mapping) and depth > MAX_DGC_DEPTH:
        raise ClaimsError(f"HC1 DGC {where} nests deeper than {MAX_DGC_DEPTH} levels")
    if isinstance(value, list | tuple):
        return [_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ClaimsError(f"HC1 DGC {where} has a map key that is {_no_json(key)}, not text")
            out[key] = _json(item, f"{where}.{key[:20]}", depth + 1)
        return out
    raise ClaimsError(f"HC1 DGC {where} holds {_no_json(value)}, which has no JSON form")


def json_dgc(dgc: Mapping[Any, Any]) -> dict[str, Any]:
    """A decoded DGC map in its JSON form (see the module docstring); :class:`ClaimsError` if it has none."""
    native = fast.native
    if native is not None and native.plain_json(dgc, 1, MAX_DGC_DEPTH):
        return dgc  # type: ignore[return-value]  # already its JSON form: a dict of plain values
    converted: dict[str, Any] = _json(dgc, "dgc", 1)
    return converted


def _claims(message: Hc1Message) -> tuple[dict[Any, Any], dict[str, Any]]:
    # (the CWT claims, the DGC in its JSON form)
    native = fast.native
    claims = native.loads_any_order(message.payload) if native is not None else None
    if claims is None:  # no C decoder, or an item it leaves to cbor2 (tags, floats, a CBOR null)
        claims = _one_item(message.payload, "CWT claims")
    if not isinstance(claims, dict):
        raise ClaimsError("HC1 payload must be a CWT claims map")
    hcert = claims.get(_HCERT_CLAIM)
    if not _is_map(hcert) or not _is_map(hcert.get(_DGC_KEY)):
        raise ClaimsError("HC1 payload lacks the hcert claim (-260) with a DGC (1)")
    return claims, json_dgc(hcert[_DGC_KEY])


def _seconds(value: Any) -> int | None:
    # a CWT time HCERT's issuers write (an int of epoch seconds); anything else counts as absent
    return value if type(value) is int and 0 <= value < 2**34 else None


def _time(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def hc1_signer(message: Hc1Message, dscs: Iterable[Dsc]) -> Dsc:
    """The DSC whose key verifies ``message`` (the signature alone: no time, no key usage).

    Every DSC sharing the kid is tried. Raises :class:`UnsupportedAlgorithm`,
    :class:`MalformedCOSE` (no 8-byte kid), :class:`UnknownKid` or :class:`BadSignature`.
    """
    if message.alg is None or message.alg not in (Alg.ES256, PS256):
        raise UnsupportedAlgorithm(f"HC1 alg {message.alg} is not allowed (ES256, PS256)")
    if message.kid is None or len(message.kid) != DSC_KID_BYTES:
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
    claims, dgc = _claims(message)
    iat, exp = _seconds(claims.get(6)), _seconds(claims.get(4))
    now = at if isinstance(at, int) else int((at or datetime.now(UTC)).timestamp())
    refusal = _refusal(signer, dgc, iat, exp, now, skew, check_usage)
    if refusal is not None:
        raise refusal
    return Hc1Credential(_country(claims), _time(iat), _time(exp), dgc, signer)


def _country(claims: Mapping[Any, Any]) -> str | None:
    country = claims.get(1)  # the CWT issuer: the issuing country
    return country if isinstance(country, str) else None


def _refusal(
    signer: Dsc,
    dgc: Mapping[str, Any],
    iat: int | None,
    exp: int | None,
    now: int,
    skew: int,
    check_usage: bool = True,
) -> HealthCredError | None:
    """Why a certificate whose signature ``signer`` verified is refused at ``now``, or ``None``.

    Trust first (may this DSC sign this type, was it valid at the issue time), then time; the
    times are epoch seconds. One function for the checked path and the lean one, so that both
    refuse alike.
    """
    usages = signer.usages
    if check_usage and not usages >= _ALL_USAGES:
        kinds = {k for k in _USAGE_KEYS if dgc.get(k)}
        if not kinds <= usages:
            return KeyUsageMismatch(f"DSC {signer.kid.hex()} may sign {sorted(usages)}, not {sorted(kinds)}")
    if iat is not None and not signer.window[0] <= iat <= signer.window[1]:
        return BadCertificate(f"DSC {signer.kid.hex()} was not valid when the certificate was issued")
    if exp is not None and now > exp + skew:
        return CodeExpired(f"certificate expired at {iso_time(exp)}")
    if iat is not None and iat > now + skew:
        return CodeNotYetValid(f"certificate issued at {iso_time(iat)}, in the future")
    return None


# DGC entry fields → the common facts (docs/interop.md "What maps to what"); one table per kind.
_FACTS = {
    "v": ("vaccination", {"tg": "disease", "vp": "vaccine_type", "mp": "product", "ma": "manufacturer",
                          "dn": "dose", "sd": "doses_required", "dt": "date", "co": "country"}),
    "t": ("test", {"tg": "disease", "tt": "test_type", "nm": "test_name", "ma": "manufacturer",
                   "sc": "sampled_at", "tc": "centre", "co": "country"}),
    "r": ("recovery", {"tg": "disease", "fr": "first_positive", "df": "valid_from", "du": "valid_until",
                       "co": "country"}),
}  # fmt: skip
_FACT_TABLE = tuple((key, name, tuple(fields.items())) for key, (name, fields) in _FACTS.items())
# SNOMED CT codes HCERT uses for a test result (value set "test-result").
_TEST_RESULTS = {"260415000": "negative", "260373001": "positive"}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


# Person and ForeignCredential are plain dataclasses (no checks in their constructors): a slot
# store per field builds the same object at a third of a frozen dataclass __init__'s cost.
_new_person = unchecked_builder(Person)
_new_foreign = unchecked_builder(ForeignCredential)
_HC1_FORMAT = SourceFormat.HC1


def _person(dgc: Mapping[str, Any]) -> Person:
    nam = dgc.get("nam")
    if not _is_map(nam):
        nam = {}
    family = _text(nam.get("fn")) or _text(nam.get("fnt"))
    given = _text(nam.get("gn")) or _text(nam.get("gnt"))
    name = f"{family}, {given}" if family and given else family or given or "(no name)"
    return _new_person(name, _text(dgc.get("dob")), family, given)


def to_foreign(credential: Hc1Credential) -> ForeignCredential:
    """Map a verified EU DCC into the common result: person, kind, facts of its (first) entry, times."""
    issuer = credential.issuer or credential.dsc.country or ""
    return _foreign(credential.dgc, issuer, credential.issued_at, credential.expires_at)


def _foreign(
    dgc: Mapping[str, Any], issuer: str, issued: datetime | None, expires: datetime | None
) -> ForeignCredential:
    kind, facts, ident = "unknown", {}, None
    for key, name, fields in _FACT_TABLE:
        entries = dgc.get(key)
        if (type(entries) is list or isinstance(entries, tuple)) and entries and _is_map(entry := entries[0]):
            kind = name
            facts = {common: entry[field] for field, common in fields if field in entry}
            if key == "t":
                facts["result"] = _TEST_RESULTS.get(str(entry.get("tr")), "other")
            ident = _text(entry.get("ci"))
            break
    return _new_foreign(_HC1_FORMAT, kind, _person(dgc), issuer, issued, expires, ident, facts, dgc)


def verify_hc1_text(
    text: str, dsc_index: Mapping[bytes, tuple[Dsc, ...]], now: int, skew: int
) -> tuple[ForeignCredential, Dsc] | None:
    """:func:`read_hc1`, :func:`verify_hc1` and :func:`to_foreign` of a usual EU DCC in one pass.

    ``dsc_index`` maps a kid to its DSCs (``TrustStore.dsc_index``), ``now`` is the validation
    time in epoch seconds. It rides on the C decoder and returns ``None`` wherever the checked
    path must decide — no C decoder, an unusual shape, an alg other than ES256, a kid two
    certificates share, an RSA certificate, a DGC not already in JSON form — and that path then
    raises its own error. Once the kid's only certificate is to be tried, it decides itself, as
    the checked path would and with the same error: a signature that does not verify raises
    :class:`BadSignature`, a usage or time check that fails raises what ``_refusal`` gives (the
    checked path's own checks), so that a refused code is never verified a second time.
    """
    native = fast.native
    read = native.read_hc1(text, HC1_PREFIX) if native is not None else None
    if native is None or read is None:
        return None
    _, headers, unprotected, _, signature, claims, to_be_signed = read
    alg = headers.get(1, unprotected.get(1))
    kid = headers.get(4, unprotected.get(4))
    if type(alg) is not int or alg != _ES256 or type(kid) is not bytes or len(kid) != DSC_KID_BYTES:
        return None
    candidates = dsc_index.get(kid)
    if type(claims) is not dict or candidates is None or len(candidates) != 1:
        return None
    dsc = candidates[0]
    hcert = claims.get(_HCERT_CLAIM)
    dgc = hcert.get(_DGC_KEY) if type(hcert) is dict else None
    if dsc.es256_verify is None or type(dgc) is not dict or not native.plain_json(dgc, 1, MAX_DGC_DEPTH):
        return None
    try:
        dsc.es256_verify(to_be_signed, signature)
    except BadSignature:
        raise BadSignature(f"no DSC with kid {kid.hex()} verifies the signature") from None
    iat, exp = _seconds(claims.get(6)), _seconds(claims.get(4))
    refusal = _refusal(dsc, dgc, iat, exp, now, skew)
    if refusal is not None:
        raise refusal
    return _foreign(dgc, _country(claims) or dsc.country or "", _time(iat), _time(exp)), dsc
