"""Trust anchors and public keys: SubjectPublicKeyInfo DER, and PEM files (``load_public_key``)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

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
        # The same bytes as PEM, written out as text: cryptography cannot parse every anchor (SM2).
        body = base64.encodebytes(der).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        yield b"-----BEGIN PUBLIC KEY-----\n" + lines + b"\n-----END PUBLIC KEY-----\n"


TARGET = Target("anchor", run, seed_inputs)
