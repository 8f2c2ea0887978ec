"""Signed revocation lists: truncated hashes of credential ids, full or as deltas.

A list names credentials by the first 8 bytes of SHA-256 over a domain tag and
the credential id (``cti``), never by signature bytes (ECDSA signatures are
malleable: the same credential has two valid signatures). 64-bit hashes keep a
list of a million entries at 8 MB and make a false match about 1 in 10^13 per
lookup. The loaded set is one sorted ``array('Q')`` searched by bisection: no
per-entry Python objects, so memory stays at ~8 bytes per entry.

A list is signed by a trust anchor (it then covers every region) or by an
issuer key on a trust list (it covers that key's region). Versions of one
series (signer + id) build on each other: version 1 is full; a delta names its
base version and the hashes it adds and removes.
"""

from __future__ import annotations

import hashlib
import operator
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import islice

from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Sign1, Signer, open_content, sign_content
from healthcred.errors import TrustEquivocation, TrustListMalformed, TrustListRollback

__all__ = [
    "HASH_BYTES",
    "MAX_REVOCATION_BYTES",
    "REVOCATION_CONTENT_TYPE",
    "REVOCATION_FORMAT",
    "RevocationKey",
    "RevocationList",
    "RevocationSet",
    "Revocations",
    "fold_revocations",
    "make_revocation_list",
    "parse_revocation_body",
    "revocation_hash",
]

REVOCATION_CONTENT_TYPE = "application/vnd.healthcred.revocation+cbor"
"""COSE content type of a signed revocation list."""

REVOCATION_FORMAT = 1
"""Version of the revocation-list payload layout."""

HASH_BYTES = 8
"""Length of a revocation hash."""

MAX_REVOCATION_BYTES = 80 * 1024 * 1024
"""Largest signed revocation list accepted (ten million 8-byte hashes)."""


class RevocationKey(IntEnum):
    """Keys of the revocation-list map (``docs/format.md`` §9.2)."""

    FORMAT = 1
    """Format of this map: :data:`REVOCATION_FORMAT`."""
    ID = 2
    """List id: with the signer's kid, names the series."""
    VERSION = 3
    """Version, ≥ 1."""
    ISSUED = 4
    """Issued at (epoch seconds)."""
    EXPIRES = 5
    """Expires at (informative: revocations never lapse)."""
    BASE = 6
    """0 for a full list, else the version this delta builds on."""
    ADDED = 7
    """Hashes added: concatenated 8-byte hashes, ascending, no repeats."""
    REMOVED = 8
    """Hashes removed: same form; empty in a full list."""


_DOMAIN = b"healthcred/revocation/v1\x00"
_DOMAIN_STATE = hashlib.sha256(_DOMAIN)  # copied per hash: the domain prefix is absorbed once
_KEYS = frozenset(RevocationKey)
_MAX_ITEMS = len(RevocationKey)  # one flat map: the hashes are two byte strings, whatever their number
_INT_KEYS = (RevocationKey.VERSION, RevocationKey.ISSUED, RevocationKey.EXPIRES, RevocationKey.BASE)
_SMALL_DELTA = 256  # up to this many changes, edit a copy in place instead of rebuilding
_BUCKET_SHIFT = 48
_BUCKETS = 1 << 16
_INDEX_FROM = _BUCKETS  # from this many hashes on, a set is indexed (below, one bisection is as short)


def revocation_hash(credential_id: bytes) -> int:
    """The 64-bit revocation hash of a credential id: SHA-256(domain ‖ cti)[:8], big-endian."""
    digest = _DOMAIN_STATE.copy()
    digest.update(credential_id)
    return int.from_bytes(digest.digest()[:HASH_BYTES], "big")


def _to_array(raw: bytes, what: str) -> array[int]:
    if len(raw) % HASH_BYTES:
        raise TrustListMalformed(f"revocation {what} is not a whole number of {HASH_BYTES}-byte hashes")
    values = array("Q", raw)
    if sys.byteorder == "little":
        values.byteswap()  # the wire holds big-endian hashes; sorted bytes = sorted numbers
    if any(map(operator.ge, values, islice(values, 1, None))):
        raise TrustListMalformed(f"revocation {what} must be sorted and without repeats")
    return values


def _to_bytes(values: Iterable[int]) -> bytes:
    ordered = array("Q", sorted(set(values)))
    if sys.byteorder == "little":
        ordered.byteswap()
    return ordered.tobytes()


class RevocationSet:
    """A sorted set of revocation hashes: ~8 bytes per entry, lookups by indexed bisection.

    A set of at least 65,536 hashes gets a 65,537-entry index of where each
    top-16-bit bucket starts (256 KiB), which narrows each bisection to the few hashes of
    one bucket. A smaller set is bisected whole, in as few steps as an indexed lookup
    takes: building the index costs 65,536 bisections, which for a list of a few hashes
    (or each small delta of a series) would be work out of all proportion to its size.
    """

    __slots__ = ("_starts", "_values")

    def __init__(self, values: array[int] | None = None) -> None:
        """Wrap a sorted, repeat-free ``array('Q')`` (not copied) and, when large, index it."""
        self._values: array[int] = values if values is not None else array("Q")
        self._starts: array[int] | None = None
        if len(self._values) >= _INDEX_FROM:
            starts = array("I", (bisect_left(self._values, b << _BUCKET_SHIFT) for b in range(_BUCKETS)))
            starts.append(len(self._values))
            self._starts = starts

    def __contains__(self, value: object) -> bool:
        return type(value) is int and 0 <= value < 1 << 64 and self.contains(value)

    def contains(self, value: int) -> bool:
        """Whether the 64-bit hash ``value`` is in the set."""
        values, starts = self._values, self._starts
        if starts is None:
            i = bisect_left(values, value)
        else:
            bucket = value >> _BUCKET_SHIFT
            i = bisect_left(values, value, starts[bucket], starts[bucket + 1])
        return i < len(values) and values[i] == value

    def __len__(self) -> int:
        return len(self._values)

    @property
    def nbytes(self) -> int:
        """Memory held by the set (the hash array and its bucket index)."""
        return sys.getsizeof(self._values) + (0 if self._starts is None else sys.getsizeof(self._starts))

    def revoked(self, credential_id: bytes) -> bool:
        """Whether the credential with this id is revoked."""
        return revocation_hash(credential_id) in self

    def apply(self, added: array[int], removed: array[int]) -> RevocationSet:
        """A new set with ``added`` inserted and ``removed`` taken out (both sorted arrays)."""
        if len(added) + len(removed) > _SMALL_DELTA:
            gone = set(removed)
            return RevocationSet(array("Q", sorted({*(v for v in self._values if v not in gone), *added})))
        values = array("Q", self._values)  # small delta: a copy, then in-place edits (memmove in C)
        for value in removed:
            i = bisect_left(values, value)
            if i < len(values) and values[i] == value:
                del values[i]
        for value in added:
            i = bisect_left(values, value)
            if i == len(values) or values[i] != value:
                values.insert(i, value)
        return RevocationSet(values)


@dataclass(frozen=True, slots=True)
class RevocationList:
    """One verified revocation list (full or delta), before it is folded into a series."""

    id: str
    version: int
    issued_at: int
    expires_at: int
    base: int
    signer_kid: bytes
    added: array[int] = field(repr=False)
    removed: array[int] = field(repr=False)

    @property
    def series(self) -> str:
        """The key under which versions of this list are compared: ``signer-kid/id``."""
        return f"{self.signer_kid.hex()}/{self.id}"


def make_revocation_list(
    signer: PrivateKey | Signer,
    *,
    version: int,
    issued_at: int,
    expires_at: int,
    added: Iterable[bytes | int] = (),
    removed: Iterable[bytes | int] = (),
    base: int = 0,
    list_id: str = "revocations",
) -> bytes:
    """Sign a revocation list. ``added``/``removed`` hold credential ids (bytes) or their hashes (ints).

    ``base=0`` makes a full list (nothing to remove); otherwise a delta on version ``base``.
    """
    if version < 1 or expires_at <= issued_at or not 0 <= base < version:
        raise TrustListMalformed("need version ≥ 1, base < version, and expiry after issue")
    as_hash = [revocation_hash(v) if isinstance(v, bytes) else v for v in added]
    gone = [revocation_hash(v) if isinstance(v, bytes) else v for v in removed]
    if base == 0 and gone:
        raise TrustListMalformed("a full revocation list (base 0) removes nothing")
    payload = {
        RevocationKey.FORMAT: REVOCATION_FORMAT,
        RevocationKey.ID: list_id,
        RevocationKey.VERSION: version,
        RevocationKey.ISSUED: issued_at,
        RevocationKey.EXPIRES: expires_at,
        RevocationKey.BASE: base,
        RevocationKey.ADDED: _to_bytes(as_hash),
        RevocationKey.REMOVED: _to_bytes(gone),
    }
    signed = sign_content(payload, signer, REVOCATION_CONTENT_TYPE)
    if len(signed) > MAX_REVOCATION_BYTES:  # never sign a list no verifier would load
        raise TrustListMalformed(
            f"the signed revocation list would be {len(signed)} bytes; at most {MAX_REVOCATION_BYTES}"
        )
    return signed


def parse_revocation_body(message: Sign1) -> RevocationList:
    """Parse the payload of a revocation list whose signature the caller has verified."""
    body = open_content(
        message,
        REVOCATION_CONTENT_TYPE,
        "revocation list",
        max_items=_MAX_ITEMS,
        max_bytes=MAX_REVOCATION_BYTES,
    )
    if type(body) is not dict or set(body) != _KEYS or body[RevocationKey.FORMAT] != REVOCATION_FORMAT:
        raise TrustListMalformed("revocation list must be a format-1 map with exactly keys 1–8")
    ints = [body[k] for k in _INT_KEYS]
    list_id, added, removed = body[RevocationKey.ID], body[RevocationKey.ADDED], body[RevocationKey.REMOVED]
    if any(type(v) is not int or v < 0 for v in ints) or type(list_id) is not str:
        raise TrustListMalformed("revocation list id must be text; version, times and base unsigned integers")
    if type(added) is not bytes or type(removed) is not bytes:
        raise TrustListMalformed("revocation list hashes must be byte strings")
    version, issued, expires, base = ints
    if version < 1 or base >= version or expires <= issued or (base == 0 and removed):
        raise TrustListMalformed(
            "revocation list needs version ≥ 1, base < version, a full list removing nothing"
        )
    return RevocationList(
        list_id,
        version,
        issued,
        expires,
        base,
        message.kid,
        _to_array(added, "additions"),
        _to_array(removed, "removals"),
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


def fold_revocations(
    scoped: Iterable[tuple[str, RevocationList]], seen: Mapping[str, int] | None
) -> tuple[Revocations, ...]:
    """Fold verified lists, each with the region its signer covers, into one state per series.

    A series folds from its newest full list through deltas whose base is exactly the
    version before; its resulting version may not fall below ``seen`` (a rollback).
    """
    series: dict[str, tuple[str, list[RevocationList]]] = {}
    for scope, parsed in scoped:
        series.setdefault(parsed.series, (scope, []))[1].append(parsed)
    return tuple(_fold(name, scope, versions, seen) for name, (scope, versions) in series.items())


def _fold(
    name: str, scope: str, versions: list[RevocationList], seen: Mapping[str, int] | None
) -> Revocations:
    unique: dict[int, RevocationList] = {}
    for r in versions:  # one list held twice is one list; two different ones with one version equivocate
        if unique.setdefault(r.version, r) != r:
            raise TrustEquivocation(f"revocation series {name} holds two different lists of v{r.version}")
    versions = sorted(unique.values(), key=lambda r: r.version)
    start = max((i for i, r in enumerate(versions) if r.base == 0), default=None)
    if start is None:
        raise TrustListMalformed(f"revocation series {name} has deltas but no full list")
    version = versions[start].version
    # Each hash ends as the last delta touching it says (a delta removes, then adds): the chain's
    # net change is applied to the full list once, not one copy of the whole set per delta.
    last_word: dict[int, bool] = {}
    for delta in versions[start + 1 :]:
        if delta.base != version:
            raise TrustListMalformed(
                f"revocation delta v{delta.version} of {name} builds on v{delta.base}, not v{version}"
            )
        last_word.update(dict.fromkeys(delta.removed, False))
        last_word.update(dict.fromkeys(delta.added, True))
        version = delta.version
    current = RevocationSet(versions[start].added)
    if last_word:
        added = array("Q", sorted(v for v, present in last_word.items() if present))
        removed = array("Q", sorted(v for v, present in last_word.items() if not present))
        current = current.apply(added, removed)
    floor = (seen or {}).get(name, 0)
    if version < floor:
        raise TrustListRollback(f"revocation list {name} v{version} is older than v{floor} already accepted")
    latest = versions[-1]
    return Revocations(name, scope, version, latest.issued_at, latest.expires_at, current)
