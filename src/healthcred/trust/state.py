"""The verifier's memory of what it accepted, so an old list cannot be replayed (rollback) nor a
version be published twice with other content (equivocation).

One small JSON file maps each list series (``signer-kid/list-id``) to the
highest version this verifier accepted, and, where a writer recorded it, the
SHA-256 of the content it accepted at that version (``docs/trust.md``, "The
state file"). It is written atomically (temporary file, then rename) and only
after a trust store loaded successfully, so a failed update leaves both the
store and the state as they were. The CLI keeps it beside the trust folder by
default (``<trust>/state.json``); a library user chooses where. A state file
without digests (older healthcred) loads: it simply remembers no content.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthcred.errors import TrustStoreError
from healthcred.files import read_bounded, write_atomic

__all__ = [
    "MAX_STATE_BYTES",
    "REVOCATION_DIGESTS",
    "STATE_FILE",
    "Digests",
    "State",
    "digest_key",
    "load_state",
    "merge_digests",
    "merge_state",
    "parse_digests",
    "read_state",
    "save_state",
]

STATE_FILE = "state.json"
"""The state file's name when it is kept in a trust folder."""

MAX_STATE_BYTES = 1024 * 1024
"""A larger state file is refused (``trust_store_error``), never read past this bound."""

Digests = Mapping[str, tuple[int, str]]
"""Series → (version, SHA-256 hex) of the content accepted at that version."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class State:
    """What a state file holds: the version floor per series, and the accepted content's digests."""

    versions: dict[str, int] = field(default_factory=dict)
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)


def read_state(path: str | os.PathLike[str]) -> State:
    """The state recorded at ``path``; an absent file is an empty state.

    Read with :func:`~healthcred.files.read_bounded`: a FIFO or device named like the
    state file is refused without blocking, a file over :data:`MAX_STATE_BYTES` unread.
    """
    target = Path(path)
    if not os.path.lexists(target):  # replaced by rename, never deleted: absent means never written
        return State()
    data = read_bounded(target, MAX_STATE_BYTES, error=TrustStoreError)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
        raise TrustStoreError(f"cannot read the version state {target}: {exc}") from exc
    versions = doc.get("versions") if isinstance(doc, dict) else None
    if not isinstance(versions, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in versions.items()
    ):
        raise TrustStoreError(f"{target} is not a healthcred version state")
    return State(dict(versions), parse_digests(doc.get("digests", {}), str(target)))


def parse_digests(raw: Any, where: str) -> dict[str, tuple[int, str]]:
    """Digests in their JSON form (``{series: {"version", "sha256"}}``), checked; ``where`` names the file."""
    target = where
    if not isinstance(raw, dict):
        raise TrustStoreError(f"{target}: digests map series to {{version, sha256}}")
    parsed = {}
    for series, entry in raw.items():
        if not (isinstance(entry, dict) and set(entry) == {"version", "sha256"}):
            raise TrustStoreError(f"{target}: digests map series to {{version, sha256}}")
        version, digest = entry["version"], entry["sha256"]
        counted = type(version) is int and version >= 0
        if not (counted and isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise TrustStoreError(f"{target}: a digest is a version and 64 lowercase hex digits")
        parsed[series] = (version, digest)
    return parsed


def load_state(path: str | os.PathLike[str]) -> dict[str, int]:
    """The versions recorded at ``path``; an absent file is an empty state."""
    return read_state(path).versions


def merge_state(old: Mapping[str, int], new: Mapping[str, int]) -> dict[str, int]:
    """Per series, the higher of two recorded versions (a state never goes back)."""
    return {k: max(old.get(k, 0), new.get(k, 0)) for k in {*old, *new}}


REVOCATION_DIGESTS = "revocations:"
"""Prefix of a revocation series' key in ``digests``: trust and revocation lists share a floor
(``signer-kid/id``, as the format has it) but not a content, so their digests are kept apart."""


def digest_key(series: str, *, revocation: bool = False) -> str:
    """The ``digests`` key of ``series`` (a revocation list's carries :data:`REVOCATION_DIGESTS`)."""
    return REVOCATION_DIGESTS + series if revocation else series


def merge_digests(floor: Mapping[str, int], old: Digests, new: Digests) -> dict[str, tuple[int, str]]:
    """The digests worth keeping under ``floor``: per series the one at the floor's version (``new`` first).

    A digest of a version below the floor is dropped: offering that version again is a rollback anyway.
    """
    kept = {}
    for series in {*old, *new}:
        for digests in (new, old):
            entry = digests.get(series)
            if entry is not None and entry[0] == floor.get(series.removeprefix(REVOCATION_DIGESTS)):
                kept[series] = entry
                break
    return kept


def save_state(
    path: str | os.PathLike[str], versions: Mapping[str, int], digests: Digests | None = None
) -> None:
    """Write ``versions`` and ``digests`` (merged with what is there) to ``path`` atomically."""
    target = Path(path)
    held = read_state(target)
    merged = merge_state(held.versions, versions)
    kept = merge_digests(merged, held.digests, digests or {})
    doc: dict[str, Any] = {"versions": dict(sorted(merged.items()))}
    if kept:  # a state without digests keeps the format older readers wrote
        doc["digests"] = {s: {"version": v, "sha256": h} for s, (v, h) in sorted(kept.items())}
    text = json.dumps(doc, indent=2) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrustStoreError(f"cannot write the version state {target}: {exc.strerror}") from exc
    write_atomic(target, text, error=TrustStoreError)
