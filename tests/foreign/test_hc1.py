"""HC1 details the EU test data does not isolate: COSE variants, kid placement, PS256, DSC lists, bounds."""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.codec.base45 import b45encode
from healthcred.errors import BadCertificate, BadPrefix, HealthCredError, MalformedCOSE, TooLarge, UnknownKid
from healthcred.foreign.dcc.hc1 import (
    HC1_PREFIX,
    hc1_signer,
    load_dsc_list,
    parse_hc1_cose,
    read_dsc,
    read_hc1,
    verify_hc1,
)
from tests.helpers.paths import TEST_DATA

DATA = TEST_DATA / "dcc"


def case(country: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / country / "2DCode" / "raw" / f"{name}.json").read_text())
    return data


def parts(c: dict[str, Any]) -> list[Any]:
    item = cbor2.loads(bytes.fromhex(c["COSE"]))
    return list(item.value if isinstance(item, cbor2.CBORTag) else item)


def test_tag_variants_and_kid_in_either_header() -> None:
    c = case("DE", "1")
    dsc = read_dsc(base64.b64decode(c["TESTCTX"]["CERTIFICATE"]))
    protected, unprotected, payload, signature = parts(c)
    assert unprotected.get(4) == dsc.kid  # DE puts the kid in the unprotected header
    for message in (
        cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature])),
        cbor2.dumps([protected, unprotected, payload, signature]),
        cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, [protected, unprotected, payload, signature]))),
    ):
        assert hc1_signer(parse_hc1_cose(message), [dsc]) == dsc
        text = HC1_PREFIX + b45encode(zlib.compress(message))
        assert verify_hc1(text, [dsc], at=1622570400).kind == "vaccination"
        assert hc1_signer(read_hc1(HC1_PREFIX + b45encode(message)), [dsc]) == dsc  # bare COSE body
    for bad in (
        cbor2.dumps(cbor2.CBORTag(98, [protected, unprotected, payload, signature])),
        cbor2.dumps([protected, unprotected, payload]),
        cbor2.dumps([protected, [], payload, signature]),
        cbor2.dumps([protected, unprotected, payload, signature]) + b"\x00",
    ):
        with pytest.raises(MalformedCOSE):
            parse_hc1_cose(bad)


def test_ps256_rsa_certificate() -> None:
    c = case("IS", "3")
    dsc = read_dsc(base64.b64decode(c["TESTCTX"]["CERTIFICATE"]))
    message = parse_hc1_cose(bytes.fromhex(c["COSE"]))
    assert message.alg == -37 and hc1_signer(message, [dsc]) == dsc


def test_dsc_json_list_and_every_key_sharing_a_kid_is_tried(tmp_path: Path) -> None:
    de, at = case("DE", "1"), case("AT", "1")
    der_de, der_at = (base64.b64decode(c["TESTCTX"]["CERTIFICATE"]) for c in (de, at))
    listed = [
        {
            "kid": base64.b64encode(read_dsc(d).kid).decode(),
            "country": cc,
            "rawData": base64.b64encode(d).decode(),
        }
        for d, cc in ((der_at, "AT"), (der_de, "DE"))
    ]
    (tmp_path / "dscs.json").write_text(json.dumps(listed))
    dscs = load_dsc_list(tmp_path / "dscs.json")
    assert [d.country for d in dscs] == ["AT", "DE"]
    message = parse_hc1_cose(bytes.fromhex(de["COSE"]))
    impostor = dataclasses.replace(read_dsc(der_at), kid=read_dsc(der_de).kid)  # another key, same kid
    assert hc1_signer(message, [impostor, *dscs]).country == "DE"
    with pytest.raises(BadCertificate):
        load_dsc_list([{**listed[0], "kid": listed[1]["kid"]}])
    (tmp_path / "de.der").write_bytes(der_de)
    assert load_dsc_list(tmp_path / "de.der")[0].kid == read_dsc(der_de).kid
    with pytest.raises(UnknownKid):
        hc1_signer(message, [read_dsc(der_at)])


def test_non_strict_der_certificate_still_verifies() -> None:
    # One test DSC has extensions cryptography refuses to parse; its key usage is read from the raw bytes.
    for path in sorted(DATA.glob("*/2DCode/raw/*.json")):
        try:
            c = json.loads(path.read_text())
        except ValueError:
            continue
        from cryptography import x509

        cert = x509.load_der_x509_certificate(base64.b64decode(c["TESTCTX"]["CERTIFICATE"]))
        try:
            cert.extensions  # noqa: B018
        except ValueError:
            dsc = read_dsc(base64.b64decode(c["TESTCTX"]["CERTIFICATE"]))
            assert hc1_signer(parse_hc1_cose(bytes.fromhex(c["COSE"])), [dsc]) == dsc
            return
    pytest.fail("the non-strict DER certificate is no longer in the test data")


def test_bounds_and_prefixes() -> None:
    with pytest.raises(BadPrefix):
        read_hc1("JKM1:00")
    with pytest.raises(TooLarge):
        read_hc1(HC1_PREFIX + b45encode(zlib.compress(b"\x00" * 1_000_000)))
    with pytest.raises(TooLarge):
        read_hc1(HC1_PREFIX + "A" * 5000)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_garbage_gives_typed_errors(data: bytes) -> None:
    for text in (HC1_PREFIX + b45encode(data), HC1_PREFIX + b45encode(zlib.compress(data))):
        with pytest.raises(HealthCredError):
            verify_hc1(text, [], at=0)
