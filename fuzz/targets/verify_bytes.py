"""``verify`` on ``bytes``: a code's text as bytes, or anything else (read as an image)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from fuzz import seeds
from fuzz.harness import Target
from fuzz.layers import text_mutator
from fuzz.targets.common import moment, verified


def run(data: bytes) -> None:
    """Verify the bytes as they are, at the moment their text (if any) is valid."""
    verified(data, moment(data.decode("latin-1")))


def seed_inputs() -> Iterator[bytes]:
    """The code texts as bytes and a few QR images."""
    for text in (*seeds.vector_texts(), *seeds.hc1_texts(), *seeds.shc_texts()):
        yield text.encode("utf-8")
    yield from islice(seeds.vector_images(), 4)


TARGET = Target("verify_bytes", run, seed_inputs, text_mutator)
