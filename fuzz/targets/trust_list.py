"""Signed trust lists (``TrustStore`` on a list's bytes), re-signed by the seed's signer when mutated."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, attempt, expect
from fuzz.layers import cose_mutator
from fuzz.targets.common import ALL_ANCHORS
from fuzz.world import AT, NATIVE_LISTS
from healthcred.errors import UntrustedList
from healthcred.trust.store import TrustStore


def run(data: bytes) -> None:
    """Load the list alone, then after the national one (delegation); look a kid up in each result.

    After the national list the input is read, verified and parsed as it is alone, and the
    national list changes what happens only when the input loads or is not signed by an anchor
    (``UntrustedList``: a national key may have delegated it). Refused alone for anything else,
    it is refused the same way after the national list, and that load is skipped.
    """
    alone, refused = attempt(lambda: TrustStore(ALL_ANCHORS, [data]))
    _look(alone)
    if alone is not None or isinstance(refused, UntrustedList):
        _look(expect(lambda: TrustStore(ALL_ANCHORS, [*NATIVE_LISTS, data])))


def _look(store: TrustStore | None) -> None:
    if store is not None:
        store.versions  # noqa: B018 - the property walks every list and series
        for trust_list in store.lists:
            for entry in trust_list.entries:
                expect(lambda e=entry: e.check(e.region, AT, 1, 1))  # type: ignore[misc]


def seed_inputs() -> Iterator[bytes]:
    """Every trust list of the vectors."""
    yield from seeds.vector_hex("trust_lists")


TARGET = Target("trust_list", run, seed_inputs, cose_mutator)
