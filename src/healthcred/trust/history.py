"""A list's next version: retiring and replacing keys, and what a new store would stop accepting.

*Retiring* a key at time T ends its grant's issue window at T (``not_after``): codes it signed
up to T stay valid until they expire themselves; a code it signs after T is refused
(``key_not_valid``). *Compromise* at T refuses every code the key signed at or after T, even
ones already handed out. Neither touches any other entry.

A new store *would invalidate codes* the old one allowed when, for some key with the issue
role on an old list, the codes it could already have signed (issue time from the grant's
``not_before`` up to now — or up to the issue time of the new version of its list, if earlier —
before any compromise and before the old list expired) are not all covered by **one** grant of
the same key in the new store: same or wider region, kinds and colours (statuses), an issue
window holding that span, no compromise inside it, and a list valid now. Codes that cannot exist
yet do not count, so retiring a key from the new list's issue time on never invalidates anything,
however long after that the list is installed.
Revocations are not counted: revoking a code is the one explicit way to invalidate it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from healthcred.clock import iso_time
from healthcred.crypto.algorithms import PublicKey
from healthcred.crypto.keys import kid_of
from healthcred.errors import BadInput
from healthcred.regions import region_contains
from healthcred.trust.grants import KeyGrant, TrustEntry, subset_of

__all__ = ["KEY_VALID_DAYS", "invalidations", "retire_grant", "successor_grant"]

KEY_VALID_DAYS = 365
"""Days a new key's issue window lasts unless told otherwise."""


def retire_grant(
    grants: list[KeyGrant], old_kid: str, moment: int, *, compromised: bool
) -> tuple[list[KeyGrant], KeyGrant | None]:
    """The grants with key ``old_kid`` retired at ``moment`` (or compromised from then), and its old grant.

    The old grant is ``None`` when no key on the list has that kid (hex). Every other field
    of the grant (region, kinds, statuses, every role) is kept as it was, and every other grant
    is returned as it was.
    """
    retired, old = [], None
    for g in grants:
        if kid_of(g.public_key).hex() != old_kid.lower():
            retired.append(g)
            continue
        old = g
        if compromised:
            retired.append(replace(g, compromised_at=moment))
        else:
            retired.append(replace(g, not_after=max(g.not_before + 1, min(g.not_after, moment))))
    return retired, old


def successor_grant(old: KeyGrant, key: PublicKey, moment: int) -> KeyGrant:
    """The grant of ``key`` taking over ``old`` from ``moment``: same region, kinds, statuses and roles.

    A key cannot succeed itself: that would retire nothing and hide a mistyped file name.
    """
    if kid_of(key) == kid_of(old.public_key):
        raise BadInput(
            f"the new key is the retired key itself (kid {kid_of(key).hex()}); give the new public key"
        )
    return replace(
        old,
        public_key=key,
        not_before=moment,
        not_after=max(old.not_after, moment + KEY_VALID_DAYS * 86400),
        compromised_at=None,
    )


def _covers(new: TrustEntry, old: TrustEntry, start: int, end: int, now: int) -> bool:
    return (
        new.may_issue
        and region_contains(new.region, old.region)
        and subset_of(old.kinds, new.kinds)
        and subset_of(old.statuses, new.statuses)
        and new.not_before <= start
        and end <= new.not_after
        and (new.compromised_at is None or new.compromised_at > end)
        and new.list_issued_at <= now
    )


def _why(old: TrustEntry, news: list[TrustEntry], start: int, end: int, now: int) -> str:
    # The first way the closest new grant (same region if any) falls short, in the operator's terms.
    kid = old.kid.hex()
    if not news:
        return (
            f"key {kid} ({old.region}) is no longer on any list: codes it signed since {iso_time(start)} fail"
        )
    new = next((n for n in news if n.region == old.region), news[0])
    checks = [
        (new.may_issue, "loses the issue role"),
        (region_contains(new.region, old.region), f"region narrowed {old.region} → {new.region}"),
        (subset_of(old.kinds, new.kinds), f"kinds narrowed {_set(old.kinds)} → {_set(new.kinds)}"),
        (
            subset_of(old.statuses, new.statuses),
            f"colours narrowed {_set(old.statuses)} → {_set(new.statuses)}",
        ),
        (new.not_before <= start, f"window now starts {iso_time(new.not_before)}, after {iso_time(start)}"),
        (end <= new.not_after, f"window now ends {iso_time(new.not_after)}, before {iso_time(end)}"),
        (
            new.compromised_at is None or new.compromised_at > end,
            f"marked compromised from {iso_time(new.compromised_at or 0)}",
        ),
        (new.list_issued_at <= now, f"its list is not valid until {iso_time(new.list_issued_at)}"),
    ]
    reason = next((why for ok, why in checks if not ok), "no single grant covers it")
    span = f"{iso_time(start)} to {iso_time(end)}"
    return f"key {kid} ({old.region}) {reason}: codes it signed from {span} would fail"


def _set(values: frozenset[int] | None) -> str:
    return "any" if values is None else "{" + ", ".join(map(str, sorted(values))) + "}"


def invalidations(old: Iterable[TrustEntry], new: Iterable[TrustEntry], now: int) -> list[str]:
    """Why the ``new`` entries would refuse codes the ``old`` ones accepted at ``now`` (empty: none).

    See the module docstring for the rule; one line per old grant that the new entries do not cover.
    """
    by_key: dict[bytes, list[TrustEntry]] = {}
    decided: dict[tuple[bytes, str], int] = {}  # when each new list was issued: what it speaks for
    for n in new:
        by_key.setdefault(n.key_der, []).append(n)
        series = (n.list_signer, n.list_id)
        decided[series] = max(decided.get(series, 0), n.list_issued_at)
    reasons = []
    for o in old:
        cutoff = min(now, decided.get((o.list_signer, o.list_id), now))
        end = min(o.not_after, cutoff, o.list_expires_at)
        if o.compromised_at is not None:
            end = min(end, o.compromised_at - 1)
        if not o.may_issue or o.list_issued_at > now or end < o.not_before:
            continue  # it could not have vouched for a code yet
        news = by_key.get(o.key_der, [])
        if not any(_covers(n, o, o.not_before, end, now) for n in news):
            reasons.append(_why(o, news, o.not_before, end, now))
    return sorted(set(reasons))
