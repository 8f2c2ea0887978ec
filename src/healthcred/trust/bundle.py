"""The trust bundle: one signed, versioned file with everything a verifier keeps.

A bundle is a COSE_Sign1 by a trust anchor (content type
``application/vnd.healthcred.bundle+cbor``) over
``{1: 1, 2: id, 3: version, 4: issued_at, 5: [trust list], 6: [revocation list], 7: [rule set]}``,
where each list is itself a signed message, verified on its own as if loaded
separately. The bundle signature and version add what separate files cannot:
the set is complete and current (no list withheld, no old bundle replayed).
Rule sets (status rules, verification policies) travel in the third array.
Foreign trust may follow: ``8: [DSC DER]`` (EU DCC document signer
certificates) and ``9: [issuer JSON]`` (SMART Health Card issuers: UTF-8 JSON
``{"iss", "keys", "crls"}`` with sorted keys and no whitespace); each key is
present only when its array is not empty, so a bundle without foreign trust
keeps exactly keys 1–7.

:func:`install_bundle` is how a verifier takes an update: the new bundle is
verified completely (signatures, contents, versions against the state file)
before it replaces the old one in one folder transaction, so a bad update, or
a crash, leaves the verifier on its last good bundle. A second bundle with an
accepted bundle's version is an equivocation and refused, even once the first
one's file is gone (the state keeps its digest).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Signer, open_content, parse_sign1, sign_content
from healthcred.errors import HealthCredError, TrustEquivocation, TrustListMalformed, TrustListRollback
from healthcred.foreign.dcc.dsc import Dsc, read_dsc
from healthcred.foreign.shc.issuers import ShcIssuer, issuer_document, load_shc_issuer
from healthcred.trust.envelope import Anchor, verify_anchor
from healthcred.trust.store import TrustStore
from healthcred.trust.transaction import Transaction, folder_transaction

__all__ = [
    "BUNDLE_CONTENT_TYPE",
    "BUNDLE_FILE",
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_PARTS",
    "Bundle",
    "BundleKey",
    "install_bundle",
    "make_bundle",
    "open_bundle",
    "stage_bundle",
]

BUNDLE_CONTENT_TYPE = "application/vnd.healthcred.bundle+cbor"
"""COSE content type of a signed trust bundle."""

BUNDLE_FILE = "bundle.cose"
"""The bundle's file name inside a trust folder."""

BUNDLE_FORMAT = 1
"""Version of the bundle payload layout."""


class BundleKey(IntEnum):
    """Keys of the bundle map (``docs/format.md`` §9.3)."""

    FORMAT = 1
    """Format of this map: :data:`BUNDLE_FORMAT`."""
    ID = 2
    """Bundle id: with the signer's kid, names the series."""
    VERSION = 3
    """Version, ≥ 1."""
    ISSUED = 4
    """Issued at (epoch seconds)."""
    LISTS = 5
    """Signed trust lists."""
    REVOCATIONS = 6
    """Signed revocation lists."""
    RULES = 7
    """Signed rule sets."""
    DSCS = 8
    """Optional, never empty: EU DCC document signer certificates (DER)."""
    SHC = 9
    """Optional, never empty: SMART Health Card issuers (canonical JSON)."""


_FOREIGN = frozenset({BundleKey.DSCS, BundleKey.SHC})
_REQUIRED = frozenset(BundleKey) - _FOREIGN
MAX_BUNDLE_BYTES = 100 * 1024 * 1024
"""Largest signed bundle accepted (``docs/format.md`` §9.3)."""
MAX_BUNDLE_PARTS = 10_000
"""Most elements in each array of a bundle (trust lists, revocation lists, rule sets, DSCs, SHC issuers)."""
# The decoder's bounds follow: the map's keys plus five arrays of byte strings (map > array > bstr).
_MAX_ITEMS = len(BundleKey) + 5 * MAX_BUNDLE_PARTS
_MAX_DEPTH = 2


@dataclass(frozen=True, slots=True)
class Bundle:
    """A verified bundle: its identity and the store built from its contents."""

    id: str
    version: int
    issued_at: int
    signer_kid: bytes
    store: TrustStore

    @property
    def series(self) -> str:
        """The key under which bundle versions are compared: ``bundle:signer-kid/id``."""
        return f"bundle:{self.signer_kid.hex()}/{self.id}"

    @property
    def versions(self) -> dict[str, int]:
        """Series → version of the bundle and of every list in it (what the state file records)."""
        return {**self.store.versions, self.series: self.version}


def make_bundle(
    root: PrivateKey | Signer,
    *,
    version: int,
    issued_at: int,
    trust_lists: Iterable[bytes],
    revocations: Iterable[bytes] = (),
    rule_sets: Iterable[bytes] = (),
    bundle_id: str = "national",
    dscs: Iterable[Dsc | bytes] = (),
    shc_issuers: Iterable[ShcIssuer] = (),
) -> bytes:
    """Sign a bundle of already-signed trust lists, revocation lists and rule sets with a root key.

    ``dscs`` (certificates or their DER) and ``shc_issuers`` add foreign trust to the bundle.
    """
    if version < 1 or not 1 <= len(bundle_id) <= 64:
        raise TrustListMalformed("bundle version must be ≥ 1 and its id 1–64 characters")
    payload: dict[int, Any] = {
        BundleKey.FORMAT: BUNDLE_FORMAT,
        BundleKey.ID: bundle_id,
        BundleKey.VERSION: version,
        BundleKey.ISSUED: issued_at,
        BundleKey.LISTS: list(trust_lists),
        BundleKey.REVOCATIONS: list(revocations),
        BundleKey.RULES: list(rule_sets),
    }
    ders = [d.der if isinstance(d, Dsc) else read_dsc(d).der for d in dscs]
    if ders:
        payload[BundleKey.DSCS] = ders
    issuers = [_issuer_json(i) for i in shc_issuers]
    if issuers:
        payload[BundleKey.SHC] = issuers
    if any(type(p) is list and len(p) > MAX_BUNDLE_PARTS for p in payload.values()):
        raise TrustListMalformed(f"each array of a bundle holds at most {MAX_BUNDLE_PARTS} elements")
    signed = sign_content(payload, root, BUNDLE_CONTENT_TYPE)
    if len(signed) > MAX_BUNDLE_BYTES:  # never sign a bundle no verifier would load
        raise TrustListMalformed(
            f"the signed bundle would be {len(signed)} bytes; at most {MAX_BUNDLE_BYTES}"
        )
    return signed


def _issuer_json(issuer: ShcIssuer) -> bytes:
    # One canonical JSON form, so the same issuer always gives the same bundle bytes.
    return json.dumps(issuer_document(issuer), sort_keys=True, separators=(",", ":")).encode()


def open_bundle(data: bytes, anchors: Iterable[Anchor], *, seen: Mapping[str, int] | None = None) -> Bundle:
    """Verify a bundle and everything in it; return it with its trust store.

    Raises :class:`TrustListRollback` for a bundle (or list) older than ``seen``
    records, and the usual trust errors for anything inside.
    """
    if not isinstance(data, bytes) or len(data) > MAX_BUNDLE_BYTES:
        raise TrustListMalformed(f"a bundle is at most {MAX_BUNDLE_BYTES} bytes (100 MiB)")
    anchors = tuple(anchors)
    try:
        message = parse_sign1(data)
    except HealthCredError as exc:
        raise TrustListMalformed(f"bundle is not a COSE_Sign1: {exc.message}") from exc
    verify_anchor(message, anchors)
    body = open_content(
        message,
        BUNDLE_CONTENT_TYPE,
        "trust bundle",
        max_depth=_MAX_DEPTH,
        max_items=_MAX_ITEMS,
        max_bytes=MAX_BUNDLE_BYTES,
    )
    if (
        type(body) is not dict
        or not _REQUIRED <= set(body) <= _REQUIRED | _FOREIGN
        or body[BundleKey.FORMAT] != BUNDLE_FORMAT
    ):
        raise TrustListMalformed("bundle must be a format-1 map with keys 1–7 and optionally 8, 9")
    bundle_id, version, issued = body[BundleKey.ID], body[BundleKey.VERSION], body[BundleKey.ISSUED]
    if type(bundle_id) is not str or type(version) is not int or version < 1 or type(issued) is not int:
        raise TrustListMalformed("bundle id must be text, version ≥ 1 and issue time an integer")
    parts = [
        body[BundleKey.LISTS],
        body[BundleKey.REVOCATIONS],
        body[BundleKey.RULES],
        body.get(BundleKey.DSCS, []),
        body.get(BundleKey.SHC, []),
    ]
    if any(type(p) is not list or any(type(x) is not bytes for x in p) for p in parts):
        raise TrustListMalformed("every array of a bundle must hold byte strings")
    if any(k in body and not body[k] for k in _FOREIGN):  # deterministic: absent, not empty
        raise TrustListMalformed("bundle keys 8 and 9 are present only with a non-empty array")
    series = f"bundle:{message.kid.hex()}/{bundle_id}"
    floor = (seen or {}).get(series, 0)
    if version < floor:
        raise TrustListRollback(
            f"bundle {bundle_id!r} version {version} is older than version {floor} installed"
        )
    store = TrustStore(
        anchors,
        parts[0],
        parts[1],
        parts[2],
        seen=seen,
        dscs=[read_dsc(der) for der in parts[3]],
        shc_issuers=[load_shc_issuer(doc) for doc in parts[4]],
    )
    return Bundle(bundle_id, version, issued, message.kid, store)


def stage_bundle(change: Transaction, data: bytes, anchors: Iterable[Anchor]) -> Bundle:
    """Verify ``data`` as the next bundle of the folder ``change`` edits, and stage it there.

    Refused: a version below the folder's floor (:class:`TrustListRollback`), and another
    bundle of a series and version the folder accepted, or holds, with other bytes
    (:class:`TrustEquivocation`): the state remembers the accepted bundle's digest, so
    deleting ``bundle.cose`` does not make room for a second one. The installed bundle
    itself, offered again, stages nothing.
    """
    anchors = tuple(anchors)
    bundle = open_bundle(data, anchors, seen=change.floor)
    change.accept(bundle.series, bundle.version, data, f"bundle {bundle.id!r}")
    installed = change.view().read(BUNDLE_FILE)
    if installed == data:
        return bundle  # nothing staged; a state without the digest learns it (accept, above)
    if installed is not None:
        try:
            current: Bundle | None = open_bundle(installed, anchors)
        except HealthCredError:  # a damaged or foreign bundle is replaced, as before
            current = None
        if current is not None and (current.series, current.version) == (bundle.series, bundle.version):
            raise TrustEquivocation(
                f"bundle {bundle.id!r} version {bundle.version} is installed with other content: "
                "refusing a second bundle with one version"
            )
    change.put(BUNDLE_FILE, data)
    change.raise_floor(bundle.versions)
    return bundle


def install_bundle(folder: str | os.PathLike[str], data: bytes, anchors: Iterable[Anchor]) -> Bundle:
    """Verify ``data`` against the folder's state, then make it the folder's bundle, atomically.

    On any failure the folder (bundle and state) is left exactly as it was; after a crash at
    any instant it holds the old bundle and state or the new ones (:mod:`healthcred.trust.transaction`).
    Installing the installed bundle again changes nothing; another bundle with its series and
    version is refused (:class:`TrustEquivocation`).
    """
    with folder_transaction(folder) as change:
        bundle = stage_bundle(change, data, anchors)
        change.commit()
    return bundle
