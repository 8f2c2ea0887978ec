"""The verifier's memory of list versions, so an old list cannot be replayed (rollback).

One small JSON file maps each list series (``signer-kid/list-id``) to the
highest version this verifier accepted. It is written atomically (temporary
file, then rename) and only after a trust store loaded successfully, so a
failed update leaves both the store and the state as they were. The CLI keeps
it beside the trust folder by default (``<trust>/state.json``); a library
user chooses where.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from healthcred.errors import TrustStoreError
from healthcred.files import write_atomic

__all__ = ["STATE_FILE", "load_state", "merge_state", "save_state"]

STATE_FILE = "state.json"
"""The state file's name when it is kept in a trust folder."""

_MAX_STATE_BYTES = 1024 * 1024


def load_state(path: str | os.PathLike[str]) -> dict[str, int]:
    """The versions recorded at ``path``; an absent file is an empty state."""
    target = Path(path)
    try:
        if target.stat().st_size > _MAX_STATE_BYTES:
            raise TrustStoreError(f"{target} is too large to be a state file")
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise TrustStoreError(f"cannot read the version state {target}: {exc}") from exc
    versions = data.get("versions") if isinstance(data, dict) else None
    if not isinstance(versions, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in versions.items()
    ):
        raise TrustStoreError(f"{target} is not a healthcred version state")
    return dict(versions)


def merge_state(old: Mapping[str, int], new: Mapping[str, int]) -> dict[str, int]:
    """Per series, the higher of two recorded versions (a state never goes back)."""
    return {k: max(old.get(k, 0), new.get(k, 0)) for k in {*old, *new}}


def save_state(path: str | os.PathLike[str], versions: Mapping[str, int]) -> None:
    """Write ``versions`` (merged with what is there) to ``path`` atomically."""
    target = Path(path)
    merged = merge_state(load_state(target), versions)
    text = json.dumps({"versions": dict(sorted(merged.items()))}, indent=2) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrustStoreError(f"cannot write the version state {target}: {exc.strerror}") from exc
    write_atomic(target, text, error=TrustStoreError)
