"""Signed revocation lists, under the national trust list; re-signed when mutated."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.layers import cose_mutator
from fuzz.targets.common import ALL_ANCHORS
from fuzz.world import NATIVE_LISTS
from healthcred.trust.store import TrustStore


def run(data: bytes) -> None:
    """Load the list, then (when it loads) the list held twice; ask each store about a credential.

    Held twice, a list is read, verified and parsed first as it is alone: a list refused alone is
    refused the same way twice, so only a list that loads is tried twice (one list, not two).
    """
    for revocations in ([data], [data, data]):
        store = expect(lambda r=revocations: TrustStore(ALL_ANCHORS, NATIVE_LISTS, r))  # type: ignore[misc]
        if store is None:
            return
        for region in ("330106", "310115", "110000"):
            expect(lambda s=store, r=region: s.is_revoked(b"\x00" * 16, r))  # type: ignore[misc]


def seed_inputs() -> Iterator[bytes]:
    """Every revocation list of the vectors."""
    yield from seeds.vector_hex("revocation_lists")


TARGET = Target("revocation_list", run, seed_inputs, cose_mutator)
