"""Signed trust lists, delegation, and the trust store a verifier holds.

A national root key (a *trust anchor*) signs a list of issuer keys. A key on an
anchor-signed list may be granted the *delegate* role: it then signs a list of
its own (a province delegating to its cities), whose entries must stay inside
its region, kinds, statuses and window. A verifier is configured with anchors
only; it trusts a key only through a list valid at the validation time, and
the algorithm of each key comes from its entry, never from a message header.
See ``docs/format.md`` §9 for the bytes and ``docs/trust.md`` for operations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from healthcred.crypto.algorithms import (
    Alg,
    PrivateKey,
    PublicKey,
    Verifier,
    alg_of,
    parse_alg,
    verifier_for,
)
from healthcred.crypto.cose import Sign1, Signer, open_content, parse_sign1, sign_content
from healthcred.crypto.keys import kid_of, public_key_der, public_key_from_der
from healthcred.errors import (
    AlgorithmMismatch,
    BadKey,
    BadSignature,
    DelegationNotAllowed,
    HealthCredError,
    KeyCompromised,
    KeyNotValid,
    KindNotAllowed,
    RegionNotAllowed,
    RuleSetUnavailable,
    StatusNotAllowed,
    TrustConflict,
    TrustListExpired,
    TrustListMalformed,
    TrustListNotYetValid,
    TrustListRollback,
    TrustStoreError,
    UnknownKid,
    UnsupportedAlgorithm,
    UntrustedList,
)
from healthcred.foreign.dcc.dsc import Dsc
from healthcred.foreign.shc.issuers import ShcIssuer
from healthcred.regions import NATIONAL_REGION, region_contains
from healthcred.trust.revocation import (
    RevocationList,
    RevocationSet,
    parse_revocation_body,
    revocation_hash,
)
from healthcred.trust.rulesets import SignedRuleSet, parse_rule_set_body

__all__ = [
    "ANCHORS_DIR",
    "LISTS_DIR",
    "NATIONAL_REGION",
    "REVOCATIONS_DIR",
    "RULES_DIR",
    "TRUST_LIST_CONTENT_TYPE",
    "Anchor",
    "KeyGrant",
    "Revocations",
    "TrustEntry",
    "TrustList",
    "TrustStore",
    "make_trust_list",
    "open_signed",
    "parse_trust_list",
    "permitting_entry",
    "region_contains",
    "verify_signer",
]

TRUST_LIST_CONTENT_TYPE = "application/vnd.healthcred.trustlist+cbor"
"""COSE content type of a signed trust list: keeps a list from passing for any other message."""

TRUST_LIST_FORMAT = 1
"""Version of the trust-list payload layout."""

ANCHORS_DIR = "anchors"
"""Sub-folder of a trust folder holding anchor public keys (``*.pem``)."""
LISTS_DIR = "lists"
"""Sub-folder of a trust folder holding signed trust lists (``*.cose``)."""
RULES_DIR = "rules"
"""Sub-folder of a trust folder holding signed rule sets (``*.cose``)."""
REVOCATIONS_DIR = "revocations"
"""Sub-folder of a trust folder holding signed revocation lists (``*.cose``)."""

ROLE_ISSUE = 1
"""Role bit: the key signs credentials."""
ROLE_DELEGATE = 2
"""Role bit: the key signs a delegated trust list (its entries stay within its own grant)."""
ROLE_RULES = 4
"""Role bit: the key signs rule sets (status rules, verification policies)."""

_ALLOWED_ALGS = frozenset(int(a) for a in Alg)
MAX_LIST_BYTES = 4 * 1024 * 1024
"""Largest signed trust list accepted."""
MAX_REVOCATION_BYTES = 80 * 1024 * 1024
"""Largest signed revocation list accepted (ten million 8-byte hashes)."""
_MAX_ENTRIES = 10_000
_MAX_SET = 64  # most kinds or statuses one entry may list

# Payload keys (one place): list map and entry map.
_L_FORMAT, _L_VERSION, _L_ISSUED, _L_EXPIRES, _L_ENTRIES, _L_ID = 1, 2, 3, 4, 5, 6
_E_KID, _E_ALG, _E_KEY, _E_REGION, _E_NOT_BEFORE, _E_NOT_AFTER = 1, 2, 3, 4, 5, 6
_E_KINDS, _E_STATUSES, _E_ROLES, _E_COMPROMISED = 7, 8, 9, 10
_LIST_KEYS = frozenset({_L_FORMAT, _L_VERSION, _L_ISSUED, _L_EXPIRES, _L_ENTRIES, _L_ID})
_ENTRY_REQUIRED = frozenset({_E_KID, _E_ALG, _E_KEY, _E_REGION, _E_NOT_BEFORE, _E_NOT_AFTER})
_ENTRY_OPTIONAL = frozenset({_E_KINDS, _E_STATUSES, _E_ROLES, _E_COMPROMISED})


def _within(inner: frozenset[int] | None, outer: frozenset[int] | None) -> bool:
    # None means "any"; a restricted grant cannot hand on an unrestricted one.
    return outer is None or (inner is not None and inner <= outer)


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """One key to put on a trust list: what it may do, for which region, and when.

    ``kinds`` and ``statuses`` restrict the credential kinds and status codes the
    key may issue (``None``: any). ``compromised_at``: codes issued at or after
    this time are refused, while earlier ones stay valid.
    """

    public_key: PublicKey
    region: str
    not_before: int
    not_after: int
    kinds: frozenset[int] | None = None
    statuses: frozenset[int] | None = None
    may_issue: bool = True
    may_delegate: bool = False
    compromised_at: int | None = None
    may_sign_rules: bool = False

    def __post_init__(self) -> None:
        if not (len(self.region) == 6 and self.region.isascii() and self.region.isdigit()):
            raise TrustListMalformed(f"region {self.region!r} is not a 6-digit GB/T 2260 code")
        if self.not_after <= self.not_before:
            raise TrustListMalformed("a key's validity must end after it starts")
        if not (self.may_issue or self.may_delegate or self.may_sign_rules):
            raise TrustListMalformed("a key must be granted at least one role (issue, delegate, rules)")
        for name, values in (("kinds", self.kinds), ("statuses", self.statuses)):
            if values is not None and (not values or len(values) > _MAX_SET or min(values) < 0):
                raise TrustListMalformed(f"{name} must be 1–{_MAX_SET} unsigned integers, or absent")


@dataclass(frozen=True, slots=True)
class TrustEntry:
    """A trusted key with its grant, and the list that vouches for it."""

    kid: bytes
    alg: Alg
    public_key: PublicKey = field(repr=False)
    key_der: bytes = field(repr=False)
    region: str
    not_before: int
    not_after: int
    kinds: frozenset[int] | None
    statuses: frozenset[int] | None
    may_issue: bool
    may_delegate: bool
    compromised_at: int | None
    may_sign_rules: bool
    list_id: str
    list_version: int
    list_signer: bytes
    list_issued_at: int
    list_expires_at: int
    delegated_by: bytes | None
    verify: Verifier = field(repr=False, compare=False)

    def check(self, region: str, issued: int, kind: int, status: int | None, what: str = "code") -> None:
        """Raise unless this grant covers a ``what`` of this kind (and status), region and issue time.

        ``status`` is ``None`` for objects that carry none (place codes, bindings: their ``kind`` is a
        grant kind, ``docs/format.md`` §9.1).
        """
        if not self.may_issue:
            raise KindNotAllowed(f"key {self.kid.hex()} has no issue role, so it may not sign a {what}")
        if not region_contains(self.region, region):
            raise RegionNotAllowed(f"key {self.kid.hex()} may sign for region {self.region}, not {region}")
        if self.compromised_at is not None and issued >= self.compromised_at:
            raise KeyCompromised(
                f"{what} was issued after key {self.kid.hex()} was compromised (epoch {self.compromised_at})"
            )
        if not self.not_before <= issued <= self.not_after:
            raise KeyNotValid(f"{what} was issued at epoch {issued}, outside key {self.kid.hex()}'s validity")
        if self.kinds is not None and kind not in self.kinds:
            raise KindNotAllowed(f"key {self.kid.hex()} may not sign a {what} of kind {kind}")
        if status is not None and self.statuses is not None and status not in self.statuses:
            raise StatusNotAllowed(f"key {self.kid.hex()} may not issue status {status}")

    def grant(self) -> KeyGrant:
        """The grant this entry carries (to rebuild or edit a list)."""
        return KeyGrant(
            self.public_key,
            self.region,
            self.not_before,
            self.not_after,
            self.kinds,
            self.statuses,
            self.may_issue,
            self.may_delegate,
            self.compromised_at,
            self.may_sign_rules,
        )


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


def permitting_entry(
    entries: tuple[TrustEntry, ...],
    *,
    region: str,
    issued: int,
    kind: int,
    status: int | None = None,
    what: str = "code",
) -> TrustEntry:
    """The first of ``entries`` (keys that verified a signature) whose grant covers the object.

    One key listed twice is a union of its grants (unless they conflict); if none covers it,
    the first entry's reason is raised.
    """
    first: HealthCredError | None = None
    for entry in entries:
        try:
            entry.check(region, issued, kind, status, what)
        except HealthCredError as exc:
            first = first or exc
            continue
        return entry
    if first is None:
        raise UnknownKid(f"no trusted key vouches for this {what}")
    raise first


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
    entries = []
    for g in grants:
        entry: dict[int, Any] = {
            _E_KID: kid_of(g.public_key),
            _E_ALG: int(alg_of(g.public_key)),
            _E_KEY: public_key_der(g.public_key),
            _E_REGION: g.region,
            _E_NOT_BEFORE: g.not_before,
            _E_NOT_AFTER: g.not_after,
        }
        if g.kinds is not None:
            entry[_E_KINDS] = sorted(g.kinds)
        if g.statuses is not None:
            entry[_E_STATUSES] = sorted(g.statuses)
        roles = (
            (ROLE_ISSUE if g.may_issue else 0)
            | (ROLE_DELEGATE if g.may_delegate else 0)
            | (ROLE_RULES if g.may_sign_rules else 0)
        )
        if roles != ROLE_ISSUE:
            entry[_E_ROLES] = roles
        if g.compromised_at is not None:
            entry[_E_COMPROMISED] = g.compromised_at
        entries.append(entry)
    payload = {
        _L_FORMAT: TRUST_LIST_FORMAT,
        _L_VERSION: version,
        _L_ISSUED: issued_at,
        _L_EXPIRES: expires_at,
        _L_ENTRIES: entries,
        _L_ID: list_id,
    }
    return sign_content(payload, signer, TRUST_LIST_CONTENT_TYPE)


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
    if type(raw) is not list or not 0 < len(raw) <= _MAX_SET or any(type(v) is not int or v < 0 for v in raw):
        raise TrustListMalformed(f"entry {what} must be a list of 1–{_MAX_SET} unsigned integers")
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


def _parse_entry(raw: Any, listed: _Listed) -> TrustEntry:
    if type(raw) is not dict or not _ENTRY_REQUIRED <= set(raw) <= _ENTRY_REQUIRED | _ENTRY_OPTIONAL:
        raise TrustListMalformed("trust list entry must be a map with keys 1–6 and optionally 7–10")
    kid = _typed(raw, _E_KID, bytes, "entry kid")
    try:
        alg = parse_alg(raw[_E_ALG])
        key = public_key_from_der(_typed(raw, _E_KEY, bytes, "entry key"))
        if alg_of(key) is not alg:
            raise TrustListMalformed(f"entry {kid.hex()} names {alg.label} for a {alg_of(key).label} key")
        verify = verifier_for(alg, key)
    except (BadKey, UnsupportedAlgorithm) as exc:
        raise TrustListMalformed(f"trust list entry {kid.hex()}: {exc}") from exc
    if kid != kid_of(key):
        raise TrustListMalformed(f"entry kid {kid.hex()} is not the kid of its key ({kid_of(key).hex()})")
    roles = raw.get(_E_ROLES, ROLE_ISSUE)
    if type(roles) is not int or not 1 <= roles <= 7:
        raise TrustListMalformed(
            f"entry {kid.hex()} roles must be a sum of 1 (issue), 2 (delegate), 4 (rules)"
        )
    compromised = raw.get(_E_COMPROMISED)
    if compromised is not None and (type(compromised) is not int or compromised < 0):
        raise TrustListMalformed(f"entry {kid.hex()} compromise time must be an unsigned integer")
    try:
        grant = KeyGrant(
            key,
            _typed(raw, _E_REGION, str, "entry region"),
            _uint(raw, _E_NOT_BEFORE, "entry not-before"),
            _uint(raw, _E_NOT_AFTER, "entry not-after"),
            _int_set(raw.get(_E_KINDS), "kinds"),
            _int_set(raw.get(_E_STATUSES), "statuses"),
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
        raw[_E_KEY],
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


def open_signed(data: bytes, limit: int = MAX_LIST_BYTES) -> Sign1:
    """Parse a signed list's COSE envelope (size-bounded); its signature is not checked here."""
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


def _parse_body(message: Sign1, delegated_by: bytes | None) -> TrustList:
    body = open_content(message, TRUST_LIST_CONTENT_TYPE, "trust list")
    if type(body) is not dict or set(body) != _LIST_KEYS:
        raise TrustListMalformed("trust list must be a map with exactly keys 1–6")
    if body[_L_FORMAT] != TRUST_LIST_FORMAT:
        raise TrustListMalformed(f"unsupported trust list format {body[_L_FORMAT]!r}")
    list_id = _typed(body, _L_ID, str, "id")
    version = _uint(body, _L_VERSION, "version")
    raw_entries = _typed(body, _L_ENTRIES, list, "entries")
    if len(raw_entries) > _MAX_ENTRIES:
        raise TrustListMalformed(f"trust list holds more than {_MAX_ENTRIES} entries")
    listed = _Listed(
        list_id,
        version,
        _uint(body, _L_ISSUED, "issue time"),
        _uint(body, _L_EXPIRES, "expiry time"),
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
    message = open_signed(data)
    verify_signer(
        message, [(a.kid, a.alg, a.verify) for a in anchors if a.kid == message.kid], "a trust anchor"
    )
    return _parse_body(message, None)


def _check_delegation(trust_list: TrustList, delegator: TrustEntry) -> TrustList:
    # A delegated list may only hand on what its signer holds, and is bounded by its signer's list.
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
        if not (_within(e.kinds, delegator.kinds) and _within(e.statuses, delegator.statuses)):
            raise DelegationNotAllowed(f"entry {e.kid.hex()} grants kinds or statuses {who} does not hold")
        if e.not_before < delegator.not_before or e.not_after > delegator.not_after:
            raise DelegationNotAllowed(f"entry {e.kid.hex()} validity exceeds {who}'s")
        compromised = min(
            (t for t in (e.compromised_at, delegator.compromised_at) if t is not None), default=None
        )
        entries.append(_bounded(e, delegator, compromised))
    return TrustList(
        trust_list.id,
        trust_list.version,
        trust_list.issued_at,
        trust_list.expires_at,
        trust_list.signer_kid,
        tuple(entries),
        True,
    )


def _bounded(e: TrustEntry, delegator: TrustEntry, compromised: int | None) -> TrustEntry:
    return dataclasses.replace(
        e,
        compromised_at=compromised,
        list_issued_at=max(e.list_issued_at, delegator.list_issued_at),
        list_expires_at=min(e.list_expires_at, delegator.list_expires_at),
        delegated_by=delegator.kid,
    )


@dataclass(frozen=True, slots=True)
class Revocations:
    """The folded state of one revocation series: which credentials it revokes, where."""

    series: str
    scope: str
    version: int
    issued_at: int
    expires_at: int
    hashes: RevocationSet = field(repr=False)


class TrustStore:
    """Anchors plus the trust lists they vouch for, indexed by kid. Immutable once built.

    Of several lists in one series (same signer and list id) only the highest
    version counts. ``seen`` maps series to the highest version this verifier
    accepted before (see :mod:`healthcred.trust.state`): an older list is a
    rollback and refused. Conflicting grants of one key (different region or
    algorithm) are kept in :attr:`conflicts`, and that key verifies nothing.

    Foreign trust sits beside the native lists: ``dscs`` (X.509 document
    signer certificates, for EU DCCs) and ``shc_issuers`` (SMART Health Card
    issuers: ``iss`` URL, JWKS and revocation list). They are trusted as given
    — loaded by the operator from files, or from a bundle an anchor signed.
    """

    __slots__ = (
        "_index",
        "anchors",
        "conflicts",
        "dscs",
        "lists",
        "raw_lists",
        "raw_revocations",
        "raw_rule_sets",
        "revocations",
        "rule_sets",
        "shc_issuers",
    )

    def __init__(
        self,
        anchors: Iterable[PublicKey | Anchor],
        lists: Iterable[bytes] = (),
        revocations: Iterable[bytes] = (),
        rule_sets: Iterable[bytes] = (),
        *,
        seen: Mapping[str, int] | None = None,
        dscs: Iterable[Dsc] = (),
        shc_issuers: Iterable[ShcIssuer] = (),
    ) -> None:
        """Verify every trust list, revocation list and rule set (signed bytes); any failure raises.

        A store needs a trust anchor, unless it holds only foreign trust (DSCs, SHC issuers).
        """
        self.anchors: tuple[Anchor, ...] = tuple(
            a if isinstance(a, Anchor) else Anchor.from_key(a) for a in anchors
        )
        self.dscs: tuple[Dsc, ...] = tuple(dscs)
        self.shc_issuers: tuple[ShcIssuer, ...] = tuple(shc_issuers)
        if any(not isinstance(d, Dsc) for d in self.dscs) or any(
            not isinstance(i, ShcIssuer) for i in self.shc_issuers
        ):
            raise TrustStoreError("dscs must be Dsc and shc_issuers ShcIssuer objects (see load_trust)")
        self.raw_lists: tuple[bytes, ...] = tuple(lists)
        revocations, rule_sets = tuple(revocations), tuple(rule_sets)
        if not self.anchors and (
            self.raw_lists or revocations or rule_sets or not (self.dscs or self.shc_issuers)
        ):
            raise TrustStoreError("a trust store needs at least one trust anchor")
        anchor_kids = {a.kid for a in self.anchors}
        opened = [open_signed(data) for data in self.raw_lists]
        rooted = [
            _parse_body(m, None) for m in opened if m.kid in anchor_kids and _verify_anchor(m, self.anchors)
        ]
        rooted = _newest(rooted, seen, "trust list")
        delegators: dict[bytes, list[TrustEntry]] = {}
        for trust_list in rooted:
            for entry in trust_list.entries:
                if entry.may_delegate:
                    delegators.setdefault(entry.kid, []).append(entry)
        delegated = []
        for message in opened:
            if message.kid in anchor_kids:
                continue
            candidates = delegators.get(message.kid, [])
            if not candidates:
                raise UntrustedList(
                    f"trust list is signed by key {message.kid.hex()}, which is neither a trust anchor "
                    "nor a key granted the delegate role"
                )
            signer = verify_signer(
                message, [(e.kid, e.alg, e.verify) for e in candidates], "its delegating key"
            )
            parsed = _parse_body(message, signer)
            delegated.append(_check_delegation(parsed, candidates[0]))
        self.lists: tuple[TrustList, ...] = (*rooted, *_newest(delegated, seen, "trust list"))
        index: dict[bytes, list[TrustEntry]] = {}
        for trust_list in self.lists:
            for entry in trust_list.entries:
                index.setdefault(entry.kid, []).append(entry)
        self._index: dict[bytes, tuple[TrustEntry, ...]] = {k: tuple(v) for k, v in index.items()}
        self.conflicts: dict[bytes, str] = {
            kid: why for kid, entries in self._index.items() if (why := _conflict(entries)) is not None
        }
        self.raw_revocations: tuple[bytes, ...] = tuple(revocations)
        self.revocations: tuple[Revocations, ...] = self._fold_revocations(seen)
        self.raw_rule_sets: tuple[bytes, ...] = tuple(rule_sets)
        self.rule_sets: tuple[SignedRuleSet, ...] = self._newest_rule_sets(seen)

    def _newest_rule_sets(self, seen: Mapping[str, int] | None) -> tuple[SignedRuleSet, ...]:
        # Signed by an anchor or a key granted the rules role; the newest version of each series.
        parsed = []
        for data in self.raw_rule_sets:
            message = open_signed(data)
            candidates = [(a.kid, a.alg, a.verify) for a in self.anchors if a.kid == message.kid]
            candidates += [
                (e.kid, e.alg, e.verify) for e in self._index.get(message.kid, ()) if e.may_sign_rules
            ]
            verify_signer(message, candidates, "a trust anchor or a key granted the rules role")
            parsed.append(parse_rule_set_body(message))
        return tuple(_newest(parsed, seen, "rule set"))

    def rule_set(self, kind: str, at: int) -> SignedRuleSet:
        """The newest signed rule set of ``kind`` (``status`` or ``policy``) valid at ``at``.

        Raises :class:`RuleSetUnavailable` when there is none: a verifier never
        falls back to unsigned or expired rules.
        """
        valid = [r for r in self.rule_sets if r.kind == kind and r.issued_at <= at <= r.expires_at]
        if not valid:
            known = [r for r in self.rule_sets if r.kind == kind]
            why = "all have expired or are not valid yet" if known else "none is installed"
            raise RuleSetUnavailable(f"no signed {kind} rule set is valid now: {why}")
        return max(valid, key=lambda r: (r.issued_at, r.version))

    def _revocation_signer(self, message: Sign1) -> str:
        # An anchor revokes anywhere; an issuer key revokes within its own region.
        anchors = [(a.kid, a.alg, a.verify) for a in self.anchors if a.kid == message.kid]
        if anchors:
            verify_signer(message, anchors, "a trust anchor")
            return NATIONAL_REGION
        issuers = [e for e in self._index.get(message.kid, ()) if e.may_issue]
        verify_signer(
            message, [(e.kid, e.alg, e.verify) for e in issuers], "a trust anchor or a listed issuer key"
        )
        regions = {e.region for e in issuers}
        if len(regions) != 1:
            raise TrustConflict(
                f"revocation signer {message.kid.hex()} holds several regions: {sorted(regions)}"
            )
        return regions.pop()

    def _fold_revocations(self, seen: Mapping[str, int] | None) -> tuple[Revocations, ...]:
        series: dict[str, tuple[str, list[RevocationList]]] = {}
        for data in self.raw_revocations:
            message = open_signed(data, MAX_REVOCATION_BYTES)
            scope = self._revocation_signer(message)
            parsed = parse_revocation_body(message)
            series.setdefault(parsed.series, (scope, []))[1].append(parsed)
        folded = []
        for name, (scope, versions) in series.items():
            versions.sort(key=lambda r: r.version)
            if len({r.version for r in versions}) != len(versions):
                raise TrustConflict(f"revocation series {name} holds two lists with one version")
            start = max((i for i, r in enumerate(versions) if r.base == 0), default=None)
            if start is None:
                raise TrustListMalformed(f"revocation series {name} has deltas but no full list")
            current = RevocationSet(versions[start].added)
            version = versions[start].version
            for delta in versions[start + 1 :]:
                if delta.base != version:
                    raise TrustListMalformed(
                        f"revocation delta v{delta.version} of {name} builds on v{delta.base}, not v{version}"
                    )
                current, version = current.apply(delta.added, delta.removed), delta.version
            floor = (seen or {}).get(name, 0)
            if version < floor:
                raise TrustListRollback(
                    f"revocation list {name} v{version} is older than v{floor} already accepted"
                )
            latest = versions[-1]
            folded.append(Revocations(name, scope, version, latest.issued_at, latest.expires_at, current))
        return tuple(folded)

    def is_revoked(self, credential_id: bytes, region: str) -> bool:
        """Whether a revocation list that covers ``region`` names this credential id."""
        if not self.revocations:
            return False
        value = revocation_hash(credential_id)
        for revocations in self.revocations:
            if revocations.hashes.contains(value) and region_contains(revocations.scope, region):
                return True
        return False

    @property
    def versions(self) -> dict[str, int]:
        """Series → version of every trust list, revocation list and rule set in use (for the state file)."""
        return {
            **{t.series: t.version for t in self.lists},
            **{r.series: r.version for r in self.revocations},
            **{r.series: r.version for r in self.rule_sets},
        }

    def _with(
        self,
        *,
        lists: Iterable[bytes] = (),
        revocations: Iterable[bytes] = (),
        rule_sets: Iterable[bytes] = (),
        dscs: Iterable[Dsc] = (),
        shc_issuers: Iterable[ShcIssuer] = (),
        seen: Mapping[str, int] | None = None,
    ) -> TrustStore:
        # Everything this store holds plus the additions, verified again from the signed bytes.
        return TrustStore(
            self.anchors,
            (*self.raw_lists, *lists),
            (*self.raw_revocations, *revocations),
            (*self.raw_rule_sets, *rule_sets),
            seen=seen,
            dscs=(*self.dscs, *dscs),
            shc_issuers=(*self.shc_issuers, *shc_issuers),
        )

    def with_list(self, data: bytes, *, seen: Mapping[str, int] | None = None) -> TrustStore:
        """A new store with one more signed trust list (the old store is unchanged)."""
        return self._with(lists=[data], seen=seen)

    def with_revocations(self, data: bytes, *, seen: Mapping[str, int] | None = None) -> TrustStore:
        """A new store with one more signed revocation list (full or delta)."""
        return self._with(revocations=[data], seen=seen)

    def with_rule_set(self, data: bytes, *, seen: Mapping[str, int] | None = None) -> TrustStore:
        """A new store with one more signed rule set."""
        return self._with(rule_sets=[data], seen=seen)

    def with_foreign(self, *, dscs: Iterable[Dsc] = (), shc_issuers: Iterable[ShcIssuer] = ()) -> TrustStore:
        """A new store with more foreign trust: DSCs for EU DCCs, issuers for SMART Health Cards."""
        return self._with(dscs=dscs, shc_issuers=shc_issuers)

    def entries(self, kid: bytes) -> tuple[TrustEntry, ...]:
        """Every trusted entry with this kid, from any list in use (valid now or not)."""
        return self._index.get(kid, ())

    def resolve(self, message: Sign1, at: int, grace: int = 0) -> tuple[TrustEntry, ...]:
        """Every entry whose key verifies ``message``, from lists valid at ``at`` (epoch seconds).

        A list counts as valid up to ``grace`` seconds past its expiry. Every
        entry with the kid is tried, using the algorithm the entry fixes; a kid
        match alone proves nothing. Each distinct key verifies once. Raises
        :class:`UnsupportedAlgorithm`, :class:`UnknownKid`, :class:`TrustConflict`,
        :class:`TrustListExpired`, :class:`TrustListNotYetValid`,
        :class:`AlgorithmMismatch` or :class:`BadSignature`.
        """
        if message.alg not in _ALLOWED_ALGS:
            raise UnsupportedAlgorithm(f"header alg {message.alg} is not allowed (allowed: ES256, EdDSA)")
        entries = self._index.get(message.kid)
        if not entries:
            raise UnknownKid(f"no trusted key has kid {message.kid.hex()}")
        if message.kid in self.conflicts:
            raise TrustConflict(f"kid {message.kid.hex()}: {self.conflicts[message.kid]}")
        if len(entries) == 1:  # the usual case, without the bookkeeping below
            only = entries[0]
            if only.list_issued_at <= at <= only.list_expires_at + grace and only.alg == message.alg:
                only.verify(message.to_be_signed(), message.signature)
                return entries
        live = [e for e in entries if e.list_issued_at <= at <= e.list_expires_at + grace]
        if not live:
            if any(at > e.list_expires_at for e in entries):
                raise TrustListExpired(
                    f"the trust list holding kid {message.kid.hex()} expired; update the trust lists"
                )
            raise TrustListNotYetValid(
                f"the trust list holding kid {message.kid.hex()} is not valid yet (check the clock)"
            )
        matching = [e for e in live if e.alg == message.alg]
        if not matching:
            raise AlgorithmMismatch(
                f"header alg {message.alg} is not the algorithm trusted for kid {message.kid.hex()}"
            )
        to_be_signed = message.to_be_signed()
        verdicts: dict[bytes, bool] = {}
        for entry in matching:
            if entry.key_der not in verdicts:
                try:
                    entry.verify(to_be_signed, message.signature)
                    verdicts[entry.key_der] = True
                except BadSignature:
                    verdicts[entry.key_der] = False
        verified = tuple(e for e in matching if verdicts[e.key_der])
        if not verified:
            raise BadSignature(f"signature does not verify with any trusted key of kid {message.kid.hex()}")
        return verified


class _Versioned(Protocol):
    @property
    def series(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def id(self) -> str: ...


V = TypeVar("V", bound=_Versioned)


def _newest(items: Iterable[V], seen: Mapping[str, int] | None, what: str) -> list[V]:
    # The highest version of each series wins; older ones beside it are superseded. Only the newest
    # must reach the version already accepted (else a rollback); two different items may not share one.
    newest: dict[str, V] = {}
    for item in items:
        current = newest.get(item.series)
        if current is not None and current.version == item.version and current != item:
            raise TrustConflict(f"two different {what}s {item.id!r} claim version {item.version}")
        if current is None or item.version > current.version:
            newest[item.series] = item
    for item in newest.values():
        floor = (seen or {}).get(item.series, 0)
        if item.version < floor:
            raise TrustListRollback(
                f"{what} {item.id!r} version {item.version} is older than version {floor} already accepted: "
                "refusing a rollback"
            )
    return list(newest.values())


def _verify_anchor(message: Sign1, anchors: tuple[Anchor, ...]) -> bool:
    verify_signer(
        message, [(a.kid, a.alg, a.verify) for a in anchors if a.kid == message.kid], "a trust anchor"
    )
    return True


def _conflict(entries: tuple[TrustEntry, ...]) -> str | None:
    # Same key granted different regions or algorithms by different lists: ambiguous, never guessed.
    by_key: dict[bytes, set[tuple[str, int]]] = {}
    for e in entries:
        by_key.setdefault(e.key_der, set()).add((e.region, int(e.alg)))
    for grants in by_key.values():
        if len(grants) > 1:
            regions = ", ".join(sorted(f"{r} ({Alg(a).label})" for r, a in grants))
            return f"the same key is granted different regions or algorithms: {regions}"
    return None
