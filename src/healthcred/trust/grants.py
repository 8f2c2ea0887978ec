"""What a trusted key may do: its roles, its grant, and the checks made against it.

A grant names the region, validity window, credential kinds and statuses a key
may sign for, and its roles (issue codes, sign a delegated list, sign rule
sets). One key may be granted several times (by several lists): a code needs
one grant that covers it, but grants of one key that disagree on region or
algorithm are a conflict, never guessed. See ``docs/format.md`` §9.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from healthcred.clock import iso_time
from healthcred.crypto.algorithms import Alg, PublicKey, Verifier, verifier_for
from healthcred.crypto.keys import public_key_from_der
from healthcred.errors import (
    BadInput,
    HealthCredError,
    KeyCompromised,
    KeyNotValid,
    KindNotAllowed,
    RegionNotAllowed,
    StatusNotAllowed,
    TrustListMalformed,
    UnknownKid,
)
from healthcred.regions import check_region, region_contains

__all__ = [
    "MAX_GRANT_SET",
    "PLACE_GRANT_KIND",
    "ROLE_DELEGATE",
    "ROLE_ISSUE",
    "ROLE_NAMES",
    "ROLE_RULES",
    "KeyGrant",
    "TrustEntry",
    "grant_conflict",
    "permitting_entry",
    "subset_of",
]

PLACE_GRANT_KIND = 16
"""Grant kind (trust-list entry key 7) a restricted key must list to sign place codes; a place code
is not a credential, so the number lies outside :class:`~healthcred.model.CredentialKind`."""

ROLE_ISSUE = 1
"""Role bit: the key signs credentials."""
ROLE_DELEGATE = 2
"""Role bit: the key signs a delegated trust list (its entries stay within its own grant)."""
ROLE_RULES = 4
"""Role bit: the key signs rule sets (status rules, verification policies)."""

ROLE_NAMES: Mapping[str, int] = {"issue": ROLE_ISSUE, "delegate": ROLE_DELEGATE, "rules": ROLE_RULES}
"""Each role by the name the command line and the list source JSON give it."""

MAX_GRANT_SET = 64
"""Most kinds or statuses one grant may list."""


def subset_of(inner: frozenset[int] | None, outer: frozenset[int] | None) -> bool:
    """Whether the kinds (or statuses) ``inner`` stay within ``outer``; ``None`` means any.

    A restricted grant cannot hand on an unrestricted one.
    """
    return outer is None or (inner is not None and inner <= outer)


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """One key to put on a trust list: what it may do, for which region, and when.

    ``kinds`` and ``statuses`` restrict the credential kinds and status codes the
    key may issue (``None``: any). ``compromised_at``: codes issued at or after
    this time are refused, while earlier ones stay valid.
    """

    public_key: PublicKey
    region: str
    not_before: int
    not_after: int
    kinds: frozenset[int] | None = None
    statuses: frozenset[int] | None = None
    may_issue: bool = True
    may_delegate: bool = False
    compromised_at: int | None = None
    may_sign_rules: bool = False

    def __post_init__(self) -> None:
        try:
            check_region(self.region)
        except BadInput:
            raise TrustListMalformed(f"region {self.region!r} is not a 6-digit GB/T 2260 code") from None
        if self.not_after <= self.not_before:
            raise TrustListMalformed("a key's validity must end after it starts")
        if not (self.may_issue or self.may_delegate or self.may_sign_rules):
            raise TrustListMalformed("a key must be granted at least one role (issue, delegate, rules)")
        for name, values in (("kinds", self.kinds), ("statuses", self.statuses)):
            if values is not None and (not values or len(values) > MAX_GRANT_SET or min(values) < 0):
                raise TrustListMalformed(f"{name} must be 1–{MAX_GRANT_SET} unsigned integers, or absent")


@dataclass(frozen=True, slots=True)
class TrustEntry:
    """A trusted key with its grant, and the list that vouches for it."""

    kid: bytes
    alg: Alg
    public_key: PublicKey = field(repr=False)
    key_der: bytes = field(repr=False)
    region: str
    not_before: int
    not_after: int
    kinds: frozenset[int] | None
    statuses: frozenset[int] | None
    may_issue: bool
    may_delegate: bool
    compromised_at: int | None
    may_sign_rules: bool
    list_id: str
    list_version: int
    list_signer: bytes
    list_issued_at: int
    list_expires_at: int
    delegated_by: bytes | None
    verify: Verifier = field(repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # A loaded key and its prepared verify function do not pickle; ``key_der`` does, and the
        # receiving process (a verify_all worker) rebuilds both from it, once per entry.
        return (_restore_entry, tuple(getattr(self, name) for name in _PICKLED_FIELDS))

    def check(self, region: str, issued: int, kind: int, status: int | None, what: str = "code") -> None:
        """Raise unless this grant covers a ``what`` of this kind (and status), region and issue time.

        ``status`` is ``None`` for objects that carry none (place codes, bindings: their ``kind`` is a
        grant kind, ``docs/format.md`` §9.1).
        """
        if not self.may_issue:
            raise KindNotAllowed(f"key {self.kid.hex()} has no issue role, so it may not sign a {what}")
        if not region_contains(self.region, region):
            raise RegionNotAllowed(f"key {self.kid.hex()} may sign for region {self.region}, not {region}")
        if self.compromised_at is not None and issued >= self.compromised_at:
            raise KeyCompromised(
                f"{what} was issued at {iso_time(issued)}, after key {self.kid.hex()} was compromised"
                f" (at {iso_time(self.compromised_at)})"
            )
        if not self.not_before <= issued <= self.not_after:
            raise KeyNotValid(
                f"{what} was issued at {iso_time(issued)}, outside key {self.kid.hex()}'s validity"
                f" ({iso_time(self.not_before)} to {iso_time(self.not_after)})"
            )
        if self.kinds is not None and kind not in self.kinds:
            raise KindNotAllowed(f"key {self.kid.hex()} may not sign a {what} of kind {kind}")
        if status is not None and self.statuses is not None and status not in self.statuses:
            raise StatusNotAllowed(f"key {self.kid.hex()} may not issue status {status}")

    def grant(self) -> KeyGrant:
        """The grant this entry carries (to rebuild or edit a list)."""
        return KeyGrant(
            self.public_key,
            self.region,
            self.not_before,
            self.not_after,
            self.kinds,
            self.statuses,
            self.may_issue,
            self.may_delegate,
            self.compromised_at,
            self.may_sign_rules,
        )


def permitting_entry(
    entries: tuple[TrustEntry, ...],
    *,
    region: str,
    issued: int,
    kind: int,
    status: int | None = None,
    what: str = "code",
) -> TrustEntry:
    """The first of ``entries`` (keys that verified a signature) whose grant covers the object.

    One key listed twice is a union of its grants (unless they conflict); if none covers it,
    the first entry's reason is raised.
    """
    first: HealthCredError | None = None
    for entry in entries:
        try:
            entry.check(region, issued, kind, status, what)
        except HealthCredError as exc:
            first = first or exc
            continue
        return entry
    if first is None:
        raise UnknownKid(f"no trusted key vouches for this {what}")
    raise first


def grant_conflict(entries: tuple[TrustEntry, ...]) -> str | None:
    """Why the entries of one kid conflict, or ``None``.

    The same key granted different regions or algorithms by different lists is
    ambiguous; which grant was meant is never guessed.
    """
    by_key: dict[bytes, set[tuple[str, int]]] = {}
    for e in entries:
        by_key.setdefault(e.key_der, set()).add((e.region, int(e.alg)))
    for grants in by_key.values():
        if len(grants) > 1:
            regions = ", ".join(sorted(f"{r} ({Alg(a).label})" for r, a in grants))
            return f"the same key is granted different regions or algorithms: {regions}"
    return None


_PICKLED_FIELDS = tuple(f.name for f in fields(TrustEntry) if f.name not in ("public_key", "verify"))


def _restore_entry(*values: Any) -> TrustEntry:
    state = dict(zip(_PICKLED_FIELDS, values, strict=True))
    key = public_key_from_der(state["key_der"])
    return TrustEntry(**state, public_key=key, verify=verifier_for(state["alg"], key))
