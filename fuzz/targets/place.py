"""Place codes (``JKP1:``): ``read_place`` and ``verify_place``; a mutated payload is re-signed."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect, summarised
from fuzz.layers import text_mutator
from fuzz.world import AT, STORE
from healthcred.flows.places import read_place, verify_place


def run(data: bytes) -> None:
    """Read the place code unverified (its summary too), then verify it."""
    text = data.decode("utf-8", errors="replace")
    summarised(expect(lambda: read_place(text)))
    summarised(expect(lambda: verify_place(text, STORE, at=AT)))


def seed_inputs() -> Iterator[bytes]:
    """Every place code of the vectors."""
    for text in seeds.vector_texts("verify_place"):
        yield text.encode("utf-8")


TARGET = Target("place", run, seed_inputs, text_mutator)
