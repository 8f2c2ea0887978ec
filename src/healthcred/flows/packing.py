"""Outcomes of verification in a compact form, for the trip from a worker process back to its pool.

A native result travels as **one flat tuple of plain fields** (unpickling many
small containers costs more than the fields); an error as its class (pickled by
name), arguments and attributes; a foreign result (EU DCC, SMART Health Card)
pickled whole, rarer and richer. :func:`unpack` rebuilds the objects **without
the constructors' checks**: the worker that packed them already checked every
field (``docs/architecture.md``), so this is for a pool's own workers only,
never for outside input.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

from healthcred.errors import HealthCredError
from healthcred.flows.verify import moment_at
from healthcred.model import HealthCode, IdTag, Status, Subject, VerificationResult
from healthcred.model.credential import DOCUMENT_TYPE_BY_CODE, KIND_BY_CODE
from healthcred.model.record import unchecked_builder

__all__ = ["Packed", "pack", "pack_error", "unpack"]

_NATIVE, _WHOLE, _ERROR = 0, 1, 2  # the first field of a packed outcome

Packed = tuple[Any, ...]
"""One outcome as a worker sends it (see :func:`pack`)."""


def pack(result: VerificationResult) -> Packed:
    """A native result as a tuple of plain fields; a foreign one pickled whole (rare, and richer)."""
    code = result.credential
    if not isinstance(code, HealthCode):
        return (_WHOLE, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    subject, tag = code.subject, code.id_tag
    # One flat tuple of plain values: unpickling many small containers costs more than the fields.
    return (
        _NATIVE,
        code.version,
        int(code.kind),
        code.id,
        code.status.code,
        code.status.name,
        code.reason,
        subject.name,
        subject.birth_date,
        int(subject.document_type),
        subject.document_number,
        code.region,
        code.issued_at.timestamp(),
        code.expires_at.timestamp(),
        code.source_region,
        code.source_id,
        None if tag is None else tag.key_id,
        None if tag is None else tag.tag,
        result.kid,
        result.alg,
        result.key_region,
        result.trust_list_version,
        int(result.verified_at.timestamp()),
        result.warnings,
    )


def pack_error(error: HealthCredError) -> Packed:
    """An error as its class (pickled by name), its arguments and its attributes (message, field…)."""
    return (_ERROR, type(error), error.args, dict(vars(error)))


# The worker checked every field; rebuilding skips the constructors' checks (docs/architecture.md).
_STATUS = unchecked_builder(Status)
_SUBJECT = unchecked_builder(Subject)
_ID_TAG = unchecked_builder(IdTag)
_HEALTH_CODE = unchecked_builder(HealthCode)
_RESULT = unchecked_builder(VerificationResult)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def unpack(packed: Packed, statuses: dict[tuple[int, str], Status]) -> VerificationResult | HealthCredError:
    """The outcome a worker packed, rebuilt; a worker already checked every field."""
    if packed[0] == _ERROR:
        _, cls, args, state = packed
        error: HealthCredError = cls.__new__(cls)
        error.args = args
        error.__dict__.update(state)
        return error
    if packed[0] == _WHOLE:
        return pickle.loads(packed[1])  # type: ignore[no-any-return]  # noqa: S301  (our worker's)
    (
        _,
        version,
        kind,
        ident,
        status_code,
        status_name,
        reason,
        name,
        birth,
        document,
        number,
        region,
        issued,
        expires,
        source_region,
        source_id,
        tag_kid,
        tag,
        kid,
        alg,
        key_region,
        list_version,
        verified,
        warnings,
    ) = packed
    status = statuses.get((status_code, status_name))
    if status is None:
        status = statuses[status_code, status_name] = _STATUS(status_code, status_name)
    credential = _HEALTH_CODE(
        version,
        KIND_BY_CODE[kind],
        ident,
        status,
        reason,
        _SUBJECT(name, birth, DOCUMENT_TYPE_BY_CODE[document], number),
        region,
        _moment(issued),
        _moment(expires),
        source_region,
        source_id,
        None if tag is None else _ID_TAG(tag_kid, tag),
    )
    return _RESULT(credential, kid, alg, key_region, list_version, moment_at(verified), warnings)
