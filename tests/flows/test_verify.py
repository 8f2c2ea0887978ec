"""End to end: issue → text → verify, round trips, and every way a code is refused."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcred import (
    GREEN,
    RED,
    YELLOW,
    Alg,
    DocumentType,
    HealthCode,
    KeyGrant,
    Signer,
    Status,
    Subject,
    TrustStore,
    generate_key,
    issue,
    verify,
)
from healthcred.codec.base45 import b45decode, b45encode
from healthcred.codec.cbor import dumps, dumps_ordered
from healthcred.codec.compression import unpack
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.crypto.algorithms import sign
from healthcred.crypto.cose import sig_structure
from healthcred.crypto.keys import kid_of
from healthcred.errors import (
    AlgorithmMismatch,
    BadBase45,
    BadCompression,
    BadInput,
    BadPrefix,
    BadSignature,
    ClaimsError,
    CodeExpired,
    CodeNotYetValid,
    HealthCredError,
    KeyNotValid,
    MalformedCBOR,
    MalformedCOSE,
    RegionNotAllowed,
    TooLarge,
    TrustConflict,
    TrustListExpired,
    TrustListNotYetValid,
    UnknownKid,
    UnsupportedAlgorithm,
)
from healthcred.native.claims import to_claims
from tests.helpers import forge
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, T0, World, grants, signed_list, ts

pytestmark = pytest.mark.usefixtures("decode_path")  # each test on the C and the pure path


def test_round_trip_both_algorithms(world: World) -> None:
    for key, region in ((world.zhejiang, "330100"), (world.shanghai, "310000")):
        credential, text = world.code(key, region=region)
        assert text.startswith(NATIVE_PREFIX)
        result = verify(text, world.store, at=CHECKED)
        assert result.credential == credential
        assert result.status == GREEN
        assert result.region == region
        assert result.kid.hex() == result.summary()["kid"]
        assert result.alg == ("ES256" if key is world.zhejiang else "EdDSA")
        assert result.trust_list_version == 1
        assert result.verified_at == CHECKED


def test_text_is_compact_and_alphanumeric(world: World) -> None:
    _, text = world.code()
    assert len(text) < 320
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def test_issuing_is_deterministic_for_eddsa(world: World) -> None:
    credential, text = world.code(world.shanghai, region="310000")
    assert issue(credential, world.shanghai) == text  # Ed25519 and deterministic CBOR: same bytes


def test_bytes_input_and_result_summary(world: World) -> None:
    _, text = world.code(reason=7)
    summary = verify(text.encode("ascii"), world.store, at=CHECKED).summary()
    assert summary["valid"] is True
    assert summary["name"] == "张*丰"
    assert summary["document_number"] == "3301**********1234"
    assert summary["reason"] == 7


subjects = st.builds(
    Subject,
    name=st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=20),
    birth_date=st.dates(min_value=datetime(1900, 1, 1).date()).map(lambda d: d.isoformat()),
    document_type=st.sampled_from(list(DocumentType)),
    document_number=st.from_regex(r"[0-9A-Z]{0,6}\*{1,12}[0-9A-Z]{0,4}", fullmatch=True),
)


@given(
    subject=subjects,
    status=st.sampled_from([GREEN, YELLOW, RED, Status(code=9, name="status-9")]),
    city=st.integers(0, 99),
    reason=st.none() | st.integers(0, 0xFFFF),
    offset=st.integers(-86400 * 300, 86400 * 30),
    hours=st.integers(1, 24 * 180),
    use_eddsa=st.booleans(),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_valid_credential_round_trips(
    world: World,
    subject: Subject,
    status: Status,
    city: int,
    reason: int | None,
    offset: int,
    hours: int,
    use_eddsa: bool,
) -> None:
    key, province = (world.shanghai, "31") if use_eddsa else (world.zhejiang, "33")
    issued = ISSUED + timedelta(seconds=offset)
    credential = HealthCode.create(
        subject=subject,
        status=status,
        region=f"{province}{city:02d}00",
        reason=reason,
        issued_at=issued,
        valid_for=timedelta(hours=hours),
    )
    result = verify(issue(credential, key), world.store, at=issued + timedelta(minutes=1))
    assert result.credential == credential


# --- refusals, layer by layer ----------------------------------------------------------------


def _b45_body(text: str) -> bytes:
    return unpack(b45decode(text[len(NATIVE_PREFIX) :]))


def test_format_errors(world: World) -> None:
    _, text = world.code()
    body = _b45_body(text)
    cases: list[tuple[object, type[HealthCredError]]] = [
        ("XYZ1:NCFOXN%TS3DH", BadPrefix),
        ("HC1:NCFOXN%TS3DH", BadCompression),  # read as an EU DCC (garbage), not refused by prefix
        ("jkm1:" + text[5:], BadPrefix),  # prefixes are case-sensitive
        (NATIVE_PREFIX + "AB=", BadBase45),
        (NATIVE_PREFIX + "A" * 5000, TooLarge),
        (NATIVE_PREFIX + b45encode(b"\x78\x9c garbage"), BadCompression),
        (NATIVE_PREFIX + b45encode(zlib.compress(b"\x00" * 1_000_000)), TooLarge),
        (NATIVE_PREFIX + b45encode(b"\xd2\x84"), MalformedCOSE),
        (forge.text(body + b"\x00", level=0), MalformedCOSE),  # a byte after the message
        (forge.text(body[:-1], level=0), MalformedCOSE),  # truncated message
        (NATIVE_PREFIX + "0000", BadBase45),  # length ≡ 1 (mod 3)
        (text + "\n", BadBase45),
        (" " + text, BadPrefix),
        (12345, BadInput),
    ]
    for code, error in cases:
        with pytest.raises(error):
            verify(code, world.store, at=CHECKED)


def test_cose_shape_is_strict(world: World) -> None:
    credential, _ = world.code()
    payload = dumps(to_claims(credential))
    key = world.zhejiang
    hostile = [
        forge.message(payload, key, tag=None),  # untagged
        forge.message(payload, key, tag=98),  # COSE_Sign tag
        forge.message(payload, key, unprotected={4: b"12345678"}),  # kid outside the signature
        forge.message(payload, key, protected=dumps({1: -7})),  # no kid
        forge.message(payload, key, protected=dumps({4: b"12345678"})),  # no alg
        forge.message(payload, key, protected=dumps({1: -7, 2: [1], 4: b"12345678"})),  # crit
        forge.message(payload, key, protected=b""),  # empty protected bucket
    ]
    for cose in hostile:
        with pytest.raises(MalformedCOSE):
            verify(forge.text(cose), world.store, at=CHECKED)


def test_signed_payload_must_be_strict_cbor_and_complete_claims(world: World) -> None:
    credential, _ = world.code()
    claims = to_claims(credential)
    good = dumps(claims)
    key = world.zhejiang
    # Duplicate key and trailing bytes inside a correctly signed payload.
    duplicated = b"\xa6" + good[1:] + b"\x01\x66" + b"310000"
    for payload in (duplicated, good + b"\x00", cbor2.dumps(claims)[:-1]):
        with pytest.raises(MalformedCBOR):
            verify(forge.text(forge.message(payload, key)), world.store, at=CHECKED)
    unsorted = cbor2.dumps(dict(reversed(list(claims.items()))))
    missing = dumps({k: v for k, v in claims.items() if k != 7})
    extra = dumps({**claims, 8: 1})
    bad_version = dumps({**claims, -65537: {**claims[-65537], 1: 2}})
    bad_status = dumps({**claims, -65537: {**claims[-65537], 3: 0}})
    bad_region = dumps({**claims, 1: "33010"})
    bad_doc = dumps({**claims, -65537: {**claims[-65537], 5: {**claims[-65537][5], 3: 7}}})
    clear_number = dumps(
        {**claims, -65537: {**claims[-65537], 5: {**claims[-65537][5], 4: "330106198503121234"}}}
    )
    short_id = dumps({**claims, 7: b"\x01" * 8})
    for payload in (
        unsorted,
        missing,
        extra,
        bad_version,
        bad_status,
        bad_region,
        bad_doc,
        clear_number,
        short_id,
    ):
        with pytest.raises(ClaimsError):
            verify(forge.text(forge.message(payload, key)), world.store, at=CHECKED)


def test_trust_errors(world: World) -> None:
    credential, text = world.code()
    payload = dumps(to_claims(credential))
    stranger = generate_key(Alg.ES256)
    with pytest.raises(UnknownKid):
        verify(issue(credential, stranger), world.store, at=CHECKED)
    # Header says EdDSA for a key the trust list fixes as ES256.
    lying = dumps({1: int(Alg.EDDSA), 4: kid_of(world.zhejiang)})
    with pytest.raises(AlgorithmMismatch):
        verify(
            forge.text(forge.message(payload, world.zhejiang, protected=lying, signature=b"\x00" * 64)),
            world.store,
            at=CHECKED,
        )
    es384 = dumps({1: -35, 4: kid_of(world.zhejiang)})
    with pytest.raises(UnsupportedAlgorithm):
        verify(
            forge.text(forge.message(payload, world.zhejiang, protected=es384, signature=b"\x00" * 96)),
            world.store,
            at=CHECKED,
        )
    # Stranger's signature under Zhejiang's kid: a kid match alone never means trust.
    impostor = dumps({1: int(Alg.ES256), 4: kid_of(world.zhejiang)})
    forged = forge.message(
        payload,
        world.zhejiang,
        protected=impostor,
        signature=sign(Alg.ES256, stranger, sig_structure(impostor, payload)),
    )
    with pytest.raises(BadSignature):
        verify(forge.text(forged), world.store, at=CHECKED)
    # Tampering anywhere in the signed bytes.
    body = bytearray(_b45_body(text))
    for index in (len(body) // 2, len(body) - 1, 20):
        tampered = bytearray(body)
        tampered[index] ^= 0x01
        with pytest.raises((BadSignature, MalformedCOSE, UnknownKid)):
            verify(forge.text(bytes(tampered)), world.store, at=CHECKED)
    # DER instead of raw r||s.
    with pytest.raises(BadSignature):
        verify(
            forge.text(forge.message(payload, world.zhejiang, signature=b"\x30\x44" + b"\x01" * 68)),
            world.store,
            at=CHECKED,
        )


def test_region_and_key_window(world: World) -> None:
    _, text = world.code(world.zhejiang, region="310000")  # Zhejiang key, Shanghai region
    with pytest.raises(RegionNotAllowed):
        verify(text, world.store, at=CHECKED)
    late = KEY_NOT_AFTER + timedelta(days=1)
    _, text = world.code(issued_at=late)
    with pytest.raises(KeyNotValid):
        verify(text, world.store, at=datetime(2026, 12, 1, tzinfo=UTC))


def test_city_key_is_confined_to_its_city() -> None:
    root, hangzhou = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    store = TrustStore([root.public_key()], [signed_list(root, grants((hangzhou, "330100")))])
    subject = Subject.create("李四", "1990", DocumentType.PASSPORT, "E12345678")
    for region, ok in (("330100", True), ("330106", True), ("330200", False), ("330000", False)):
        text = issue(
            HealthCode.create(subject=subject, status=GREEN, region=region, issued_at=ISSUED), hangzhou
        )
        if ok:
            assert verify(text, store, at=CHECKED).region == region
        else:
            with pytest.raises(RegionNotAllowed):
                verify(text, store, at=CHECKED)


def test_time_checks_with_skew(world: World) -> None:
    credential, text = world.code()
    expiry = credential.expires_at
    assert verify(text, world.store, at=expiry + timedelta(minutes=4)).status == GREEN
    with pytest.raises(CodeExpired):
        verify(text, world.store, at=expiry + timedelta(minutes=6))
    with pytest.raises(CodeExpired):
        verify(text, world.store, at=expiry + timedelta(seconds=1), skew=timedelta(0))
    assert verify(text, world.store, at=ISSUED - timedelta(minutes=4)).status == GREEN
    with pytest.raises(CodeNotYetValid):
        verify(text, world.store, at=ISSUED - timedelta(minutes=6))
    with pytest.raises(CodeNotYetValid):
        verify(text, world.store, at=ts(ISSUED) - 3600, skew=timedelta(hours=0))
    with pytest.raises(BadInput):
        verify(text, world.store, at=datetime(2026, 11, 23, 9))  # naive: ambiguous
    with pytest.raises(BadInput):
        verify(text, world.store, at=CHECKED, skew=timedelta(minutes=-1))
    for bad in (float("nan"), float("inf"), -1, 10**20, "2026-11-23", True):
        with pytest.raises(BadInput):
            verify(text, world.store, at=bad)  # type: ignore[arg-type]
    for kwargs in ({"skew": 300}, {"palette": [1, 2]}):
        with pytest.raises(BadInput):
            verify(text, world.store, at=CHECKED, **kwargs)
    with pytest.raises(BadInput):
        verify(text, "trust/")  # type: ignore[arg-type]


def test_trust_list_validity_is_checked_at_verification_time(world: World) -> None:
    _, text = world.code()
    with pytest.raises(TrustListExpired):
        verify(text, world.store, at=datetime(2027, 1, 2, tzinfo=UTC))
    root = generate_key(Alg.EDDSA)
    later = signed_list(root, grants((world.zhejiang, "330000")), issued_at=datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(TrustListNotYetValid):
        verify(text, TrustStore([root.public_key()], [later]), at=CHECKED)


def test_one_key_on_two_lists_is_a_union_of_windows_but_a_conflict_of_regions(world: World) -> None:
    # The same key on a bilateral list with a narrower window: both entries are tried.
    root2 = generate_key(Alg.EDDSA)
    narrow = signed_list(
        root2, [KeyGrant(world.zhejiang.public_key(), "330000", ts(ISSUED) - 10, ts(ISSUED) + 10)]
    )
    store = TrustStore([world.root.public_key(), root2.public_key()], [narrow, world.trust_list])
    assert len(store.entries(kid_of(world.zhejiang))) == 2 and not store.conflicts
    _, text = world.code(issued_at=ISSUED + timedelta(days=1))  # outside the narrow window only
    assert verify(text, store, at=ISSUED + timedelta(days=1, hours=1)).key_region == "330000"
    # Different regions for one key: reported, and the key verifies nothing until resolved.
    other = signed_list(root2, [KeyGrant(world.zhejiang.public_key(), "330200", ts(T0), ts(KEY_NOT_AFTER))])
    store = TrustStore([world.root.public_key(), root2.public_key()], [other, world.trust_list])
    assert "330000" in store.conflicts[kid_of(world.zhejiang)]
    with pytest.raises(TrustConflict):
        verify(text, store, at=ISSUED + timedelta(days=1, hours=1))
    _, shanghai_text = world.code(world.shanghai, region="310000")
    assert verify(shanghai_text, store, at=CHECKED).region == "310000"  # other keys unaffected


def test_unknown_status_colour_is_kept_not_guessed(world: World) -> None:
    _, text = world.code(status=Status(code=5, name="orange"))
    result = verify(text, world.store, at=CHECKED)
    assert result.status == Status(code=5, name="status-5")
    named = verify(text, world.store, at=CHECKED, palette={5: Status(code=5, name="orange")})
    assert named.status is not None and named.status.name == "orange"


@given(
    subject=subjects, reason=st.none() | st.integers(0, 0xFFFF), status=st.sampled_from([GREEN, YELLOW, RED])
)
@settings(max_examples=50, deadline=None)
def test_claims_are_built_in_deterministic_order(
    subject: Subject, reason: int | None, status: Status
) -> None:
    # The issuer encodes claims in insertion order; that must equal deterministic CBOR.
    credential = HealthCode.create(
        subject=subject, status=status, region="330100", reason=reason, issued_at=ISSUED
    )
    claims = to_claims(credential)
    assert dumps_ordered(claims) == dumps(claims) == cbor2.dumps(claims, canonical=True)


def test_prepared_signer_gives_the_same_codes(world: World) -> None:
    signer = Signer.for_key(world.shanghai)
    credential, text = world.code(world.shanghai, region="310000")
    assert issue(credential, signer) == text  # Ed25519: deterministic
    assert signer.kid == kid_of(world.shanghai) and signer.alg is Alg.EDDSA
    es = Signer.for_key(world.zhejiang)
    zhejiang_credential, _ = world.code()
    for _ in range(3):
        assert (
            verify(issue(zhejiang_credential, es), world.store, at=CHECKED).credential == zhejiang_credential
        )


def test_hand_assembled_cose_equals_cbor2_encoding() -> None:
    from healthcred.crypto.cose import encode_sign1

    for sizes in ((13, 98, 64), (0, 0, 0), (23, 24, 255), (300, 70000, 64)):
        parts = [bytes(range(256)) * (n // 256 + 1) for n in sizes]
        protected, payload, signature = (p[:n] for p, n in zip(parts, sizes, strict=True))
        expected = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
        assert encode_sign1(protected, payload, signature) == expected


def test_one_read_path_reads_a_code_untrusted_and_old_names_warn(world: World) -> None:
    from healthcred.crypto.cose import parse_sign1
    from healthcred.flows import checks
    from healthcred.flows import verify as verify_module
    from healthcred.native.text import encode_text, read_health_code, read_text

    credential, text = world.code()
    assert read_health_code(text) == credential
    message = read_text(text)
    body = b45decode(text[len(NATIVE_PREFIX) :])
    assert parse_sign1(unpack(body)) == message
    assert encode_text(unpack(body)) == text  # issue() packs the same way
    with pytest.warns(DeprecationWarning, match="decode_unverified is renamed"):
        assert verify_module.decode_unverified(text) == credential
    with pytest.warns(DeprecationWarning, match="open_text is renamed"):
        assert checks.open_text(text, NATIVE_PREFIX) == message
    with pytest.raises(HealthCredError) as caught:
        read_text("JKM1:" + "0" * 5000)
    assert caught.value.code == "too_large"
