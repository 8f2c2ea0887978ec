"""``open_bundle``: an anchor-signed trust bundle (lists, revocations, rule sets, DSCs, SHC issuers)."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.layers import cose_mutator
from fuzz.targets.common import ALL_ANCHORS
from healthcred.trust.bundle import open_bundle


def run(data: bytes) -> None:
    """Open the bundle with and without a version floor."""
    bundle = expect(lambda: open_bundle(data, ALL_ANCHORS))
    if bundle is not None:
        expect(lambda: open_bundle(data, ALL_ANCHORS, seen=bundle.versions))


def seed_inputs() -> Iterator[bytes]:
    """Every bundle of the vectors."""
    yield from seeds.vector_hex("bundle")


TARGET = Target("bundle", run, seed_inputs, cose_mutator)
