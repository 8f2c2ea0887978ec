"""Seed inputs, collected at run time from the repository's ``vectors/`` and ``tests/data/``.

Nothing is stored: each function reads the files and yields the bytes a target takes, so the
seeds follow the vectors when they are regenerated. :func:`write_corpus` copies a target's seeds
into a corpus folder (one file per seed, named by its hash) for libFuzzer.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from fuzz.world import DATA, VECTORS, dcc_cases
from healthcred.files import write_atomic

__all__ = [
    "certlogic_cases",
    "dcc_cases",
    "hc1_texts",
    "shc_files",
    "shc_issuer_documents",
    "shc_texts",
    "vector_cases",
    "vector_hex",
    "vector_images",
    "vector_texts",
    "write_corpus",
]


@cache
def vector_cases() -> tuple[dict[str, Any], ...]:
    """Every conformance case under ``vectors/`` (the manifest aside)."""
    cases = []
    for path in sorted(VECTORS.glob("*/*.json")):
        case = json.loads(path.read_bytes())
        if isinstance(case, dict) and "operation" in case:
            cases.append(case)
    return tuple(cases)


def vector_texts(*operations: str) -> Iterator[str]:
    """The code texts of the cases of ``operations`` (all operations when none is named)."""
    for case in vector_cases():
        if operations and case["operation"] not in operations:
            continue
        given = case["input"]
        for name in ("text", "guardian"):
            if isinstance(given.get(name), str):
                yield given[name]


def vector_hex(field: str) -> Iterator[bytes]:
    """Every hex item of ``field``: a trust field (``trust_lists``, ``bundle``…) or an input field."""
    for case in vector_cases():
        for holder in (case["trust"], case["input"]):
            value = holder.get(field)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield bytes.fromhex(item)


def vector_images() -> Iterator[bytes]:
    """The QR images (PNG) the vectors carry for their codes."""
    for case in vector_cases():
        png = case.get("stages", {}).get("qr_png")
        if isinstance(png, str):
            yield base64.b64decode(png)


def hc1_texts() -> Iterator[str]:
    """The ``HC1:`` texts of the EU DCC test data."""
    for case in dcc_cases():
        if isinstance(case.get("PREFIX"), str):
            yield case["PREFIX"]


_SHC = DATA / "shc" / "examples"


def shc_texts() -> Iterator[str]:
    """The numeric ``shc:/`` chunks of the SMART Health Cards examples."""
    for path in sorted(_SHC.glob("*-f-qr-code-numeric-value-*.txt")):
        yield path.read_text().strip()


def shc_files() -> Iterator[bytes]:
    """The ``.smart-health-card`` files of the examples."""
    for path in sorted(_SHC.glob("*.smart-health-card")):
        yield path.read_bytes()


def shc_issuer_documents() -> Iterator[bytes]:
    """The example issuer's JWKS, as a JWKS and as an issuer document with ``iss`` and ``crls``."""
    well_known = _SHC / "issuer" / ".well-known"
    jwks = (well_known / "jwks.json").read_bytes()
    yield jwks
    doc = json.loads(jwks)
    doc["iss"] = "https://spec.smarthealth.cards/examples/issuer"
    doc["crls"] = [json.loads(p.read_bytes()) for p in sorted((well_known / "crl").glob("*.json"))]
    yield json.dumps(doc).encode()


def certlogic_cases() -> Iterator[tuple[Any, Any]]:
    """(expression, data) of every assertion of the CertLogic test suite."""
    for path in sorted((DATA / "certlogic" / "testSuite").glob("*.json")):
        suite = json.loads(path.read_bytes())
        for case in suite.get("cases", []) if isinstance(suite, dict) else []:
            for assertion in case.get("assertions", []):
                yield case.get("certLogicExpression"), assertion.get("data")


def write_corpus(seeds: Iterable[bytes], folder: Path) -> int:
    """Write each distinct seed to ``folder`` as a file named by its SHA-1 (as libFuzzer names them)."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for seed in seeds:
        path = folder / hashlib.sha1(seed, usedforsecurity=False).hexdigest()
        if not path.exists():
            write_atomic(path, seed, durable=False)
            count += 1
    return count
