"""One conformance case: its input, its trust context, every stage of the code, the expected outcome.

The JSON form (``docs/conformance.md``) holds bytes as lower-case hex and the
QR image as base64 PNG. :func:`stages_of` decodes a code text layer by layer
*leniently* (so even a deliberately broken code shows every stage that
exists); the stages are informative, the verdict comes only from ``input``,
``trust`` and the times.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cbor2

from healthcred.codec.base45 import b45decode
from healthcred.codec.prefix import NATIVE_PREFIX, PLACE_PREFIX
from healthcred.codec.qr import render_qr
from healthcred.conformance.protocol import INPUTS, OPERATIONS, SCHEMA
from healthcred.crypto.cose import sig_structure
from healthcred.errors import HealthCredError

__all__ = ["INPUTS", "OPERATIONS", "SCHEMA", "Case", "Trust", "cbor_to_json", "dump_case", "stages_of"]

_ABSENT = object()  # cbor2 6.x has no break_marker
_MAX_QR_TEXT = 2000  # longer texts (the too_large cases) get no image: no scanner test needs one


@dataclass(frozen=True, slots=True)
class Trust:
    """What a verifier holds: anchors (SPKI DER) and signed lists, all as bytes, plus its version memory."""

    anchors: Sequence[bytes]
    trust_lists: Sequence[bytes] = ()
    revocation_lists: Sequence[bytes] = ()
    rule_sets: Sequence[bytes] = ()
    bundle: bytes | None = None
    seen: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``trust`` object of a case file."""
        return {
            "anchors": [a.hex() for a in self.anchors],
            "trust_lists": [t.hex() for t in self.trust_lists],
            "revocation_lists": [r.hex() for r in self.revocation_lists],
            "rule_sets": [r.hex() for r in self.rule_sets],
            "bundle": None if self.bundle is None else self.bundle.hex(),
            "seen": dict(sorted(self.seen.items())),
        }


@dataclass(frozen=True, slots=True)
class Case:
    """One vector; ``expected`` is ``{"valid": True, "result": {…}}`` or ``{"valid": False, "error": …}``."""

    id: str
    title: str
    text: str
    trust: Trust
    at: int
    expected: Mapping[str, Any]
    operation: str = "verify"
    skew: int = 300
    grace: int = 0
    place: Mapping[str, str] | None = None
    related: Mapping[str, str] = field(default_factory=dict)
    """Other codes the case is about (e.g. the regional source of a national code), informative."""
    tags: Sequence[str] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """The operation's input fields besides ``text`` (JSON values: bytes already as hex)."""

    @property
    def area(self) -> str:
        """The first part of the id: the case's folder."""
        return self.id.split("/", 1)[0]

    def to_json(self) -> dict[str, Any]:
        """The case file's content (see docs/conformance.md)."""
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {self.operation!r}")
        given = {"text": self.text, **self.inputs}
        if set(given) - {"text"} != set(INPUTS[self.operation]) - {"text"}:
            raise ValueError(f"{self.id}: operation {self.operation} takes input {INPUTS[self.operation]}")
        # A family bundle carries its codes; ``text`` (its guardian's code) then only feeds the stages.
        inputs = {name: given[name] for name in INPUTS[self.operation]}
        return {
            "schema": SCHEMA,
            "id": self.id,
            "area": self.area,
            "title": self.title,
            "tags": sorted(self.tags),
            "operation": self.operation,
            "input": inputs,
            "at": self.at,
            "at_iso": datetime.fromtimestamp(self.at, UTC).isoformat().replace("+00:00", "Z"),
            "skew": self.skew,
            "grace": self.grace,
            "place": dict(self.place) if self.place is not None else None,
            "trust": self.trust.to_json(),
            "expected": dict(self.expected),
            "stages": stages_of(self.text),
            "related": {name: stages_of(text) for name, text in sorted(self.related.items())},
        }


def dump_case(case: Case) -> str:
    """The exact file text: sorted keys, two-space indent, UTF-8 kept, one final newline."""
    return json.dumps(case.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def cbor_to_json(item: Any) -> Any:
    """A JSON rendering of a decoded CBOR item, close to CBOR diagnostic notation.

    Map keys become decimal or text strings, byte strings ``"h'…'"``, tags
    ``{"tag": n, "value": …}``; integers and text are unchanged.
    """
    if isinstance(item, bytes):
        return f"h'{item.hex()}'"
    if isinstance(item, Mapping):
        return {str(k) if isinstance(k, int | str) else repr(k): cbor_to_json(v) for k, v in item.items()}
    if isinstance(item, list | tuple):
        return [cbor_to_json(v) for v in item]
    if isinstance(item, cbor2.CBORTag):
        return {"tag": item.tag, "value": cbor_to_json(item.value)}
    if item is None or isinstance(item, bool | int | str):
        return item
    return repr(item)


@functools.lru_cache(maxsize=512)
def _png(text: str) -> str | None:
    # Cached: many cases share one code text, and rendering costs ~20 ms.
    if not text or len(text) > _MAX_QR_TEXT:
        return None
    try:
        return base64.b64encode(render_qr(text)).decode("ascii")
    except HealthCredError:
        return None


def stages_of(text: str) -> dict[str, Any]:
    """Every stage of a ``JKM1:`` or ``JKP1:`` ``text`` that decodes, leniently; ``None`` after a failure."""
    stages: dict[str, Any] = {
        "text": text,
        "qr_png": _png(text),
        "base45": None,
        "body": None,
        "compressed": None,
        "cose": None,
        "protected": None,
        "payload": None,
        "signature": None,
        "sig_structure": None,
        "claims_json": None,
    }
    # A place code (JKP1:) has the same layers; its payload (``claims_json``) is the place map.
    prefix = next((p for p in (NATIVE_PREFIX, PLACE_PREFIX) if text.startswith(p)), None)
    if prefix is None:
        return stages
    stages["base45"] = text[len(prefix) :]
    try:
        body = b45decode(stages["base45"])
    except HealthCredError:
        return stages
    stages["body"] = body.hex()
    if body[:1] == b"\xd2":
        message = body
    else:
        try:
            message = zlib.decompressobj().decompress(body, 65536)
        except zlib.error:
            return stages
        stages["compressed"] = body.hex()
    stages["cose"] = message.hex()
    try:
        outer = cbor2.loads(message)
    except (cbor2.CBORError, ValueError, TypeError, EOFError, RecursionError):
        return stages
    parts = outer.value if isinstance(outer, cbor2.CBORTag) else outer
    if not (isinstance(parts, list | tuple) and len(parts) == 4):
        return stages
    protected, _, payload, signature = parts
    if not all(isinstance(p, bytes) for p in (protected, payload, signature)):
        return stages
    stages.update(
        protected=protected.hex(),
        payload=payload.hex(),
        signature=signature.hex(),
        sig_structure=sig_structure(protected, payload).hex(),
    )
    with contextlib.suppress(cbor2.CBORError, ValueError, TypeError, EOFError, RecursionError):
        claims = cbor2.loads(payload)
        if claims is not getattr(cbor2, "break_marker", _ABSENT):  # 5.x returns a lone break; 6.x raises
            stages["claims_json"] = cbor_to_json(claims)
    return stages
