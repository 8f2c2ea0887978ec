"""SMART Health Card issuers: ``load_shc_issuer`` on an issuer document or JWKS (JSON bytes)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Finding, Target, expect
from healthcred.foreign.shc.issuers import issuer_document, load_shc_issuer


def run(data: bytes) -> None:
    """Load the issuer; what loads must write back as a JSON issuer document that loads again."""
    issuer = expect(lambda: load_shc_issuer(data))
    if issuer is not None:
        try:
            again = json.dumps(issuer_document(issuer)).encode()
        except (TypeError, ValueError) as exc:
            raise Finding(f"issuer_document() is not JSON: {exc}") from exc
        if expect(lambda: load_shc_issuer(again)) is None:
            raise Finding("an issuer document written by issuer_document() does not load")


def seed_inputs() -> Iterator[bytes]:
    """The example issuer's JWKS and issuer document."""
    yield from seeds.shc_issuer_documents()


TARGET = Target("shc_issuer", run, seed_inputs)
