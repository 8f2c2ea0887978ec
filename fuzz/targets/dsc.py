"""DSCs: ``read_dsc`` on DER or PEM bytes, ``load_dsc_list`` on a JSON DSC list."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from itertools import islice

from fuzz import seeds
from fuzz.harness import Target, expect
from healthcred.foreign.dcc.dsc import load_dsc_list, read_dsc


def run(data: bytes) -> None:
    """Read the bytes as a certificate, and (when they look like JSON) as a DSC list."""
    expect(lambda: read_dsc(data))
    if data.lstrip()[:1] in (b"[", b"{"):
        expect(lambda: load_dsc_list(data))


def _certificates() -> Iterator[bytes]:
    for case in seeds.dcc_cases():
        cert = case["TESTCTX"].get("CERTIFICATE")
        if isinstance(cert, str):
            yield base64.b64decode(cert)


def seed_inputs() -> Iterator[bytes]:
    """The EU DCC test data's certificates as DER and as PEM, and a JSON list of some of them."""
    ders = list(dict.fromkeys(_certificates()))
    yield from ders
    for der in ders[:8]:
        body = base64.encodebytes(der).decode("ascii")
        yield f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()
    listed = [{"country": "XX", "rawData": base64.b64encode(d).decode()} for d in islice(ders, 3)]
    yield json.dumps(listed).encode()


TARGET = Target("dsc", run, seed_inputs)
