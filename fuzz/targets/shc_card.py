"""SMART Health Cards: ``.smart-health-card`` files (``load_health_cards``) and numeric ``shc:/`` text.

A file's cards are verified one by one; text is split at newlines into the chunks of one card
(``read_shc`` on them, then ``verify``) — so a single chunk and a multi-part card both come in.
"""

from __future__ import annotations

from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.targets.common import moment, nbf_moment, verified
from healthcred.foreign.shc.cards import load_health_cards, read_shc


def run(data: bytes) -> None:
    """Numeric text as chunks of one card; anything else as a health-card file."""
    if data.startswith(b"shc:/"):
        chunks = data.decode("utf-8", errors="replace").split("\n")
        message = expect(lambda: read_shc(chunks))
        at = moment(chunks[0]) if message is None else nbf_moment(message.payload.get("nbf"))
        verified(chunks if len(chunks) > 1 else chunks[0], at)
        return
    for card in expect(lambda: load_health_cards(data)) or ():
        verified(card, nbf_moment(card.payload.get("nbf")))


def seed_inputs() -> Iterator[bytes]:
    """The examples' files, their single chunks, and example 02's three chunks as one card."""
    yield from seeds.shc_files()
    chunks = list(seeds.shc_texts())
    for chunk in chunks:
        yield chunk.encode("ascii")
    multi = [c for c in chunks if c.startswith("shc:/") and "/" in c[5:]]
    if multi:
        yield "\n".join(multi).encode("ascii")


TARGET = Target("shc_card", run, seed_inputs)
