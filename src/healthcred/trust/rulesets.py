"""Signed rule sets: status rules and verification policies as signed, versioned, expiring data.

A rule set is a COSE_Sign1 with content type
``application/vnd.healthcred.rules+cbor`` over
``{1: 1, 2: issued_at, 3: expires_at, 4: body}``, where ``body`` is the rule
set's JSON form (see docs/rules.md) as CBOR. It is signed by a trust anchor or
by a key whose trust-list entry grants the *rules* role. This module checks
the envelope and the signer; the rules layer validates and compiles the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Sign1, Signer, open_content, sign_content
from healthcred.errors import TrustListMalformed

__all__ = [
    "MAX_RULE_SET_BYTES",
    "RULES_CONTENT_TYPE",
    "RULES_FORMAT",
    "RuleSetKey",
    "SignedRuleSet",
    "make_rule_set",
    "parse_rule_set_body",
]

RULES_CONTENT_TYPE = "application/vnd.healthcred.rules+cbor"
"""COSE content type of a signed rule set."""

RULES_FORMAT = 1
"""Version of the rule-set envelope payload layout."""


class RuleSetKey(IntEnum):
    """Keys of the signed rule-set map (``docs/format.md`` §9.4)."""

    FORMAT = 1
    """Format of this map: :data:`RULES_FORMAT`."""
    ISSUED = 2
    """Issued at (epoch seconds)."""
    EXPIRES = 3
    """Expires at (epoch seconds), after the issue time."""
    BODY = 4
    """The rule set's JSON form (docs/rules.md) as CBOR: a map holding its id, version and kind."""


MAX_RULE_SET_BYTES = 4 * 1024 * 1024
"""Largest signed rule set accepted (``docs/format.md`` §9.4)."""

_KEYS = frozenset(RuleSetKey)
# CertLogic nests up to 64 deep inside the set's own maps. A rule set's documented bound is its size: each
# item takes at least one byte, so the item bound is the byte bound and never the stricter (hidden) one.
_MAX_DEPTH, _MAX_ITEMS = 100, MAX_RULE_SET_BYTES


@dataclass(frozen=True, slots=True)
class SignedRuleSet:
    """A rule set whose signature was verified: identity, validity and the (unvalidated) body."""

    id: str
    kind: str
    version: int
    issued_at: int
    expires_at: int
    signer_kid: bytes
    body: Mapping[str, Any] = field(repr=False)

    @property
    def series(self) -> str:
        """The key under which rule-set versions are compared: ``rules:signer-kid/id``."""
        return f"rules:{self.signer_kid.hex()}/{self.id}"


def make_rule_set(
    signer: PrivateKey | Signer, body: Mapping[str, Any], *, issued_at: int, expires_at: int
) -> bytes:
    """Sign a rule set's JSON form (holding its ``id``, ``version`` and ``kind``) for a validity span."""
    if expires_at <= issued_at:
        raise TrustListMalformed("a rule set must expire after it is issued")
    payload = {
        RuleSetKey.FORMAT: RULES_FORMAT,
        RuleSetKey.ISSUED: issued_at,
        RuleSetKey.EXPIRES: expires_at,
        RuleSetKey.BODY: dict(body),
    }
    signed = sign_content(payload, signer, RULES_CONTENT_TYPE)
    if len(signed) > MAX_RULE_SET_BYTES:  # never sign a rule set no verifier would load
        raise TrustListMalformed(
            f"the signed rule set would be {len(signed)} bytes; at most {MAX_RULE_SET_BYTES}"
        )
    return signed


def parse_rule_set_body(message: Sign1) -> SignedRuleSet:
    """The rule set in a message whose signature the caller has verified."""
    payload = open_content(
        message,
        RULES_CONTENT_TYPE,
        "rule set",
        max_depth=_MAX_DEPTH,
        max_items=_MAX_ITEMS,
        max_bytes=MAX_RULE_SET_BYTES,
    )
    if type(payload) is not dict or set(payload) != _KEYS or payload[RuleSetKey.FORMAT] != RULES_FORMAT:
        raise TrustListMalformed("rule set must be a format-1 map with exactly keys 1–4")
    issued, expires = payload[RuleSetKey.ISSUED], payload[RuleSetKey.EXPIRES]
    body = payload[RuleSetKey.BODY]
    if type(issued) is not int or type(expires) is not int or expires <= issued or type(body) is not dict:
        raise TrustListMalformed("rule set times must be integers (expiry after issue) and its body a map")
    set_id, kind, version = body.get("id"), body.get("kind"), body.get("version")
    if type(set_id) is not str or kind not in ("status", "policy") or type(version) is not int or version < 1:
        raise TrustListMalformed("rule set body needs a text id, kind 'status' or 'policy', and version ≥ 1")
    return SignedRuleSet(set_id, kind, version, issued, expires, message.kid, body)
