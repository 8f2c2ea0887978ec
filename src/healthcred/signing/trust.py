"""Signed trust lists and the trust store a verifier holds.

A national root key (a *trust anchor*) signs a list of regional issuer keys.
A verifier is configured with anchors only; it accepts a list only if an
anchor's signature on it verifies, and it trusts a key only through a list
that is valid at the validation time. The algorithm of each key comes from
its entry, never from a message header. See ``docs/format.md`` for the bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthcred.codec.cbor import dumps, loads
from healthcred.errors import (
    AlgorithmMismatch,
    BadKey,
    BadSignature,
    HealthCredError,
    TrustListExpired,
    TrustListMalformed,
    TrustListNotYetValid,
    TrustStoreError,
    UnknownKid,
    UnsupportedAlgorithm,
    UntrustedList,
)
from healthcred.signing.algorithms import (
    Alg,
    PrivateKey,
    PublicKey,
    Verifier,
    alg_of,
    parse_alg,
    verifier_for,
)
from healthcred.signing.cose import Sign1, parse_sign1, sign1
from healthcred.signing.keys import kid_of, load_public_key, public_key_der, public_key_from_der

__all__ = [
    "ANCHORS_DIR",
    "LISTS_DIR",
    "NATIONAL_REGION",
    "TRUST_LIST_CONTENT_TYPE",
    "Anchor",
    "KeyGrant",
    "TrustEntry",
    "TrustList",
    "TrustStore",
    "load_trust",
    "make_trust_list",
    "region_contains",
]

TRUST_LIST_CONTENT_TYPE = "application/vnd.healthcred.trustlist+cbor"
"""COSE content type of a signed trust list: keeps a list from passing for any other message."""

TRUST_LIST_FORMAT = 1
"""Version of the trust-list payload layout."""

NATIONAL_REGION = "000000"
"""Region of a key the national platform holds: it covers every region."""

ANCHORS_DIR = "anchors"
"""Sub-folder of a trust folder holding anchor public keys (``*.pem``)."""
LISTS_DIR = "lists"
"""Sub-folder of a trust folder holding signed trust lists (``*.cose``)."""

_ALLOWED_ALGS = frozenset(int(a) for a in Alg)
_MAX_LIST_BYTES = 4 * 1024 * 1024
_MAX_ENTRIES = 10_000

# Payload keys (one place): list map and entry map.
_L_FORMAT, _L_VERSION, _L_ISSUED, _L_EXPIRES, _L_ENTRIES = 1, 2, 3, 4, 5
_E_KID, _E_ALG, _E_KEY, _E_REGION, _E_NOT_BEFORE, _E_NOT_AFTER = 1, 2, 3, 4, 5, 6


def region_contains(scope: str, region: str) -> bool:
    """Whether a key scoped to ``scope`` may issue for ``region`` (GB/T 2260 hierarchy).

    ``000000`` covers all; ``330000`` (a province) covers ``33xxxx``; ``330100``
    (a city) covers ``3301xx``; any other code covers only itself.
    """
    if scope == NATIONAL_REGION:
        return True
    if scope.endswith("0000"):
        return region[:2] == scope[:2]
    if scope.endswith("00"):
        return region[:4] == scope[:4]
    return region == scope


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """One issuer key to put on a trust list: what it may issue for, and when."""

    public_key: PublicKey
    region: str
    not_before: int
    not_after: int

    def __post_init__(self) -> None:
        if not (len(self.region) == 6 and self.region.isascii() and self.region.isdigit()):
            raise TrustListMalformed(f"region {self.region!r} is not a 6-digit GB/T 2260 code")
        if self.not_after <= self.not_before:
            raise TrustListMalformed("a key's validity must end after it starts")


@dataclass(frozen=True, slots=True)
class TrustEntry:
    """A trusted issuer key, with the list that vouches for it."""

    kid: bytes
    alg: Alg
    public_key: PublicKey = field(repr=False)
    key_der: bytes = field(repr=False)
    region: str
    not_before: int
    not_after: int
    list_version: int
    list_issued_at: int
    list_expires_at: int
    verify: Verifier = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list: its version, validity, signer and entries."""

    version: int
    issued_at: int
    expires_at: int
    signer_kid: bytes
    entries: tuple[TrustEntry, ...]


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


def make_trust_list(
    root_key: PrivateKey,
    grants: Iterable[KeyGrant],
    *,
    version: int,
    issued_at: int,
    expires_at: int,
) -> bytes:
    """Build and sign a trust list with ``root_key``; returns the COSE_Sign1 bytes."""
    if version < 1 or expires_at <= issued_at:
        raise TrustListMalformed("version must be ≥ 1 and the list must expire after it is issued")
    entries = [
        {
            _E_KID: kid_of(g.public_key),
            _E_ALG: int(alg_of(g.public_key)),
            _E_KEY: public_key_der(g.public_key),
            _E_REGION: g.region,
            _E_NOT_BEFORE: g.not_before,
            _E_NOT_AFTER: g.not_after,
        }
        for g in grants
    ]
    payload = {
        _L_FORMAT: TRUST_LIST_FORMAT,
        _L_VERSION: version,
        _L_ISSUED: issued_at,
        _L_EXPIRES: expires_at,
        _L_ENTRIES: entries,
    }
    return sign1(dumps(payload), root_key, content_type=TRUST_LIST_CONTENT_TYPE)


def _field(m: Mapping[int, Any], key: int, kind: type, what: str) -> Any:
    value: Any = m.get(key)
    if type(value) is not kind or (isinstance(value, int) and value < 0):
        expected = "an unsigned integer" if kind is int else f"a {kind.__name__}"
        raise TrustListMalformed(f"trust list {what} is missing or not {expected}")
    return value


def _parse_entry(raw: Any, listed: tuple[int, int, int]) -> TrustEntry:
    if type(raw) is not dict or set(raw) != {_E_KID, _E_ALG, _E_KEY, _E_REGION, _E_NOT_BEFORE, _E_NOT_AFTER}:
        raise TrustListMalformed("trust list entry must be a map with exactly keys 1–6")
    kid = _field(raw, _E_KID, bytes, "entry kid")
    try:
        alg = parse_alg(raw[_E_ALG])
        key = public_key_from_der(_field(raw, _E_KEY, bytes, "entry key"))
        if alg_of(key) is not alg:
            raise TrustListMalformed(f"entry {kid.hex()} names {alg.label} for a {alg_of(key).label} key")
        verify = verifier_for(alg, key)
    except (BadKey, UnsupportedAlgorithm) as exc:
        raise TrustListMalformed(f"trust list entry {kid.hex()}: {exc}") from exc
    if kid != kid_of(key):
        raise TrustListMalformed(f"entry kid {kid.hex()} is not the kid of its key ({kid_of(key).hex()})")
    region = _field(raw, _E_REGION, str, "entry region")
    not_before = _field(raw, _E_NOT_BEFORE, int, "entry not-before")
    not_after = _field(raw, _E_NOT_AFTER, int, "entry not-after")
    try:
        KeyGrant(key, region, not_before, not_after)
    except TrustListMalformed as exc:
        raise TrustListMalformed(f"trust list entry {kid.hex()}: {exc.message}") from exc
    return TrustEntry(kid, alg, key, raw[_E_KEY], region, not_before, not_after, *listed, verify)


def _verify_signed_by_anchor(message: Sign1, anchors: Iterable[Anchor]) -> Anchor:
    candidates = [a for a in anchors if a.kid == message.kid]
    if not candidates:
        raise UntrustedList(f"trust list is signed by key {message.kid.hex()}, which is not a trust anchor")
    for anchor in candidates:
        if anchor.alg != message.alg:
            continue
        try:
            anchor.verify(message.to_be_signed(), message.signature)
        except BadSignature:
            continue
        return anchor
    if all(anchor.alg != message.alg for anchor in candidates):
        raise AlgorithmMismatch(f"trust list header alg {message.alg} is not its anchor's algorithm")
    raise UntrustedList("trust list signature does not verify with any trust anchor (tampered?)")


def parse_trust_list(data: bytes, anchors: Iterable[Anchor]) -> TrustList:
    """Verify a signed trust list against ``anchors`` and parse it.

    Raises :class:`UntrustedList` when no anchor signed it and
    :class:`TrustListMalformed` when the signed content is not a valid list.
    Validity in time is checked later, at each verification.
    """
    if len(data) > _MAX_LIST_BYTES:
        raise TrustListMalformed(f"trust list is larger than {_MAX_LIST_BYTES} bytes")
    try:
        message = parse_sign1(data)
    except HealthCredError as exc:
        raise TrustListMalformed(f"trust list is not a COSE_Sign1: {exc.message}") from exc
    anchor = _verify_signed_by_anchor(message, anchors)
    if message.content_type != TRUST_LIST_CONTENT_TYPE:
        raise TrustListMalformed(
            f"signed message is not a trust list (content type {message.content_type!r})"
        )
    try:
        body = loads(message.payload, "trust list")
    except HealthCredError as exc:
        raise TrustListMalformed(exc.message) from exc
    if type(body) is not dict or set(body) != {_L_FORMAT, _L_VERSION, _L_ISSUED, _L_EXPIRES, _L_ENTRIES}:
        raise TrustListMalformed("trust list must be a map with exactly keys 1–5")
    if body[_L_FORMAT] != TRUST_LIST_FORMAT:
        raise TrustListMalformed(f"unsupported trust list format {body[_L_FORMAT]!r}")
    version = _field(body, _L_VERSION, int, "version")
    issued = _field(body, _L_ISSUED, int, "issue time")
    expires = _field(body, _L_EXPIRES, int, "expiry time")
    raw_entries = _field(body, _L_ENTRIES, list, "entries")
    if len(raw_entries) > _MAX_ENTRIES:
        raise TrustListMalformed(f"trust list holds more than {_MAX_ENTRIES} entries")
    entries = tuple(_parse_entry(raw, (version, issued, expires)) for raw in raw_entries)
    return TrustList(version, issued, expires, anchor.kid, entries)


class TrustStore:
    """Anchors plus the trust lists they vouch for, indexed by kid. Immutable once built."""

    __slots__ = ("_index", "anchors", "lists")

    def __init__(self, anchors: Iterable[PublicKey | Anchor], lists: Iterable[bytes] = ()) -> None:
        """Verify every list in ``lists`` (signed bytes) against ``anchors``; any failure raises."""
        self.anchors: tuple[Anchor, ...] = tuple(
            a if isinstance(a, Anchor) else Anchor.from_key(a) for a in anchors
        )
        if not self.anchors:
            raise TrustStoreError("a trust store needs at least one trust anchor")
        self.lists: tuple[TrustList, ...] = tuple(parse_trust_list(data, self.anchors) for data in lists)
        index: dict[bytes, list[TrustEntry]] = {}
        for trust_list in self.lists:
            for entry in trust_list.entries:
                index.setdefault(entry.kid, []).append(entry)
        self._index: dict[bytes, tuple[TrustEntry, ...]] = {k: tuple(v) for k, v in index.items()}

    def with_list(self, data: bytes) -> TrustStore:
        """A new store with one more signed list (the old store is unchanged)."""
        store = TrustStore(self.anchors)
        store.lists = (*self.lists, parse_trust_list(data, self.anchors))
        store._index = dict(self._index)
        for entry in store.lists[-1].entries:
            store._index[entry.kid] = (*store._index.get(entry.kid, ()), entry)
        return store

    def entries(self, kid: bytes) -> tuple[TrustEntry, ...]:
        """Every trusted entry with this kid, from any list (valid or not)."""
        return self._index.get(kid, ())

    def resolve(self, message: Sign1, at: int) -> tuple[TrustEntry, ...]:
        """Every entry whose key verifies ``message``, from lists valid at ``at`` (epoch seconds).

        Every entry with the kid is tried, using the algorithm the entry fixes; a
        kid match alone proves nothing. Several entries are returned when one key
        is granted more than once (say by a bilateral and the national list): the
        caller accepts the code if any of them permits it. Each distinct key
        verifies once. Raises :class:`UnsupportedAlgorithm`, :class:`UnknownKid`,
        :class:`TrustListExpired`, :class:`TrustListNotYetValid`,
        :class:`AlgorithmMismatch` or :class:`BadSignature`.
        """
        if message.alg not in _ALLOWED_ALGS:
            raise UnsupportedAlgorithm(f"header alg {message.alg} is not allowed (allowed: ES256, EdDSA)")
        entries = self._index.get(message.kid)
        if not entries:
            raise UnknownKid(f"no trusted key has kid {message.kid.hex()}")
        if len(entries) == 1:  # the usual case, without the bookkeeping below
            only = entries[0]
            if only.list_issued_at <= at <= only.list_expires_at and only.alg == message.alg:
                only.verify(message.to_be_signed(), message.signature)
                return entries
        live = [e for e in entries if e.list_issued_at <= at <= e.list_expires_at]
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


def load_trust(path: str | os.PathLike[str]) -> TrustStore:
    """Load a trust folder: ``anchors/*.pem`` (root public keys) and ``lists/*.cose`` (signed lists)."""
    root = Path(path)
    anchor_dir, list_dir = root / ANCHORS_DIR, root / LISTS_DIR
    if not anchor_dir.is_dir():
        raise TrustStoreError(f"{root} is not a trust folder: it has no {ANCHORS_DIR}/ sub-folder")
    anchor_files = sorted(anchor_dir.glob("*.pem"))
    if not anchor_files:
        raise TrustStoreError(f"{anchor_dir} holds no anchor key (*.pem)")
    try:
        anchors = [load_public_key(p) for p in anchor_files]
    except BadKey as exc:
        raise TrustStoreError(f"cannot load a trust anchor: {exc.message}") from exc
    store = TrustStore(anchors)
    for list_file in sorted(list_dir.glob("*.cose")) if list_dir.is_dir() else []:
        try:
            if list_file.stat().st_size > _MAX_LIST_BYTES:
                raise TrustListMalformed(f"larger than {_MAX_LIST_BYTES} bytes")
            store = store.with_list(list_file.read_bytes())
        except OSError as exc:
            raise TrustStoreError(f"cannot read {list_file}: {exc.strerror}") from exc
        except HealthCredError as exc:
            raise type(exc)(f"{list_file.name}: {exc.message}") from exc
    return store
