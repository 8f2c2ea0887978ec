"""Time as an input: the clock-skew default and the one reading of a validation time.

Every verifying function takes ``at=`` (default: now) and ``skew=``; this module is the one place
that turns ``at`` into epoch seconds and the one that knows the default skew.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from healthcred.errors import BadInput
from healthcred.limits import MAX_EPOCH

__all__ = ["DEFAULT_SKEW", "DEFAULT_SKEW_SECONDS", "NO_GRACE", "epoch_seconds", "iso_time"]

DEFAULT_SKEW = timedelta(minutes=5)
"""Clock-skew allowance between issuer and verifier clocks."""

DEFAULT_SKEW_SECONDS = int(DEFAULT_SKEW.total_seconds())
""":data:`DEFAULT_SKEW` in whole seconds, for the layers that count time in epoch seconds."""
NO_GRACE = timedelta(0)
"""No grace after a trust list's expiry: the ``verify_*`` default (one object: a default is cheap to spot)."""


def epoch_seconds(at: datetime | int | float | None) -> int:
    """A validation time as epoch seconds (``None``: now); raise :class:`BadInput` for anything else."""
    if type(at) is int and 0 <= at <= MAX_EPOCH:  # the verifier's usual case, first
        return at
    if at is None:
        return int(datetime.now(UTC).timestamp())
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise BadInput("the validation time must be timezone-aware (e.g. datetime.now(UTC))")
        return int(at.timestamp())
    if isinstance(at, int | float) and not isinstance(at, bool):
        if not 0 <= at <= MAX_EPOCH:  # also false for NaN
            raise BadInput(f"the validation time {at!r} is not between 1970 and 9999")
        return int(at)
    raise BadInput(f"the validation time must be a datetime or epoch seconds, not {type(at).__name__}")


def iso_time(moment: datetime | int) -> str:
    """A time as messages show it: ISO 8601 to the second with its offset (``2026-11-23T00:00:00+00:00``).

    Epoch seconds (as the wire formats hold them) are shown in UTC; a number outside 1970–9999
    is shown as it is, so a message about a malformed time never fails itself.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            return moment.isoformat(timespec="seconds")
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    if not 0 <= moment <= MAX_EPOCH:
        return f"{moment} (epoch seconds, outside 1970–9999)"
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
