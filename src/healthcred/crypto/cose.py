"""COSE_Sign1 (RFC 9052 §4.2) as the native format uses it.

The message is ``18([protected: bstr, unprotected: {}, payload: bstr, signature: bstr])``
with ``alg`` and ``kid`` in the protected header, so both are covered by the
signature. Parsing is strict: deterministic CBOR, the tag, an empty
unprotected header and only the header labels this module knows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from healthcred.codec.cbor import Reader, dumps, loads
from healthcred.crypto.algorithms import (
    Alg,
    PrivateKey,
    PublicKey,
    SignFunction,
    alg_of,
    parse_alg,
    signer_for,
)
from healthcred.crypto.keys import kid_of
from healthcred.errors import BadKey, HealthCredError, MalformedCBOR, MalformedCOSE, TrustListMalformed
from healthcred.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, MAX_COSE_BYTES

__all__ = [
    "SIGN1_TAG",
    "Header",
    "Sign1",
    "Signer",
    "encode_sign1",
    "open_content",
    "parse_sign1",
    "sig_structure",
    "sign1",
    "sign_content",
]

SIGN1_TAG = 18
"""CBOR tag of COSE_Sign1."""


class Header(IntEnum):
    """COSE header labels this library reads or writes (RFC 9052 §3.1)."""

    ALG = 1
    CRIT = 2
    CONTENT_TYPE = 3
    KID = 4


_KNOWN_PROTECTED = frozenset((Header.ALG, Header.CONTENT_TYPE, Header.KID))
_SIGNATURE1 = b"\x84\x6aSignature1"  # array(4), text(10) "Signature1"


@dataclass(frozen=True, slots=True)
class Sign1:
    """A parsed COSE_Sign1: header values, payload and signature, not yet verified."""

    protected: bytes
    alg: int
    kid: bytes
    content_type: str | None
    payload: bytes
    signature: bytes

    def to_be_signed(self) -> bytes:
        """The Sig_structure bytes the signature covers."""
        return sig_structure(self.protected, self.payload)


def _bstr_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return b"\x58" + length.to_bytes(1, "big")
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """``["Signature1", protected, external_aad, payload]`` as CBOR (RFC 9052 §4.4)."""
    return b"".join(
        (
            _SIGNATURE1,
            _bstr_head(len(protected)),
            protected,
            _bstr_head(len(external_aad)),
            external_aad,
            _bstr_head(len(payload)),
            payload,
        )
    )


def encode_sign1(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """Assemble a tagged COSE_Sign1 with an empty unprotected header (deterministic CBOR)."""
    return b"".join(
        (
            b"\xd2\x84",  # tag 18, array(4)
            _bstr_head(len(protected)),
            protected,
            b"\xa0",  # unprotected: {}
            _bstr_head(len(payload)),
            payload,
            _bstr_head(len(signature)),
            signature,
        )
    )


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key prepared for signing: its algorithm, kid, public key and protected header, computed once.

    Build one per key with :meth:`for_key` and reuse it; ``issue`` also takes a
    plain key and prepares it on each call.
    """

    alg: Alg
    kid: bytes
    protected: bytes
    sign: Callable[[bytes], bytes] = field(repr=False, compare=False)
    public_key: PublicKey = field(repr=False, compare=False)
    content_type: str | None = None
    reopen: Callable[[], Signer] | None = field(default=None, repr=False, compare=False)
    """For a key held elsewhere: a picklable call that opens the same signer in another process
    (a token key: its URI), so batch can sign in worker processes; ``None`` for an in-memory key."""

    @classmethod
    def for_key(
        cls, key: PrivateKey, *, content_type: str | None = None, deterministic: bool = False
    ) -> Signer:
        """Prepare ``key``: alg from its type, kid from its public key.

        ``deterministic=True`` signs ES256 with RFC 6979 nonces (reproducible
        test vectors); issuing keeps random nonces by default.
        """
        alg = alg_of(key)
        sign = signer_for(alg, key, deterministic=deterministic)
        return cls.for_function(alg, key.public_key(), sign, content_type=content_type)

    @classmethod
    def for_function(
        cls,
        alg: Alg,
        public_key: PublicKey,
        sign: SignFunction,
        *,
        content_type: str | None = None,
        reopen: Callable[[], Signer] | None = None,
    ) -> Signer:
        """Prepare a key held elsewhere (a PKCS#11 token): ``sign`` gives ``alg`` signatures in COSE form.

        The kid comes from ``public_key``, which must be of ``alg``; ``reopen`` as :attr:`reopen`.
        """
        if alg_of(public_key) is not alg:
            raise BadKey(f"a {alg_of(public_key).label} key cannot sign with {alg.label}")
        kid = kid_of(public_key)
        header: dict[int, Any] = {Header.ALG: int(alg), Header.KID: kid}
        if content_type is not None:
            header[Header.CONTENT_TYPE] = content_type
        return cls(alg, kid, dumps(header), sign, public_key, content_type, reopen)

    def sign1(self, payload: bytes) -> bytes:
        """A tagged COSE_Sign1 over ``payload``."""
        return encode_sign1(self.protected, payload, self.sign(sig_structure(self.protected, payload)))


def sign1(payload: bytes, key: PrivateKey | Signer, *, content_type: str | None = None) -> bytes:
    """Sign ``payload``: alg, kid (and content type) in the protected header."""
    if isinstance(key, Signer):
        if content_type is not None:
            raise BadKey("give the content type when preparing the Signer")
        return key.sign1(payload)
    return Signer.for_key(key, content_type=content_type).sign1(payload)


def sign_content(payload: Any, signer: PrivateKey | Signer, content_type: str) -> bytes:
    """Sign ``payload`` (as deterministic CBOR) as a message of ``content_type``.

    A prepared :class:`Signer` must have been prepared for that content type.
    """
    if isinstance(signer, Signer):
        if signer.content_type != content_type:
            raise BadKey(f"this Signer was prepared for {signer.content_type!r}, not {content_type!r}")
        return signer.sign1(dumps(payload))
    return Signer.for_key(signer, content_type=content_type).sign1(dumps(payload))


def open_content(
    message: Sign1,
    content_type: str,
    what: str,
    *,
    max_depth: int = MAX_CBOR_DEPTH,
    max_items: int = MAX_CBOR_ITEMS,
    max_bytes: int = MAX_COSE_BYTES,
) -> Any:
    """The decoded payload of a signed ``what`` whose content type must be ``content_type``.

    ``max_bytes``, ``max_items`` and ``max_depth`` are the payload's bounds (see
    :func:`healthcred.codec.cbor.loads`); each signed object passes its own.
    Any fault is :class:`TrustListMalformed`; the signature is the caller's to check.
    """
    if message.content_type != content_type:
        raise TrustListMalformed(f"signed message is not a {what} (content type {message.content_type!r})")
    try:
        return loads(message.payload, what, max_depth=max_depth, max_items=max_items, max_bytes=max_bytes)
    except HealthCredError as exc:
        raise TrustListMalformed(exc.message) from exc


def parse_sign1(data: bytes) -> Sign1:
    """Parse a tagged COSE_Sign1 strictly; raise :class:`MalformedCOSE`.

    Deterministic CBOR only; the unprotected header must be empty; the
    protected header may hold alg (required), content type and kid (required),
    in that order, and nothing else.
    """
    try:
        outer = Reader(data, "COSE_Sign1")
        if outer.tag() != SIGN1_TAG:
            raise MalformedCOSE("message is not a COSE_Sign1 (CBOR tag 18)")
        if outer.array() != 4:
            raise MalformedCOSE("COSE_Sign1 must be an array of 4 items")
        protected = outer.bstr()
        if outer.map() != 0:
            raise MalformedCOSE(
                "the unprotected header must be empty: alg and kid belong in the protected one"
            )
        payload = outer.bstr()
        signature = outer.bstr()
        outer.end()
        alg, content_type, kid = _protected(protected)
    except MalformedCBOR as exc:
        raise MalformedCOSE(exc.message) from exc
    return Sign1(protected, alg, kid, content_type, payload, signature)


@functools.lru_cache(maxsize=1024)
def _protected(protected: bytes) -> tuple[int, str | None, bytes]:
    # Cached: a verifier sees the same few issuer headers over and over. Failures are not cached.
    header = Reader(protected, "protected header")
    count = header.map()
    if header.integer() != Header.ALG:
        raise MalformedCOSE("protected header must start with alg (label 1)")
    alg = header.integer()
    content_type = None
    if count == 3:
        if header.integer() != Header.CONTENT_TYPE:
            raise MalformedCOSE("protected header may hold only alg, content type and kid, in that order")
        content_type = header.tstr()
    elif count != 2:
        raise MalformedCOSE("protected header must hold alg, kid and optionally content type")
    if header.integer() != Header.KID:
        raise MalformedCOSE("protected header lacks a kid (label 4)")
    kid = header.bstr()
    header.end()
    if not kid:
        raise MalformedCOSE("kid is empty")
    return alg, content_type, kid


def header_alg(message: Sign1) -> Alg:
    """The header's algorithm, if it is on the allow-list."""
    return parse_alg(message.alg)
