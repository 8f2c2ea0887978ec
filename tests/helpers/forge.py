"""Build hostile or odd codes by hand, bypassing the issuer's checks (tests only)."""

from __future__ import annotations

from typing import Any

import cbor2

from healthcred.codec.base45 import b45encode
from healthcred.codec.cbor import dumps
from healthcred.codec.compression import pack
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.crypto.algorithms import Alg, PrivateKey, alg_of, sign
from healthcred.crypto.cose import sig_structure
from healthcred.crypto.keys import kid_of


def message(
    payload: bytes,
    key: PrivateKey,
    *,
    protected: bytes | None = None,
    unprotected: dict[int, Any] | None = None,
    tag: int | None = 18,
    sign_with: Alg | None = None,
    signature: bytes | None = None,
) -> bytes:
    """A COSE_Sign1 over ``payload``, with any header or tag the test wants."""
    if protected is None:
        protected = dumps({1: int(alg_of(key)), 4: kid_of(key)})
    sig = (
        signature
        if signature is not None
        else sign(sign_with or alg_of(key), key, sig_structure(protected, payload))
    )
    body = [protected, unprotected or {}, payload, sig]
    return cbor2.dumps(cbor2.CBORTag(tag, body) if tag is not None else body)


def text(cose: bytes, level: int = 9) -> str:
    """Wrap COSE bytes as a code text."""
    return NATIVE_PREFIX + b45encode(pack(cose, level))
