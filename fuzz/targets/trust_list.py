"""Signed trust lists (``TrustStore`` on a list's bytes), re-signed by the seed's signer when mutated."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.layers import cose_mutator
from fuzz.targets.common import ALL_ANCHORS
from fuzz.world import AT, NATIVE_LISTS
from healthcred.trust.store import TrustStore


def run(data: bytes) -> None:
    """Load the list alone and after the national one (delegation); look a kid up in the result."""
    for lists in ([data], [*NATIVE_LISTS, data]):
        store = expect(lambda lists=lists: TrustStore(ALL_ANCHORS, lists))  # type: ignore[misc]
        if store is not None:
            store.versions  # noqa: B018 - the property walks every list and series
            for trust_list in store.lists:
                for entry in trust_list.entries:
                    expect(lambda e=entry: e.check(e.region, AT, 1, 1))  # type: ignore[misc]


def seed_inputs() -> Iterator[bytes]:
    """Every trust list of the vectors."""
    yield from seeds.vector_hex("trust_lists")


TARGET = Target("trust_list", run, seed_inputs, cose_mutator)
