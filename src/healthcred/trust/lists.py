"""Signed trust lists: the payload, building and parsing one, and the bounds of a delegated list.

A national root key (a *trust anchor*) signs a list of issuer keys. A key on an
anchor-signed list may be granted the *delegate* role: it then signs a list of
its own (a province delegating to its cities), whose entries must stay inside
its region, kinds, statuses and window. See ``docs/format.md`` §9.1 for the bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from healthcred.clock import iso_time
from healthcred.crypto.algorithms import PrivateKey, alg_of, parse_alg, verifier_for
from healthcred.crypto.cose import Sign1, Signer, open_content, sign_content
from healthcred.crypto.keys import kid_of, public_key_der, public_key_from_der
from healthcred.errors import BadKey, DelegationNotAllowed, TrustListMalformed, UnsupportedAlgorithm
from healthcred.regions import region_contains
from healthcred.trust.envelope import MAX_LIST_BYTES, Anchor, open_signed, verify_anchor
from healthcred.trust.grants import (
    MAX_GRANT_SET,
    ROLE_DELEGATE,
    ROLE_ISSUE,
    ROLE_RULES,
    KeyGrant,
    TrustEntry,
    subset_of,
)

__all__ = [
    "MAX_LIST_ENTRIES",
    "TRUST_LIST_CONTENT_TYPE",
    "TRUST_LIST_FORMAT",
    "EntryKey",
    "ListKey",
    "TrustList",
    "check_delegation",
    "make_trust_list",
    "parse_list_body",
    "parse_trust_list",
]

TRUST_LIST_CONTENT_TYPE = "application/vnd.healthcred.trustlist+cbor"
"""COSE content type of a signed trust list: keeps a list from passing for any other message."""

TRUST_LIST_FORMAT = 1
"""Version of the trust-list payload layout."""

MAX_LIST_ENTRIES = 10_000
"""Most entries one trust list may hold (``docs/format.md`` §9.1); the decoder bounds follow from it."""


class ListKey(IntEnum):
    """Keys of the trust-list map (``docs/format.md`` §9.1)."""

    FORMAT = 1
    """Format of this map: :data:`TRUST_LIST_FORMAT`."""
    VERSION = 2
    """List version, ≥ 1, increasing within the series."""
    ISSUED = 3
    """Issued at (epoch seconds)."""
    EXPIRES = 4
    """Expires at (epoch seconds), after the issue time."""
    ENTRIES = 5
    """The entries: an array of entry maps (:class:`EntryKey`)."""
    ID = 6
    """List id, 1–64 characters: names the series."""


class EntryKey(IntEnum):
    """Keys of one trust-list entry map (``docs/format.md`` §9.1)."""

    KID = 1
    """Kid: the kid of the key below."""
    ALG = 2
    """COSE algorithm the key is used with."""
    KEY = 3
    """The public key, SubjectPublicKeyInfo DER."""
    REGION = 4
    """Region (6 digits) the key may issue for."""
    NOT_BEFORE = 5
    """Earliest issue time of a code the key signs."""
    NOT_AFTER = 6
    """Latest issue time of a code the key signs."""
    KINDS = 7
    """Optional: credential kinds the key may issue (sorted, no repeats; absent: any)."""
    STATUSES = 8
    """Optional: status codes the key may issue (sorted, no repeats; absent: any)."""
    ROLES = 9
    """Optional: roles, a sum of the ``ROLE_*`` bits (absent: issue only)."""
    COMPROMISED = 10
    """Optional: compromise time; codes issued at or after it are refused."""


# The entry parser reads plain ints: an IntEnum member lookup costs ~6x a global's, per key per entry.
_KID, _ALG, _KEY = int(EntryKey.KID), int(EntryKey.ALG), int(EntryKey.KEY)
_REGION, _NOT_BEFORE, _NOT_AFTER = int(EntryKey.REGION), int(EntryKey.NOT_BEFORE), int(EntryKey.NOT_AFTER)
_KINDS, _STATUSES = int(EntryKey.KINDS), int(EntryKey.STATUSES)
_ROLES, _COMPROMISED = int(EntryKey.ROLES), int(EntryKey.COMPROMISED)
_LIST_KEYS = frozenset(ListKey)
_ENTRY_REQUIRED = frozenset({_KID, _ALG, _KEY, _REGION, _NOT_BEFORE, _NOT_AFTER})
_ENTRY_KEYS = frozenset(map(int, EntryKey))
# The decoder's bounds, derived from the format: the list map, its entries array, and per entry its map
# of at most ten keys holding two sets of at most MAX_GRANT_SET integers (map > array > map > array).
_MAX_ITEMS = len(ListKey) + MAX_LIST_ENTRIES * (1 + len(EntryKey) + 2 * MAX_GRANT_SET)
_MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list: its series id, version, validity, signer and entries."""

    id: str
    version: int
    issued_at: int
    expires_at: int
    signer_kid: bytes
    entries: tuple[TrustEntry, ...]
    delegated: bool

    @property
    def series(self) -> str:
        """The key under which versions of this list are compared: ``signer-kid/id``."""
        return f"{self.signer_kid.hex()}/{self.id}"


def _entry_map(g: KeyGrant) -> dict[int, Any]:
    entry: dict[int, Any] = {
        EntryKey.KID: kid_of(g.public_key),
        EntryKey.ALG: int(alg_of(g.public_key)),
        EntryKey.KEY: public_key_der(g.public_key),
        EntryKey.REGION: g.region,
        EntryKey.NOT_BEFORE: g.not_before,
        EntryKey.NOT_AFTER: g.not_after,
    }
    if g.kinds is not None:
        entry[EntryKey.KINDS] = sorted(g.kinds)
    if g.statuses is not None:
        entry[EntryKey.STATUSES] = sorted(g.statuses)
    roles = (
        (ROLE_ISSUE if g.may_issue else 0)
        | (ROLE_DELEGATE if g.may_delegate else 0)
        | (ROLE_RULES if g.may_sign_rules else 0)
    )
    if roles != ROLE_ISSUE:
        entry[EntryKey.ROLES] = roles
    if g.compromised_at is not None:
        entry[EntryKey.COMPROMISED] = g.compromised_at
    return entry


def make_trust_list(
    signer: PrivateKey | Signer,
    grants: Iterable[KeyGrant],
    *,
    version: int,
    issued_at: int,
    expires_at: int,
    list_id: str = "national",
) -> bytes:
    """Build and sign a trust list; returns the COSE_Sign1 bytes.

    ``signer`` is a root key (anchor) or, for a delegated list, a key granted the
    delegate role. ``list_id`` names the series whose versions must increase.
    """
    if version < 1 or expires_at <= issued_at:
        raise TrustListMalformed("version must be ≥ 1 and the list must expire after it is issued")
    if not 1 <= len(list_id) <= 64:
        raise TrustListMalformed("list id must be 1–64 characters")
    entries = [_entry_map(g) for g in grants]
    if len(entries) > MAX_LIST_ENTRIES:  # never sign a list no verifier would load
        raise TrustListMalformed(f"a trust list holds at most {MAX_LIST_ENTRIES} entries, not {len(entries)}")
    payload = {
        ListKey.FORMAT: TRUST_LIST_FORMAT,
        ListKey.VERSION: version,
        ListKey.ISSUED: issued_at,
        ListKey.EXPIRES: expires_at,
        ListKey.ENTRIES: entries,
        ListKey.ID: list_id,
    }
    signed = sign_content(payload, signer, TRUST_LIST_CONTENT_TYPE)
    if len(signed) > MAX_LIST_BYTES:
        raise TrustListMalformed(
            f"the signed trust list would be {len(signed)} bytes; at most {MAX_LIST_BYTES}"
        )
    return signed


def _uint(m: Mapping[int, Any], key: int, what: str) -> int:
    value: Any = m.get(key)
    if type(value) is not int or value < 0:
        raise TrustListMalformed(f"trust list {what} is missing or not an unsigned integer")
    return value


def _typed(m: Mapping[int, Any], key: int, kind: type, what: str) -> Any:
    value: Any = m.get(key)
    if type(value) is not kind:
        raise TrustListMalformed(f"trust list {what} is missing or not a {kind.__name__}")
    return value


def _int_set(raw: Any, what: str) -> frozenset[int] | None:
    if raw is None:
        return None
    if (
        type(raw) is not list
        or not 0 < len(raw) <= MAX_GRANT_SET
        or any(type(v) is not int or v < 0 for v in raw)
    ):
        raise TrustListMalformed(f"entry {what} must be a list of 1–{MAX_GRANT_SET} unsigned integers")
    if raw != sorted(set(raw)):
        raise TrustListMalformed(f"entry {what} must be sorted and without repeats")
    return frozenset(raw)


@dataclass(frozen=True, slots=True)
class _Listed:
    id: str
    version: int
    issued_at: int
    expires_at: int
    signer: bytes
    delegated_by: bytes | None


def _roles(raw: dict[int, Any], kid: bytes) -> tuple[int, int | None]:
    # The entry's role bits and compromise time (checked before, and outside, its grant).
    roles = raw.get(_ROLES, ROLE_ISSUE)
    if type(roles) is not int or not 1 <= roles <= 7:
        raise TrustListMalformed(
            f"entry {kid.hex()} roles must be a sum of 1 (issue), 2 (delegate), 4 (rules)"
        )
    compromised = raw.get(_COMPROMISED)
    if compromised is not None and (type(compromised) is not int or compromised < 0):
        raise TrustListMalformed(f"entry {kid.hex()} compromise time must be an unsigned integer")
    return roles, compromised


def _parse_entry(raw: Any, listed: _Listed) -> TrustEntry:
    if type(raw) is not dict or not _ENTRY_REQUIRED <= set(raw) <= _ENTRY_KEYS:
        raise TrustListMalformed("trust list entry must be a map with keys 1–6 and optionally 7–10")
    kid = _typed(raw, _KID, bytes, "entry kid")
    try:
        alg = parse_alg(raw[_ALG])
        key = public_key_from_der(_typed(raw, _KEY, bytes, "entry key"))
        if alg_of(key) is not alg:
            raise TrustListMalformed(f"entry {kid.hex()} names {alg.label} for a {alg_of(key).label} key")
        verify = verifier_for(alg, key)
    except (BadKey, UnsupportedAlgorithm) as exc:
        raise TrustListMalformed(f"trust list entry {kid.hex()}: {exc}") from exc
    if kid != kid_of(key):
        raise TrustListMalformed(f"entry kid {kid.hex()} is not the kid of its key ({kid_of(key).hex()})")
    roles, compromised = _roles(raw, kid)
    try:
        grant = KeyGrant(
            key,
            _typed(raw, _REGION, str, "entry region"),
            _uint(raw, _NOT_BEFORE, "entry not-before"),
            _uint(raw, _NOT_AFTER, "entry not-after"),
            _int_set(raw.get(_KINDS), "kinds"),
            _int_set(raw.get(_STATUSES), "statuses"),
            bool(roles & ROLE_ISSUE),
            bool(roles & ROLE_DELEGATE),
            compromised,
            bool(roles & ROLE_RULES),
        )
    except TrustListMalformed as exc:
        raise TrustListMalformed(f"trust list entry {kid.hex()}: {exc.message}") from exc
    return TrustEntry(
        kid,
        alg,
        key,
        raw[_KEY],
        grant.region,
        grant.not_before,
        grant.not_after,
        grant.kinds,
        grant.statuses,
        grant.may_issue,
        grant.may_delegate,
        grant.compromised_at,
        grant.may_sign_rules,
        listed.id,
        listed.version,
        listed.signer,
        listed.issued_at,
        listed.expires_at,
        listed.delegated_by,
        verify,
    )


def parse_list_body(message: Sign1, delegated_by: bytes | None) -> TrustList:
    """The trust list in a message whose signature the caller has verified.

    ``delegated_by`` is the kid of the delegating key that signed it, or ``None`` for an
    anchor-signed list; a delegated list still needs :func:`check_delegation`.
    """
    body = open_content(
        message,
        TRUST_LIST_CONTENT_TYPE,
        "trust list",
        max_depth=_MAX_DEPTH,
        max_items=_MAX_ITEMS,
        max_bytes=MAX_LIST_BYTES,
    )
    if type(body) is not dict or set(body) != _LIST_KEYS:
        raise TrustListMalformed("trust list must be a map with exactly keys 1–6")
    if body[ListKey.FORMAT] != TRUST_LIST_FORMAT:
        raise TrustListMalformed(f"unsupported trust list format {body[ListKey.FORMAT]!r}")
    list_id = _typed(body, ListKey.ID, str, "id")
    version = _uint(body, ListKey.VERSION, "version")
    raw_entries = _typed(body, ListKey.ENTRIES, list, "entries")
    if len(raw_entries) > MAX_LIST_ENTRIES:
        raise TrustListMalformed(f"trust list holds more than {MAX_LIST_ENTRIES} entries")
    listed = _Listed(
        list_id,
        version,
        _uint(body, ListKey.ISSUED, "issue time"),
        _uint(body, ListKey.EXPIRES, "expiry time"),
        message.kid,
        delegated_by,
    )
    if version < 1 or listed.expires_at <= listed.issued_at:
        raise TrustListMalformed("trust list version must be ≥ 1 and it must expire after it is issued")
    entries = tuple(_parse_entry(raw, listed) for raw in raw_entries)
    return TrustList(
        list_id, version, listed.issued_at, listed.expires_at, message.kid, entries, delegated_by is not None
    )


def parse_trust_list(data: bytes, anchors: Iterable[Anchor]) -> TrustList:
    """Verify an anchor-signed trust list and parse it (delegated lists need a :class:`TrustStore`).

    Raises :class:`UntrustedList` when no anchor signed it and
    :class:`TrustListMalformed` when the signed content is not a valid list.
    Validity in time is checked later, at each verification.
    """
    message = open_signed(data, MAX_LIST_BYTES)
    verify_anchor(message, anchors)
    return parse_list_body(message, None)


def check_delegation(trust_list: TrustList, delegator: TrustEntry) -> TrustList:
    """``trust_list`` (signed by ``delegator``) bounded by its delegator; raise if it hands on more.

    A delegated list may only hand on what its signer holds, and is bounded by its signer's list:
    its entries take the earlier compromise time and the narrower list validity of the two.
    """
    who = delegator.kid.hex()
    if not delegator.not_before <= trust_list.issued_at <= delegator.not_after:
        raise DelegationNotAllowed(f"delegated list was issued outside delegating key {who}'s window")
    if delegator.compromised_at is not None and trust_list.issued_at >= delegator.compromised_at:
        raise DelegationNotAllowed(f"delegated list was signed after key {who} was compromised")
    entries = []
    for e in trust_list.entries:
        if e.may_delegate:
            raise DelegationNotAllowed(f"delegated entry {e.kid.hex()} may not delegate again")
        if e.may_sign_rules and not delegator.may_sign_rules:
            raise DelegationNotAllowed(f"delegated entry {e.kid.hex()} may not sign rules: {who} may not")
        if not region_contains(delegator.region, e.region):
            raise DelegationNotAllowed(
                f"entry {e.kid.hex()} region {e.region} is outside {who}'s {delegator.region}"
            )
        if not (subset_of(e.kinds, delegator.kinds) and subset_of(e.statuses, delegator.statuses)):
            raise DelegationNotAllowed(f"entry {e.kid.hex()} grants kinds or statuses {who} does not hold")
        if e.not_before < delegator.not_before or e.not_after > delegator.not_after:
            raise DelegationNotAllowed(
                f"entry {e.kid.hex()}'s window {iso_time(e.not_before)} → {iso_time(e.not_after)} is not"
                f" inside {who}'s {iso_time(delegator.not_before)} → {iso_time(delegator.not_after)}:"
                " give the delegated key a window within it (trustlist build --not-before/--not-after)"
            )
        compromised = min(
            (t for t in (e.compromised_at, delegator.compromised_at) if t is not None), default=None
        )
        entries.append(_bounded(e, delegator, compromised))
    return dataclasses.replace(trust_list, entries=tuple(entries), delegated=True)


def _bounded(e: TrustEntry, delegator: TrustEntry, compromised: int | None) -> TrustEntry:
    return dataclasses.replace(
        e,
        compromised_at=compromised,
        list_issued_at=max(e.list_issued_at, delegator.list_issued_at),
        list_expires_at=min(e.list_expires_at, delegator.list_expires_at),
        delegated_by=delegator.kid,
    )
