"""``verify`` on code text (``str``): native, place, HC1 and SHC texts, re-signed when mutated."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.layers import text_mutator
from fuzz.targets.common import moment, verified
from fuzz.world import STORE
from healthcred.flows.verify import verify_all


def run(data: bytes) -> None:
    """Verify the input as text at the moment its format's seeds are valid; a batch of it too."""
    text = data.decode("utf-8", errors="replace")
    at = moment(text)
    verified(text, at)
    outcomes = expect(lambda: verify_all([text, text.upper()], STORE, at=at))
    assert outcomes is None or len(outcomes) == 2


def seed_inputs() -> Iterator[bytes]:
    """Every vector's code text, the EU DCC test codes and the SMART Health Card chunks."""
    for text in (*seeds.vector_texts(), *seeds.hc1_texts(), *seeds.shc_texts()):
        yield text.encode("utf-8")


TARGET = Target("verify_text", run, seed_inputs, text_mutator)
