"""SM2 with SM3 (GB/T 32918.2, GM/T 0003.2, GM/T 0009): keys, signing and verification.

The curve is sm2p256v1 (OID 1.2.156.10197.1.301). A signature covers
``e = SM3(Z_A ‖ M)``, with ``Z_A`` over the distinguishing identifier
``1234567812345678`` (GM/T 0009's default), and travels as raw ``r ‖ s``
(64 bytes), as ES256 does. The arithmetic is Tongsuo's (the ``tongsuopy``
wheel, the optional extra ``healthcred[sm]``; why in docs/architecture.md):
its SM2 signing takes the nonce from OpenSSL's DRBG and multiplies with the
constant-time Montgomery ladder, and it computes ``Z_A`` with that identifier.

A public key is held as its SubjectPublicKeyInfo DER alone, parsed here
without Tongsuo, so a plain install still loads trust lists with SM2 entries,
computes their kids and verifies every other code; only an SM2 signature or
an SM2 private key needs the extra, and then says so (``unsupported_alg``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from healthcred.errors import BadKey, BadSignature, UnsupportedAlgorithm

__all__ = [
    "CURVE_OID",
    "DISTINGUISHING_ID",
    "INSTALL_HINT",
    "ORDER",
    "SIGNATURE_BYTES",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "generate_key",
    "is_sm2_der",
    "is_sm2_pem",
    "private_key_from_pem",
    "public_key_from_pem",
    "require_tongsuo",
    "signature_scalars",
    "verifier",
]

CURVE_OID = "1.2.156.10197.1.301"
"""sm2p256v1, the SM2 curve (GM/T 0006)."""
DISTINGUISHING_ID = b"1234567812345678"
"""The signer's distinguishing identifier hashed into Z_A: GM/T 0009's default, fixed for every key."""
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
"""n, the order of the base point of sm2p256v1 (GB/T 32918.5)."""
PRIME = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
"""p, the field prime of sm2p256v1 (GB/T 32918.5); a = p − 3."""
CURVE_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
"""b of sm2p256v1: y² = x³ + a·x + b over GF(p)."""
SIGNATURE_BYTES = 64
"""An SM2 signature in COSE form: r ‖ s, each 32 bytes big-endian."""
INSTALL_HINT = "pip install healthcred[sm]"
"""What a plain install says when it meets SM2."""

_CURVE_OID_DER = bytes.fromhex("06082a811ccf5501822d")  # OBJECT IDENTIFIER 1.2.156.10197.1.301
# SEQUENCE { SEQUENCE { id-ecPublicKey, sm2p256v1 }, BIT STRING { 00 04 ... } }: the one SPKI form
# of an uncompressed SM2 point, so a key's DER (and so its kid) has exactly one spelling.
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d0201") + _CURVE_OID_DER + bytes.fromhex("03420004")
_SPKI_BYTES = len(_SPKI_PREFIX) + 64
_PEM = re.compile(rb"-----BEGIN ([A-Z ]+)-----\s+([A-Za-z0-9+/=\s]+?)-----END \1-----")
# Where the curve OID sits: offset 15 of an SPKI, 19 of a PKCS#8 key, after the scalar of a SEC 1 key.
_OID_WINDOW = 64


def _on_curve(point: bytes) -> bool:
    # Public data, so plain integer arithmetic: no secret is involved and no signature is made.
    x, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
    if not (x < PRIME and y < PRIME):
        return False
    return (y * y - (x * x * x + (PRIME - 3) * x + CURVE_B)) % PRIME == 0


@cache
def _tongsuo() -> tuple[ModuleType, ModuleType, ModuleType, type[Exception]]:
    """Tongsuo's ec, hashes and serialization modules and its InvalidSignature, imported once."""
    try:
        from tongsuopy.crypto import hashes, serialization
        from tongsuopy.crypto.asymciphers import ec
        from tongsuopy.crypto.exceptions import InvalidSignature
    except ImportError as exc:
        raise UnsupportedAlgorithm(f"SM2 needs the optional SM2 support: {INSTALL_HINT}") from exc
    return ec, hashes, serialization, InvalidSignature


def require_tongsuo() -> None:
    """Raise :class:`UnsupportedAlgorithm` with the install hint unless SM2 can sign and verify here."""
    _tongsuo()


def _sm2_with_sm3() -> Any:
    ec, hashes, _, _ = _tongsuo()
    return ec.ECDSA(hashes.SM3())  # on an SM2 key Tongsuo signs SM3(Z_A ‖ M), Z_A over the default id


class Sm2PublicKey:
    """An SM2 public key, held as its SubjectPublicKeyInfo DER (id-ecPublicKey, sm2p256v1)."""

    __slots__ = ("der",)

    def __init__(self, der: bytes) -> None:
        """``der``: the 91-byte SubjectPublicKeyInfo of an uncompressed sm2p256v1 point."""
        if len(der) != _SPKI_BYTES or not der.startswith(_SPKI_PREFIX):
            raise BadKey(
                "an SM2 public key must be a SubjectPublicKeyInfo with id-ecPublicKey,"
                f" curve sm2p256v1 ({CURVE_OID}) and an uncompressed point"
            )
        if not _on_curve(der[-64:]):  # checked here, so a key that loads is one every verifier takes
            raise BadKey("the SM2 public key is not a point on sm2p256v1")
        self.der = der

    @classmethod
    def from_point(cls, point: bytes) -> Sm2PublicKey:
        """From a bare point, as other SM2 libraries exchange keys: ``04 ‖ X ‖ Y`` (65 bytes) or ``X ‖ Y``."""
        if len(point) == 65 and point[0] == 4:
            point = point[1:]
        if len(point) != 64:
            raise BadKey(f"an SM2 point is 04 ‖ X ‖ Y (65 bytes) or X ‖ Y (64), not {len(point)} bytes")
        return cls(_SPKI_PREFIX + point)

    @property
    def point(self) -> bytes:
        """``X ‖ Y``, 64 bytes."""
        return self.der[len(_SPKI_PREFIX) :]

    def public_bytes(self, encoding: serialization.Encoding, format: serialization.PublicFormat) -> bytes:
        """SubjectPublicKeyInfo as DER or PEM (the subset of ``cryptography``'s call that keys use)."""
        if format is not serialization.PublicFormat.SubjectPublicKeyInfo:
            raise BadKey("an SM2 public key is written as SubjectPublicKeyInfo only")
        if encoding is serialization.Encoding.DER:
            return self.der
        if encoding is not serialization.Encoding.PEM:
            raise BadKey("an SM2 public key is written as DER or PEM only")
        body = base64.encodebytes(self.der).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN PUBLIC KEY-----\n" + lines + b"\n-----END PUBLIC KEY-----\n"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"Sm2PublicKey({self.point.hex()[:16]}…)"


class Sm2PrivateKey:
    """An SM2 private key (a Tongsuo key object inside); signs SM2-with-SM3 as raw ``r ‖ s``."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Any) -> None:
        """``key``: a Tongsuo SM2 private key (use :func:`generate_key` or :func:`private_key_from_pem`)."""
        _, _, tserial, _ = _tongsuo()
        self._key = key
        der = key.public_key().public_bytes(tserial.Encoding.DER, tserial.PublicFormat.SubjectPublicKeyInfo)
        self._public = Sm2PublicKey(der)

    def public_key(self) -> Sm2PublicKey:
        """The public half."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """SM2-with-SM3 over ``message`` (Z_A with :data:`DISTINGUISHING_ID`), a fresh nonce, as ``r ‖ s``."""
        r, s = decode_dss_signature(self._key.sign(message, _sm2_with_sm3()))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        """Unencrypted PKCS#8 PEM (the subset of ``cryptography``'s call that keys use)."""
        if (
            encoding is not serialization.Encoding.PEM
            or format is not serialization.PrivateFormat.PKCS8
            or not isinstance(encryption_algorithm, serialization.NoEncryption)
        ):
            raise BadKey("an SM2 private key is written as unencrypted PKCS#8 PEM only")
        _, _, tserial, _ = _tongsuo()
        pem: bytes = self._key.private_bytes(
            tserial.Encoding.PEM, tserial.PrivateFormat.PKCS8, tserial.NoEncryption()
        )
        return pem

    def __repr__(self) -> str:
        return f"Sm2PrivateKey(public {self._public.point.hex()[:16]}…)"


def generate_key() -> Sm2PrivateKey:
    """A new SM2 private key (Tongsuo's DRBG)."""
    ec, _, _, _ = _tongsuo()
    return Sm2PrivateKey(ec.generate_private_key(ec.SM2()))


def is_sm2_der(der: bytes) -> bool:
    """Whether key DER (SPKI, PKCS#8 or SEC 1) names the SM2 curve."""
    return _CURVE_OID_DER in der[:_OID_WINDOW]


def _pem_der(data: bytes) -> bytes:
    match = _PEM.search(data)
    if match is None:
        return b""
    try:
        return base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except binascii.Error:
        return b""


def is_sm2_pem(data: bytes) -> bool:
    """Whether the first PEM block in ``data`` holds an SM2 key."""
    return is_sm2_der(_pem_der(data))


def public_key_from_pem(data: bytes, name: str = "the key") -> Sm2PublicKey:
    """An SM2 public key from SubjectPublicKeyInfo PEM; needs no Tongsuo."""
    try:
        return Sm2PublicKey(_pem_der(data))
    except BadKey as exc:
        raise BadKey(f"{name}: {exc.message}") from exc


def private_key_from_pem(data: bytes, name: str = "the key") -> Sm2PrivateKey:
    """An SM2 private key from unencrypted PEM (PKCS#8 or SEC 1 ``EC PRIVATE KEY``)."""
    ec, _, tserial, _ = _tongsuo()
    try:
        key = tserial.load_pem_private_key(data, password=None)
    except Exception as exc:  # Tongsuo raises ValueError, TypeError or its own UnsupportedAlgorithm
        raise BadKey(f"{name} is not an unencrypted PEM SM2 private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SM2):
        raise BadKey(f"{name} is not an SM2 private key")
    return Sm2PrivateKey(key)


def signature_scalars(signature: bytes) -> tuple[int, int]:
    """``(r, s)`` from a 64-byte ``r ‖ s``, each in [1, n − 1]; anything else is :class:`BadSignature`."""
    if len(signature) != SIGNATURE_BYTES:
        raise BadSignature(
            f"SM2 signature must be {SIGNATURE_BYTES} bytes of raw r ‖ s, not {len(signature)}"
        )
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < ORDER and 0 < s < ORDER):
        raise BadSignature("SM2 signature r and s must each lie in [1, n − 1]")
    return r, s


def verifier(key: Sm2PublicKey) -> Callable[[bytes, bytes], None]:
    """A prepared ``verify(message, signature)`` for one key; raises :class:`BadSignature`.

    Without Tongsuo the function raises :class:`UnsupportedAlgorithm` with the
    install hint when called, so a store holding SM2 entries still loads.
    """
    try:
        ec, _, tserial, invalid = _tongsuo()
    except UnsupportedAlgorithm as missing:
        reason = missing.message

        def unsupported(message: bytes, signature: bytes) -> None:
            raise UnsupportedAlgorithm(reason)

        return unsupported
    try:
        loaded = tserial.load_der_public_key(key.der)
    except ValueError as exc:  # the point is not on the curve
        raise BadKey("the SM2 public key is not a point on sm2p256v1") from exc
    if not isinstance(loaded, ec.EllipticCurvePublicKey) or not isinstance(loaded.curve, ec.SM2):
        raise BadKey("the key is not an SM2 public key")
    algorithm = _sm2_with_sm3()

    def verify(message: bytes, signature: bytes) -> None:
        r, s = signature_scalars(signature)  # before the library: it never sees an out-of-range value
        try:
            loaded.verify(encode_dss_signature(r, s), message, algorithm)
        except invalid as exc:
            raise BadSignature("SM2 signature does not verify") from exc

    return verify
