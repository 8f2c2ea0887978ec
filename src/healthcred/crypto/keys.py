"""Key generation, key ids, and PEM files.

A key id (kid) is the first 8 bytes of SHA-256 over the public key's
SubjectPublicKeyInfo DER: anyone holding the key can recompute it, and a kid
never confers trust by itself.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import UnsupportedAlgorithm as UnsupportedByCryptography
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from healthcred.crypto import sm2
from healthcred.crypto.algorithms import Alg, PrivateKey, PublicKey, alg_of
from healthcred.errors import BadKey
from healthcred.files import read_bounded, write_atomic, write_secret

__all__ = [
    "KID_BYTES",
    "MAX_KEY_FILE_BYTES",
    "generate_key",
    "kid_of",
    "load_private_key",
    "load_public_key",
    "private_key_from_pem",
    "public_key_der",
    "public_key_from_der",
    "public_key_from_pem",
    "public_key_pem",
    "save_private_key",
    "save_public_key",
]

KID_BYTES = 8
"""Length of a key id."""

MAX_KEY_FILE_BYTES = 64 * 1024
"""Largest key file read (a PEM key is a few hundred bytes)."""

# What cryptography raises for key bytes it cannot use: malformed (ValueError), encrypted or of the
# wrong kind (TypeError), or of an algorithm or curve it does not know (its own UnsupportedAlgorithm).
_KEY_FAULTS = (ValueError, TypeError, UnsupportedByCryptography)


def generate_key(alg: Alg) -> PrivateKey:
    """A new private key for ``alg`` (Ed25519 for EdDSA, P-256 for ES256, sm2p256v1 for SM2)."""
    if alg is Alg.SM2:
        return sm2.generate_key()
    if alg is Alg.EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def public_key_der(key: PublicKey) -> bytes:
    """The SubjectPublicKeyInfo DER of ``key``."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def kid_of(key: PrivateKey | PublicKey) -> bytes:
    """The key id: first 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER."""
    public = (
        key.public_key()
        if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | sm2.Sm2PrivateKey)
        else key
    )
    return hashlib.sha256(public_key_der(public)).digest()[:KID_BYTES]


def public_key_from_der(der: bytes) -> PublicKey:
    """Load a SubjectPublicKeyInfo DER; only Ed25519, P-256 and SM2 keys are accepted."""
    if sm2.is_sm2_der(der):  # parsed here: cryptography knows no SM2 curve
        return sm2.Sm2PublicKey(der)
    try:
        key = serialization.load_der_public_key(der)
    except _KEY_FAULTS as exc:
        raise BadKey(f"not a SubjectPublicKeyInfo DER public key of a known type: {exc}") from exc
    return _allowed_public(key, "the key")


def public_key_from_pem(data: bytes, name: str = "the key") -> PublicKey:
    """Load an Ed25519, P-256 or SM2 public key from PEM bytes (a private key gives its public half).

    ``name`` says where the bytes came from, in error messages. Anything else is :class:`BadKey`.
    """
    if b"PRIVATE KEY" in data:
        return _private_from_pem(data, name).public_key()
    if sm2.is_sm2_pem(data):
        return sm2.public_key_from_pem(data, name)
    try:
        key = serialization.load_pem_public_key(data)
    except _KEY_FAULTS as exc:
        # cryptography's text names its FAQ and its parser's state: the operator needs what to give.
        raise BadKey(
            f"{name} is not a PEM public key (-----BEGIN PUBLIC KEY-----, Ed25519, P-256 or SM2)"
        ) from exc
    return _allowed_public(key, name)


def _allowed_public(key: object, name: str) -> PublicKey:
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise BadKey(f"{name} is a {type(key).__name__}, not an Ed25519, P-256 or SM2 key")
    alg_of(key)  # rejects other curves
    return key


def private_key_from_pem(data: bytes, name: str = "the key") -> PrivateKey:
    """An Ed25519, P-256 or SM2 private key from unencrypted PEM bytes; anything else is :class:`BadKey`."""
    return _private_from_pem(data, name)


def _private_from_pem(data: bytes, name: str) -> PrivateKey:
    if sm2.is_sm2_pem(data):  # cryptography knows no SM2 curve; without Tongsuo: unsupported_alg
        return sm2.private_key_from_pem(data, name)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except _KEY_FAULTS as exc:
        raise BadKey(
            f"{name} is not an unencrypted PEM private key"
            " (-----BEGIN PRIVATE KEY-----, Ed25519, P-256 or SM2)"
        ) from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise BadKey(f"{name} holds a {type(key).__name__}, not an Ed25519, P-256 or SM2 key")
    alg_of(key)
    return key


def save_private_key(key: PrivateKey, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM readable by its owner only (mode 0600).

    An existing file is replaced only with ``overwrite=True`` (:func:`healthcred.files.write_secret`).
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_secret(path, pem, overwrite=overwrite)


def public_key_pem(key: PublicKey) -> str:
    """``key`` as SubjectPublicKeyInfo PEM text (what ``save_public_key`` writes)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def save_public_key(key: PublicKey, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``key`` as SubjectPublicKeyInfo PEM (mode 0644); an existing file only if ``overwrite``."""
    write_atomic(path, public_key_pem(key).encode(), mode=0o644, overwrite=overwrite)


def _read(path: str | os.PathLike[str]) -> bytes:
    # Bounded before reading: a key file named by mistake (a disk image, a FIFO) costs nothing.
    return read_bounded(path, MAX_KEY_FILE_BYTES, error=BadKey)


def load_private_key(path: str | os.PathLike[str]) -> PrivateKey:
    """Load an Ed25519, P-256 or SM2 private key from a PEM file."""
    return _private_from_pem(_read(path), os.fspath(path))


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """Load an Ed25519, P-256 or SM2 public key from a PEM file (a private key file gives its public half)."""
    return public_key_from_pem(_read(path), os.fspath(path))
