"""The one place that knows the claim numbers: :class:`HealthCode` ↔ CWT claims map.

The signed payload is a CWT claims set (RFC 8392)::

    { 1 iss: region, 4 exp: uint, 6 iat: uint, 7 cti: bstr .size 16, -65537 hcode: {...} }

and the private claim ``hcode`` holds the health-code map with small integer
keys (see ``docs/format.md``). Decoding checks every key, type and key order,
so the strict CBOR layer can skip its generic walk on this hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import IntEnum
from types import ModuleType
from typing import Any

from healthcred._extensions import load_extension
from healthcred.codec.cbor import loads
from healthcred.errors import ClaimsError, InvalidField
from healthcred.limits import MAX_EPOCH
from healthcred.model import (
    FORMAT_VERSION,
    CredentialKind,
    HealthCode,
    IdTag,
    Status,
    Subject,
    status_from_code,
)
from healthcred.model.credential import (
    BIRTH_DATE_MAX_CHARS,
    CREDENTIAL_ID_BYTES,
    DOCUMENT_NUMBER_MAX_CHARS,
    DOCUMENT_TYPE_BY_CODE,
    ID_KEY_ID_BYTES,
    ID_TAG_BYTES,
    KIND_BY_CODE,
    NAME_MAX_CHARS,
    PAPER_MAX_SECONDS,
    REGION_CHARS,
    code_if_valid,
    id_tag_if_valid,
    subject_if_valid,
)
from healthcred.model.record import builder_of
from healthcred.model.status import NATIONAL_PALETTE

__all__ = [
    "Claim",
    "HCode",
    "SubjectKey",
    "from_claims",
    "from_payload",
    "read_claims",
    "read_payload",
    "to_claims",
]


class Claim(IntEnum):
    """CWT claim keys used in the payload (RFC 8392 §4, plus one private-use claim)."""

    ISS = 1
    EXP = 4
    IAT = 6
    CTI = 7
    HCODE = -65537
    """Private-use claim (RFC 8392 §9.1: keys below -65536) holding the health-code map."""


class HCode(IntEnum):
    """Keys of the health-code map inside :attr:`Claim.HCODE`."""

    VERSION = 1
    KIND = 2
    STATUS = 3
    REASON = 4
    SUBJECT = 5
    SOURCE_REGION = 6
    SOURCE_ID = 7
    ID_TAG = 8
    """``[key id, tag]``: keyed tag of the holder's ID number (required for a paper code, else optional)."""


class SubjectKey(IntEnum):
    """Keys of the subject map inside :attr:`HCode.SUBJECT`."""

    NAME = 1
    BIRTH_DATE = 2
    DOCUMENT_TYPE = 3
    DOCUMENT_NUMBER = 4


# The key sequences each map may have, in deterministic order (RFC 8949 §4.2.1: unsigned keys
# ascending, then negative ones). Checking the whole sequence at once checks presence, order and
# the absence of unknown keys in one comparison.
_CLAIM_SHAPES = frozenset({(Claim.ISS, Claim.EXP, Claim.IAT, Claim.CTI, Claim.HCODE)})
_HCODE_BASE = (HCode.VERSION, HCode.KIND, HCode.STATUS)
_HCODE_SOURCE = (HCode.SOURCE_REGION, HCode.SOURCE_ID)
_HCODE_UNTAGGED = (
    (*_HCODE_BASE, HCode.SUBJECT),
    (*_HCODE_BASE, HCode.REASON, HCode.SUBJECT),
    (*_HCODE_BASE, HCode.SUBJECT, *_HCODE_SOURCE),
    (*_HCODE_BASE, HCode.REASON, HCode.SUBJECT, *_HCODE_SOURCE),
)
# The ID tag (key 8) is the last key when present, so each shape may end with it.
_HCODE_SHAPES = frozenset(_HCODE_UNTAGGED + tuple((*shape, HCode.ID_TAG) for shape in _HCODE_UNTAGGED))
_SUBJECT_SHAPES = frozenset({tuple(SubjectKey)})
# Plain dict look-ups: calling an Enum class costs more than the rest of a claim's checks.


# Plain-int copies of the keys for encoding: cbor2 encodes IntEnum keys through a slow path
# (10 µs against 4 µs per claims map, measured with cbor2 5.9).
_ISS, _EXP, _IAT, _CTI, _HCODE = map(int, (Claim.ISS, Claim.EXP, Claim.IAT, Claim.CTI, Claim.HCODE))
_VERSION, _KIND, _STATUS, _REASON, _SUBJECT, _SOURCE_REGION, _SOURCE_ID, _ID_TAG = map(int, HCode)
_NAME, _BIRTH_DATE, _DOCUMENT_TYPE, _DOCUMENT_NUMBER = map(int, SubjectKey)


def to_claims(code: HealthCode) -> dict[int, Any]:
    """The CWT claims map for ``code`` (plain ints, text and bytes; ready for deterministic CBOR)."""
    subject = code.subject
    hcode: dict[int, Any] = {_VERSION: code.version, _KIND: int(code.kind), _STATUS: code.status.code}
    if code.reason is not None:
        hcode[_REASON] = code.reason
    hcode[_SUBJECT] = {
        _NAME: subject.name,
        _BIRTH_DATE: subject.birth_date,
        _DOCUMENT_TYPE: int(subject.document_type),
        _DOCUMENT_NUMBER: subject.document_number,
    }
    if code.source_region is not None:
        hcode[_SOURCE_REGION] = code.source_region
        hcode[_SOURCE_ID] = code.source_id
    if code.id_tag is not None:
        hcode[_ID_TAG] = [code.id_tag.key_id, code.id_tag.tag]
    return {
        _ISS: code.region,
        _EXP: int(code.expires_at.timestamp()),
        _IAT: int(code.issued_at.timestamp()),
        _CTI: code.id,
        _HCODE: hcode,
    }


def _map(value: Any, shapes: frozenset[tuple[int, ...]], what: str) -> dict[Any, Any]:
    if type(value) is not dict:
        raise ClaimsError(f"{what} must be a map")
    if any(type(k) is bool for k in value):  # True == 1 and False == 0 in Python: refuse them by type
        raise ClaimsError(f"{what} has a map key that is a boolean, not an integer")
    if tuple(value) not in shapes:
        known = set().union(*shapes)
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ClaimsError(f"{what} holds unknown key(s) {unknown}")
        missing = sorted(int(k) for k in min(shapes, key=len) if k not in value)
        if missing:
            raise ClaimsError(f"{what} lacks required key(s) {missing}")
        raise ClaimsError(f"{what} keys are not in deterministic order")
    return value


def _uint(value: Any, what: str, limit: int) -> int:
    if type(value) is not int or not 0 <= value <= limit:
        raise ClaimsError(f"{what} must be an unsigned integer up to {limit}")
    return value


def _id_tag(value: Any) -> IdTag | None:
    # Sizes are the model's to check; the shape is ours.
    if value is None:
        return None
    if type(value) is not list or len(value) != 2:
        raise ClaimsError("ID tag must be an array [key id, tag]")
    try:
        return IdTag(key_id=value[0], tag=value[1])
    except InvalidField as exc:
        raise _invalid(exc, "id_tag.") from exc


def _invalid(exc: InvalidField, within: str = "") -> ClaimsError:
    return ClaimsError(f"claim {within}{exc.field or 'set'} is invalid: {exc.rule}")


_CLAIM_KEYS = (_ISS, _EXP, _IAT, _CTI, _HCODE)
_SUBJECT_KEYS = (_NAME, _BIRTH_DATE, _DOCUMENT_TYPE, _DOCUMENT_NUMBER)
_PAPER = CredentialKind.PAPER


def _lean(claims: Any, palette: Mapping[int, Status] | None) -> HealthCode | None:
    """The credential if every check passes, built without raising; ``None`` sends to the full path.

    The same checks as :func:`from_claims` and the model's constructors, in as few Python steps
    as they take: the full path, run on ``None``, then raises the error it always raises.
    """
    # Key 1 leads every map; a CBOR ``true`` equals it in Python, so the first key is checked by identity.
    if type(claims) is not dict or (keys := tuple(claims)) != _CLAIM_KEYS or keys[0] is True:
        return None
    hcode = claims[_HCODE]
    if type(hcode) is not dict or (keys := tuple(hcode)) not in _HCODE_SHAPES or keys[0] is True:
        return None
    subject = hcode[_SUBJECT]
    if type(subject) is not dict or (keys := tuple(subject)) != _SUBJECT_KEYS or keys[0] is True:
        return None
    version, kind, status, doc_type = hcode[_VERSION], hcode[_KIND], hcode[_STATUS], subject[_DOCUMENT_TYPE]
    issued, expires = claims[_IAT], claims[_EXP]
    if (
        type(version) is not int
        or version != FORMAT_VERSION
        or type(kind) is not int
        or type(status) is not int
        or type(doc_type) is not int
        or type(issued) is not int
        or type(expires) is not int
        or not 1 <= status <= 255
        or not 0 <= issued <= MAX_EPOCH
        or not 0 <= expires <= MAX_EPOCH
    ):
        return None
    kind_member, doc_member = KIND_BY_CODE.get(kind), DOCUMENT_TYPE_BY_CODE.get(doc_type)
    if kind_member is None or doc_member is None:
        return None
    tag = hcode.get(_ID_TAG)
    if tag is not None:
        if type(tag) is not list or len(tag) != 2 or (tag := id_tag_if_valid(tag[0], tag[1])) is None:
            return None
    elif kind_member is _PAPER:
        return None
    person = subject_if_valid(subject[_NAME], subject[_BIRTH_DATE], doc_member, subject[_DOCUMENT_NUMBER])
    if person is None:
        return None
    return code_if_valid(
        kind_member, claims[_CTI], status, palette, hcode.get(_REASON), person, claims[_ISS], issued, expires,
        hcode.get(_SOURCE_REGION), hcode.get(_SOURCE_ID), tag,
    )  # fmt: skip


def _load_compiled() -> ModuleType | None:
    """The C lean path (``_claims.c``) told this module's numbers, tables and bounds; or ``None``.

    ``None`` where it is not built or ``HEALTHCRED_PURE=1`` (as for the C decoder, ``codec.fast``).
    It builds exactly what :func:`_lean` builds, for the national palette; ``None`` from it
    means :func:`_lean` decides (tests/model/test_lean.py holds the two equal).
    """
    _claims = load_extension("healthcred.native._claims")
    if _claims is None:
        return None
    national = NATIONAL_PALETTE if type(NATIONAL_PALETTE) is dict else dict(NATIONAL_PALETTE)
    _claims.configure(
        _CLAIM_KEYS, (_VERSION, _KIND, _STATUS, _REASON, _SUBJECT, _SOURCE_REGION, _SOURCE_ID, _ID_TAG),
        _SUBJECT_KEYS, frozenset(tuple(map(int, shape)) for shape in _HCODE_SHAPES), KIND_BY_CODE,
        DOCUMENT_TYPE_BY_CODE, national, CredentialKind.PAPER, CredentialKind.NATIONAL, FORMAT_VERSION,
        builder_of(HealthCode), builder_of(Subject), builder_of(IdTag), MAX_EPOCH, PAPER_MAX_SECONDS,
        CREDENTIAL_ID_BYTES, ID_KEY_ID_BYTES, ID_TAG_BYTES, NAME_MAX_CHARS, BIRTH_DATE_MAX_CHARS,
        DOCUMENT_NUMBER_MAX_CHARS, REGION_CHARS,
    )  # fmt: skip
    return _claims


compiled: ModuleType | None = _load_compiled()
"""The C lean path in use, or ``None`` (read at each call, so tests may switch it)."""


def read_claims(claims: Any, palette: Mapping[int, Status] | None = None) -> tuple[HealthCode, int, int]:
    """The :class:`HealthCode` of a decoded claims map, with its ``iat`` and ``exp`` in epoch seconds.

    The verifier's entry: the times come as the wire holds them, so it need not convert them
    back from the credential's datetimes. Raises :class:`ClaimsError` as :func:`from_claims` does.
    """
    if palette is None and compiled is not None and (read := compiled.health_code(claims)) is not None:
        return read  # type: ignore[no-any-return]
    code = _python_claims(claims, palette)
    return code, claims[_IAT], claims[_EXP]  # plain ints in range: the code's checks passed


def from_claims(claims: Any, palette: Mapping[int, Status] | None = None) -> HealthCode:
    """Rebuild the :class:`HealthCode` from a decoded claims map; raise :class:`ClaimsError`.

    Types the model checks itself (strictly, no coercion) are not checked twice here. A valid
    map takes the lean path (in C when built, :data:`compiled`, else :func:`_lean`); any other,
    the full checks (:func:`_python_claims`), which say what is wrong.
    """
    return read_claims(claims, palette)[0]


def _python_claims(claims: Any, palette: Mapping[int, Status] | None) -> HealthCode:
    """The Python paths: :func:`_lean`, then the checks that name what is wrong."""
    if (code := _lean(claims, palette)) is not None:
        return code
    top = _map(claims, _CLAIM_SHAPES, "claims")
    hcode = _map(top[Claim.HCODE], _HCODE_SHAPES, "health-code claim")
    subject = _map(hcode[HCode.SUBJECT], _SUBJECT_SHAPES, "subject")
    version = hcode[HCode.VERSION]
    if type(version) is not int or version != FORMAT_VERSION:
        raise ClaimsError(f"unsupported health-code map version {version!r}")
    kind = KIND_BY_CODE.get(_uint(hcode[HCode.KIND], "kind", 0xFFFF))
    doc_type = DOCUMENT_TYPE_BY_CODE.get(_uint(subject[SubjectKey.DOCUMENT_TYPE], "document type", 0xFFFF))
    if kind is None or doc_type is None:
        raise ClaimsError(f"unknown credential kind {hcode[HCode.KIND]} or document type")
    id_tag = _id_tag(hcode.get(HCode.ID_TAG))
    if kind is CredentialKind.PAPER and id_tag is None:
        raise ClaimsError("a paper code must carry an ID tag (health-code key 8)")
    try:
        person = Subject(
            name=subject[SubjectKey.NAME],
            birth_date=subject[SubjectKey.BIRTH_DATE],
            document_type=doc_type,
            document_number=subject[SubjectKey.DOCUMENT_NUMBER],
        )
    except InvalidField as exc:
        raise _invalid(exc, "subject.") from exc
    try:
        return HealthCode(
            version=FORMAT_VERSION,
            kind=kind,
            id=top[Claim.CTI],
            status=status_from_code(_uint(hcode[HCode.STATUS], "status", 255), palette),
            reason=hcode.get(HCode.REASON),
            subject=person,
            region=top[Claim.ISS],
            issued_at=datetime.fromtimestamp(_uint(top[Claim.IAT], "iat", MAX_EPOCH), UTC),
            expires_at=datetime.fromtimestamp(_uint(top[Claim.EXP], "exp", MAX_EPOCH), UTC),
            source_region=hcode.get(HCode.SOURCE_REGION),
            source_id=hcode.get(HCode.SOURCE_ID),
            id_tag=id_tag,
        )
    except InvalidField as exc:
        raise _invalid(exc) from exc


def read_payload(payload: bytes, palette: Mapping[int, Status] | None = None) -> tuple[HealthCode, int, int]:
    """:func:`read_claims` of a native code's signed payload (strict CBOR first).

    :func:`read_claims` checks every key, type and key order itself, so the CBOR
    layer skips its generic walk (``walk=False``) on this hot path.
    """
    return read_claims(loads(payload, "claims", walk=False), palette)


def from_payload(payload: bytes, palette: Mapping[int, Status] | None = None) -> HealthCode:
    """The :class:`HealthCode` in a native code's signed payload (:func:`read_payload`)."""
    return read_payload(payload, palette)[0]
