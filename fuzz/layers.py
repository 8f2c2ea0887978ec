"""Structure-aware mutation: peel a seed's outer layers, mutate what is inside, wrap it up again.

A byte flip in a signed message fails at the signature, and one in a Base45 text fails at
Base45, so plain mutation rarely reaches the parsers behind them. These custom mutators
(libFuzzer's ``LLVMFuzzerCustomMutator``, given to ``atheris.Setup``) take the input apart —
prefix, Base45, zlib, COSE_Sign1 — let libFuzzer mutate the payload (or, now and then, the
protected header), re-sign it with the private key of the seed's kid when the fuzz world holds
it (:data:`fuzz.world.KEYS`), and put the layers back. Half the time they mutate the input as it
is, so the outer layers are fuzzed too. Inputs stay wire inputs: a crash file reproduces with
the library alone.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import Any

import cbor2

from fuzz.world import KEYS
from healthcred.codec.base45 import b45decode, b45encode
from healthcred.codec.compression import pack
from healthcred.crypto.algorithms import alg_of, signer_for
from healthcred.crypto.cose import sig_structure
from healthcred.errors import HealthCredError

__all__ = ["cose_mutator", "mutate_bytes", "text_mutator"]

Mutator = Callable[[bytes, int, int], bytes]
_SIGN1 = 18
_TEXT_PREFIXES = ("JKM1:", "JKP1:", "HC1:")


def mutate_bytes(data: bytes, max_size: int) -> bytes:
    """libFuzzer's own mutation of ``data`` (atheris is imported only when fuzzing)."""
    import atheris

    mutated: bytes = atheris.Mutate(data, max_size)
    return mutated


def _kid(protected: bytes) -> bytes | None:
    try:
        header = cbor2.loads(protected)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    kid = header.get(4) if isinstance(header, dict) else None
    return kid if isinstance(kid, bytes) else None


def _sign1_parts(data: bytes) -> list[Any] | None:
    try:
        item = cbor2.loads(data)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    body = item.value if isinstance(item, cbor2.CBORTag) and item.tag == _SIGN1 else item
    if (
        isinstance(body, list)
        and len(body) == 4
        and isinstance(body[0], bytes)
        and isinstance(body[2], bytes)
    ):
        return body
    return None


def _resigned(protected: bytes, unprotected: Any, payload: bytes, signature: Any) -> bytes:
    private = KEYS.get(_kid(protected) or b"")
    if private is not None:
        sign = signer_for(alg_of(private), private, deterministic=True)
        signature = sign(sig_structure(protected, payload))
    return bytes(cbor2.dumps(cbor2.CBORTag(_SIGN1, [protected, unprotected, payload, signature])))


def _mutate_sign1(data: bytes, max_size: int, rng: random.Random) -> bytes | None:
    parts = _sign1_parts(data)
    if parts is None:
        return None
    protected, unprotected, payload, signature = parts
    if rng.random() < 0.1:
        protected = mutate_bytes(protected, max(len(protected) * 2, 64))
    else:
        payload = mutate_bytes(payload, max(max_size - len(protected) - 80, 16))
    return _resigned(protected, unprotected, payload, signature)


def cose_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate a COSE_Sign1 (a trust list, binding…): its payload re-signed, or the bytes as they are."""
    rng = random.Random(seed)
    if rng.random() < 0.5:
        return mutate_bytes(data, max_size)
    inner = _mutate_sign1(data, max_size, rng)
    return mutate_bytes(data, max_size) if inner is None else inner[:max_size]


def _unwrap_text(text: str) -> tuple[str, bool, bytes] | None:
    prefix = next((p for p in _TEXT_PREFIXES if text.startswith(p)), None)
    if prefix is None:
        return None
    try:
        body = b45decode(text[len(prefix) :])
    except HealthCredError:
        return None
    if body[:1] == b"\x78":  # a zlib stream (HC1 always, native codes when it is shorter)
        try:
            return prefix, True, zlib.decompress(body)
        except zlib.error:
            return None
    return prefix, False, body


def text_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate a code text (``JKM1:``, ``JKP1:``, ``HC1:``): its COSE payload re-signed, or the text."""
    rng = random.Random(seed)
    layers = None if rng.random() < 0.4 else _unwrap_text(data.decode("latin-1"))
    if layers is None:
        return mutate_bytes(data, max_size)
    prefix, _, cose = layers
    inner = _mutate_sign1(cose, max_size, rng) or mutate_bytes(cose, max_size)
    # HC1 is always zlib; a native body is zlib or bare, whichever is shorter (codec.compression.pack).
    text = prefix + b45encode(zlib.compress(inner, 9) if prefix == "HC1:" else pack(inner))
    return text.encode("ascii")[:max_size]
