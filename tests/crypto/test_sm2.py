"""SM2 with SM3: the GM/T 0003.5 sample signature, range and tamper checks, OpenSSL both ways, round trips.

The sample (GM/T 0003.5-2012 Annex A, on sm2p256v1): private key d, public key (x, y), message
"message digest", identifier 1234567812345678 and the published (r, s). Tongsuo takes no nonce
from outside, so the sample's k cannot be replayed: the test verifies the published signature and
checks that d gives the published public key. OpenSSL's command line (3.0, with ``distid``) is the
second implementation.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.crypto import sm2
from healthcred.crypto.algorithms import (
    Alg,
    alg_of,
    parse_alg,
    sign,
    signer_for,
    verifier_for,
    verify_signature,
)
from healthcred.crypto.cose import Signer, parse_sign1
from healthcred.crypto.keys import (
    generate_key,
    kid_of,
    private_key_from_pem,
    public_key_der,
    public_key_from_der,
    public_key_from_pem,
    public_key_pem,
)
from healthcred.errors import BadKey, BadSignature, UnsupportedAlgorithm
from tests.helpers.paths import TEST_DATA
from tests.helpers.sm import needs_sm2, without_tongsuo  # noqa: F401 (a fixture)

pytestmark = needs_sm2

D = int("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8", 16)
X = bytes.fromhex("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020")
Y = bytes.fromhex("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
R = bytes.fromhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
S = bytes.fromhex("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
MESSAGE = b"message digest"
SAMPLE_KEY = sm2.Sm2PublicKey.from_point(b"\x04" + X + Y)
N = sm2.ORDER
SAMPLE_PEM = TEST_DATA / "sm2" / "gmt-0003.5-sample.key.pem"

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command line is not installed")


def sample_verify(signature: bytes, message: bytes = MESSAGE) -> None:
    """Verify against the sample's public key."""
    verify_signature(Alg.SM2, SAMPLE_KEY, message, signature)


def test_the_published_sample_signature_verifies() -> None:
    sample_verify(R + S)


def test_the_sample_private_key_gives_the_published_public_key() -> None:
    from tongsuopy.crypto.asymciphers import ec

    key = sm2.Sm2PrivateKey(ec.derive_private_key(D, ec.SM2()))
    assert key.public_key() == SAMPLE_KEY
    assert key.public_key().point == X + Y


def test_the_sample_signature_does_not_verify_another_message() -> None:
    with pytest.raises(BadSignature, match="does not verify"):
        sample_verify(R + S, b"message digesT")


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, int.from_bytes(S, "big")), (int.from_bytes(R, "big"), 0), (N, 1), (1, N), (N + 1, 1), (1, N + 5)],
    ids=["r=0", "s=0", "r=n", "s=n", "r>n", "s>n"],
)
def test_r_and_s_outside_one_to_n_minus_one_are_refused_before_verifying(r: int, s: int) -> None:
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    with pytest.raises(BadSignature, match=r"\[1, n − 1\]"):
        sample_verify(signature)


@pytest.mark.parametrize("length", [0, 63, 65, 70, 72])
def test_a_signature_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(BadSignature, match="64 bytes"):
        sample_verify((R + S + R)[:length])


@pytest.mark.parametrize("bit", [0, 7, 100, 255, 256, 300, 511])
def test_a_flipped_bit_in_the_signature_is_refused(bit: int) -> None:
    signature = bytearray(R + S)
    signature[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(BadSignature):
        sample_verify(bytes(signature))


def test_the_sample_signature_does_not_verify_under_another_key() -> None:
    other = generate_key(Alg.SM2).public_key()
    assert isinstance(other, sm2.Sm2PublicKey)
    with pytest.raises(BadSignature, match="does not verify"):
        verify_signature(Alg.SM2, other, MESSAGE, R + S)


def test_a_der_signature_is_not_accepted_in_place_of_r_s() -> None:
    der = encode_dss_signature(int.from_bytes(R, "big"), int.from_bytes(S, "big"))
    with pytest.raises(BadSignature):
        sample_verify(der)


def test_a_point_off_the_curve_is_a_bad_key_when_it_is_loaded() -> None:
    # Checked when the key is built: a key that loads is one every verifier takes (fuzz finding
    # fuzz/findings/anchor/sm2-point-off-curve.bin).
    for point in (X + bytes(32), bytes(64), b"\xff" * 64):
        with pytest.raises(BadKey, match="not a point on sm2p256v1"):
            sm2.Sm2PublicKey.from_point(point)
    key = sm2.Sm2PublicKey.from_point(X + Y)
    assert verifier_for(Alg.SM2, key) is not None


# --- keys ----------------------------------------------------------------------------------------


def test_an_sm2_key_round_trips_through_pem_and_keeps_its_kid() -> None:
    key = generate_key(Alg.SM2)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    again = private_key_from_pem(pem)
    public = public_key_from_pem(public_key_pem(key.public_key()).encode())
    assert alg_of(again) is alg_of(public) is Alg.SM2
    assert kid_of(again) == kid_of(key) == kid_of(public)
    assert public_key_from_der(public_key_der(public)) == public


def test_the_spki_is_id_ec_public_key_with_the_sm2_curve() -> None:
    der = SAMPLE_KEY.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert der.hex().startswith("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
    assert der.endswith(X + Y)


@pytest.mark.parametrize(
    "der",
    [
        bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004") + X,  # short
        bytes.fromhex("3039301306072a8648ce3d020106082a811ccf5501822d03220002") + X,  # compressed
        bytes.fromhex("305a301306072a8648ce3d020106082a811ccf5501822d03430004") + X + Y + b"\0",  # long
    ],
    ids=["truncated", "compressed", "trailing-byte"],
)
def test_other_spki_spellings_of_an_sm2_key_are_refused(der: bytes) -> None:
    with pytest.raises(BadKey, match="SubjectPublicKeyInfo"):
        public_key_from_der(der)


def test_a_bare_point_is_accepted_with_or_without_the_04_prefix() -> None:
    assert sm2.Sm2PublicKey.from_point(X + Y) == SAMPLE_KEY
    with pytest.raises(BadKey, match="65 bytes"):
        sm2.Sm2PublicKey.from_point(b"\x02" + X)


def test_an_sm2_key_cannot_sign_or_verify_as_another_algorithm() -> None:
    key = generate_key(Alg.SM2)
    with pytest.raises(BadKey, match="SM2 key cannot sign with ES256"):
        signer_for(Alg.ES256, key)
    with pytest.raises(BadKey, match="SM2 key cannot verify EdDSA"):
        verifier_for(Alg.EDDSA, key.public_key())
    with pytest.raises(BadKey, match="no deterministic mode"):
        signer_for(Alg.SM2, key, deterministic=True)


def test_sm2_is_named_and_numbered_as_documented() -> None:
    assert parse_alg("SM2") is parse_alg("sm2") is parse_alg(-65537) is Alg.SM2
    assert Alg.SM2 < -65536 and Alg.SM2.label == "SM2"


def test_a_cose_sign1_carries_the_sm2_alg_and_a_64_byte_signature() -> None:
    key = generate_key(Alg.SM2)
    message = parse_sign1(Signer.for_key(key).sign1(b"payload"))
    assert message.alg == Alg.SM2 and message.kid == kid_of(key) and len(message.signature) == 64
    verify_signature(Alg.SM2, key.public_key(), message.to_be_signed(), message.signature)


# --- a plain install ------------------------------------------------------------------------------


@pytest.mark.usefixtures("without_tongsuo")
def test_a_plain_install_loads_an_sm2_public_key_and_says_what_to_install_to_verify() -> None:
    key = public_key_from_pem(public_key_pem(SAMPLE_KEY).encode())
    assert kid_of(key) == kid_of(SAMPLE_KEY)
    verify = verifier_for(Alg.SM2, key)
    with pytest.raises(UnsupportedAlgorithm, match=r"pip install healthcred\[sm\]") as caught:
        verify(MESSAGE, R + S)
    assert caught.value.code == "unsupported_alg"


@pytest.mark.usefixtures("without_tongsuo")
def test_a_plain_install_says_what_to_install_to_make_or_read_an_sm2_private_key(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedAlgorithm, match=r"pip install healthcred\[sm\]"):
        generate_key(Alg.SM2)
    pem = SAMPLE_PEM.read_bytes()
    with pytest.raises(UnsupportedAlgorithm, match=r"pip install healthcred\[sm\]"):
        private_key_from_pem(pem)


# --- OpenSSL, both ways ---------------------------------------------------------------------------


def openssl(*args: str, stdin: bytes = b"") -> bytes:
    """Run the openssl command line; its stdout."""
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], input=stdin, capture_output=True, check=True).stdout


def pkeyutl(mode: str, key: Path, message: Path, *extra: str, distid: str = "1234567812345678") -> bytes:
    """``openssl pkeyutl`` SM2-with-SM3 over a message file."""
    return openssl(
        "pkeyutl",
        f"-{mode}",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        f"distid:{distid}",
        "-inkey",
        str(key),
        "-in",
        str(message),
        *extra,
    )


@pytest.fixture
def openssl_pair(tmp_path: Path) -> tuple[sm2.Sm2PrivateKey, Path, Path, Path]:
    """A key of ours, its PEM files and a message file."""
    key = generate_key(Alg.SM2)
    assert isinstance(key, sm2.Sm2PrivateKey)
    private, public, message = tmp_path / "k.pem", tmp_path / "p.pem", tmp_path / "m"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_text(public_key_pem(key.public_key()))
    message.write_bytes(b"\xd2\x84 a COSE Sig_structure stands here \x00\xff")
    return key, private, public, message


def to_raw(der: bytes) -> bytes:
    """DER ECDSA-Sig-Value → r ‖ s."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@needs_openssl
def test_openssl_verifies_what_we_sign(openssl_pair: tuple[sm2.Sm2PrivateKey, Path, Path, Path]) -> None:
    key, _, public, message = openssl_pair
    raw = sign(Alg.SM2, key, message.read_bytes())
    r, s = sm2.signature_scalars(raw)
    signature = message.with_suffix(".sig")
    signature.write_bytes(encode_dss_signature(r, s))
    out = pkeyutl("verify", public, message, "-pubin", "-sigfile", str(signature))
    assert b"Signature Verified Successfully" in out


@needs_openssl
def test_we_verify_what_openssl_signs(openssl_pair: tuple[sm2.Sm2PrivateKey, Path, Path, Path]) -> None:
    key, private, _, message = openssl_pair
    raw = to_raw(pkeyutl("sign", private, message))
    verify_signature(Alg.SM2, key.public_key(), message.read_bytes(), raw)


@needs_openssl
def test_a_signature_over_another_identifier_is_refused(
    openssl_pair: tuple[sm2.Sm2PrivateKey, Path, Path, Path],
) -> None:
    key, private, _, message = openssl_pair
    raw = to_raw(pkeyutl("sign", private, message, distid="ALICE123@YAHOO.COM"))
    with pytest.raises(BadSignature, match="does not verify"):
        verify_signature(Alg.SM2, key.public_key(), message.read_bytes(), raw)


@needs_openssl
def test_we_read_a_key_openssl_generated() -> None:
    pem = openssl("genpkey", "-algorithm", "SM2")
    key = private_key_from_pem(pem)
    public = public_key_from_pem(openssl("pkey", "-pubout", stdin=pem))
    assert key.public_key() == public and alg_of(public) is Alg.SM2


@needs_openssl
def test_the_sample_key_file_verifies_the_sample_with_openssl(tmp_path: Path) -> None:
    pem = SAMPLE_PEM.read_bytes()
    assert private_key_from_pem(pem).public_key() == SAMPLE_KEY
    public, message, signature = tmp_path / "p.pem", tmp_path / "m", tmp_path / "s"
    public.write_text(public_key_pem(SAMPLE_KEY))
    message.write_bytes(MESSAGE)
    signature.write_bytes(encode_dss_signature(int.from_bytes(R, "big"), int.from_bytes(S, "big")))
    assert b"Verified Successfully" in pkeyutl(
        "verify", public, message, "-pubin", "-sigfile", str(signature)
    )


# --- round trips ---------------------------------------------------------------------------------

ROUND_TRIP_KEY = generate_key(Alg.SM2)


@settings(deadline=None, max_examples=40)
@given(st.binary(max_size=600))
def test_what_we_sign_verifies(message: bytes) -> None:
    signature = sign(Alg.SM2, ROUND_TRIP_KEY, message)
    assert len(signature) == 64
    verify_signature(Alg.SM2, ROUND_TRIP_KEY.public_key(), message, signature)


@settings(deadline=None, max_examples=40)
@given(st.binary(min_size=1, max_size=300), st.data())
def test_a_changed_message_or_signature_does_not_verify(message: bytes, data: st.DataObject) -> None:
    signature = sign(Alg.SM2, ROUND_TRIP_KEY, message)
    bit = data.draw(st.integers(0, 8 * (len(message) + 64) - 1))
    blob = bytearray(message + signature)
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(BadSignature):
        verify_signature(
            Alg.SM2, ROUND_TRIP_KEY.public_key(), bytes(blob[: len(message)]), bytes(blob[len(message) :])
        )


# --- the digest as docs/format.md specifies it ------------------------------------------------------

A = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
GX = int("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7", 16)
GY = int("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0", 16)


def sm3(data: bytes) -> bytes:
    """SM3 through cryptography (GB/T 32905)."""
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def test_the_documented_z_a_and_e_give_the_published_digest() -> None:
    ident = sm2.DISTINGUISHING_ID
    fields = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY)) + SAMPLE_KEY.point
    z_a = sm3((8 * len(ident)).to_bytes(2, "big") + ident + fields)
    assert z_a.hex().upper() == "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
    assert (
        sm3(z_a + MESSAGE).hex().upper() == "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
    )
