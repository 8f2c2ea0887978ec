"""Versions of a series: the newest of each counts, and none may fall below what was accepted.

Trust lists and rule sets come in series (one signer, one id) of increasing
versions. A verifier uses only the newest version of each series, and refuses a
series whose newest version is older than the version it accepted before
(:mod:`healthcred.trust.state` remembers it): an old list replayed is a rollback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, TypeVar

from healthcred.errors import TrustEquivocation, TrustListRollback

__all__ = ["Versioned", "newest_versions"]


class Versioned(Protocol):
    """A signed object in a series: a trust list or a rule set."""

    @property
    def series(self) -> str:
        """The key under which versions are compared (signer kid and id)."""

    @property
    def version(self) -> int:
        """The object's version within its series."""

    @property
    def id(self) -> str:
        """The object's id, as named in errors."""


V = TypeVar("V", bound=Versioned)


def newest_versions(items: Iterable[V], seen: Mapping[str, int] | None, what: str) -> list[V]:
    """The newest of ``items`` in each series; raise on a rollback below ``seen`` or a version claimed twice.

    Older items beside the newest are superseded; only the newest must reach the
    version already accepted. Two different items may not share one version.
    """
    newest: dict[str, V] = {}
    for item in items:
        current = newest.get(item.series)
        if current is not None and current.version == item.version and current != item:
            raise TrustEquivocation(f"two different {what}s {item.id!r} claim version {item.version}")
        if current is None or item.version > current.version:
            newest[item.series] = item
    for item in newest.values():
        floor = (seen or {}).get(item.series, 0)
        if item.version < floor:
            raise TrustListRollback(
                f"{what} {item.id!r} version {item.version} is older than version {floor} already accepted: "
                "refusing a rollback"
            )
    return list(newest.values())
