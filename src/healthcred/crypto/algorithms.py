"""The signature algorithms on the allow-list, and the raw sign/verify layer.

ES256 signatures travel in the COSE form, raw ``r ‖ s`` (64 bytes), never DER.
EdDSA (Ed25519) verification uses libsodium through PyNaCl, which verifies
about twice as fast as OpenSSL through ``cryptography`` on this project's
machines; signing and key handling stay with ``cryptography``. SM2 with SM3
(``crypto.sm2``, the optional extra ``healthcred[sm]``) signs and verifies
through Tongsuo, also as raw ``r ‖ s``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from healthcred.codec import fast
from healthcred.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey
from healthcred.crypto.sm2 import verifier as sm2_verifier
from healthcred.errors import BadKey, BadSignature, UnsupportedAlgorithm

__all__ = [
    "ALG_LABELS",
    "Alg",
    "PrivateKey",
    "PublicKey",
    "SignFunction",
    "Verifier",
    "alg_of",
    "parse_alg",
    "sign",
    "signer_for",
    "verifier_for",
    "verify_signature",
]

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | Sm2PrivateKey
"""Private keys healthcred signs with."""
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | Sm2PublicKey
"""Public keys healthcred verifies with."""
Verifier = Callable[[bytes, bytes], None]
"""``verify(message, signature)``: returns on success, raises :class:`BadSignature`."""
SignFunction = Callable[[bytes], bytes]
"""``sign(message)`` → signature in COSE form."""


class Alg(IntEnum):
    """COSE algorithm identifiers on the allow-list (IANA COSE Algorithms registry; SM2 private use)."""

    ES256 = -7
    EDDSA = -8
    SM2 = -65537
    """SM2 with SM3 (docs/format.md): no value is registered, so the first of the private-use range."""

    @property
    def label(self) -> str:
        """The name shown to people: ``ES256``, ``EdDSA`` or ``SM2``."""
        return "EdDSA" if self is Alg.EDDSA else self.name


ALG_LABELS: dict[int, str] = {int(alg): alg.label for alg in Alg}
"""Each allowed algorithm id's :attr:`Alg.label`, looked up without building the enum member."""


_SIG_LEN = 64  # Ed25519 signatures and raw P-256 r ‖ s (and SM2's, checked in crypto.sm2)
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def parse_alg(value: object) -> Alg:
    """The :class:`Alg` for a COSE integer or a name (``ES256``, ``EdDSA``, ``SM2``)."""
    if isinstance(value, str):
        for alg in Alg:
            if value.lower() == alg.label.lower():
                return alg
    elif type(value) is int and value in Alg._value2member_map_:
        return Alg(value)
    allowed = ", ".join(alg.label for alg in Alg)
    raise UnsupportedAlgorithm(f"algorithm {value!r} is not allowed (allowed: {allowed})")


def alg_of(key: PrivateKey | PublicKey) -> Alg:
    """The algorithm a key is for: Ed25519 → EdDSA, P-256 → ES256, SM2 → SM2; else :class:`BadKey`."""
    if isinstance(key, Sm2PrivateKey | Sm2PublicKey):
        return Alg.SM2
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return Alg.EDDSA
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return Alg.ES256
        raise BadKey(f"EC curve {key.curve.name} is not allowed (ES256 needs P-256)")
    raise BadKey(f"{type(key).__name__} is not an Ed25519, P-256 or SM2 key")


def _deterministic_ecdsa() -> ec.ECDSA:
    # RFC 6979 nonces arrived in cryptography 44; the library itself only needs 42.
    try:
        return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError as exc:  # pragma: no cover - depends on the installed cryptography
        raise BadKey("deterministic ES256 signing (RFC 6979) needs cryptography ≥ 44") from exc


def signer_for(alg: Alg, private_key: PrivateKey, *, deterministic: bool = False) -> SignFunction:
    """A prepared sign function for one key (ES256 signatures come out as raw ``r ‖ s``).

    ``deterministic=True`` makes ES256 use RFC 6979 nonces, so one message and key
    always give one signature: for test vectors, not for issuing (a random nonce
    is the default because it does not depend on the nonce derivation being
    implemented right). Ed25519 is deterministic either way.
    """
    if alg_of(private_key) is not alg:
        raise BadKey(f"a {alg_of(private_key).label} key cannot sign with {alg.label}")
    if isinstance(private_key, Sm2PrivateKey):
        if deterministic:  # Tongsuo takes no nonce from outside; a vector must not silently vary
            raise BadKey("SM2 signing has no deterministic mode (its nonce always comes from the DRBG)")
        return private_key.sign
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    key = private_key
    ecdsa = _deterministic_ecdsa() if deterministic else _ECDSA_SHA256

    def sign_es256(message: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(message, ecdsa))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign_es256


def sign(alg: Alg, private_key: PrivateKey, message: bytes) -> bytes:
    """Sign ``message``; ES256 signatures are returned as raw ``r ‖ s``."""
    return signer_for(alg, private_key)(message)


def verifier_for(alg: Alg, public_key: PublicKey) -> Verifier:
    """A prepared verify function for one key (build once per trusted key, call per code)."""
    if alg_of(public_key) is not alg:
        raise BadKey(f"a {alg_of(public_key).label} key cannot verify {alg.label}")
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return _ed25519_verifier(nacl.signing.VerifyKey(public_key.public_bytes_raw()))
    if isinstance(public_key, Sm2PublicKey):
        return sm2_verifier(public_key)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return _es256_verifier(public_key)


def _ed25519_verifier(key: nacl.signing.VerifyKey) -> Verifier:
    def verify(message: bytes, signature: bytes) -> None:
        if len(signature) != _SIG_LEN:
            raise BadSignature(f"EdDSA signature must be {_SIG_LEN} bytes, not {len(signature)}")
        try:
            key.verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
            raise BadSignature("EdDSA signature does not verify") from exc

    return verify


def _es256_verifier(key: ec.EllipticCurvePublicKey) -> Verifier:
    def verify(message: bytes, signature: bytes) -> None:
        if len(signature) != _SIG_LEN:
            raise BadSignature(f"ES256 signature must be {_SIG_LEN} bytes of raw r ‖ s, not {len(signature)}")
        native = fast.native  # the C decoder's DER encoder: ~1 µs against ~4 µs here
        der = native.dss_der(signature) if native is not None else None
        if der is None:
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
        try:
            key.verify(der, message, _ECDSA_SHA256)
        except InvalidSignature as exc:
            raise BadSignature("ES256 signature does not verify") from exc

    return verify


def verify_signature(alg: Alg, public_key: PublicKey, message: bytes, signature: bytes) -> None:
    """Verify ``signature`` over ``message``; return on success, raise :class:`BadSignature`.

    ES256 signatures are raw ``r ‖ s`` (the COSE form). The raw layer: no
    headers, no trust; callers that verify many messages with one key should
    keep :func:`verifier_for`'s function instead.
    """
    verifier_for(alg, public_key)(message, signature)
