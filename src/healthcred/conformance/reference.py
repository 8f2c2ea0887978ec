"""This library's answer to a conformance case — and a ready ``--impl`` program speaking the protocol.

``evaluate(case)`` loads the case's trust context the way a trust folder is
loaded (anchors, optional bundle, loose lists, version state), then runs the
case's operation — ``verify`` a code, ``decide`` at a place with the signed
policy, ``verify_dependent`` (a dependent's code, its binding and the
guardian's code), ``verify_family`` (a family bundle), ``verify_place`` (a
place code) or ``check_id`` (a paper code, then an ID number against its ID
tag) — and answers ``{"valid": true, "result": {...}}`` or
``{"valid": false, "error": code}``.

``python -m healthcred.conformance.reference`` reads one case per line on
stdin and writes one answer per line on stdout (docs/conformance.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcred._deprecated import renamed
from healthcred.conformance.protocol import INPUTS, OPERATIONS, SCHEMA
from healthcred.crypto.keys import public_key_from_der
from healthcred.errors import BadKey, HealthCredError, TrustStoreError
from healthcred.flows.binding import Binding, DependentResult, verify_dependent
from healthcred.flows.family import verify_family
from healthcred.flows.gate import Gate
from healthcred.flows.idcheck import IdCheckKey, check_id
from healthcred.flows.places import PlaceResult, verify_place
from healthcred.flows.verify import verify
from healthcred.limits import MAX_EPOCH
from healthcred.model import HealthCode, VerificationResult
from healthcred.trust.bundle import open_bundle
from healthcred.trust.envelope import Anchor
from healthcred.trust.store import TrustStore

__all__ = [
    "CaseError",
    "Request",
    "binding_fields",
    "evaluate",
    "main",
    "make_store",
    "parse_request",
    "place_fields",
    "result_fields",
]


class CaseError(ValueError):
    """A case (or request) that is not of the documented shape; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Request:
    """A case's inputs, checked and decoded."""

    id: str
    operation: str
    text: str
    at: int
    skew: int
    grace: int
    scene: str | None
    level: str | None
    anchors: tuple[bytes, ...]
    trust_lists: tuple[bytes, ...]
    revocation_lists: tuple[bytes, ...]
    rule_sets: tuple[bytes, ...]
    bundle: bytes | None
    seen: Mapping[str, int]
    binding: bytes | None = None
    """``verify_dependent``: the signed binding."""
    guardian: str | None = None
    """``verify_dependent``: the guardian's code text, or ``None`` when only the dependent's is shown."""
    family: bytes | None = None
    """``verify_family``: the family-bundle file."""
    id_number: str | None = None
    """``check_id``: the number read from the presented document."""
    id_keys: tuple[IdCheckKey, ...] = ()
    """``check_id``: the ID-check keys this verifier holds."""


def _field(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in obj:
        raise CaseError(f"{where}: missing field {name!r}")
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CaseError(f"{where}.{name}: wrong type {type(value).__name__}")
    return value


def _hex_list(obj: Mapping[str, Any], name: str) -> tuple[bytes, ...]:
    items = _field(obj, name, list, "trust")
    try:
        return tuple(bytes.fromhex(item) for item in items)
    except (TypeError, ValueError) as exc:
        raise CaseError(f"trust.{name}: every item must be a hex string") from exc


def _seconds(obj: Mapping[str, Any], name: str) -> int:
    value: int = _field(obj, name, int, "case")
    if not 0 <= value <= MAX_EPOCH:
        raise CaseError(f"case.{name}: {value} is not between 0 and {MAX_EPOCH}")
    return value


def _hex(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise CaseError(f"{where} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise CaseError(f"{where} is not hex") from exc


def _id_keys(items: Any) -> tuple[IdCheckKey, ...]:
    if not isinstance(items, list):
        raise CaseError("input.id_keys must be a list")
    keys = []
    for n, item in enumerate(items):
        where = f"input.id_keys[{n}]"
        if not isinstance(item, dict):
            raise CaseError(f"{where} must be an object")
        try:
            key = IdCheckKey.from_secret(
                _hex(item.get("secret"), f"{where}.secret"), _field(item, "region", str, where)
            )
        except BadKey as exc:
            raise CaseError(f"{where}: {exc.message}") from exc
        if "key_id" in item and _hex(item["key_id"], f"{where}.key_id") != key.key_id:
            raise CaseError(f"{where}.key_id is not the key id of its secret")
        keys.append(key)
    return tuple(keys)


def _inputs(operation: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's decoded ``input`` fields, as :class:`Request` keywords."""
    wanted = INPUTS[operation]
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        raise CaseError(f"input: operation {operation} takes no field {unknown[0]!r}")
    for name in wanted:
        if name not in given:
            raise CaseError(f"input: missing field {name!r}")
    fields: dict[str, Any] = {"text": _field(given, "text", str, "input") if "text" in wanted else ""}
    if operation == "verify_dependent":
        fields["binding"] = _hex(given["binding"], "input.binding")
        guardian = given["guardian"]
        if guardian is not None and not isinstance(guardian, str):
            raise CaseError("input.guardian must be a code text or null")
        fields["guardian"] = guardian
    elif operation == "verify_family":
        fields["family"] = _hex(given["family"], "input.family")
    elif operation == "check_id":
        fields["id_number"] = _field(given, "id_number", str, "input")
        fields["id_keys"] = _id_keys(given["id_keys"])
    return fields


def parse_request(case: Any) -> Request:
    """Check a case's inputs (``expected`` and ``stages`` are not needed); raise :class:`CaseError`."""
    if not isinstance(case, Mapping):
        raise CaseError(f"a case is a JSON object, not {type(case).__name__}")
    if case.get("schema") != SCHEMA:
        raise CaseError(f"case.schema must be {SCHEMA!r}, not {case.get('schema')!r}")
    case_id = _field(case, "id", str, "case")
    operation = _field(case, "operation", str, "case")
    if operation not in OPERATIONS:
        raise CaseError(f"case.operation {operation!r} is not one of {', '.join(OPERATIONS)}")
    inputs = _inputs(operation, _field(case, "input", dict, "case"))
    scene = level = None
    if operation == "decide":
        place = _field(case, "place", dict, "case")
        scene, level = _field(place, "scene", str, "place"), _field(place, "level", str, "place")
    trust = _field(case, "trust", dict, "case")
    bundle = trust.get("bundle")
    seen = _field(trust, "seen", dict, "trust")
    if not all(isinstance(k, str) and type(v) is int and v >= 0 for k, v in seen.items()):
        raise CaseError("trust.seen must map series names to versions")
    return Request(
        case_id,
        operation,
        inputs.pop("text"),
        _seconds(case, "at"),
        _seconds(case, "skew"),
        _seconds(case, "grace"),
        scene,
        level,
        _hex_list(trust, "anchors"),
        _hex_list(trust, "trust_lists"),
        _hex_list(trust, "revocation_lists"),
        _hex_list(trust, "rule_sets"),
        None if bundle is None else _hex(bundle, "trust.bundle"),
        dict(seen),
        **inputs,
    )


def make_store(request: Request) -> TrustStore:
    """The trust store of a case, built as ``load_trust`` builds one from a folder."""
    if not request.anchors:
        raise TrustStoreError("the trust context holds no anchor")
    try:
        anchors = [Anchor.from_key(public_key_from_der(der)) for der in request.anchors]
    except BadKey as exc:
        raise TrustStoreError(f"cannot load a trust anchor: {exc.message}") from exc
    lists, revocations, rule_sets = request.trust_lists, request.revocation_lists, request.rule_sets
    if request.bundle is not None:
        # A bundle's contents come first, as in a trust folder; loose lists are added after them.
        store = open_bundle(request.bundle, anchors, seen=request.seen).store
        lists = (*store.raw_lists, *lists)
        revocations = (*store.raw_revocations, *revocations)
        rule_sets = (*store.raw_rule_sets, *rule_sets)
    return TrustStore(anchors, lists, revocations, rule_sets, seen=request.seen)


load_store = renamed(make_store, "load_store")


def result_fields(result: VerificationResult) -> dict[str, Any]:
    """The normative summary of a valid native code (docs/conformance.md, "result")."""
    cred = result.credential
    assert isinstance(cred, HealthCode)  # native vectors only
    subject = cred.subject
    fields: dict[str, Any] = {
        "kind": int(cred.kind),
        "status": cred.status.code,
        "reason": cred.reason,
        "region": cred.region,
        "issued_at": int(cred.issued_at.timestamp()),
        "expires_at": int(cred.expires_at.timestamp()),
        "credential_id": cred.id.hex(),
        "subject": {
            "name": subject.name,
            "birth_date": subject.birth_date,
            "document_type": int(subject.document_type),
            "document_number": subject.document_number,
        },
        "source_region": cred.source_region,
        "source_credential_id": cred.source_id.hex() if cred.source_id is not None else None,
        "kid": result.kid.hex(),
        "alg": result.alg,
        "key_region": result.key_region,
        # The verifier's only warning today is the grace period of an expired trust list.
        "in_grace": any("grace" in warning for warning in result.warnings),
    }
    id_tag = getattr(cred, "id_tag", None)
    if id_tag is not None:
        fields["id_tag"] = {"key_id": id_tag.key_id.hex(), "tag": id_tag.tag.hex()}
    return fields


def binding_fields(binding: Binding) -> dict[str, Any]:
    """The normative summary of a verified binding (docs/conformance.md, "verify_dependent")."""
    return {
        "id": binding.id.hex(),
        "region": binding.region,
        "issued_at": int(binding.issued_at.timestamp()),
        "expires_at": int(binding.expires_at.timestamp()),
        "guardian": binding.guardian.hex(),
        "dependent": binding.dependent.hex(),
        "relation": int(binding.relation),
        "slot": binding.slot,
        "kid": binding.kid.hex(),
        "key_region": binding.key_region,
    }


def _dependent_fields(result: DependentResult) -> dict[str, Any]:
    return {"dependent": result_fields(result.dependent), "binding": binding_fields(result.binding)}


def place_fields(result: PlaceResult) -> dict[str, Any]:
    """The normative summary of a verified place code (docs/conformance.md, "verify_place")."""
    place = result.place
    return {
        "venue_id": place.venue_id,
        "name": place.name,
        "region": place.region,
        "scene": place.scene,
        "issued_at": int(place.issued_at.timestamp()),
        "expires_at": int(place.expires_at.timestamp()),
        "kid": result.kid.hex(),
        "key_region": result.key_region,
    }


def _answer(request: Request) -> dict[str, Any]:
    store = make_store(request)
    at = datetime.fromtimestamp(request.at, UTC)
    skew, grace = timedelta(seconds=request.skew), timedelta(seconds=request.grace)
    times: dict[str, Any] = {"at": at, "skew": skew, "grace": grace}
    if request.operation == "verify":
        return {"valid": True, "result": result_fields(verify(request.text, store, **times))}
    if request.operation == "verify_dependent":
        assert request.binding is not None
        shown = verify_dependent(request.text, request.binding, store, guardian=request.guardian, **times)
        fields = _dependent_fields(shown)
        fields["guardian"] = None if shown.guardian is None else result_fields(shown.guardian)
        return {"valid": True, "result": fields}
    if request.operation == "verify_family":
        assert request.family is not None
        family = verify_family(request.family, store, **times)
        return {
            "valid": True,
            "result": {
                "guardian": result_fields(family.guardian),
                "dependents": [_dependent_fields(d) for d in family.dependents],
            },
        }
    if request.operation == "verify_place":
        return {"valid": True, "result": place_fields(verify_place(request.text, store, **times))}
    if request.operation == "check_id":
        assert request.id_number is not None
        paper = verify(request.text, store, **times)
        return {
            "valid": True,
            "result": {
                **result_fields(paper),
                "id_match": check_id(paper, request.id_number, request.id_keys),
            },
        }
    assert request.scene is not None and request.level is not None
    gate = Gate(store, scene=request.scene, level=request.level)
    decision, result = gate.check(request.text, at=at)
    if result is None:  # the gate denies an invalid code, naming its error code as the rule
        return {"valid": False, "error": decision.rule}
    fields = result_fields(result)
    fields["decision"] = {"outcome": decision.outcome, "rule": decision.rule}
    return {"valid": True, "result": fields}


def evaluate(case: Any) -> dict[str, Any]:
    """This library's answer to ``case`` (a decoded case file), with the case id echoed.

    Raises :class:`CaseError` for a case that is not of the documented shape.
    """
    request = parse_request(case)
    try:
        answer = _answer(request)
    except HealthCredError as exc:
        answer = {"valid": False, "error": exc.code}
    return {"id": request.id, **answer}


def main() -> int:
    """The JSON-lines loop: one case per stdin line, one answer per stdout line."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = evaluate(json.loads(line))
        except (ValueError, CaseError) as exc:
            answer = {"id": None, "unsupported": f"bad request: {exc}"}
        sys.stdout.write(json.dumps(answer, sort_keys=True, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
