"""Relatives bindings: ``read_binding`` and ``open_binding``; a mutated binding is re-signed."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.layers import cose_mutator
from fuzz.world import AT, STORE
from healthcred.flows.binding import open_binding, read_binding


def run(data: bytes) -> None:
    """Read the binding unverified, then verify it against the fuzz store."""
    expect(lambda: read_binding(data))
    expect(lambda: open_binding(data, STORE, at=AT))


def seed_inputs() -> Iterator[bytes]:
    """Every binding of the vectors."""
    yield from dict.fromkeys(seeds.vector_hex("binding"))


TARGET = Target("binding", run, seed_inputs, cose_mutator)
