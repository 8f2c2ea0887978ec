"""The envelope every signed trust object shares: its size bound, its signer, the trust anchors.

Trust lists, revocation lists, rule sets and bundles are each a COSE_Sign1. A
verifier opens the envelope (size-bounded, strictly parsed) before anything
else, then checks the signature against the keys allowed to sign that object:
a trust anchor, or a key whose grant carries the needed role. The algorithm
comes from the signer's anchor or entry, never from the message header alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from healthcred.crypto.algorithms import Alg, PublicKey, Verifier, alg_of, verifier_for
from healthcred.crypto.cose import Sign1, parse_sign1
from healthcred.crypto.keys import kid_of, public_key_der, public_key_from_der
from healthcred.errors import (
    AlgorithmMismatch,
    BadSignature,
    HealthCredError,
    TrustListMalformed,
    UntrustedList,
)

__all__ = ["MAX_LIST_BYTES", "Anchor", "open_signed", "verify_anchor", "verify_signer"]

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Largest signed trust list accepted: room for 10,000 entries of the largest form (1,305 bytes each)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """A trust anchor: a root public key that may sign trust lists."""

    kid: bytes
    alg: Alg
    public_key: PublicKey = field(repr=False)
    verify: Verifier = field(repr=False, compare=False)

    @classmethod
    def from_key(cls, key: PublicKey) -> Anchor:
        """An anchor for ``key``; its algorithm follows from the key type."""
        alg = alg_of(key)
        return cls(kid_of(key), alg, key, verifier_for(alg, key))

    def __reduce__(self) -> tuple[object, ...]:
        # A loaded key and its prepared verify function do not pickle; the key's DER does, and the
        # receiving process (a verify_all worker) rebuilds both from it, once.
        return (_restore_anchor, (self.kid, self.alg, public_key_der(self.public_key)))


def _restore_anchor(kid: bytes, alg: Alg, der: bytes) -> Anchor:
    key = public_key_from_der(der)
    return Anchor(kid, alg, key, verifier_for(alg, key))


def open_signed(data: bytes, limit: int = MAX_LIST_BYTES) -> Sign1:
    """Parse a signed list's COSE envelope, at most ``limit`` bytes; its signature is not checked here.

    Each kind passes its own bound (``MAX_REVOCATION_BYTES``, ``MAX_RULE_SET_BYTES``); the default is
    a trust list's.
    """
    if not isinstance(data, bytes):
        raise TrustListMalformed(f"a trust list is bytes, not {type(data).__name__}")
    if len(data) > limit:
        raise TrustListMalformed(f"signed list is larger than {limit} bytes")
    try:
        return parse_sign1(data)
    except HealthCredError as exc:
        raise TrustListMalformed(f"trust list is not a COSE_Sign1: {exc.message}") from exc


def verify_signer(message: Sign1, candidates: Sequence[tuple[bytes, int, Verifier]], what: str) -> bytes:
    """Verify ``message`` with one of ``candidates`` — (kid, alg, verify) of the keys allowed to sign it.

    Returns the signer's kid; raises :class:`UntrustedList` or :class:`AlgorithmMismatch`.
    """
    if not candidates:
        raise UntrustedList(f"trust list is signed by key {message.kid.hex()}, which is not {what}")
    matching = [c for c in candidates if c[1] == message.alg]
    if not matching:
        raise AlgorithmMismatch(f"trust list header alg {message.alg} is not its signer's algorithm")
    for kid, _, verify in matching:
        try:
            verify(message.to_be_signed(), message.signature)
        except BadSignature:
            continue
        return kid
    raise UntrustedList(f"trust list signature does not verify with {what} (tampered?)")


def verify_anchor(message: Sign1, anchors: Iterable[Anchor]) -> bytes:
    """Verify ``message`` with the trust anchor of its kid; returns that kid (see :func:`verify_signer`)."""
    return verify_signer(
        message, [(a.kid, a.alg, a.verify) for a in anchors if a.kid == message.kid], "a trust anchor"
    )
