"""SMART Health Cards (``shc:/``): decode, verify against trusted issuers, map into the common result.

Pipeline: ``shc:/`` QR text (one code, or chunks ``shc:/N/M/…`` in any order) → numeric
decoding (each digit pair ``d`` is the character ``chr(d + 45)``) → compact JWS → header
``{"alg": "ES256", "zip": "DEF", "kid": …}`` → raw DEFLATE payload (bounded) → strict JSON
claims ``iss``, ``nbf``, ``exp``, ``vc``. Verification finds the issuer by ``iss``
(:class:`~healthcred.foreign.shc.issuers.ShcIssuer`), the key by ``kid`` (its RFC 7638 thumbprint),
checks the ES256 signature (raw ``r ‖ s``), the card's revocation id ``vc.rid`` against the
issuer's CRL for that key, then ``nbf`` and ``exp`` with a clock-skew allowance.

Bounds, all checked before the work they guard: at most :data:`MAX_CHUNKS` chunks, each at
most :data:`MAX_CHUNK_DIGITS` digits (the specification's 1195 JWS characters per QR, version
22; ``too_large``); a JWS of at most :data:`MAX_JWS_CHARS` characters; a payload inflated to at
most :data:`MAX_PAYLOAD_BYTES` (``too_large``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthcred.clock import DEFAULT_SKEW_SECONDS
from healthcred.codec.prefix import SHC_PREFIX
from healthcred.errors import (
    BadChunk,
    BadInput,
    BadPrefix,
    BadSignature,
    ClaimsError,
    CodeExpired,
    CodeNotYetValid,
    MalformedJWS,
    Revoked,
    TooLarge,
    UnknownIssuer,
    UnknownKid,
    UnsupportedAlgorithm,
)
from healthcred.foreign.shc.issuers import ShcIssuer, ShcKey
from healthcred.foreign.shc.jose import b64url_decode, inflate_raw, loads_json
from healthcred.limits import MAX_EPOCH
from healthcred.model import ForeignCredential, Person, SourceFormat

__all__ = [
    "MAX_CHUNKS",
    "MAX_CHUNK_DIGITS",
    "MAX_JWS_CHARS",
    "MAX_PAYLOAD_BYTES",
    "SHC_PREFIX",
    "ShcMessage",
    "decode_shc",
    "join_chunks",
    "load_health_cards",
    "parse_jws",
    "shc_signer",
    "verify_shc",
]

MAX_CHUNKS = 16
"""Most QR chunks one card may span (the specification deprecates chunking; real cards use ≤ 4)."""
MAX_CHUNK_DIGITS = 2 * 1195
"""Most digits in one chunk: 1195 JWS characters, the specification's cap for one QR (version 22)."""
MAX_JWS_CHARS = 64 * 1024
"""Longest compact JWS accepted (a ``.smart-health-card`` file is not limited by QR size)."""
MAX_PAYLOAD_BYTES = 512 * 1024
"""Largest inflated payload accepted (DEFLATE-bomb bound; the largest specification example is 30 KB)."""

_MAX_KID_CHARS = 128
_MAX_FILE_BYTES = 1024 * 1024
_SIG_BYTES = 64  # ES256 in JWS: raw r ‖ s (RFC 7518 §3.4), never DER
_CHUNK = re.compile(re.escape(SHC_PREFIX) + r"(?:([1-9][0-9]?)/([1-9][0-9]?)/)?([0-9]+)")
_PAIRS = {f"{value:02d}": chr(45 + value) for value in range(78)}  # 45 + 77 = "z"


# --- QR text → compact JWS -----------------------------------------------------------------------


def _numeric(digits: str, where: str) -> str:
    if len(digits) % 2:
        raise BadChunk(f"{where}: an odd number of digits ({len(digits)})")
    try:
        return "".join([_PAIRS[digits[i : i + 2]] for i in range(0, len(digits), 2)])
    except KeyError as exc:
        raise BadChunk(f"{where}: digit pair {exc.args[0]} is over 77") from exc


def _parse_chunk(text: object) -> tuple[int, int | None, str]:
    # (index, total, digits); a single code (shc:/digits) is index 1 with no total.
    if not isinstance(text, str):
        raise BadInput(f"an SHC chunk is text, not {type(text).__name__}")
    if len(text) > len(SHC_PREFIX) + 6 + MAX_CHUNK_DIGITS:  # before any regex work
        raise TooLarge(f"an SHC chunk holds at most {MAX_CHUNK_DIGITS} digits")
    if not text.startswith(SHC_PREFIX):
        shown = text[:8] + ("…" if len(text) > 8 else "")
        raise BadPrefix(f"text does not start with {SHC_PREFIX!r} (starts {shown!r})")
    match = _CHUNK.fullmatch(text)
    if match is None:
        raise BadChunk("an SHC code is 'shc:/' and digits, or 'shc:/N/M/' and digits")
    index, total, digits = match.groups()
    if len(digits) > MAX_CHUNK_DIGITS:
        raise TooLarge(f"an SHC chunk holds at most {MAX_CHUNK_DIGITS} digits, not {len(digits)}")
    if index is None:
        return 1, None, digits
    if int(index) > int(total):
        raise BadChunk(f"chunk {index} of {total} does not exist")
    return int(index), int(total), digits


def join_chunks(chunks: Sequence[str]) -> str:
    """The compact JWS carried by one ``shc:/`` code or by all chunks of a multi-part card.

    Chunks may come in any order; each must come once, all must name the same total, and a
    single-code card (``shc:/digits``) cannot be mixed with chunks. Raises :class:`BadPrefix`,
    :class:`BadChunk` or :class:`TooLarge`.
    """
    if isinstance(chunks, str) or not isinstance(chunks, Sequence):
        raise BadInput("join_chunks takes a sequence of shc:/ texts")
    if not chunks:
        raise BadChunk("no SHC chunk given")
    if len(chunks) > MAX_CHUNKS:
        raise TooLarge(f"an SHC card is at most {MAX_CHUNKS} QR chunks, not {len(chunks)}")
    parsed = [_parse_chunk(chunk) for chunk in chunks]
    totals = {total for _, total, _ in parsed}
    if None in totals and len(parsed) > 1:
        raise BadChunk("a single-code card (shc:/digits) cannot be joined with other chunks")
    if len(totals) > 1:
        raise BadChunk(f"chunks disagree on their number: {sorted(t or 1 for t in totals)}")
    total = totals.pop() or 1
    if total > MAX_CHUNKS:
        raise TooLarge(f"an SHC card is at most {MAX_CHUNKS} QR chunks, not {total}")
    by_index = {index: digits for index, _, digits in parsed}
    if len(by_index) != len(parsed):
        raise BadChunk("a chunk was given twice")
    if len(by_index) != total:
        missing = sorted(set(range(1, total + 1)) - set(by_index))
        raise BadChunk(f"chunks {missing} of {total} are missing")
    return "".join(_numeric(by_index[i], f"chunk {i}/{total}") for i in range(1, total + 1))


# --- compact JWS -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShcMessage:
    """A parsed SMART Health Card JWS: header, claims and signature, nothing verified yet.

    ``payload`` is the JSON claims object (``iss``, ``nbf``, ``vc``, …) as the card holds it.
    """

    jws: str = field(repr=False)
    kid: str
    header: Mapping[str, Any] = field(repr=False, hash=False)
    payload: Mapping[str, Any] = field(repr=False, hash=False)
    signature: bytes = field(repr=False)

    @property
    def signing_input(self) -> bytes:
        """What the signature covers: ``BASE64URL(header) "." BASE64URL(payload)`` (RFC 7515 §5.2)."""
        return self.jws[: self.jws.rindex(".")].encode("ascii")

    @property
    def iss(self) -> str | None:
        """The issuer URL the card claims (unverified until :func:`verify_shc` succeeds)."""
        iss = self.payload.get("iss")
        return iss if isinstance(iss, str) else None

    @property
    def kid_bytes(self) -> bytes:
        """The kid as bytes: the 32-byte SHA-256 thumbprint it encodes, else its UTF-8 text."""
        try:
            return b64url_decode(self.kid, MalformedJWS, "kid")
        except MalformedJWS:
            return self.kid.encode("utf-8")


def _check_header(header: Mapping[str, Any]) -> str:
    if "crit" in header:
        raise MalformedJWS("the JWS header has 'crit': no extension is understood here")
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedJWS("the JWS header has no 'alg'")
    if alg != "ES256":
        raise UnsupportedAlgorithm(f"SHC alg {alg[:20]!r} is not allowed (ES256 only)")
    if header.get("zip") != "DEF":
        raise MalformedJWS("an SHC payload is DEFLATE-compressed: the header needs 'zip': 'DEF'")
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_CHARS:
        raise MalformedJWS("the JWS header needs a 'kid' of 1 to 128 characters")
    return kid


def _signature(part: str) -> bytes:
    signature = b64url_decode(part, MalformedJWS, "the JWS signature")
    if len(signature) != _SIG_BYTES:
        form = "a DER-encoded signature" if signature[:1] == b"\x30" else f"{len(signature)} bytes"
        raise MalformedJWS(f"an ES256 JWS signature is {_SIG_BYTES} bytes of raw r ‖ s, not {form}")
    return signature


def parse_jws(jws: str) -> ShcMessage:
    """Parse a compact JWS as SMART Health Cards prescribe it (the form inside a QR code or a file).

    Raises :class:`MalformedJWS` (shape, base64url, header, JSON, signature length),
    :class:`UnsupportedAlgorithm` (alg other than ES256), :class:`TooLarge` and
    :class:`BadCompression` (payload DEFLATE).
    """
    if not isinstance(jws, str):
        raise BadInput(f"a JWS is text, not {type(jws).__name__}")
    if len(jws) > MAX_JWS_CHARS:
        raise TooLarge(f"an SHC JWS is at most {MAX_JWS_CHARS} characters")
    parts = jws.split(".")
    if len(parts) != 3:
        raise MalformedJWS(f"a compact JWS has 3 dot-separated parts, not {len(parts)}")
    header_json = b64url_decode(parts[0], MalformedJWS, "the JWS header")
    header = loads_json(header_json, MalformedJWS, "the JWS header")
    if not isinstance(header, dict):
        raise MalformedJWS("the JWS header is not a JSON object")
    kid = _check_header(header)
    signature = _signature(parts[2])  # before inflating: a bad signature form costs nothing
    compressed = b64url_decode(parts[1], MalformedJWS, "the JWS payload")
    payload = loads_json(inflate_raw(compressed, MAX_PAYLOAD_BYTES), MalformedJWS, "the JWS payload")
    if not isinstance(payload, dict):
        raise MalformedJWS("the JWS payload is not a JSON object")
    return ShcMessage(jws, kid, header, payload, signature)


def decode_shc(code: str | Sequence[str]) -> ShcMessage:
    """QR text (one ``shc:/`` code, or all chunks of one card in any order) → parsed JWS."""
    if isinstance(code, str):
        return parse_jws(join_chunks([code]))
    if isinstance(code, Sequence):
        return parse_jws(join_chunks(code))
    raise BadInput(f"an SHC code is text or a sequence of chunk texts, not {type(code).__name__}")


def load_health_cards(source: bytes | str | os.PathLike[str]) -> list[ShcMessage]:
    """The cards of a ``.smart-health-card`` file (``{"verifiableCredential": [JWS…]}``): bytes or a path.

    At most 1 MiB; each JWS is parsed (not verified). Raises :class:`MalformedJWS` for a file
    of another shape, and the errors of :func:`parse_jws`.
    """
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | os.PathLike):
        try:
            with Path(source).open("rb") as file:
                data = file.read(_MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror}") from exc
    else:
        raise BadInput(f"a health card file is bytes or a path, not {type(source).__name__}")
    if len(data) > _MAX_FILE_BYTES:
        raise TooLarge(f"a .smart-health-card file is at most {_MAX_FILE_BYTES} bytes here")
    doc = loads_json(data, MalformedJWS, "the .smart-health-card file")
    cards = doc.get("verifiableCredential") if isinstance(doc, dict) else None
    if not isinstance(cards, list) or not all(isinstance(c, str) for c in cards):
        raise MalformedJWS('a .smart-health-card file is {"verifiableCredential": [JWS, …]}')
    return [parse_jws(card) for card in cards]


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
    message = code if isinstance(code, ShcMessage) else decode_shc(code)
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
    resources = _resources(bundle)
    kind, facts = _kind_and_facts(types, resources)
    return ForeignCredential(
        format=SourceFormat.SHC,
        kind=kind,
        subject=_person(resources),
        issuer=message.iss or "",
        issued_at=_time(nbf),
        expires_at=None if exp is None else _time(exp),
        id=rid,
        facts=facts,
        raw=bundle,
    )


# --- FHIR bundle → person, kind, facts -----------------------------------------------------------

_TYPE = "https://smarthealth.cards#"
COVID19 = "840539006"
"""SNOMED CT code for COVID-19, the ``disease`` fact's value (as the EU DCC's ``tg`` gives it)."""
_CVX = "http://hl7.org/fhir/sid/cvx"
_LOINC = "http://loinc.org"
_SNOMED = "http://snomed.info/sct"
# CVX codes of COVID-19 vaccines (CDC CVX table: US products, then the 5xx non-US ones).
_COVID_CVX = frozenset(
    ["207", "208", "210", "211", "212", "213", "217", "218", "219", "221", "225", "226", "227", "228",
     "229", "230", "231", "300", "301", "302", "310", "311", "312", "313"]
    + [str(code) for code in range(500, 520)]
)  # fmt: skip
# LOINC codes of SARS-CoV-2 infection tests (NAAT and antigen) the SHC COVID-19 lab profile lists.
_COVID_LOINC = frozenset(
    ["94309-2", "94500-6", "94531-1", "94533-7", "94534-5", "94558-4", "94559-2", "94565-9", "94759-8",
     "94845-5", "95209-3", "95406-5", "95409-9", "95423-0", "95425-5", "96119-3", "96120-1", "96122-7",
     "96123-5", "96448-6", "96986-5", "97097-0", "94756-4", "94757-2", "94760-6"]
)  # fmt: skip
# SNOMED CT results: positive/detected, negative/not detected (EU DCC uses the "detected" pair).
_RESULTS = {"10828004": "positive", "260373001": "positive", "260385009": "negative", "260415000": "negative"}


def _resources(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    found = (e.get("resource") for e in entries if isinstance(e, dict))
    return [r for r in found if isinstance(r, dict)]


def _of_type(resources: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [r for r in resources if r.get("resourceType") == name]


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _person(resources: list[Mapping[str, Any]]) -> Person:
    patients = _of_type(resources, "Patient")
    patient = patients[0] if patients else {}
    names = patient.get("name")
    name = next((n for n in names if isinstance(n, dict)), {}) if isinstance(names, list) else {}
    family = _text(name.get("family"))
    given_list = name.get("given")
    given = (
        " ".join(g.strip() for g in given_list if isinstance(g, str) and g.strip()) or None
        if isinstance(given_list, list)
        else None
    )
    display = ", ".join(part for part in (family, given) if part) or _text(name.get("text")) or "(no name)"
    birth_date = _text(patient.get("birthDate"))
    return Person(name=display, birth_date=birth_date, family_name=family, given_name=given)


def _coding(concept: object) -> tuple[str, str] | None:
    # The first (system, code) of a CodeableConcept.
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return None
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        if isinstance(system, str) and isinstance(code, str):
            return system, code
    return None


def _when(resource: Mapping[str, Any], name: str) -> str:
    value = resource.get(name)
    return value if isinstance(value, str) else ""


def _vaccine_disease(immunization: Mapping[str, Any], covid_typed: bool) -> str | None:
    coding = _coding(immunization.get("vaccineCode"))
    if covid_typed or (coding is not None and coding[0] == _CVX and coding[1] in _COVID_CVX):
        return COVID19
    return None


def _vaccination(resources: list[Mapping[str, Any]], covid_typed: bool) -> dict[str, Any]:
    done = [r for r in _of_type(resources, "Immunization") if r.get("status") == "completed"]
    if not done:
        return {}
    latest = max(reversed(done), key=lambda r: _when(r, "occurrenceDateTime"))  # ties: the later entry
    facts: dict[str, Any] = {}
    disease = _vaccine_disease(latest, covid_typed)
    if disease is not None:
        facts["disease"] = disease
        # Doses against the same disease only: a card may also list, say, an influenza shot.
        done = [r for r in done if _vaccine_disease(r, covid_typed) == disease]
    product = _coding(latest.get("vaccineCode"))
    if product is not None:
        facts["product"] = f"{product[0]}|{product[1]}"
    facts["dose"] = len(done)
    if _when(latest, "occurrenceDateTime"):
        facts["date"] = _when(latest, "occurrenceDateTime")
    return facts


def _test(resources: list[Mapping[str, Any]], covid_typed: bool) -> dict[str, Any]:
    observations = _of_type(resources, "Observation")
    with_result = [o for o in observations if isinstance(o.get("valueCodeableConcept"), dict)]
    pool = with_result or observations
    if not pool:
        return {}
    latest = max(reversed(pool), key=lambda o: _when(o, "effectiveDateTime"))
    facts: dict[str, Any] = {}
    test_type = _coding(latest.get("code"))
    if covid_typed or (test_type is not None and test_type[0] == _LOINC and test_type[1] in _COVID_LOINC):
        facts["disease"] = COVID19
    if test_type is not None:
        facts["test_type"] = f"{test_type[0]}|{test_type[1]}"
    result = _coding(latest.get("valueCodeableConcept"))
    if result is not None or "valueCodeableConcept" in latest:
        facts["result"] = _RESULTS.get(result[1], "other") if result and result[0] == _SNOMED else "other"
    if _when(latest, "effectiveDateTime"):
        facts["sampled_at"] = _when(latest, "effectiveDateTime")
    return facts


def _kind_and_facts(types: list[str], resources: list[Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
    covid_typed = _TYPE + "covid19" in types
    if _TYPE + "immunization" in types:
        return "vaccination", _vaccination(resources, covid_typed)
    if _TYPE + "laboratory" in types:
        return "test", _test(resources, covid_typed)
    # SHC 1.4 deprecated these types "in favour of classifying cards based on their contents":
    # immunizations alone make a vaccination card. Lab results are not inferred — a general
    # panel (the specification's example 02) is no infection test a policy should accept.
    if _of_type(resources, "Immunization") and not _of_type(resources, "Observation"):
        return "vaccination", _vaccination(resources, covid_typed)
    return "unknown", {}
