"""What the signed objects beside health codes share: opening them and finding the key that vouches.

Place codes and relatives bindings are COSE_Sign1 messages with their own
content type, signed by a regional key from the trust lists. A trust entry
may sign one if it has the issue role, covers the object's region, was valid
and not compromised when the object was issued, and — when the entry restricts
kinds — lists the object's *grant kind* (``docs/format.md`` §9.1): so a region
can give a venue-registration system a key that signs place codes and nothing
else, without a new role. That grant check is the credentials' own
(:func:`healthcred.trust.store.permitting_entry` with a grant kind and no
status). Their issue and verify functions also share the argument checks
(:func:`allowances`, :func:`issue_window`) and the validity check (:func:`check_window`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from healthcred._deprecated import renamed
from healthcred.clock import DEFAULT_SKEW, NO_GRACE
from healthcred.errors import BadInput, CodeExpired, CodeNotYetValid
from healthcred.native.text import read_text
from healthcred.trust.store import TrustStore

__all__ = [
    "allowances",
    "check_window",
    "issue_window",
    "open_text",
]


_DEFAULT_ALLOWANCES = (int(DEFAULT_SKEW.total_seconds()), int(NO_GRACE.total_seconds()))


def allowances(trust: Any, skew: Any, grace: Any) -> tuple[int, int]:
    """Check the options every ``verify_*`` takes; return ``skew`` and ``grace`` in whole seconds.

    Raises :class:`BadInput` unless ``trust`` is a :class:`TrustStore` and both
    allowances are timedeltas of zero or more.
    """
    if skew is DEFAULT_SKEW and grace is NO_GRACE and type(trust) is TrustStore:
        return _DEFAULT_ALLOWANCES  # the defaults, as every verification without options passes them
    if not isinstance(trust, TrustStore):
        raise BadInput(f"trust must be a TrustStore (see load_trust), not {type(trust).__name__}")
    if not isinstance(skew, timedelta) or skew < timedelta(0):
        raise BadInput("skew must be a timedelta of zero or more")
    if not isinstance(grace, timedelta) or grace < timedelta(0):
        raise BadInput("grace must be a timedelta of zero or more")
    return int(skew.total_seconds()), int(grace.total_seconds())


def issue_window(
    issued_at: datetime | None, valid_for: timedelta, longest: timedelta, what: str
) -> tuple[int, int]:
    """The (issued, expires) epoch seconds of a ``what`` issued at ``issued_at`` (default now).

    Raises :class:`BadInput` for a lifetime not in (0, ``longest``] or a naive time.
    """
    if not isinstance(valid_for, timedelta) or not timedelta(0) < valid_for <= longest:
        raise BadInput(f"a {what} is valid for more than 0 and at most {longest.days} days")
    start = issued_at or datetime.now(UTC)
    if start.tzinfo is None:
        raise BadInput("issued_at must be timezone-aware")
    issued = int(start.timestamp())
    return issued, issued + int(valid_for.total_seconds())


open_text = renamed(read_text, "open_text")


def check_window(issued: int, expires: int, now: int, skew: int, what: str) -> None:
    """Raise :class:`CodeExpired` or :class:`CodeNotYetValid` unless ``now`` is in the window (± skew)."""
    if now > expires + skew:
        raise CodeExpired(f"{what} expired at {datetime.fromtimestamp(expires, UTC).isoformat()}")
    if issued > now + skew:
        raise CodeNotYetValid(
            f"{what} is issued at {datetime.fromtimestamp(issued, UTC).isoformat()}, in the future"
        )
