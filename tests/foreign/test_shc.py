"""SMART Health Cards: the specification's examples 00–03, issuer entries, one test per bad input."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.crypto.algorithms import Alg, sign
from healthcred.errors import BadKey, BadSignature, HealthCredError, TrustListMalformed, TrustStoreError
from healthcred.foreign.shc.cards import (
    MAX_CHUNK_DIGITS,
    SHC_PREFIX,
    join_chunks,
    load_health_cards,
    parse_jws,
    read_shc,
)
from healthcred.foreign.shc.issuers import (
    MAX_KEYS,
    MAX_RIDS,
    ShcIssuer,
    issuer_document,
    jwk_thumbprint,
    load_shc_issuer,
    shc_issuer,
)
from healthcred.foreign.shc.verify import shc_signer, verify_shc
from healthcred.model import ForeignCredential, SourceFormat
from tests.helpers.paths import TEST_DATA

DATA = TEST_DATA / "shc" / "examples"
WELL_KNOWN = DATA / "issuer" / ".well-known"
SPEC_ISS = "https://spec.smarthealth.cards/examples/issuer"
SPEC_NBF = 1687450764  # every example's nbf, to the second (2023-06-22T16:19:24Z)
AFTER = SPEC_NBF + 86400
TYPE = "https://smarthealth.cards#"


# --- the specification's examples ---------------------------------------------------------------


def spec_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((WELL_KNOWN / "jwks.json").read_text())
    doc["iss"] = SPEC_ISS
    doc["crls"] = [json.loads(p.read_text()) for p in sorted((WELL_KNOWN / "crl").glob("*.json"))]
    return doc


@pytest.fixture(scope="module")
def spec() -> ShcIssuer:
    return load_shc_issuer(spec_document())


def chunks_of(n: int) -> list[str]:
    return [p.read_text().strip() for p in sorted(DATA.glob(f"example-0{n}-f-qr-code-numeric-value-*.txt"))]


def file_jws(n: int) -> str:
    jws: str = json.loads((DATA / f"example-0{n}-e-file.smart-health-card").read_text())[
        "verifiableCredential"
    ][0]
    return jws


def minified(n: int) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((DATA / f"example-0{n}-c-jws-payload-minified.json").read_text())
    return payload


@pytest.mark.parametrize("n", [0, 1, 2])
def test_examples_verify_from_the_file_jws(n: int, spec: ShcIssuer) -> None:
    message = parse_jws(file_jws(n))
    assert message.payload == minified(n)
    credential = verify_shc(message, [spec], at=AFTER)
    assert credential.format is SourceFormat.SHC
    assert credential.issuer == SPEC_ISS
    assert credential.issued_at == datetime.fromtimestamp(SPEC_NBF, UTC)
    assert credential.expires_at is None
    assert credential.raw == minified(n)["vc"]["credentialSubject"]["fhirBundle"]
    assert load_health_cards(DATA / f"example-0{n}-e-file.smart-health-card")[0] == message


@pytest.mark.parametrize("n", [0, 1, 2])
def test_examples_verify_from_the_qr_chunks_in_any_order(n: int, spec: ShcIssuer) -> None:
    chunks = chunks_of(n)
    assert len(chunks) == (3 if n == 2 else 1)
    for order in itertools.permutations(chunks):
        message = read_shc(list(order))
        assert message.jws == file_jws(n)
        assert message.payload == minified(n)
        assert verify_shc(list(order), [spec], at=AFTER).id == minified(n)["vc"].get("rid")
    if n != 2:
        assert read_shc(chunks[0]).jws == file_jws(n)


def test_example_kids_are_the_keys_thumbprints(spec: ShcIssuer) -> None:
    jwks = json.loads((WELL_KNOWN / "jwks.json").read_text())["keys"]
    assert [jwk_thumbprint(k) for k in jwks] == [k["kid"] for k in jwks]
    assert {parse_jws(file_jws(n)).kid for n in range(4)} == {k["kid"] for k in jwks}
    # Example 01 is signed by the key that carries an x5c chain, which is ignored.
    assert "x5c" in jwks[1] and parse_jws(file_jws(1)).kid == jwks[1]["kid"]
    assert shc_signer(parse_jws(file_jws(1)), [spec])[1].kid == jwks[1]["kid"]


def test_example_03_is_revoked_with_a_timestamp(spec: ShcIssuer) -> None:
    # The CRL lists "vwAjHdarZuc.1687450765": cards with that rid and nbf before the timestamp.
    crl = json.loads(next((WELL_KNOWN / "crl").glob("*.json")).read_text())
    assert "vwAjHdarZuc.1687450765" in crl["rids"]
    assert minified(3)["vc"]["rid"] == "vwAjHdarZuc" and minified(3)["nbf"] < 1687450765
    assert spec.revocations[crl["kid"]]["vwAjHdarZuc"] == 1687450765
    for code in (chunks_of(3), file_jws(3)):
        message = read_shc(code) if isinstance(code, list) else parse_jws(code)
        assert message.payload == minified(3)
        with pytest.raises(HealthCredError) as caught:
            verify_shc(message, [spec], at=AFTER)
        assert caught.value.code == "revoked"
    # Revocation is checked before expiry: after exp the card still reads as revoked.
    with pytest.raises(HealthCredError, match="revoked"):
        verify_shc(chunks_of(3), [spec], at=int(minified(3)["exp"]) + 86400)


@pytest.mark.parametrize("n", [0, 1])
def test_examples_00_and_01_map_to_a_vaccination(n: int, spec: ShcIssuer) -> None:
    credential = verify_shc(chunks_of(n), [spec], at=AFTER)
    assert isinstance(credential, ForeignCredential)
    assert credential.kind == "vaccination"
    assert credential.subject.name == "Anyperson, John B."
    assert (credential.subject.family_name, credential.subject.given_name) == ("Anyperson", "John B.")
    assert credential.subject.birth_date == "1951-01-20"
    assert credential.id == ("MKyCxh7p6uQ" if n == 0 else None)
    assert credential.facts == {
        "disease": "840539006",
        "product": "http://hl7.org/fhir/sid/cvx|229",
        "dose": 3,
        "date": "2022-09-05",
    }


def test_example_02_a_lab_panel_is_not_a_test_credential(spec: ShcIssuer) -> None:
    credential = verify_shc(chunks_of(2), [spec], at=AFTER)
    assert (credential.kind, dict(credential.facts)) == ("unknown", {})
    assert credential.subject.name == "(no name)"  # its bundle has no Patient


def test_issuer_document_round_trips_deterministically(spec: ShcIssuer, tmp_path: Path) -> None:
    doc = issuer_document(spec)
    assert load_shc_issuer(doc) == spec
    text = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert load_shc_issuer(text) == spec
    (tmp_path / "issuer.json").write_bytes(text)
    assert load_shc_issuer(tmp_path / "issuer.json") == spec
    assert load_shc_issuer(str(tmp_path / "issuer.json")) == spec
    assert issuer_document(load_shc_issuer(text)) == doc
    assert list(doc) == sorted(doc) and all(list(k) == sorted(k) for k in doc["keys"])
    assert doc["crls"][0]["rids"] == sorted(doc["crls"][0]["rids"])
    assert spec.missing_crls == ()
    assert hash(spec) == hash(load_shc_issuer(doc)) and hash(parse_jws(file_jws(0))) is not None
    assert load_shc_issuer({k: v for k, v in spec_document().items() if k != "crls"}).missing_crls == (
        "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s",
    )


# --- forging: an issuer of our own ------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def minify(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def numeric(jws: str) -> list[str]:
    """The jws as QR texts: one of at most 1195 characters, or equal chunks of at most 1191."""
    count = 1 if len(jws) <= 1195 else -(-len(jws) // 1191)
    size = -(-len(jws) // count)
    parts = ["".join(f"{ord(c) - 45:02d}" for c in jws[i : i + size]) for i in range(0, len(jws), size)]
    if count == 1:
        return [SHC_PREFIX + parts[0]]
    return [f"{SHC_PREFIX}{i}/{count}/{p}" for i, p in enumerate(parts, 1)]


class Forger:
    """A P-256 key, its JWK and a trusted issuer for it; signs whatever JWS a test wants."""

    iss = "https://forged.example/shc"

    def __init__(self, crls: list[dict[str, Any]] | None = None) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.key.public_key().public_numbers()
        self.jwk: dict[str, Any] = {
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "alg": "ES256",
            "x": b64(numbers.x.to_bytes(32, "big")),
            "y": b64(numbers.y.to_bytes(32, "big")),
        }
        self.jwk["kid"] = self.kid = jwk_thumbprint(self.jwk)
        self.issuer = shc_issuer(self.iss, {"keys": [self.jwk]}, crls or [])

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.iss,
            "nbf": SPEC_NBF,
            "vc": {
                "type": [TYPE + "health-card", TYPE + "immunization"],
                "credentialSubject": {
                    "fhirVersion": "4.0.1",
                    "fhirBundle": minified(0)["vc"]["credentialSubject"]["fhirBundle"],
                },
                "rid": "forged-rid",
            },
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def jws(
        self,
        payload: dict[str, Any] | bytes | None = None,
        *,
        header: dict[str, Any] | None = None,
        compressed: bytes | None = None,
        signature: Callable[[bytes], bytes] | None = None,
    ) -> str:
        raw = minify(payload or self.claims()) if not isinstance(payload, bytes) else payload
        head = header if header is not None else {"zip": "DEF", "alg": "ES256", "kid": self.kid}
        signing_input = (
            f"{b64(json.dumps(head).encode())}.{b64(compressed if compressed is not None else deflate(raw))}"
        )
        sig = sign(Alg.ES256, self.key, signing_input.encode())
        return f"{signing_input}.{b64(signature(sig) if signature else sig)}"


@pytest.fixture
def forger() -> Forger:
    return Forger()


def test_a_forged_card_verifies_through_every_path(forger: Forger) -> None:
    jws = forger.jws()
    for code in (numeric(jws), numeric(jws)[0], parse_jws(jws)):
        credential = verify_shc(code, [forger.issuer], at=AFTER)
        assert credential.kind == "vaccination" and credential.id == "forged-rid"
    assert read_shc(numeric(jws)).kid_bytes == base64.urlsafe_b64decode(forger.kid + "=")


def test_a_lab_card_maps_to_a_test(forger: Forger) -> None:
    def bundle(value: str, sampled: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "94558-4"}]},
            "effectiveDateTime": sampled,
            "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": value}]},
        }

    patient = {
        "resourceType": "Patient",
        "name": [{"family": "Tester", "given": ["Tina"]}],
        "birthDate": "1990",
    }
    for value, result in (
        ("10828004", "positive"),
        ("260385009", "negative"),
        ("260415000", "negative"),
        ("1", "other"),
    ):
        entries = [
            {"resource": patient},
            {"resource": bundle("260373001", "2021-01-01")},
            {"resource": bundle(value, "2021-02-01T10:00:00Z")},
        ]
        vc = {
            "type": [TYPE + "health-card", TYPE + "laboratory"],
            "credentialSubject": {
                "fhirVersion": "4.0.1",
                "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries},
            },
        }
        credential = verify_shc(parse_jws(forger.jws(forger.claims(vc=vc))), [forger.issuer], at=AFTER)
        assert credential.kind == "test" and credential.id is None
        assert credential.subject.name == "Tester, Tina" and credential.subject.birth_date == "1990"
        assert credential.facts == {
            "disease": "840539006",
            "test_type": "http://loinc.org|94558-4",
            "result": result,
            "sampled_at": "2021-02-01T10:00:00Z",
        }


def test_revocation_by_rid_and_by_rid_with_timestamp() -> None:
    forger = Forger()
    crl = {"kid": forger.kid, "method": "rid", "ctr": 3, "rids": ["always", f"until.{SPEC_NBF + 10}"]}
    issuer = shc_issuer(forger.iss, {"keys": [forger.jwk]}, [crl])
    assert issuer.crl_counters == {forger.kid: 3}

    def card(rid: str, nbf: float) -> str:
        claims = forger.claims(nbf=nbf)
        claims["vc"]["rid"] = rid
        return forger.jws(claims)

    cases = [
        ("always", SPEC_NBF + 1000, True),
        ("until", SPEC_NBF + 9.5, True),
        ("until", SPEC_NBF + 10, False),
        ("other", SPEC_NBF, False),
    ]
    for rid, nbf, revoked in cases:
        if revoked:
            with pytest.raises(HealthCredError, match=r"\[revoked\]"):
                verify_shc(parse_jws(card(rid, nbf)), [issuer], at=AFTER)
        else:
            assert verify_shc(parse_jws(card(rid, nbf)), [issuer], at=AFTER).id == rid
    # A second entry for the issuer (say, an older copy without the CRL) cannot hide a revocation.
    with pytest.raises(HealthCredError, match=r"\[revoked\]"):
        verify_shc(parse_jws(card("always", SPEC_NBF)), [forger.issuer, issuer], at=AFTER)


def test_time_and_skew(forger: Forger) -> None:
    card = parse_jws(forger.jws(forger.claims(exp=SPEC_NBF + 1000.5)))
    assert verify_shc(card, [forger.issuer], at=SPEC_NBF - 300).expires_at == datetime.fromtimestamp(
        SPEC_NBF + 1000, UTC
    )
    assert (
        verify_shc(card, [forger.issuer], at=datetime.fromtimestamp(SPEC_NBF + 1300, UTC)).issuer
        == forger.iss
    )
    for at, skew, code in (
        (SPEC_NBF - 301, 300, "not_yet_valid"),
        (SPEC_NBF - 1, 0, "not_yet_valid"),
        (SPEC_NBF + 1301, 300, "expired"),
    ):
        with pytest.raises(HealthCredError) as caught:
            verify_shc(card, [forger.issuer], at=at, skew=skew)
        assert caught.value.code == code
    for bad in ({"at": datetime(2024, 1, 1)}, {"at": 1.5}, {"skew": -1}):  # a naive time
        with pytest.raises(HealthCredError, match="bad_input"):
            verify_shc(card, [forger.issuer], **bad)


def test_a_der_signature_is_a_typed_error_at_every_layer(forger: Forger) -> None:
    jws = forger.jws()
    message = parse_jws(jws)
    der = encode_dss_signature(
        int.from_bytes(message.signature[:32], "big"), int.from_bytes(message.signature[32:], "big")
    )
    with pytest.raises(BadSignature):
        forger.issuer.keys[0].verify(message.signing_input, der)
    forger.issuer.keys[0].verify(message.signing_input, message.signature)
    with pytest.raises(HealthCredError, match=r"malformed_jws.*DER"):
        parse_jws(f"{jws[: jws.rindex('.')]}.{b64(der)}")


def test_parse_jws_refuses_characters_outside_base64url(forger: Forger) -> None:
    jws = forger.jws()
    for bad in (jws.replace(".", ".+", 1), jws.replace(".", "./", 1), jws + "=", jws.replace(".", ". ", 1)):
        with pytest.raises(HealthCredError, match=r"malformed_jws"):
            parse_jws(bad)


def test_the_deflate_bomb_stops_at_the_bound_quickly(forger: Forger) -> None:
    bomb = forger.jws(compressed=deflate(bytes(10_000_000)))
    chunks = numeric(bomb)
    assert 1 < len(chunks) <= 16
    started = time.perf_counter()
    for code in (chunks, bomb):
        with pytest.raises(HealthCredError) as caught:
            read_shc(code) if isinstance(code, list) else parse_jws(code)
        assert caught.value.code == "too_large"
    assert time.perf_counter() - started < 1.0


# --- one negative test per bad input ----------------------------------------------------------------


def _swap_header(jws: str, header: dict[str, Any]) -> str:
    return b64(json.dumps(header).encode()) + jws[jws.index(".") :]


def _flip(signature: bytes) -> bytes:
    return signature[:10] + bytes([signature[10] ^ 1]) + signature[11:]


def _der(signature: bytes) -> bytes:
    return encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))


def _chunked(f: Forger) -> list[str]:
    # Random padding does not compress, so the card needs three QR chunks.
    pad = b64(os.urandom(2000))
    chunks = numeric(f.jws(f.claims(vc={"type": [], "credentialSubject": {"fhirBundle": {"pad": pad}}})))
    assert len(chunks) == 3
    return chunks


BAD: dict[str, tuple[Callable[[Forger], object], str]] = {
    "prefix HC1": (lambda f: "HC1:NCFOXN%TS3DH", "bad_prefix"),
    "prefix upper case": (lambda f: "SHC:/5676", "bad_prefix"),
    "prefix missing": (lambda f: f.jws(), "bad_prefix"),
    "no digits": (lambda f: "shc:/", "bad_chunk"),
    "not digits": (lambda f: "shc:/56a7", "bad_chunk"),
    "unicode digits": (lambda f: "shc:/56٧٧", "bad_chunk"),
    "odd digits": (lambda f: numeric(f.jws())[0] + "1", "bad_chunk"),
    "digit pair 78": (lambda f: "shc:/5678", "bad_chunk"),
    "digit pair 99": (lambda f: "shc:/99", "bad_chunk"),
    "chunk missing": (lambda f: (c := _chunked(f))[:1] + c[2:], "bad_chunk"),
    "chunk duplicate": (lambda f: [*(c := _chunked(f)), c[0]], "bad_chunk"),
    "chunk totals differ": (
        lambda f: [*(c := _chunked(f))[:-1], c[-1].replace("/3/", "/4/", 1)],
        "bad_chunk",
    ),
    "chunk index over total": (lambda f: ["shc:/4/3/5676"], "bad_chunk"),
    "chunk index zero": (lambda f: ["shc:/0/3/5676"], "bad_chunk"),
    "single mixed with chunk": (lambda f: [numeric(f.jws())[0], "shc:/2/2/5676"], "bad_chunk"),
    "no chunks": (lambda f: [], "bad_chunk"),
    "chunk oversized": (lambda f: SHC_PREFIX + "56" * (MAX_CHUNK_DIGITS // 2 + 1), "too_large"),
    "too many chunks": (lambda f: [f"shc:/{i}/17/56" for i in range(1, 18)], "too_large"),
    "JWS of two parts": (lambda f: numeric(f.jws().rsplit(".", 1)[0]), "malformed_jws"),
    "base64url padding": (lambda f: numeric(f.jws() + "=="), "malformed_jws"),
    "base64url trailing bits": (lambda f: numeric(f.jws()[:-1] + "B"), "malformed_jws"),
    "header not JSON": (lambda f: numeric("e30x" + f.jws()[f.jws().index(".") :]), "malformed_jws"),
    "header alg HS256": (
        lambda f: numeric(f.jws(header={"zip": "DEF", "alg": "HS256", "kid": f.kid})),
        "unsupported_alg",
    ),
    "header alg none": (
        lambda f: numeric(f.jws(header={"zip": "DEF", "alg": "none", "kid": f.kid})),
        "unsupported_alg",
    ),
    "header alg missing": (lambda f: numeric(f.jws(header={"zip": "DEF", "kid": f.kid})), "malformed_jws"),
    "header zip missing": (lambda f: numeric(f.jws(header={"alg": "ES256", "kid": f.kid})), "malformed_jws"),
    "header crit": (
        lambda f: numeric(f.jws(header={"zip": "DEF", "alg": "ES256", "kid": f.kid, "crit": ["b64"]})),
        "malformed_jws",
    ),
    "header kid missing": (lambda f: numeric(f.jws(header={"zip": "DEF", "alg": "ES256"})), "malformed_jws"),
    "header duplicate member": (
        lambda f: numeric(_swap_header(f.jws(), {}).replace("e30", b64(b'{"alg":"ES256","alg":"none"}'), 1)),
        "malformed_jws",
    ),
    "signature DER": (lambda f: numeric(f.jws(signature=_der)), "malformed_jws"),
    "signature short": (lambda f: numeric(f.jws(signature=lambda s: s[:63])), "malformed_jws"),
    "signature bit flipped": (lambda f: numeric(f.jws(signature=_flip)), "bad_signature"),
    "signature of other content": (
        lambda f: numeric(f.jws().rsplit(".", 1)[0] + "." + Forger().jws().rsplit(".", 1)[1]),
        "bad_signature",
    ),
    "unknown iss": (lambda f: numeric(f.jws(f.claims(iss="https://other.example/shc"))), "unknown_issuer"),
    "iss with a trailing slash": (lambda f: numeric(f.jws(f.claims(iss=f.iss + "/"))), "unknown_issuer"),
    "no iss": (lambda f: numeric(f.jws(f.claims(iss=None))), "bad_claims"),
    "unknown kid": (
        lambda f: numeric(f.jws(header={"zip": "DEF", "alg": "ES256", "kid": Forger().kid})),
        "unknown_kid",
    ),
    "nbf in the future": (lambda f: numeric(f.jws(f.claims(nbf=AFTER + 301))), "not_yet_valid"),
    "nbf missing": (lambda f: numeric(f.jws(f.claims(nbf=None))), "bad_claims"),
    "nbf a string": (lambda f: numeric(f.jws(f.claims(nbf="1687450764"))), "bad_claims"),
    "nbf true": (lambda f: numeric(f.jws(f.claims(nbf=True))), "bad_claims"),
    "exp in the past": (lambda f: numeric(f.jws(f.claims(exp=AFTER - 301))), "expired"),
    "exp negative": (lambda f: numeric(f.jws(f.claims(exp=-1))), "bad_claims"),
    "vc missing": (lambda f: numeric(f.jws(f.claims(vc=None))), "bad_claims"),
    "rid a number": (
        lambda f: numeric(f.jws(f.claims(vc={"rid": 5, "credentialSubject": {"fhirBundle": {}}}))),
        "bad_claims",
    ),
    "deflate bomb": (lambda f: numeric(f.jws(compressed=deflate(bytes(10_000_000)))), "too_large"),
    "deflate corrupt": (lambda f: numeric(f.jws(compressed=b"\xff\xff\xff")), "bad_compression"),
    "deflate truncated": (
        lambda f: numeric(f.jws(compressed=deflate(b'{"iss": 1}')[:-2])),
        "bad_compression",
    ),
    "deflate trailing bytes": (
        lambda f: numeric(f.jws(compressed=deflate(b"{}") + b"\x00")),
        "bad_compression",
    ),
    "zlib instead of raw": (lambda f: numeric(f.jws(compressed=zlib.compress(b"{}"))), "bad_compression"),
    "payload not JSON": (lambda f: numeric(f.jws(b"not json at all")), "malformed_jws"),
    "payload not UTF-8": (lambda f: numeric(f.jws(b'{"iss": "\xff"}')), "malformed_jws"),
    "payload duplicate keys": (
        lambda f: numeric(f.jws(b'{"iss": "https://forged.example/shc", "iss": "x"}')),
        "malformed_jws",
    ),
    "payload NaN": (lambda f: numeric(f.jws(b'{"nbf": NaN}')), "malformed_jws"),
    "payload huge number": (lambda f: numeric(f.jws(b'{"nbf": 1e400}')), "malformed_jws"),
    "payload an array": (lambda f: numeric(f.jws(b"[1, 2]")), "malformed_jws"),
    "payload deeply nested": (lambda f: numeric(f.jws(b"[" * 100_000)), "malformed_jws"),
    "code not text": (lambda f: 3.5, "bad_input"),
    "chunk not text": (lambda f: [b"shc:/56"], "bad_input"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_its_code(name: str, forger: Forger) -> None:
    build, code = BAD[name]
    made = build(forger)  # building never raises: every case fails in verify_shc
    with pytest.raises(HealthCredError) as caught:
        verify_shc(made, [forger.issuer], at=AFTER)  # type: ignore[arg-type]
    assert caught.value.code == code, caught.value


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300), st.text(alphabet="0123456789/", max_size=300).map(lambda t: SHC_PREFIX + t)
    )
)
def test_decode_shc_on_arbitrary_text_only_raises_healthcred_errors(text: str) -> None:
    with contextlib.suppress(HealthCredError):
        read_shc(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFabcdef0123456789-_.=", max_size=400))
def test_parse_jws_on_arbitrary_text_only_raises_healthcred_errors(text: str) -> None:
    with contextlib.suppress(HealthCredError):
        parse_jws(text)


def test_join_chunks_decodes_digit_pairs_in_chunk_order() -> None:
    # Each pair d is chr(d + 45): 00 → "-", 53 → "b", 54 → "c", 56 → "e", 77 → "z".
    assert join_chunks(["shc:/2/2/5677", "shc:/1/2/005354"]) == "-bcez"
    assert join_chunks(["shc:/5354"]) == "bc"


# --- issuer trust entries -------------------------------------------------------------------------


def _jwk(f: Forger, **changes: Any) -> dict[str, Any]:
    jwk = {**f.jwk, **changes}
    return {k: v for k, v in jwk.items() if v is not None}


BAD_KEYS: dict[str, Callable[[Forger], dict[str, Any]]] = {
    "private member d": lambda f: _jwk(f, d=b64(bytes(32))),
    "curve P-384": lambda f: _jwk(f, crv="P-384"),
    "kty RSA": lambda f: _jwk(f, kty="RSA"),
    "alg missing": lambda f: _jwk(f, alg=None),
    "alg ES384": lambda f: _jwk(f, alg="ES384"),
    "use enc": lambda f: _jwk(f, use="enc"),
    "kid missing": lambda f: _jwk(f, kid=None),
    "kid not the thumbprint": lambda f: _jwk(f, kid=Forger().kid),
    "x short": lambda f: _jwk(f, x=b64(bytes(31))),
    "x not base64url": lambda f: _jwk(f, x="+" * 43),
    "point off the curve": lambda f: _jwk(f, x=b64(bytes(32)), kid=jwk_thumbprint(_jwk(f, x=b64(bytes(32))))),
    "crlVersion negative": lambda f: _jwk(f, crlVersion=-1),
    "not an object": lambda f: ["kty", "EC"],  # type: ignore[dict-item, return-value]
}


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_unusable_keys_are_bad_key(name: str, forger: Forger) -> None:
    with pytest.raises(BadKey):
        shc_issuer(forger.iss, {"keys": [BAD_KEYS[name](forger)]})


def test_keys_with_x5c_are_accepted_and_one_key_per_certificate_is_one_key(forger: Forger) -> None:
    issuer = shc_issuer(forger.iss, {"keys": [_jwk(forger, x5c=["not even a certificate"])]})
    assert [k.kid for k in issuer.keys] == [forger.kid]
    # The specification: one JWK per certificate of a key, identical but for x5c.
    twice = shc_issuer(forger.iss, {"keys": [_jwk(forger, x5c=["a"]), _jwk(forger, x5c=["b"])]})
    assert [k.kid for k in twice.keys] == [forger.kid] and twice.skipped_keys == {}
    versions = shc_issuer(forger.iss, {"keys": [_jwk(forger, crlVersion=2), _jwk(forger, crlVersion=5)]})
    assert versions.keys[0].crl_version == 5  # entries that disagree: the higher counter


def _crl(f: Forger, **changes: Any) -> dict[str, Any]:
    crl = {"kid": f.kid, "method": "rid", "ctr": 1, "rids": ["abc"], **changes}
    return {k: v for k, v in crl.items() if v is not None}


BAD_DOCUMENTS: dict[str, Callable[[Forger], object]] = {
    "iss http": lambda f: {"iss": "http://forged.example/shc", "keys": [f.jwk]},
    "iss trailing slash": lambda f: {"iss": f.iss + "/", "keys": [f.jwk]},
    "iss with a query": lambda f: {"iss": f.iss + "?a=1", "keys": [f.jwk]},
    "iss with a fragment": lambda f: {"iss": f.iss + "#a", "keys": [f.jwk]},
    "iss not a URL": lambda f: {"iss": "https://[forged.example/shc", "keys": [f.jwk]},
    "crls null": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": None},
    "iss missing": lambda f: {"keys": [f.jwk]},
    "keys missing": lambda f: {"iss": f.iss},
    "keys empty": lambda f: {"iss": f.iss, "keys": []},
    "too many keys": lambda f: {"iss": f.iss, "keys": [f.jwk] * (MAX_KEYS + 1)},
    "crls not an array": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": {}},
    "CRL for an unknown kid": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f, kid=Forger().kid)]},
    "CRL method other": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f, method="hash")]},
    "CRL ctr missing": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f, ctr=None)]},
    "CRL stale": lambda f: {"iss": f.iss, "keys": [_jwk(f, crlVersion=2)], "crls": [_crl(f, ctr=1)]},
    "CRL twice": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f), _crl(f)]},
    "rid too long": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f, rids=["a" * 25])]},
    "rid bad timestamp": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f, rids=["abc.12x"])]},
    "rid not text": lambda f: {"iss": f.iss, "keys": [f.jwk], "crls": [_crl(f, rids=[5])]},
    "too many rids": lambda f: {
        "iss": f.iss,
        "keys": [f.jwk],
        "crls": [_crl(f, rids=["abc"] * (MAX_RIDS + 1))],
    },
    "not an object": lambda f: b"[]",
    "not JSON": lambda f: b"{",
    "duplicate member": lambda f: b'{"iss": "https://a.example", "iss": "https://b.example", "keys": []}',
    "over 1 MiB": lambda f: json.dumps({"iss": f.iss, "keys": [f.jwk], "pad": "x" * 1024 * 1024}).encode(),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_malformed_issuer_documents(name: str, forger: Forger) -> None:
    with pytest.raises(TrustListMalformed):
        load_shc_issuer(BAD_DOCUMENTS[name](forger))  # type: ignore[arg-type]


def test_issuer_files_are_bounded_and_read_errors_typed(forger: Forger, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 * 1024 * 1024))
    with pytest.raises(TrustListMalformed):
        load_shc_issuer(big)
    with pytest.raises(TrustStoreError):
        load_shc_issuer(tmp_path / "missing.json")
    with pytest.raises(HealthCredError, match="bad_input"):
        load_shc_issuer(42)  # type: ignore[arg-type]


def test_thumbprint_follows_rfc_7638() -> None:
    # RFC 7638 §3.1's example is RSA; the EC form takes crv, kty, x, y and ignores everything else.
    rsa = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE"
            "CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
            "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6"
            "WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(rsa) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    jwk = json.loads((WELL_KNOWN / "jwks.json").read_text())["keys"][0]
    assert jwk_thumbprint({k: jwk[k] for k in ("y", "x", "kty", "crv")}) == jwk["kid"]
    with pytest.raises(BadKey):
        jwk_thumbprint({"kty": "EC", "crv": "P-256", "x": 1, "y": "a"})
    with pytest.raises(BadKey):
        jwk_thumbprint({"kty": "XYZ"})


def test_verifying_names_keep_their_old_home_in_cards_for_one_release() -> None:
    import healthcred.foreign.shc.cards as cards

    with pytest.warns(DeprecationWarning, match="moved to healthcred.foreign.shc.verify.verify_shc"):
        assert cards.verify_shc is verify_shc
    with pytest.raises(AttributeError):
        _ = cards.no_such_name
