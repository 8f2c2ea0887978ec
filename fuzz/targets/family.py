"""Family bundles: ``read_family_bundle`` and ``verify_family`` (the guardian's code, each member's)."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect, summarised
from fuzz.world import AT, STORE
from healthcred.flows.family import read_family_bundle, verify_family


def run(data: bytes) -> None:
    """Read the bundle, then verify it whole."""
    expect(lambda: read_family_bundle(data))
    summarised(expect(lambda: verify_family(data, STORE, at=AT)))


def seed_inputs() -> Iterator[bytes]:
    """Every family bundle of the vectors."""
    yield from dict.fromkeys(seeds.vector_hex("family"))


TARGET = Target("family", run, seed_inputs)
