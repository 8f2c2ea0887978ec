"""A SMART Health Cards issuer the fuzzer holds the private key of, so mutated cards can be re-signed.

The specification's example issuer publishes no private key: a card whose payload was mutated
fails at the signature, before the claims, the CRL, the time checks and the FHIR mapping. This
issuer (``https://fuzz.healthcred.invalid/issuer``, a P-256 key derived from a fixed number,
``crlVersion`` 1 and a CRL revoking two rids) is part of the fuzz world's trust
(:data:`fuzz.world.STORE`), and :func:`sign_card` signs a payload with it as an issuer would: the
JWS header ``{"alg": "ES256", "zip": "DEF", "kid": …}``, the payload minified and raw-DEFLATEd,
the signature raw ``r ‖ s`` (RFC 6979, so one payload always gives one card). :data:`EXTRA_KEYS`
are more valid public JWKs for the issuer-document mutator.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from healthcred.crypto.algorithms import Alg, signer_for
from healthcred.foreign.shc.issuers import ShcIssuer, jwk_thumbprint, load_shc_issuer
from healthcred.foreign.shc.jose import b64url_encode

__all__ = [
    "EXTRA_KEYS",
    "FUZZ_ISS",
    "FUZZ_JWK",
    "fuzz_issuer_document",
    "fuzz_shc_issuer",
    "public_jwk",
    "sign_card",
]

FUZZ_ISS = "https://fuzz.healthcred.invalid/issuer"
"""The fuzz issuer's URL (``.invalid``: it names nothing real)."""
_KEY = ec.derive_private_key(0x6865616C74686372656466757A7A, ec.SECP256R1())  # "healthcredfuzz"
_SIGN = signer_for(Alg.ES256, _KEY, deterministic=True)
REVOKED_RIDS = ("fuzzrevoked", "fuzzdated.1600000000")
"""The fuzz issuer's CRL: one rid revoked outright, one for cards issued before 2020-09-13."""


def public_jwk(key: ec.EllipticCurvePublicKey, **extra: Any) -> dict[str, Any]:
    """The public JWK of a P-256 key as SMART Health Cards publish it (kid = RFC 7638 thumbprint)."""
    numbers = key.public_numbers()
    jwk: dict[str, Any] = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        "use": "sig",
        "alg": "ES256",
    }
    return {**jwk, "kid": jwk_thumbprint(jwk), **extra}


FUZZ_JWK = public_jwk(_KEY.public_key(), crlVersion=1)
"""The fuzz issuer's one key."""
EXTRA_KEYS = tuple(public_jwk(ec.derive_private_key(n, ec.SECP256R1()).public_key()) for n in (2, 3, 5))
"""Valid P-256 signing keys no card is signed with: a mutated document can list them."""


def fuzz_issuer_document() -> dict[str, Any]:
    """The fuzz issuer as an issuer document (``iss``, ``keys``, ``crls``)."""
    crl = {"kid": FUZZ_JWK["kid"], "method": "rid", "ctr": 1, "rids": list(REVOKED_RIDS)}
    return {"iss": FUZZ_ISS, "keys": [dict(FUZZ_JWK)], "crls": [crl]}


def fuzz_shc_issuer() -> ShcIssuer:
    """The fuzz issuer as a trust entry."""
    return load_shc_issuer(fuzz_issuer_document())


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def jws(header: Any, payload: bytes, signature: bytes) -> str:
    """A compact JWS of a header (JSON-serialised), a payload (raw DEFLATEd here) and a signature."""
    head = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    return f"{head}.{b64url_encode(_deflate(payload))}.{b64url_encode(signature)}"


def sign_card(payload: bytes, header: Any = None) -> str:
    """``payload`` (JSON bytes) as a card signed by the fuzz issuer; ``header`` replaces the usual one."""
    if header is None:
        header = {"zip": "DEF", "alg": "ES256", "kid": FUZZ_JWK["kid"]}
    unsigned = jws(header, payload, b"")[:-1]  # "header.payload." less the trailing dot
    return f"{unsigned}.{b64url_encode(_SIGN(unsigned.encode('ascii')))}"
