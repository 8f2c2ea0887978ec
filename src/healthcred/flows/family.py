"""Family bundles: one file of a guardian's code and each dependent's code with its binding.

A guardian carries it (a phone's files, a USB stick) and a scanning post
verifies it whole: the guardian's code, every dependent's code and binding
(:mod:`healthcred.flows.binding`), each binding naming the guardian, slots and
dependents distinct. The file is deterministic CBOR, a map ``{1: "healthcred-family",
2: format, 3: guardian code text, 4: [[code text, binding bytes], …]}``
(``docs/format.md`` §14); reading it verifies nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

from healthcred.clock import DEFAULT_SKEW
from healthcred.codec.cbor import dumps, loads
from healthcred.errors import BadBinding, BadInput, HealthCredError, TooManyDependents
from healthcred.flows.binding import MAX_DEPENDENTS, DependentResult, check_subjects, open_binding
from healthcred.flows.verify import verify
from healthcred.model import VerificationResult
from healthcred.trust.store import TrustStore

__all__ = [
    "FAMILY_FORMAT",
    "FAMILY_MAGIC",
    "MAX_FAMILY_BYTES",
    "FamilyBundle",
    "FamilyKey",
    "FamilyResult",
    "load_family_bundle",
    "make_family_bundle",
    "read_family_bundle",
    "verify_family",
]

FAMILY_MAGIC = "healthcred-family"
"""First value of a family-bundle file, so a stray CBOR file is not mistaken for one."""
FAMILY_FORMAT = 1
"""Version of the family-bundle file."""
MAX_FAMILY_BYTES = 64 * 1024
"""Largest family-bundle file read: 9 codes of at most 4296 characters and 8 bindings fit."""


class FamilyKey(IntEnum):
    """Keys of the family-bundle file (``docs/format.md`` §14), in their required order."""

    MAGIC = 1
    FORMAT = 2
    GUARDIAN = 3
    MEMBERS = 4


@dataclass(frozen=True, slots=True)
class FamilyBundle:
    """A family-bundle file's contents, not yet verified: the guardian's code and (code, binding) pairs."""

    guardian: str
    members: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class FamilyResult:
    """A verified family bundle: the guardian's result and each dependent's."""

    guardian: VerificationResult
    dependents: tuple[DependentResult, ...]

    def summary(self) -> dict[str, Any]:
        """JSON-ready, personal data masked."""
        return {
            "guardian": self.guardian.summary(),
            "dependents": [
                {k: v for k, v in d.summary().items() if k not in ("guardian", "guardian_checked")}
                for d in self.dependents
            ],
        }


def make_family_bundle(guardian_code: str, members: Iterable[tuple[str, bytes]]) -> bytes:
    """The family-bundle file (deterministic CBOR) of a guardian's code and (code, binding) pairs.

    Refuses more than :data:`MAX_DEPENDENTS` members (``too_many_dependents``)
    and anything larger than :data:`MAX_FAMILY_BYTES`; verifies nothing (see
    :func:`verify_family`).
    """
    listed = list(members)
    if len(listed) > MAX_DEPENDENTS:
        raise TooManyDependents(f"{len(listed)} dependents: a guardian holds at most {MAX_DEPENDENTS}")
    if not isinstance(guardian_code, str):
        raise BadInput("the guardian's code is its QR text")
    for item in listed:
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], bytes)
        ):
            raise BadInput("each member is a (code text, binding bytes) pair")
    data = dumps(
        {
            FamilyKey.MAGIC: FAMILY_MAGIC,
            FamilyKey.FORMAT: FAMILY_FORMAT,
            FamilyKey.GUARDIAN: guardian_code,
            FamilyKey.MEMBERS: [list(m) for m in listed],
        }
    )
    if len(data) > MAX_FAMILY_BYTES:
        raise BadBinding(f"family bundle would be {len(data)} bytes; at most {MAX_FAMILY_BYTES}")
    return data


def read_family_bundle(data: bytes) -> FamilyBundle:
    """Parse a family-bundle file (shape, version, size); raise ``bad_binding`` or ``too_many_dependents``."""
    if not isinstance(data, bytes):
        raise BadInput(f"a family bundle is bytes, not {type(data).__name__}")
    if len(data) > MAX_FAMILY_BYTES:
        raise BadBinding(f"family bundle is larger than {MAX_FAMILY_BYTES} bytes")
    try:
        body = loads(data, "family bundle", max_depth=4, max_items=64, max_bytes=MAX_FAMILY_BYTES)
    except HealthCredError as exc:
        raise BadBinding(exc.message) from exc
    if type(body) is not dict or tuple(body) != tuple(FamilyKey) or body[FamilyKey.MAGIC] != FAMILY_MAGIC:
        raise BadBinding(
            f"not a family bundle (a map {{1: {FAMILY_MAGIC!r}, 2: format, 3: code, 4: members}})"
        )
    if body[FamilyKey.FORMAT] != FAMILY_FORMAT:
        raise BadBinding(f"unsupported family-bundle format {body[FamilyKey.FORMAT]!r}")
    guardian, members = body[FamilyKey.GUARDIAN], body[FamilyKey.MEMBERS]
    if type(guardian) is not str or type(members) is not list:
        raise BadBinding("family bundle: the guardian's code is text and the members an array")
    if len(members) > MAX_DEPENDENTS:
        raise TooManyDependents(f"family bundle holds {len(members)} dependents; at most {MAX_DEPENDENTS}")
    pairs: list[tuple[str, bytes]] = []
    for m in members:
        if type(m) is not list or len(m) != 2 or type(m[0]) is not str or type(m[1]) is not bytes:
            raise BadBinding("family bundle: each member is [code text, binding bytes]")
        pairs.append((m[0], m[1]))
    return FamilyBundle(guardian, tuple(pairs))


def load_family_bundle(path: str | os.PathLike[str]) -> FamilyBundle:
    """Read and parse a family-bundle file (at most :data:`MAX_FAMILY_BYTES` are read)."""
    try:
        with open(Path(path), "rb") as source:
            data = source.read(MAX_FAMILY_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"cannot read family bundle {path}: {exc.strerror or exc}") from exc
    return read_family_bundle(data)


def verify_family(
    bundle: bytes | FamilyBundle,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
) -> FamilyResult:
    """Verify a whole family bundle: the guardian's code, each dependent's code and binding.

    Every binding must name the guardian; slots and dependents must not repeat
    (``bad_binding``), and there are at most 8 (``too_many_dependents``).
    """
    family = bundle if isinstance(bundle, FamilyBundle) else read_family_bundle(bundle)
    if len(family.members) > MAX_DEPENDENTS:
        raise TooManyDependents(
            f"family bundle holds {len(family.members)} dependents; at most {MAX_DEPENDENTS}"
        )
    guardian = verify(family.guardian, trust, at=at, skew=skew, grace=grace)
    results: list[DependentResult] = []
    for code, binding in family.members:
        dependent = verify(code, trust, at=at, skew=skew, grace=grace)
        opened = open_binding(binding, trust, at=at, skew=skew, grace=grace)
        check_subjects(opened, dependent, guardian)
        results.append(DependentResult(dependent, opened, guardian))
    _distinct(results)
    return FamilyResult(guardian, tuple(results))


def _distinct(results: Sequence[DependentResult]) -> None:
    slots = [r.binding.slot for r in results]
    people = [r.dependent.credential.subject for r in results]
    if len(set(slots)) != len(slots) or len(set(people)) != len(people):
        raise BadBinding("family bundle repeats a slot or a dependent")
