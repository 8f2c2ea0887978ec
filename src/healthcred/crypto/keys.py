"""Key generation, key ids, and PEM files.

A key id (kid) is the first 8 bytes of SHA-256 over the public key's
SubjectPublicKeyInfo DER: anyone holding the key can recompute it, and a kid
never confers trust by itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from healthcred.crypto.algorithms import Alg, PrivateKey, PublicKey, alg_of
from healthcred.errors import BadKey
from healthcred.files import write_atomic, write_secret

__all__ = [
    "KID_BYTES",
    "generate_key",
    "kid_of",
    "load_private_key",
    "load_public_key",
    "public_key_der",
    "public_key_from_der",
    "save_private_key",
    "save_public_key",
]

KID_BYTES = 8
"""Length of a key id."""


def generate_key(alg: Alg) -> PrivateKey:
    """A new private key for ``alg`` (Ed25519 for EdDSA, P-256 for ES256)."""
    if alg is Alg.EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def public_key_der(key: PublicKey) -> bytes:
    """The SubjectPublicKeyInfo DER of ``key``."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def kid_of(key: PrivateKey | PublicKey) -> bytes:
    """The key id: first 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER."""
    public = (
        key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    )
    return hashlib.sha256(public_key_der(public)).digest()[:KID_BYTES]


def public_key_from_der(der: bytes) -> PublicKey:
    """Load a SubjectPublicKeyInfo DER; only Ed25519 and P-256 keys are accepted."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"not a SubjectPublicKeyInfo DER public key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise BadKey(f"{type(key).__name__} is not an Ed25519 or P-256 key")
    alg_of(key)  # rejects other curves
    return key


def save_private_key(key: PrivateKey, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM readable by its owner only (mode 0600).

    An existing file is replaced only with ``overwrite=True`` (:func:`healthcred.files.write_secret`).
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_secret(path, pem, overwrite=overwrite)


def save_public_key(key: PublicKey, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``key`` as SubjectPublicKeyInfo PEM (mode 0644); an existing file only if ``overwrite``."""
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    write_atomic(path, pem, mode=0o644, overwrite=overwrite)


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadKey(f"cannot read key file {os.fspath(path)}: {exc.strerror}") from exc
    if len(data) > 64 * 1024:
        raise BadKey(f"{os.fspath(path)} is too large to be a key file")
    return data


def load_private_key(path: str | os.PathLike[str]) -> PrivateKey:
    """Load an Ed25519 or P-256 private key from a PEM file."""
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"{os.fspath(path)} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise BadKey(f"{os.fspath(path)} holds a {type(key).__name__}, not an Ed25519 or P-256 key")
    alg_of(key)
    return key


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """Load an Ed25519 or P-256 public key from a PEM file (a private key file gives its public half)."""
    data = _read(path)
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        der = serialization.load_pem_public_key(data).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError) as exc:
        raise BadKey(f"{os.fspath(path)} is not a PEM public key: {exc}") from exc
    return public_key_from_der(der)
