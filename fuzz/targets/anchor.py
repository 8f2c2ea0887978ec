"""Trust anchors and public keys: SubjectPublicKeyInfo DER, and PEM files (``load_public_key``)."""

from __future__ import annotations

from collections.abc import Iterator

from cryptography.hazmat.primitives import serialization

from fuzz import seeds
from fuzz.harness import Target, expect, put, scratch
from healthcred.crypto.keys import load_public_key, public_key_from_der
from healthcred.trust.envelope import Anchor

_SCRATCH = scratch()
_PEM = _SCRATCH / "anchor.pem"


def run(data: bytes) -> None:
    """The bytes as DER, then as the content of a PEM key file; each key found becomes an anchor."""
    key = expect(lambda: public_key_from_der(data))
    if key is not None:
        Anchor.from_key(key)
    put(_PEM, data)
    key = expect(lambda: load_public_key(_PEM))
    if key is not None:
        Anchor.from_key(key)


def seed_inputs() -> Iterator[bytes]:
    """The vectors' anchors as DER and as PEM."""
    for der in dict.fromkeys(seeds.vector_hex("anchors")):
        yield der
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError):  # a vector's deliberately broken anchor
            continue
        yield key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


TARGET = Target("anchor", run, seed_inputs)
