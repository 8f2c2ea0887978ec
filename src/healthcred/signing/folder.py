"""Trust folders on disk: what a verifier keeps, and how it is read.

A trust folder holds ``anchors/*.pem`` (root public keys), optionally
``bundle.cose`` (a signed trust bundle), ``lists/*.cose``,
``revocations/*.cose`` and ``rules/*.cose`` (loose signed lists and rule
sets), and ``state.json`` (the highest versions accepted, for rollback
protection).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from healthcred.errors import BadKey, HealthCredError, TrustListMalformed, TrustStoreError
from healthcred.signing.bundle import BUNDLE_FILE, open_bundle
from healthcred.signing.keys import load_public_key
from healthcred.signing.state import STATE_FILE, load_state, merge_state
from healthcred.signing.trust import (
    ANCHORS_DIR,
    LISTS_DIR,
    MAX_LIST_BYTES,
    MAX_REVOCATION_BYTES,
    REVOCATIONS_DIR,
    RULES_DIR,
    Anchor,
    TrustStore,
    open_signed,
)

__all__ = ["load_anchors", "load_trust"]


def load_anchors(path: str | os.PathLike[str]) -> list[Anchor]:
    """The trust anchors of a trust folder (``anchors/*.pem``)."""
    anchor_dir = Path(path) / ANCHORS_DIR
    if not anchor_dir.is_dir():
        raise TrustStoreError(f"{path} is not a trust folder: it has no {ANCHORS_DIR}/ sub-folder")
    files = sorted(anchor_dir.glob("*.pem"))
    if not files:
        raise TrustStoreError(f"{anchor_dir} holds no anchor key (*.pem)")
    try:
        return [Anchor.from_key(load_public_key(p)) for p in files]
    except BadKey as exc:
        raise TrustStoreError(f"cannot load a trust anchor: {exc.message}") from exc


def _read_folder(folder: Path, limit: int) -> list[bytes]:
    blobs: list[bytes] = []
    for path in sorted(folder.glob("*.cose")) if folder.is_dir() else []:
        try:
            if path.stat().st_size > limit:
                raise TrustListMalformed(f"{path.name}: larger than {limit} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise TrustStoreError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            open_signed(data, limit)
        except HealthCredError as exc:
            raise type(exc)(f"{path.name}: {exc.message}") from exc
        blobs.append(data)
    return blobs


def load_trust(path: str | os.PathLike[str], *, seen: Mapping[str, int] | None = None) -> TrustStore:
    """Load a trust folder (see the module docstring) into one :class:`TrustStore`.

    A failing list makes the load fail, naming the file. Versions recorded in
    the folder's ``state.json`` and in ``seen`` are the floors below which a
    list is a rollback. Loading writes nothing.
    """
    root = Path(path)
    anchors = load_anchors(root)
    floor = merge_state(load_state(root / STATE_FILE), seen or {})
    blobs = _read_folder(root / LISTS_DIR, MAX_LIST_BYTES)
    revocations = _read_folder(root / REVOCATIONS_DIR, MAX_REVOCATION_BYTES)
    rule_sets = _read_folder(root / RULES_DIR, MAX_LIST_BYTES)
    bundle_path = root / BUNDLE_FILE
    try:
        if bundle_path.is_file():
            try:
                bundle = open_bundle(bundle_path.read_bytes(), anchors, seen=floor)
            except OSError as exc:
                raise TrustStoreError(f"cannot read {bundle_path}: {exc.strerror}") from exc
            blobs = [*bundle.store.raw_lists, *blobs]
            revocations = [*bundle.store.raw_revocations, *revocations]
            rule_sets = [*bundle.store.raw_rule_sets, *rule_sets]
        return TrustStore(anchors, blobs, revocations, rule_sets, seen=floor)
    except HealthCredError as exc:
        raise type(exc)(f"{root}: {exc.message}") from exc
