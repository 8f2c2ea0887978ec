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
    """Load the list (alone, and twice: a full list and its delta), then ask about a credential."""
    for revocations in ([data], [data, data]):
        store = expect(lambda r=revocations: TrustStore(ALL_ANCHORS, NATIVE_LISTS, r))  # type: ignore[misc]
        if store is not None:
            for region in ("330106", "310115", "110000"):
                expect(lambda s=store, r=region: s.is_revoked(b"\x00" * 16, r))  # type: ignore[misc]


def seed_inputs() -> Iterator[bytes]:
    """Every revocation list of the vectors."""
    yield from seeds.vector_hex("revocation_lists")


TARGET = Target("revocation_list", run, seed_inputs, cose_mutator)
