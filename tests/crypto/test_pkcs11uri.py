"""The PKCS#11 URI parser against RFC 7512's examples (§3.3) and what it refuses."""

from __future__ import annotations

import pytest

from healthcred.crypto.pkcs11uri import Pkcs11Uri, parse_uri
from healthcred.errors import BadInput

RFC_EXAMPLES: list[tuple[str, Pkcs11Uri]] = [
    ("pkcs11:", Pkcs11Uri()),
    ("pkcs11:object=my-pubkey;type=public", Pkcs11Uri(object="my-pubkey", type="public")),
    (
        "pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
        Pkcs11Uri(object="my-key", type="private", pin_source="file:/etc/token"),
    ),
    (
        "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;"
        "object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
        Pkcs11Uri(
            token="The Software PKCS#11 Softtoken",
            manufacturer="Snake Oil, Inc.",
            model="1.0",
            object="my-certificate",
            type="cert",
            id=bytes.fromhex("69953e5cf4bdec91"),
            serial="",
            pin_source="file:/etc/token_pin",
        ),
    ),
    (
        "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
        Pkcs11Uri(object="my-sign-key", type="private", module_name="mypkcs11"),
    ),
    (
        "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
        Pkcs11Uri(object="my-sign-key", type="private", module_path="/mnt/libmypkcs11.so.1"),
    ),
    (
        "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin",
        Pkcs11Uri(token="Software PKCS#11 softtoken", manufacturer="Snake Oil, Inc.", pin_value="the-pin"),
    ),
    ("pkcs11:slot-description=Sun%20Metaslot", Pkcs11Uri(slot_description="Sun Metaslot")),
    (
        "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;"
        "library-version=1.23",
        Pkcs11Uri(
            library_manufacturer="Snake Oil, Inc.",
            library_description="Soft Token Library",
            library_version="1.23",
        ),
    ),
    (
        "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
        Pkcs11Uri(
            token="My token% created by Joe", library_version="3", id=bytes.fromhex("010203baddcafe040506")
        ),
    ),
    (
        "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
        Pkcs11Uri(token="A name with a substring %;", object="my-certificate", type="cert"),
    ),
    (
        "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert",
        Pkcs11Uri(token="Name with a small A with acute: á", object="my-certificate", type="cert"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES, ids=[t for t, _ in RFC_EXAMPLES])
def test_every_rfc_7512_example_parses_to_its_decoded_attributes(text: str, expected: Pkcs11Uri) -> None:
    assert parse_uri(text) == expected


def test_the_rfc_example_with_vendor_attributes_is_refused_naming_the_attribute() -> None:
    text = (
        "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a"
        "?pin-source=file:/etc/token_pin&vendor-bbb=value-b"
    )
    with pytest.raises(BadInput, match="unknown attribute 'vendor-aaa' in the path"):
        parse_uri(text)


def test_slot_id_is_a_number_and_the_scheme_is_case_insensitive() -> None:
    assert parse_uri("PKCS11:slot-id=7").slot_id == 7


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("pkcs12:token=a", "starts with 'pkcs11:'"),
        ("pkcs11:token=a;token=b", "'token' is given twice"),
        ("pkcs11:pin-value=1234", "'pin-value' belongs in the query"),
        ("pkcs11:token=a?object=b", "'object' belongs in the path"),
        ("pkcs11:token=a?frobnicate=1", "unknown attribute 'frobnicate' in the query"),
        ("pkcs11:token=My Token", "must be percent-encoded"),
        ("pkcs11:token=%zz", "must be percent-encoded"),
        ("pkcs11:token=%FF", "not UTF-8"),
        ("pkcs11:type=key", "type 'key' is not one of"),
        ("pkcs11:slot-id=x1", "slot-id 'x1' is not a decimal number"),
        ("pkcs11:library-version=one", "is not MAJOR or MAJOR.MINOR"),
        ("pkcs11:token", "is not NAME=VALUE"),
        ("pkcs11:token=a?pin-value=1&pin-source=file:p", "pin-source or pin-value, not both"),
        ("pkcs11:object=" + "a" * 5000, "at most 4096"),
    ],
)
def test_a_malformed_uri_is_bad_input_saying_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(BadInput, match=says.replace("(", r"\(").replace("?", r"\?")):
        parse_uri(text)


def test_a_bad_pin_value_is_refused_without_repeating_the_pin() -> None:
    with pytest.raises(BadInput) as caught:
        parse_uri("pkcs11:token=a?pin-value=se cret")
    assert "se cret" not in caught.value.message
    assert "secret" not in repr(parse_uri("pkcs11:token=a?pin-value=secret"))
