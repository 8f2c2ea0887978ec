"""Trust folders on disk: what a verifier keeps, and how it is read.

A trust folder holds ``anchors/*.pem`` (root public keys), optionally
``bundle.cose`` (a signed trust bundle), ``lists/*.cose``,
``revocations/*.cose`` and ``rules/*.cose`` (loose signed lists and rule
sets), ``state.json`` (the highest versions accepted, for rollback
protection), and optionally foreign trust: ``dsc/`` (EU DCC signing
certificates: DER, PEM or JSON lists) and ``shc/*.json`` (SMART Health Card
issuers: ``{"iss", "keys", "crls"}``).

:func:`load_trust` also takes foreign trust on its own — a DSC file, a folder
of DSCs, a JSON DSC list, an SHC issuer file — and several paths at once,
merged into one store.

Reading is bounded before the work: a sub-folder may hold at most
:data:`MAX_FOLDER_ENTRIES` names and a trust folder :data:`MAX_TRUST_FILES`
in all; each file is read only if it is a regular file within its size bound
(checked before reading, never read past it), and at most
:data:`MAX_TRUST_BYTES` are read in all. A symbolic link that leads out of the
trust folder is refused. Each refusal is a :class:`TrustStoreError` naming the
folder or file and the bound (``docs/trust.md``, "Bounds").
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from healthcred.crypto.keys import MAX_KEY_FILE_BYTES, public_key_from_pem
from healthcred.errors import BadKey, HealthCredError, TrustListMalformed, TrustStoreError
from healthcred.files import list_bounded, read_bounded
from healthcred.foreign.dcc.dsc import DSC_SUFFIXES, Dsc, load_dsc_list, read_dsc
from healthcred.foreign.shc.issuers import ShcIssuer, load_shc_issuer
from healthcred.trust.bundle import BUNDLE_FILE, MAX_BUNDLE_BYTES, open_bundle
from healthcred.trust.envelope import MAX_LIST_BYTES, Anchor, open_signed
from healthcred.trust.revocation import MAX_REVOCATION_BYTES
from healthcred.trust.rulesets import MAX_RULE_SET_BYTES
from healthcred.trust.state import merge_state
from healthcred.trust.store import TrustStore
from healthcred.trust.transaction import FolderView, folder_view, read_folder

__all__ = [
    "ANCHORS_DIR",
    "DSC_DIR",
    "LISTS_DIR",
    "MAX_FOLDER_ENTRIES",
    "MAX_TRUST_BYTES",
    "MAX_TRUST_FILES",
    "REVOCATIONS_DIR",
    "RULES_DIR",
    "SHC_DIR",
    "load_anchors",
    "load_folder_view",
    "load_foreign",
    "load_trust",
]

ANCHORS_DIR = "anchors"
"""Sub-folder of a trust folder holding anchor public keys (``*.pem``)."""
LISTS_DIR = "lists"
"""Sub-folder of a trust folder holding signed trust lists (``*.cose``)."""
RULES_DIR = "rules"
"""Sub-folder of a trust folder holding signed rule sets (``*.cose``)."""
REVOCATIONS_DIR = "revocations"
"""Sub-folder of a trust folder holding signed revocation lists (``*.cose``)."""
DSC_DIR = "dsc"
"""Sub-folder of a trust folder holding EU DCC signing certificates (DER, PEM, JSON lists)."""
SHC_DIR = "shc"
"""Sub-folder of a trust folder holding SMART Health Card issuers (``*.json``)."""
_MAX_FOREIGN_FILE = 16 * 1024 * 1024

MAX_FOLDER_ENTRIES = 10_000
"""Most names one sub-folder of a trust folder may hold (every name counts, whatever its suffix)."""
MAX_TRUST_FILES = 20_000
"""Most names one trust folder may hold, all its sub-folders together."""
MAX_TRUST_BYTES = 256 * 1024 * 1024
"""Most bytes one load reads from one trust folder or foreign-trust folder, all files together."""


class _Budget:
    """What one load may still list and read below ``root``; every refusal names the bound."""

    __slots__ = ("bytes", "names", "root", "view")

    def __init__(self, root: Path, view: FolderView | None = None) -> None:
        self.root = root
        self.names = MAX_TRUST_FILES
        self.bytes = MAX_TRUST_BYTES
        self.view = view  # a trust folder's: its pending change is presented as applied

    def listing(self, folder: Path) -> list[Path]:
        """The sorted entries of ``folder`` (none if it is not a folder), counted against the caps."""
        found = self._entries(folder) if folder.is_dir() else []
        return found if self.view is None else self.view.effective(folder, found)

    def _entries(self, folder: Path) -> list[Path]:
        names = list_bounded(folder, MAX_FOLDER_ENTRIES, error=TrustStoreError)
        self.names -= len(names)
        if self.names < 0:
            raise TrustStoreError(f"{self.root} holds more than {MAX_TRUST_FILES} names in its sub-folders")
        return [folder / name for name in sorted(names)]

    def read(self, path: Path, limit: int, too_large: type[HealthCredError]) -> bytes:
        """A regular file inside ``root`` of at most ``limit`` bytes, counted against the total."""
        data = read_bounded(path, limit, error=TrustStoreError, too_large=too_large, within=self.root)
        self.bytes -= len(data)
        if self.bytes < 0:
            raise TrustStoreError(f"{self.root}: more than {MAX_TRUST_BYTES} bytes of trust files in all")
        return data


def load_anchors(path: str | os.PathLike[str]) -> list[Anchor]:
    """The trust anchors of a trust folder (``anchors/*.pem``)."""
    return _anchors(Path(path), _Budget(Path(path)))


def _anchors(root: Path, budget: _Budget) -> list[Anchor]:
    anchor_dir = root / ANCHORS_DIR
    if not anchor_dir.is_dir():
        raise TrustStoreError(f"{root} is not a trust folder: it has no {ANCHORS_DIR}/ sub-folder")
    files = [p for p in budget.listing(anchor_dir) if p.name.endswith(".pem")]
    if not files:
        raise TrustStoreError(f"{anchor_dir} holds no anchor key (*.pem)")
    try:
        return [
            Anchor.from_key(public_key_from_pem(budget.read(p, MAX_KEY_FILE_BYTES, TrustStoreError), str(p)))
            for p in files
        ]
    except BadKey as exc:
        raise TrustStoreError(f"cannot load a trust anchor: {exc.message}") from exc


def _read_folder(folder: Path, limit: int, budget: _Budget) -> list[bytes]:
    blobs: list[bytes] = []
    for path in budget.listing(folder):
        if not path.name.endswith(".cose"):
            continue
        data = budget.read(path, limit, TrustListMalformed)
        try:
            open_signed(data, limit)
        except HealthCredError as exc:
            raise type(exc)(f"{path.name}: {exc.message}") from exc
        blobs.append(data)
    return blobs


def _foreign_file(path: Path, budget: _Budget | None) -> tuple[list[Dsc], list[ShcIssuer]]:
    # A JSON array is a DSC list; a JSON object with "iss" is an SHC issuer; anything else a certificate.
    if budget is None:  # a file named on its own: the operator chose it, links included
        data = read_bounded(path, _MAX_FOREIGN_FILE, error=TrustStoreError)
    else:
        data = budget.read(path, _MAX_FOREIGN_FILE, TrustStoreError)
    if path.suffix.lower() != ".json":
        return [read_dsc(data)], []
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
        raise TrustStoreError(f"{path}: not JSON: {exc}") from exc
    if isinstance(doc, list):
        return load_dsc_list(doc), []
    if isinstance(doc, dict) and "keys" in doc and "iss" not in doc:
        raise TrustStoreError(
            f'{path}: a JWKS alone does not say whose keys these are: add the issuer\'s "iss" URL'
        )
    return [], [load_shc_issuer(data)]


def load_foreign(path: str | os.PathLike[str]) -> tuple[list[Dsc], list[ShcIssuer]]:
    """Foreign trust from a file or a folder of files: DSCs (DER, PEM, JSON lists) and SHC issuers."""
    root = Path(path)
    return _foreign(root, _Budget(root) if root.is_dir() else None)


def _foreign(root: Path, budget: _Budget | None) -> tuple[list[Dsc], list[ShcIssuer]]:
    files = [root] if budget is None else [p for p in budget.listing(root) if p.is_file()]
    dscs: list[Dsc] = []
    issuers: list[ShcIssuer] = []
    for file in files:
        if file.suffix.lower() not in DSC_SUFFIXES:  # an SHC issuer file is .json too
            continue
        try:
            more_dscs, more_issuers = _foreign_file(file, budget)
        except HealthCredError as exc:
            raise type(exc)(f"{file.name}: {exc.message}") from exc
        dscs += more_dscs
        issuers += more_issuers
    return dscs, issuers


def load_folder_view(view: FolderView, *, seen: Mapping[str, int] | None = None) -> TrustStore:
    """The store of a trust folder as ``view`` presents it (a pending or a staged change applied).

    :func:`load_trust` reads a folder through :func:`~healthcred.trust.transaction.folder_view`;
    a writer checks the folder it is about to commit through ``Transaction.view()``.
    """
    root = view.root
    budget = _Budget(root, view)
    anchors = _anchors(root, budget)
    floor = merge_state(view.floor, seen or {})
    blobs = _read_folder(root / LISTS_DIR, MAX_LIST_BYTES, budget)
    revocations = _read_folder(root / REVOCATIONS_DIR, MAX_REVOCATION_BYTES, budget)
    rule_sets = _read_folder(root / RULES_DIR, MAX_RULE_SET_BYTES, budget)
    dscs: list[Dsc] = []
    issuers: list[ShcIssuer] = []
    for sub in (DSC_DIR, SHC_DIR):
        more_dscs, more_issuers = _foreign(root / sub, budget)
        dscs += more_dscs
        issuers += more_issuers
    bundle_path = view.file(BUNDLE_FILE)
    if bundle_path is not None:
        bundle = open_bundle(
            budget.read(bundle_path, MAX_BUNDLE_BYTES, TrustListMalformed), anchors, seen=floor
        )
        blobs = [*bundle.store.raw_lists, *blobs]
        revocations = [*bundle.store.raw_revocations, *revocations]
        rule_sets = [*bundle.store.raw_rule_sets, *rule_sets]
        dscs = [*bundle.store.dscs, *dscs]
        issuers = [*bundle.store.shc_issuers, *issuers]
    return TrustStore(anchors, blobs, revocations, rule_sets, seen=floor, dscs=dscs, shc_issuers=issuers)


def _folder_store(root: Path, seen: Mapping[str, int] | None) -> TrustStore:
    return load_folder_view(folder_view(root), seen=seen)


def load_trust(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *, seen: Mapping[str, int] | None = None
) -> TrustStore:
    """Load trust into one :class:`TrustStore`: a trust folder, foreign trust, or several of them.

    A trust folder (see the module docstring) is recognised by its ``anchors/``
    sub-folder; any other path is foreign trust (:func:`load_foreign`). Several
    paths are merged: anchors, lists and foreign entries together. A failing
    list makes the load fail, naming the file. Versions recorded in a folder's
    ``state.json`` and in ``seen`` are the floors below which a list is a
    rollback. Loading writes nothing, and a folder a writer is changing meanwhile
    is read as it was before the change or after it
    (:func:`~healthcred.trust.transaction.read_folder`).
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths:
        raise TrustStoreError("no trust given: name a trust folder or foreign trust files")
    stores: list[TrustStore] = []
    dscs: list[Dsc] = []
    issuers: list[ShcIssuer] = []
    for item in paths:
        root = Path(item)
        try:
            if not root.exists():
                raise TrustStoreError("no such file or folder")
            if (root / ANCHORS_DIR).is_dir() or (root.is_dir() and not any(root.iterdir())):
                stores.append(read_folder(root, partial(_folder_store, root, seen)))
            else:
                more_dscs, more_issuers = load_foreign(root)
                if not (more_dscs or more_issuers):
                    raise TrustStoreError(
                        f"neither a trust folder (no {ANCHORS_DIR}/) nor certificates or SHC issuers"
                    )
                dscs += more_dscs
                issuers += more_issuers
        except HealthCredError as exc:
            if str(root) in exc.message:  # the message names the folder already: once is enough
                raise
            raise type(exc)(f"{root}: {exc.message}") from exc
        except OSError as exc:
            raise TrustStoreError(f"{root}: cannot read: {exc.strerror}") from exc
    if len(stores) == 1 and not (dscs or issuers):
        return stores[0]
    floor = dict(seen or {})
    for store in stores:  # each folder's floors are already applied; keep them for the merged store
        floor = merge_state(floor, store.versions)
    return TrustStore(
        [a for s in stores for a in s.anchors],
        [b for s in stores for b in s.raw_lists],
        [b for s in stores for b in s.raw_revocations],
        [b for s in stores for b in s.raw_rule_sets],
        seen=floor,
        dscs=[*(d for s in stores for d in s.dscs), *dscs],
        shc_issuers=[*(i for s in stores for i in s.shc_issuers), *issuers],
    )
