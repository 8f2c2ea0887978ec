"""The verifying flow: text (or image) → prefix → Base45 → bounded zlib → COSE_Sign1 → trusted key
→ signature → claims → credential → region, key-window and time checks → result.

Every stage raises its own :class:`~healthcred.errors.HealthCredError`; nothing
else escapes, whatever the input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from healthcred.claims import from_claims
from healthcred.codec.base45 import b45decode
from healthcred.codec.cbor import loads
from healthcred.codec.compression import unpack
from healthcred.codec.limits import MAX_TEXT_CHARS
from healthcred.codec.prefix import FOREIGN_PREFIXES, NATIVE_PREFIX, strip_prefix
from healthcred.codec.qr import Backend, read_qr
from healthcred.errors import BadInput, CodeExpired, CodeNotYetValid, HealthCredError, Revoked, TooLarge
from healthcred.model import HealthCode, Status, VerificationResult
from healthcred.signing.algorithms import Alg
from healthcred.signing.cose import parse_sign1
from healthcred.signing.trust import TrustEntry, TrustStore

__all__ = ["DEFAULT_SKEW", "code_text", "verify", "verify_text"]

DEFAULT_SKEW = timedelta(minutes=5)
"""Clock-skew allowance between issuer and verifier clocks."""

_TEXT_PREFIXES = (NATIVE_PREFIX, *FOREIGN_PREFIXES)
_BYTES_PREFIXES = tuple(p.encode("ascii") for p in _TEXT_PREFIXES)


def code_text(code: Any, *, qr_backend: Backend = "zxing") -> str:
    """The QR text of ``code``: text as it is; image bytes, a path or a PIL image are read as QR.

    A ``str`` is text unless it names an existing file and starts with no known prefix.
    """
    if isinstance(code, str):
        if not code.startswith(_TEXT_PREFIXES) and len(code) < 4096 and os.path.isfile(code):
            return read_qr(code, backend=qr_backend)
        return code
    if isinstance(code, bytes | bytearray | memoryview):
        raw = bytes(code)
        if raw.startswith(_BYTES_PREFIXES):
            try:
                return raw.decode("ascii")
            except UnicodeDecodeError as exc:
                raise BadInput("code text holds a non-ASCII byte") from exc
        return read_qr(raw, backend=qr_backend)
    if isinstance(code, os.PathLike | Image.Image):
        return read_qr(code, backend=qr_backend)
    raise BadInput(f"a code is text, bytes, an image path or a PIL image, not {type(code).__name__}")


_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z, the largest time a datetime holds


def _seconds(at: datetime | int | float | None) -> int:
    if at is None:
        return int(datetime.now(UTC).timestamp())
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise BadInput("the validation time must be timezone-aware (e.g. datetime.now(UTC))")
        return int(at.timestamp())
    if isinstance(at, int | float) and not isinstance(at, bool):
        if not 0 <= at <= _MAX_SECONDS:  # also false for NaN
            raise BadInput(f"the validation time {at!r} is not between 1970 and 9999")
        return int(at)
    raise BadInput(f"the validation time must be a datetime or epoch seconds, not {type(at).__name__}")


def _permitting_entry(entries: tuple[TrustEntry, ...], credential: HealthCode, issued: int) -> TrustEntry:
    # The first verified entry whose grant covers the credential; if none does, the first entry's
    # reason is the error (one key listed twice is a union of its grants, unless they conflict).
    first: HealthCredError | None = None
    for entry in entries:
        try:
            entry.check(credential.region, issued, credential.kind, credential.status.code)
        except HealthCredError as exc:
            first = first or exc
            continue
        return entry
    assert first is not None
    raise first


def verify_text(
    text: str,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
    palette: Mapping[int, Status] | None = None,
) -> VerificationResult:
    """Verify a native code's QR text offline against ``trust``; see :func:`verify`."""
    if not isinstance(trust, TrustStore):
        raise BadInput(f"trust must be a TrustStore (see load_trust), not {type(trust).__name__}")
    if not isinstance(text, str):
        raise BadInput(f"text must be str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TooLarge(f"code text is {len(text)} characters; a QR code holds at most {MAX_TEXT_CHARS}")
    now = _seconds(at)
    if not isinstance(skew, timedelta) or skew < timedelta(0):
        raise BadInput("skew must be a timedelta of zero or more")
    if not isinstance(grace, timedelta) or grace < timedelta(0):
        raise BadInput("grace must be a timedelta of zero or more")
    if palette is not None and not isinstance(palette, Mapping):
        raise BadInput("palette must map status codes to Status")
    allowance = int(skew.total_seconds())

    message = parse_sign1(unpack(b45decode(strip_prefix(text))))
    entries = trust.resolve(message, now, int(grace.total_seconds()))
    credential = from_claims(loads(message.payload, "claims", walk=False), palette)
    issued = int(credential.issued_at.timestamp())
    entry = _permitting_entry(entries, credential, issued)
    if trust.is_revoked(credential.id, credential.region):
        raise Revoked(f"credential {credential.id.hex()} is revoked by its issuer")
    if now > int(credential.expires_at.timestamp()) + allowance:
        raise CodeExpired(f"code expired at {credential.expires_at.isoformat()}")
    if issued > now + allowance:
        raise CodeNotYetValid(f"code is issued at {credential.issued_at.isoformat()}, in the future")
    warnings: tuple[str, ...] = ()
    if now > entry.list_expires_at:
        expired = datetime.fromtimestamp(entry.list_expires_at, UTC).isoformat()
        warnings = (f"trust list {entry.list_id!r} expired at {expired}; accepted within the grace period",)
    return VerificationResult(
        credential=credential,
        kid=entry.kid,
        alg=Alg(entry.alg).label,
        key_region=entry.region,
        trust_list_version=entry.list_version,
        verified_at=datetime.fromtimestamp(now, UTC),
        warnings=warnings,
    )


def verify(
    code: Any,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
    palette: Mapping[int, Status] | None = None,
    qr_backend: Backend = "zxing",
) -> VerificationResult:
    """Verify a health code offline; return the result or raise one :class:`HealthCredError`.

    ``code`` is the QR text, its bytes, an image (path, bytes or PIL image);
    ``trust`` comes from :func:`~healthcred.signing.trust.load_trust`; ``at`` is
    the validation time (default: now), ``skew`` the clock-skew allowance,
    ``grace`` how long past its expiry a trust list is still used (the result
    then carries a warning).
    """
    text = code_text(code, qr_backend=qr_backend)
    return verify_text(text, trust, at=at, skew=skew, grace=grace, palette=palette)
