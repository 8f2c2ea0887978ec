"""``verify`` on code text (``str``): native, place, HC1 and SHC texts, re-signed when mutated."""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect, refusal, summarised
from fuzz.layers import text_mutator
from fuzz.targets.common import moment
from fuzz.world import STORE
from healthcred.errors import HealthCredError
from healthcred.flows.verify import verify_all


def run(data: bytes) -> None:
    """Verify the input as text at the moment its format's seeds are valid, in a batch with its upper case.

    ``verify_all`` calls ``verify`` on each code at one validation time, so each outcome is what
    ``verify(text)`` gives: checked as the harness checks a call (a result whose summary is JSON,
    or a listed error), every code is verified once. Most code texts are upper case already
    (Base45): then the batch holds the text once.
    """
    text = data.decode("utf-8", errors="replace")
    batch = list(dict.fromkeys([text, text.upper()]))
    outcomes = expect(lambda: verify_all(batch, STORE, at=moment(text)))
    assert outcomes is None or len(outcomes) == len(batch)
    for outcome in outcomes or ():
        if isinstance(outcome, HealthCredError):
            refusal(outcome)
        else:
            summarised(outcome)


def seed_inputs() -> Iterator[bytes]:
    """Every vector's code text, the EU DCC test codes and the SMART Health Card chunks."""
    for text in (*seeds.vector_texts(), *seeds.hc1_texts(), *seeds.shc_texts()):
        yield text.encode("utf-8")


TARGET = Target("verify_text", run, seed_inputs, text_mutator)
