"""What the signed objects beside health codes share: opening them and finding the key that vouches.

Place codes and relatives bindings are COSE_Sign1 messages with their own
content type, signed by a regional key from the trust lists. A trust entry
may sign one if it has the issue role, covers the object's region, was valid
and not compromised when the object was issued, and — when the entry restricts
kinds — lists the object's *grant kind* (``docs/format.md`` §9.1): so a region
can give a venue-registration system a key that signs place codes and nothing
else, without a new role.
"""

from __future__ import annotations

from datetime import UTC, datetime

from healthcred.codec.base45 import b45decode
from healthcred.codec.compression import unpack
from healthcred.codec.limits import MAX_TEXT_CHARS
from healthcred.codec.prefix import strip_prefix
from healthcred.errors import (
    BadInput,
    CodeExpired,
    CodeNotYetValid,
    HealthCredError,
    KeyCompromised,
    KeyNotValid,
    KindNotAllowed,
    RegionNotAllowed,
    TooLarge,
)
from healthcred.signing.cose import Sign1, parse_sign1
from healthcred.signing.trust import TrustEntry, region_contains

__all__ = ["check_window", "epoch_seconds", "grant_for", "open_text"]

_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def epoch_seconds(at: datetime | int | float | None) -> int:
    """A validation time as epoch seconds (``None``: now); raise :class:`BadInput` for anything else."""
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


def open_text(text: str, prefix: str) -> Sign1:
    """The COSE_Sign1 inside ``prefix || Base45(body)`` (the layers of ``docs/format.md`` §2–5)."""
    if not isinstance(text, str):
        raise BadInput(f"text must be str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TooLarge(f"text is {len(text)} characters; a QR code holds at most {MAX_TEXT_CHARS}")
    return parse_sign1(unpack(b45decode(strip_prefix(text, prefix))))


def grant_for(
    entries: tuple[TrustEntry, ...], *, region: str, issued: int, kind: int, what: str
) -> TrustEntry:
    """The first entry that may sign a ``what`` of grant ``kind`` for ``region`` issued at ``issued``.

    If none may, the first entry's reason is raised (as for credentials).
    """
    first: HealthCredError | None = None
    for e in entries:
        try:
            if not e.may_issue:
                raise KindNotAllowed(f"key {e.kid.hex()} has no issue role, so it may not sign a {what}")
            if not region_contains(e.region, region):
                raise RegionNotAllowed(f"key {e.kid.hex()} may sign for region {e.region}, not {region}")
            if e.compromised_at is not None and issued >= e.compromised_at:
                raise KeyCompromised(f"{what} was signed after key {e.kid.hex()} was compromised")
            if not e.not_before <= issued <= e.not_after:
                raise KeyNotValid(
                    f"{what} was issued at epoch {issued}, outside key {e.kid.hex()}'s validity"
                )
            if e.kinds is not None and kind not in e.kinds:
                raise KindNotAllowed(f"key {e.kid.hex()} may not sign a {what} (grant kind {kind})")
        except HealthCredError as exc:
            first = first or exc
            continue
        return e
    assert first is not None  # resolve() never returns no entries
    raise first


def check_window(issued: int, expires: int, now: int, skew: int, what: str) -> None:
    """Raise :class:`CodeExpired` or :class:`CodeNotYetValid` unless ``now`` is in the window (± skew)."""
    if now > expires + skew:
        raise CodeExpired(f"{what} expired at {datetime.fromtimestamp(expires, UTC).isoformat()}")
    if issued > now + skew:
        raise CodeNotYetValid(
            f"{what} is issued at {datetime.fromtimestamp(issued, UTC).isoformat()}, in the future"
        )
