"""Security regressions of the foreign formats (EU DCC, SMART Health Cards), one named test per defect.

Each test names the class of attack or defect it guards against and builds the original input.
"""

from __future__ import annotations

import json
import math
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcred import TrustStore, verify
from healthcred.codec.base45 import b45encode
from healthcred.errors import BadKey, ClaimsError, HealthCredError, MalformedJWS, TooLarge, TrustListMalformed
from healthcred.foreign.dcc.hc1 import HC1_PREFIX, MAX_DGC_DEPTH, json_dgc, read_dsc, to_foreign, verify_hc1
from healthcred.foreign.shc import jose
from healthcred.foreign.shc.cards import (
    MAX_FILE_PAYLOAD_BYTES,
    MAX_PART_DIGITS,
    MAX_PAYLOAD_BYTES,
    ShcMessage,
    load_health_cards,
    parse_jws,
    read_shc,
)
from healthcred.foreign.shc.issuers import MAX_ISSUER_BYTES, load_shc_issuer, shc_issuer
from healthcred.foreign.shc.jose import MAX_JSON_DEPTH, MAX_JSON_ITEMS, MAX_JSON_STRING_CHARS, loads_json
from healthcred.foreign.shc.verify import HEALTH_CARD, verify_shc
from healthcred.model import ForeignCredential
from tests.foreign.test_shc import AFTER, SPEC_NBF, TYPE, Forger, b64, deflate, minify, numeric
from tests.helpers.world import CHECKED, World

# --- an EU DCC issuer of the test's own: a self-signed DSC and codes it signs ----------------------

_ISSUED = CHECKED - timedelta(hours=1)


def _dsc(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"), x509.NameAttribute(NameOID.COMMON_NAME, "DSC")]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_ISSUED - timedelta(days=30))
        .not_valid_after(_ISSUED + timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def _hc1(key: ec.EllipticCurvePrivateKey, der: bytes, dgc: Any) -> str:
    protected = cbor2.dumps({1: -7, 4: read_dsc(der).kid})
    issued = int(_ISSUED.timestamp())
    payload = cbor2.dumps({1: "DE", 6: issued, 4: issued + 86400 * 365, -260: {1: dgc}})
    r, s = decode_dss_signature(
        key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(hashes.SHA256()))
    )
    message = cbor2.dumps(
        cbor2.CBORTag(18, [protected, {}, payload, r.to_bytes(32, "big") + s.to_bytes(32, "big")])
    )
    return HC1_PREFIX + b45encode(zlib.compress(message))


def _dgc(**entry: Any) -> dict[str, Any]:
    vaccination = {"tg": "840539006", "mp": "EU/1/20/1528", "dn": 2, "sd": 2, "dt": "2021-05-29", "co": "DE",
                   "ci": "URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W", **entry}  # fmt: skip
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Mustermann", "gn": "Erika"},
        "dob": "1964-08-12",
        "v": [vaccination],
    }


@pytest.fixture(scope="module")
def eu() -> tuple[ec.EllipticCurvePrivateKey, bytes, TrustStore]:
    key = ec.generate_private_key(ec.SECP256R1())
    der = _dsc(key)
    return key, der, TrustStore([], dscs=[read_dsc(der)])


def _summary_json(result: Any) -> str:
    return json.dumps(result.summary(), allow_nan=False)


# --- EU DCC: the payload in its JSON form ---------------------------------------------------------


def test_dcc_cbor_dates_become_iso_text_so_verify_json_serialises(eu: Any) -> None:
    """A correctly signed DCC with CBOR date-times (tag 0, as SE and HU test data carry) broke --json."""
    key, der, store = eu
    stamp = datetime(2021, 6, 15, 9, 24, 2, tzinfo=UTC)
    code = _hc1(
        key,
        der,
        _dgc(dt=cbor2.CBORTag(1004, "2021-05-29"), sc=stamp, extra=cbor2.CBORTag(0, "2021-06-15T09:24:02Z")),
    )
    result = verify(code, store, at=CHECKED)
    summary = json.loads(_summary_json(result))
    assert summary["facts"]["date"] == "2021-05-29"
    entry = result.credential.raw["v"][0]  # type: ignore[union-attr]
    assert entry["sc"] == "2021-06-15T09:24:02Z" and entry["extra"] == "2021-06-15T09:24:02Z"


@pytest.mark.parametrize(
    "value",
    [b"\x00\x01", cbor2.CBORTag(9999, "x"), 2**53, -(2**64), 10**5000, math.nan, math.inf, cbor2.undefined,
     cbor2.CBORSimpleValue(16), {1: "non-text key"}, frozenset({1})],
    ids=["bytes", "unknown tag", "2**53", "-2**64", "10**5000", "nan", "inf", "undefined", "simple",
         "int key", "set"],
)  # fmt: skip
def test_dcc_values_without_a_json_form_are_refused_as_bad_claims(eu: Any, value: Any) -> None:
    """A signed DGC holding a byte string, a foreign tag, a huge int or NaN made summary() unserialisable."""
    key, der, store = eu
    with pytest.raises(ClaimsError, match=r"no JSON form|not text"):
        verify(_hc1(key, der, _dgc(dt=value)), store, at=CHECKED)


def test_dcc_nesting_is_bounded_in_the_conversion() -> None:
    """A deeply nested DGC must be refused, not exhaust the converter's recursion."""
    deep: Any = "leaf"
    for _ in range(MAX_DGC_DEPTH - 1):  # inside the DGC map: MAX_DGC_DEPTH levels in all
        deep = [deep]
    assert json_dgc({"v": deep}) == {"v": deep}
    with pytest.raises(ClaimsError, match="nests deeper"):
        json_dgc({"v": [deep]})


_CBOR_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.just(10**400) | st.floats() | st.text(max_size=8)
    | st.binary(max_size=8) | st.dates() | st.datetimes(timezones=st.just(UTC))
    | st.builds(cbor2.CBORTag, st.integers(6, 2**32), st.text(max_size=4))
)  # fmt: skip
_CBOR = st.recursive(
    _CBOR_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(value=_CBOR)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_summary_of_any_signed_dcc_payload_is_json(eu: Any, value: Any) -> None:
    """Property: whatever CBOR a DSC signs into the DGC, verify gives a JSON summary or one typed error."""
    key, der, store = eu
    try:
        code = _hc1(key, der, _dgc(dt=value, extra=value))
    except (TypeError, ValueError, cbor2.CBOREncodeError):  # hypothesis built something cbor2 cannot encode
        return
    refused: str | None = None
    try:
        result = verify(code, store, at=CHECKED)
    except HealthCredError as exc:
        refused = exc.code
    if refused is not None:
        assert refused in ("bad_claims", "malformed_cbor", "too_large")
        return
    json.loads(_summary_json(result))
    assert isinstance(result.credential, ForeignCredential)
    json.dumps(dict(result.credential.raw), allow_nan=False)


def test_summary_of_every_result_kind_is_json(world: World, eu: Any) -> None:
    """Native, HC1 and SHC results all serialise: --json never fails on a valid credential."""
    key, der, _ = eu
    forger = Forger()
    store = world.store.with_foreign(dscs=[read_dsc(der)], shc_issuers=[forger.issuer])
    codes = [world.code()[1], _hc1(key, der, _dgc()), numeric(forger.jws())[0]]
    formats = [json.loads(_summary_json(verify(c, store, at=CHECKED)))["format"] for c in codes[:2]]
    shc = verify_shc(codes[2], [forger.issuer], at=AFTER)
    assert formats == ["native", "hc1"] and shc.format.value == "shc"
    assert to_foreign(verify_hc1(codes[1], store.dscs, at=CHECKED)).facts["date"] == "2021-05-29"
    json.dumps({"facts": dict(shc.facts), "id": shc.id}, allow_nan=False)


# --- JSON: linear and bounded before parsing --------------------------------------------------------


class _Counted(str):
    """A member name that counts the comparisons made with it."""

    work = 0

    def __eq__(self, other: object) -> bool:
        _Counted.work += 1
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        _Counted.work += 1
        return str.__hash__(self)


def test_duplicate_member_check_is_linear() -> None:
    """CPU amplification: the check counted each name against all names (quadratic: seconds per 64 KiB)."""
    n = 4000
    pairs: list[tuple[str, Any]] = [(_Counted(f"m{i}"), 0) for i in range(n)]
    pairs.append((_Counted("m0"), 1))
    _Counted.work = 0
    with pytest.raises(ValueError, match="duplicate member 'm0'"):
        jose._no_duplicates(pairs)  # the object_pairs_hook every JSON object goes through
    assert _Counted.work <= 4 * n  # linear; the old names.count scan made ~n**2 / 2 comparisons


def test_unsigned_health_card_file_with_a_late_duplicate_is_refused() -> None:
    """The 64 KiB .smart-health-card file of the report: thousands of members, one duplicate at the end."""
    members = ",".join(f'"m{i}":0' for i in range(6000))
    data = f'{{"verifiableCredential":[],{members},"m0":1}}'.encode()
    assert len(data) < 64 * 1024
    with pytest.raises(MalformedJWS, match="duplicate member"):
        load_health_cards(data)


def test_json_nesting_is_bounded_before_parsing() -> None:
    """Deep nesting hit Python's recursion limit inside json (RecursionError); now a typed refusal first."""
    assert loads_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, MalformedJWS, "x") is not None
    for text in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), '{"a":' * 100_000, "[" * 200_000):
        with pytest.raises(MalformedJWS, match=f"nests more than {MAX_JSON_DEPTH}"):
            loads_json(text, MalformedJWS, "x")
    with pytest.raises(TrustListMalformed, match="nests more than"):
        load_shc_issuer(b"[" * 200_000)


def test_json_members_and_strings_are_bounded() -> None:
    """Size bounds beyond the byte bound: members and elements, and the longest string."""
    with pytest.raises(MalformedJWS, match=f"more than {MAX_JSON_ITEMS} members"):
        loads_json("[" + "0," * MAX_JSON_ITEMS + "0]", MalformedJWS, "x")
    assert len(loads_json("[" + "0," * (MAX_JSON_ITEMS - 2) + "0]", MalformedJWS, "x")) == MAX_JSON_ITEMS - 1
    assert loads_json(json.dumps("x" * MAX_JSON_STRING_CHARS), MalformedJWS, "x")
    with pytest.raises(MalformedJWS, match="longer than"):
        loads_json(json.dumps(["x" * (MAX_JSON_STRING_CHARS + 1)]), MalformedJWS, "x")


def test_unterminated_string_of_escaped_quotes_is_refused_in_one_pass() -> None:
    """A string that never ends, full of escaped quotes, made a string-splitting scan quadratic."""
    text = '"' + '\\"' * 300_000  # 600 KB: a quadratic scan of it takes minutes
    with pytest.raises(MalformedJWS, match="not terminated"):
        loads_json(text, MalformedJWS, "x")
    with pytest.raises(TrustListMalformed, match="not terminated"):
        load_shc_issuer(text.encode())


def test_issuer_document_at_the_byte_bound_with_one_character_rids_loads() -> None:
    """No hidden cap: the JSON item bound must not refuse what the documented 1 MiB bound admits."""
    forger = Forger()
    head = minify(
        {
            "iss": forger.iss,
            "keys": [forger.jwk],
            "crls": [{"kid": forger.kid, "method": "rid", "ctr": 1, "rids": []}],
        }
    )
    room = MAX_ISSUER_BYTES - len(head)
    count = (room + 1) // 4  # '"a",' per rid, no comma after the last
    data = head[:-4] + b",".join([b'"a"'] * count) + head[-4:]
    assert MAX_ISSUER_BYTES - 4 < len(data) <= MAX_ISSUER_BYTES
    assert load_shc_issuer(data).revocations[forger.kid] == {"a": None}


def test_health_card_file_of_many_deflate_bombs_shares_one_budget() -> None:
    """One file of many cards, each inflating to the per-card bound, must not cost cards × bound."""
    forger = Forger()
    per_card = MAX_PAYLOAD_BYTES - 1024  # a minified object of zeros, within every JSON bound
    bomb = forger.jws(compressed=deflate(b'{"a":[' + b"0," * ((per_card - 9) // 2) + b"0]}"))
    cards = [bomb] * (MAX_FILE_PAYLOAD_BYTES // per_card + 1)
    with pytest.raises(TooLarge, match=r"card \d+: .*together"):
        load_health_cards(json.dumps({"verifiableCredential": cards}).encode())


# --- SMART Health Cards: the specification's SHALLs -------------------------------------------------


def _card(forger: Forger, **vc: Any) -> ShcMessage:
    claims = forger.claims()
    claims["vc"].update(vc)
    claims["vc"] = {k: v for k, v in claims["vc"].items() if v is not None}
    return parse_jws(forger.jws(claims))


def test_credential_without_the_health_card_type_is_not_a_health_card() -> None:
    """vc.type SHALL include https://smarthealth.cards#health-card; one without it verified as a card."""
    forger = Forger()
    for types in ([TYPE + "immunization"], ["https://example.org#other"], None):
        with pytest.raises(ClaimsError, match=r"health-card|vc.type"):
            verify_shc(_card(forger, type=types), [forger.issuer], at=AFTER)
    ignored = [HEALTH_CARD, "https://example.org#not-understood"]  # other types SHALL be ignored
    assert verify_shc(_card(forger, type=ignored), [forger.issuer], at=AFTER).kind == "vaccination"


@pytest.mark.parametrize(
    ("subject", "match"),
    [
        ({"fhirBundle": {"resourceType": "Bundle"}}, "fhirVersion"),
        ({"fhirVersion": 4, "fhirBundle": {"resourceType": "Bundle"}}, "fhirVersion"),
        ({"fhirVersion": "4.0.1", "fhirBundle": {"entry": []}}, "Bundle"),
        ({"fhirVersion": "4.0.1", "fhirBundle": {"resourceType": "Patient"}}, "Bundle"),
    ],
)
def test_credential_subject_is_a_fhir_version_and_a_bundle(subject: dict[str, Any], match: str) -> None:
    """credentialSubject holds fhirVersion and a FHIR Bundle (of any Bundle.type since SHC 1.3.0)."""
    forger = Forger()
    with pytest.raises(ClaimsError, match=match):
        verify_shc(_card(forger, credentialSubject=subject), [forger.issuer], at=AFTER)
    document = {"fhirVersion": "4.0.1", "fhirBundle": {"resourceType": "Bundle", "type": "document"}}
    assert verify_shc(_card(forger, credentialSubject=document), [forger.issuer], at=AFTER).facts == {}


@pytest.mark.parametrize("rid", ["a" * 25, "not+base64url", "", "a.b"])
def test_revocation_id_is_base64url_of_at_most_24_characters(rid: str) -> None:
    """A rid SHALL use the base64url alphabet and be at most 24 characters."""
    forger = Forger()
    with pytest.raises(ClaimsError, match=r"vc.rid"):
        verify_shc(_card(forger, rid=rid), [forger.issuer], at=AFTER)


def test_jws_kid_is_a_thumbprint() -> None:
    """The header kid SHALL be the base64url SHA-256 JWK thumbprint: 43 characters, 32 bytes."""
    forger = Forger()
    for kid in ("short", forger.kid + "A", forger.kid[:-1] + "B", "x" * 43):
        with pytest.raises(MalformedJWS, match="thumbprint"):
            parse_jws(forger.jws(header={"zip": "DEF", "alg": "ES256", "kid": kid}))
    assert len(parse_jws(forger.jws()).kid_bytes) == 32


def test_payload_must_be_minified() -> None:
    """The payload SHALL be minified; whitespace inside strings is content and stays allowed."""
    forger = Forger()
    claims = forger.claims()
    with pytest.raises(MalformedJWS, match="not minified"):
        parse_jws(forger.jws(json.dumps(claims).encode()))
    claims["vc"]["credentialSubject"]["fhirBundle"]["note"] = "with spaces\tand\ttabs"
    assert verify_shc(parse_jws(forger.jws(claims)), [forger.issuer], at=AFTER).id == "forged-rid"


def test_chunk_rules() -> None:
    """'N/M/' only when a card needs several QR codes; each chunk of several at most 1191 characters."""
    forger = Forger()
    one = numeric(forger.jws())[0]
    with pytest.raises(HealthCredError, match=r"bad_chunk.*not a chunk"):
        read_shc([one.replace("shc:/", "shc:/1/1/", 1)])
    part = "shc:/1/2/" + "56" * (MAX_PART_DIGITS // 2 + 1)
    with pytest.raises(TooLarge, match="several SHC chunks"):
        read_shc([part, "shc:/2/2/56"])


def test_near_miss_prefix_names_what_was_expected_and_seen() -> None:
    """'shc:5676…' must say it lacks 'shc:/' and show what it starts with."""
    with pytest.raises(HealthCredError, match=r"bad_prefix.*'shc:/'.*'shc:5676"):
        read_shc("shc:56762909")


# --- SMART Health Cards: key selection ----------------------------------------------------------------


def _bad(forger: Forger, **changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**forger.jwk, **changes}.items() if v is not None}


def test_unusable_keys_are_skipped_not_fatal() -> None:
    """An enc key, an RSA key, another alg or no use made the whole issuer document unloadable."""
    forger, other = Forger(), Forger()
    rsa = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa-1", "n": "AQAB", "e": "AQAB"}
    unusable = [
        _bad(other, use="enc"),
        rsa,
        _bad(other, alg="ES384", kid="es384"),
        _bad(other, use=None, kid="no-use"),
    ]
    crls = [{"kid": other.kid, "method": "rid", "ctr": 1, "rids": ["x"]}]  # a skipped key's CRL: ignored
    issuer = shc_issuer(forger.iss, {"keys": [*unusable, forger.jwk]}, crls)
    assert [k.kid for k in issuer.keys] == [forger.kid]
    assert sorted(issuer.skipped_keys) == sorted([other.kid, "rsa-1", "es384", "no-use"])
    assert all(issuer.iss in w and "skipped" in w for w in issuer.warnings)
    assert verify_shc(parse_jws(forger.jws()), [issuer], at=AFTER).id == "forged-rid"
    signed_by_enc = Forger()
    signed_by_enc.key, signed_by_enc.kid = other.key, other.kid
    with pytest.raises(HealthCredError, match=r"unknown_kid.*skipped"):
        verify_shc(parse_jws(signed_by_enc.jws()), [issuer], at=AFTER)


def test_a_key_whose_private_part_is_published_is_never_trusted() -> None:
    """A JWK with 'd' leaks the private key: that key is skipped, with every other entry of it."""
    forger, other = Forger(), Forger()
    leaked = _bad(forger, d=b64(forger.key.private_numbers().private_value.to_bytes(32, "big")))
    issuer = shc_issuer(forger.iss, {"keys": [forger.jwk, leaked, other.jwk]})
    assert [k.kid for k in issuer.keys] == [other.kid]
    assert "private key" in issuer.skipped_keys[forger.kid]
    with pytest.raises(BadKey, match="no usable SHC signing key"):
        shc_issuer(forger.iss, {"keys": [forger.jwk, leaked]})


def test_a_document_without_a_usable_key_is_bad_key() -> None:
    """Skipping is not accepting nothing: a document with no usable key is still an error."""
    forger = Forger()
    with pytest.raises(BadKey, match=r"no usable SHC signing key \(.*use"):
        load_shc_issuer({"iss": forger.iss, "keys": [_bad(forger, use="enc")]})


def test_time_claims_stay_typed_at_the_far_ends() -> None:
    """nbf at the last second a datetime holds verifies; past it is bad_claims, never OverflowError."""
    forger = Forger()
    last = 253402300799
    with pytest.raises(HealthCredError, match="not_yet_valid"):
        verify_shc(parse_jws(forger.jws(forger.claims(nbf=last))), [forger.issuer], at=AFTER)
    with pytest.raises(ClaimsError):
        verify_shc(parse_jws(forger.jws(forger.claims(nbf=last + 1))), [forger.issuer], at=AFTER)
    assert verify_shc(
        parse_jws(forger.jws(forger.claims(exp=last))), [forger.issuer], at=SPEC_NBF
    ).expires_at == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
