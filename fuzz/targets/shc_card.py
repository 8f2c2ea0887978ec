"""SMART Health Cards: ``.smart-health-card`` files (``load_health_cards``) and numeric ``shc:/`` text.

A file's cards are verified one by one; text is split at newlines into the chunks of one card
(``read_shc`` on them, then ``verify``) — so a single chunk and a multi-part card both come in.

The mutator (:func:`mutate`) peels a card — the file's JSON or the chunks' numeric form, the
compact JWS, the raw DEFLATE — mutates the payload's tree (``vc.type``, ``nbf``/``exp`` at their
bounds, ``rid`` among others the revoked ones, ``fhirVersion``, FHIR resources and their codes,
and the generic moves of :mod:`fuzz.json_mutator`) or the JWS header, deflates it again and, most
of the time, signs it as the fuzz issuer (:mod:`fuzz.shc_keys`: ``iss`` and ``kid`` set to its),
so the card gets past the signature to the claims, the CRL, the time checks, the FHIR mapping and
``summary()``. Cards it leaves signed as they were (the specification's example issuer publishes
no private key) stop at ``bad_signature``. It then wraps the card back as it came (file, one
code, or chunks: as many as before, or more when it no longer fits). A sixth of the time the
bytes are mutated as they are.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from collections.abc import Iterator
from typing import Any

from fuzz import json_mutator, layers, seeds
from fuzz.harness import Target, expect
from fuzz.json_mutator import Vocabulary, fresh, mutate_tree
from fuzz.shc_keys import FUZZ_ISS, FUZZ_JWK, REVOKED_RIDS, jws, sign_card
from fuzz.targets.common import moment, nbf_moment, verified
from healthcred.errors import MalformedJWS
from healthcred.foreign.shc.cards import MAX_CHUNK_DIGITS, MAX_PART_DIGITS, load_health_cards, read_shc
from healthcred.foreign.shc.jose import b64url_decode
from healthcred.foreign.shc.verify import HEALTH_CARD

_CHUNK = re.compile(r"shc:/(?:([0-9]+)/([0-9]+)/)?([0-9]*)")
_T = "https://smarthealth.cards#"
TYPES = (
    HEALTH_CARD,
    _T + "immunization",
    _T + "covid19",
    _T + "laboratory",
    _T + "health-card ",
    "VerifiableCredential",
)
NAMES = (
    "iss", "nbf", "exp", "vc", "type", "rid", "credentialSubject", "fhirVersion", "fhirBundle",
    "resourceType",
    "entry", "resource", "fullUrl", "name", "family", "given", "text", "birthDate", "status", "vaccineCode",
    "coding", "system", "code", "occurrenceDateTime", "effectiveDateTime", "valueCodeableConcept",
    "lotNumber",
)  # fmt: skip
STRINGS = (
    *TYPES, "4.0.1", "1.0.2", "4.0.1-x", "4", "Bundle", "Patient", "Immunization", "Observation", "completed",
    "entered-in-error", "final", "http://hl7.org/fhir/sid/cvx", "http://loinc.org", "http://snomed.info/sct",
    "207", "229", "94558-4", "260373001", "260385009", "resource:0", FUZZ_ISS, *REVOKED_RIDS, "fuzzdated",
)  # fmt: skip
_NBF = (0, 1, 1599999999, 1600000000, 1687450764.656, 253402300799, 253402300800, -1, 1e300, "1", None)
_KID = FUZZ_JWK["kid"]
_HEADERS = (
    {"alg": "none", "zip": "DEF"}, {"alg": "ES256", "zip": "DEF", "kid": "short"},
    {"alg": "ES256", "kid": _KID}, {"alg": "ES256", "zip": "DEF", "kid": _KID, "crit": ["b64"]},
    {"alg": "RS256", "zip": "DEF", "kid": _KID}, {"alg": "ES256", "zip": "GZIP", "kid": _KID},
)  # fmt: skip


def _grow(rng: random.Random, depth: int) -> Any:
    # A FHIR-ish entry: a resource of a type the mapping reads, with a code, a date and a status.
    kind = rng.choice(("Patient", "Immunization", "Observation", "Bundle"))
    resource: dict[str, Any] = {"resourceType": kind, "status": rng.choice(("completed", "final", None))}
    system, code = rng.choice((("http://hl7.org/fhir/sid/cvx", "207"), ("http://loinc.org", "94558-4")))
    resource["vaccineCode" if kind == "Immunization" else "code"] = {
        "coding": [{"system": system, "code": code}]
    }
    resource[rng.choice(("occurrenceDateTime", "effectiveDateTime", "birthDate"))] = rng.choice(
        ("2021-01-01", "9999-12-31T23:59:59Z", "", "0001")
    )
    if kind == "Patient":
        resource["name"] = [{"family": rng.choice(("A", "", " ", None)), "given": [rng.choice(("B", 7, ""))]}]
    return {"fullUrl": f"resource:{rng.randrange(9)}", "resource": resource}


PAYLOAD = Vocabulary(NAMES, STRINGS, grow=_grow)


def _vc(payload: dict[str, Any]) -> dict[str, Any] | None:
    vc = payload.get("vc")
    return vc if isinstance(vc, dict) else None


def _mutate_payload(payload: Any, rng: random.Random) -> Any:
    vc = _vc(payload) if isinstance(payload, dict) else None
    move = rng.randrange(6)
    if vc is None or move == 5:
        return mutate_tree(payload, rng, PAYLOAD)
    if move == 0:
        vc["type"] = rng.sample(TYPES, rng.randrange(len(TYPES) + 1))
    elif move == 1:
        payload[rng.choice(("nbf", "exp"))] = rng.choice(_NBF)
    elif move == 2:
        vc["rid"] = rng.choice((*REVOKED_RIDS, "fuzzdated", "a" * 25, "", 7, "r+"))
    elif move == 3:
        subject = vc.get("credentialSubject")
        if isinstance(subject, dict):
            subject["fhirVersion"] = rng.choice(("4.0.1", "1.0.2", "4.0.1-rc.1", "4.0", "v4", 4, None))
    elif move == 4:
        subject = vc.get("credentialSubject")
        bundle = subject.get("fhirBundle") if isinstance(subject, dict) else None
        entries = bundle.get("entry") if isinstance(bundle, dict) else None
        if isinstance(entries, list):
            entries.insert(rng.randrange(len(entries) + 1), _grow(rng, 2))
    return payload


def _parts(card: str) -> tuple[Any, Any, str] | None:
    # (header, payload, signature part) of a compact JWS, or None if it does not come apart.
    pieces = card.split(".")
    if len(pieces) != 3:
        return None
    try:
        header = json.loads(b64url_decode(pieces[0], MalformedJWS, "header"))
        deflated = b64url_decode(pieces[1], MalformedJWS, "payload")
        payload = json_mutator.loads(zlib.decompressobj(-15).decompress(deflated, 1 << 20))
    except (MalformedJWS, ValueError, zlib.error):
        return None
    return header, payload, pieces[2]


def _mutate_card(card: str, rng: random.Random) -> str | None:
    parts = _parts(card)
    if parts is None:
        return None
    header, payload, signature = parts
    if rng.random() < 0.1:
        header = fresh(rng.choice(_HEADERS)) if rng.random() < 0.5 else mutate_tree(header, rng, PAYLOAD)
    for _ in range(rng.choice((1, 1, 2, 3))):
        payload = _mutate_payload(payload, rng)
    resign = rng.random() < 0.8
    if resign and isinstance(payload, dict) and rng.random() < 0.95:
        payload["iss"] = FUZZ_ISS
    text = json_mutator.dumps(payload, rng).encode("utf-8", errors="surrogatepass")
    if resign:
        usual = (isinstance(header, dict) and header.get("kid") == _KID) or rng.random() < 0.9
        return sign_card(text, None if usual else header)
    return jws(header, text, _signature(signature))


def _signature(part: str) -> bytes:
    # The card's signature bytes as they were (they no longer match: bad_signature), or none.
    try:
        return b64url_decode(part, MalformedJWS, "the signature")
    except MalformedJWS:
        return b""


def _numeric(card: str) -> str:
    return "".join(f"{ord(c) - 45:02d}" for c in card)


def _chunked(card: str, count: int) -> bytes:
    digits = _numeric(card)
    count = (
        max(count, -(-len(digits) // MAX_PART_DIGITS)) if count > 1 or len(digits) > MAX_CHUNK_DIGITS else 1
    )
    if count == 1:
        return f"shc:/{digits}".encode()
    size = -(-len(digits) // (2 * count)) * 2
    chunks = [digits[i * size : (i + 1) * size] for i in range(count)]
    return "\n".join(f"shc:/{i}/{count}/{part}" for i, part in enumerate(chunks, 1)).encode()


def _from_chunks(data: bytes) -> tuple[str, int] | None:
    found: dict[int, str] = {}
    for line in data.decode("ascii", errors="replace").split("\n"):
        match = _CHUNK.fullmatch(line)
        if (
            match is None
            or len(match.group(3)) % 2
            or any(match.group(3)[i : i + 2] > "77" for i in range(0, len(match.group(3)), 2))
        ):
            return None
        found[int(match.group(1) or 1)] = match.group(3)
    digits = "".join(found[i] for i in sorted(found))
    return "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2)), len(found)


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate a card's payload (re-signed as the fuzz issuer, mostly) or header, and wrap it as it came."""
    rng = random.Random(seed)
    out: bytes | None = None
    try:
        if rng.random() < 1 / 6:
            out = None
        elif data.startswith(b"shc:/"):
            peeled = _from_chunks(data)
            card = None if peeled is None else _mutate_card(peeled[0], rng)
            out = None if card is None or peeled is None else _chunked(card, peeled[1])
        else:
            doc = json_mutator.loads(data)
            cards = doc.get("verifiableCredential") if isinstance(doc, dict) else None
            if isinstance(cards, list) and cards and all(isinstance(c, str) for c in cards):
                i = rng.randrange(len(cards))
                card = _mutate_card(cards[i], rng)
                if card is not None:
                    cards[i] = card
                    if rng.random() < 0.05:
                        cards.append(card)
                    out = json.dumps(doc).encode()
    except (ValueError, RecursionError):
        out = None
    return out if out is not None and len(out) <= max_size else layers.mutate_bytes(data, max_size)


def run(data: bytes) -> None:
    """Numeric text as chunks of one card; anything else as a health-card file."""
    if data.startswith(b"shc:/"):
        chunks = data.decode("utf-8", errors="replace").split("\n")
        message = expect(lambda: read_shc(chunks))
        at = moment(chunks[0]) if message is None else nbf_moment(message.payload.get("nbf"))
        verified(chunks if len(chunks) > 1 else chunks[0], at)
        return
    for card in expect(lambda: load_health_cards(data)) or ():
        verified(card, nbf_moment(card.payload.get("nbf")))


def seed_inputs() -> Iterator[bytes]:
    """The examples' files, their single chunks, example 02's three chunks as one card; the fuzz issuer's."""
    files = list(seeds.shc_files())
    yield from files
    chunks = list(seeds.shc_texts())
    for chunk in chunks:
        yield chunk.encode("ascii")
    multi = [c for c in chunks if c.startswith("shc:/") and "/" in c[5:]]
    if multi:
        yield "\n".join(multi).encode("ascii")
    # The examples signed as the fuzz issuer: seeds past the signature from the start.
    for n, file in enumerate(files):
        payload = json.loads(file)["verifiableCredential"][0]
        parts = _parts(payload)
        if parts is not None and isinstance(parts[1], dict):
            card = sign_card(json.dumps({**parts[1], "iss": FUZZ_ISS}, separators=(",", ":")).encode())
            yield json.dumps({"verifiableCredential": [card]}).encode()
            if n == 0:
                yield _chunked(card, 1)
                yield _chunked(card, 3)


TARGET = Target("shc_card", run, seed_inputs, mutate)
