"""Malformed codes, layer by layer: prefix, Base45, body, COSE envelope, CBOR, claims."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

from healthcred.codec.base45 import b45encode
from healthcred.codec.cbor import dumps, dumps_ordered
from healthcred.codec.prefix import NATIVE_PREFIX, PLACE_PREFIX
from healthcred.crypto.keys import kid_of
from healthcred.model import CredentialKind
from healthcred.native.claims import to_claims
from tools.conformance.case import Case
from tools.conformance.cases.common import case, zhejiang
from tools.conformance.registry import builder, error
from tools.conformance.world import credential, epoch, flip, issue_code, message_of, raw_message, text_of


def _bad(name: str, title: str, text: str, code: str) -> Case:
    return case(f"format/{name}", title, text, error(code), tags=[code])


@builder("format")
def prefixes() -> Iterator[Case]:
    """The text must start with exactly ``JKM1:``.

    No case uses ``HC1:`` or ``shc:/``: a verifier may read those as EU DCC and
    SMART Health Cards (this library does), which the native vectors do not cover.
    """
    _, good = issue_code(zhejiang(), "format/prefix")
    body = good[len(NATIVE_PREFIX) :]
    for name, text in {
        "empty-text": "",
        "no-prefix": body,
        "lower-case-prefix": "jkm1:" + body,
        "version-2-prefix": "JKM2:" + body,
        "prefix-without-colon": "JKM1" + body,
        "leading-space": " " + good,
        "unknown-prefix": "XYZ1:" + body,
        "place-code-prefix": PLACE_PREFIX + body,
    }.items():
        yield _bad(name, f"prefix: {name}", text, "bad_prefix")


@builder("format")
def base45() -> Iterator[Case]:
    """Canonical Base45 only (RFC 9285)."""
    _, good = issue_code(zhejiang(), "format/base45")
    body = good[len(NATIVE_PREFIX) :]
    for name, text in {
        "lower-case": NATIVE_PREFIX + body.lower(),
        "trailing-newline": good + "\n",
        "carriage-return": good + "\r",
        "length-1-mod-3": good + "0" * ((1 - len(body)) % 3 or 3),
        "char-outside-alphabet": NATIVE_PREFIX + "#" + body[1:],
        "group-over-65535": NATIVE_PREFIX + ":::" + body,
        "final-pair-over-255": NATIVE_PREFIX + body[: len(body) - len(body) % 3] + "::",
    }.items():
        yield _bad(f"base45-{name}", f"Base45: {name}", text, "bad_base45")


@builder("format")
def sizes() -> Iterator[Case]:
    """At most 4296 characters; a body inflates to at most 8192 bytes."""
    yield _bad(
        "text-4297-chars", "one character over the QR capacity", NATIVE_PREFIX + "0" * 4292, "too_large"
    )
    yield _bad(
        "text-4296-chars",
        "exactly the QR capacity: decoded, not too large",
        NATIVE_PREFIX + "0" * 4291,
        "bad_base45",
    )
    yield _bad(
        "text-4295-chars",
        "Base45 of 2860 zero bytes: neither 0xD2 nor zlib",
        NATIVE_PREFIX + "0" * 4290,
        "malformed_cose",
    )
    bomb = zlib.compress(b"\xd2" + bytes(8192), 9)
    yield _bad(
        "zlib-inflates-past-8192",
        "a zlib body inflating to 8193 bytes",
        NATIVE_PREFIX + b45encode(bomb),
        "too_large",
    )
    yield _bad(
        "zero-bytes-body",
        "a body of zeros (not 0xD2, not zlib)",
        NATIVE_PREFIX + b45encode(bytes(30)),
        "malformed_cose",
    )


@builder("format")
def compression() -> Iterator[Case]:
    """One complete zlib stream, nothing after it."""
    _, good = issue_code(zhejiang(), "format/zlib")
    message = message_of(good)
    stream = zlib.compress(message, 9)
    for name, body in {
        "zlib-truncated": stream[:-5],
        "zlib-trailing-bytes": stream + b"\x00",
        "zlib-bad-checksum": flip(stream),
    }.items():
        yield _bad(name, f"body: {name}", NATIVE_PREFIX + b45encode(body), "bad_compression")
    # A first byte that is neither 0xD2 nor a zlib header (CMF: method 8, window ≤ 32 KiB) is no body.
    for name, body in {"raw-deflate": _raw_deflate(message), "untagged-bare": message[1:]}.items():
        assert body[0] & 0x0F != 8
        yield _bad(
            name,
            f"body: {name} (first byte {body[0]:#04x})",
            NATIVE_PREFIX + b45encode(body),
            "malformed_cose",
        )
    window_64k = bytes([0x88, 0x1D]) + stream[2:]  # CMF with a 64 KiB window: not allowed by RFC 1950
    yield _bad(
        "zlib-window-64k",
        "a zlib header declaring a 64 KiB window",
        NATIVE_PREFIX + b45encode(window_64k),
        "malformed_cose",
    )


def _raw_deflate(data: bytes) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)  # no zlib header or checksum
    return deflater.compress(data) + deflater.flush()


def _envelope(name: str, title: str, message: bytes, zlib_body: bool = False) -> Case:
    return _bad(name, title, text_of(message, zlib_body=zlib_body), "malformed_cose")


@builder("format")
def envelopes() -> Iterator[Case]:
    """The COSE_Sign1 shape: tag 18, four items, empty unprotected header, alg and kid protected."""
    key = zhejiang()
    kid = kid_of(key)
    payload = dumps_ordered(to_claims(credential("format/cose")))
    good = raw_message(payload, key)
    yield _envelope("cose-untagged-zlib", "an untagged array (in a zlib body)", good[1:], zlib_body=True)
    yield _envelope("cose-tag-17", "tag 17 (COSE_Mac0) instead of 18", b"\xd1" + good[1:], zlib_body=True)
    three = b"\xd2\x83" + dumps(dumps({1: -7, 4: kid})) + b"\xa0" + dumps(payload)
    yield _envelope("cose-array-of-3", "an array of three items", three)
    yield _envelope("cose-trailing-byte", "a byte after the message", good + b"\x00")
    yield _envelope("cose-truncated", "the message cut short", good[:-10])
    protected = dumps({1: -7, 4: kid})
    signed = raw_message(payload, key, protected=protected)
    sig = signed[-64:]
    unprotected_kid = b"\xd2\x84" + dumps(dumps({1: -7})) + dumps({4: kid}) + dumps(payload) + dumps(sig)
    yield _envelope("cose-kid-unprotected", "the kid in the unprotected header", unprotected_kid)
    extra = b"\xd2\x84" + dumps(protected) + dumps({4: kid}) + dumps(payload) + dumps(sig)
    yield _envelope(
        "cose-unprotected-not-empty", "a complete protected header and a non-empty unprotected one", extra
    )
    headers: dict[str, Any] = {
        "cose-crit-header": {1: -7, 2: [4], 4: kid},
        "cose-no-kid": {1: -7},
        "cose-no-alg": {4: kid},
        "cose-empty-kid": {1: -7, 4: b""},
        "cose-alg-as-text": {1: "ES256", 4: kid},
        "cose-unknown-label": {1: -7, 4: kid, 5: b"\x00" * 12},
    }
    for name, header in headers.items():
        message = raw_message(payload, key, protected=dumps(header))
        yield _envelope(name, f"protected header: {name[5:]}", message)
    out_of_order = b"\xa2\x04\x48" + kid + b"\x01\x26"  # {4: kid, 1: -7}: keys not in deterministic order
    yield _envelope(
        "cose-header-out-of-order",
        "protected header keys out of order",
        raw_message(payload, key, protected=out_of_order),
    )
    long_form = b"\xa2\x01\x38\x06\x04\x48" + kid  # alg -7 as a one-byte-argument integer
    yield _envelope(
        "cose-header-non-shortest",
        "alg encoded in a longer form than needed",
        raw_message(payload, key, protected=long_form),
    )
    payload_map = (
        b"\xd2\x84" + dumps(protected) + b"\xa0" + dumps(to_claims(credential("format/cose"))) + dumps(sig)
    )
    yield _envelope("cose-payload-not-bstr", "the payload as a map instead of a byte string", payload_map)


def _signed(name: str, title: str, payload: bytes, code: str, accept: tuple[str, ...] = ()) -> Case:
    """A correctly signed message over a hostile payload: the fault shows only after the signature."""
    expected = {**error(code), "accept": sorted(accept)} if accept else error(code)
    return case(f"format/{name}", title, text_of(raw_message(payload, zhejiang())), expected, tags=[code])


@builder("format")
def cbor() -> Iterator[Case]:
    """Deterministic CBOR in the payload (signature valid)."""
    cred = credential("format/cbor")
    claims = dumps_ordered(to_claims(cred))
    assert claims[0] == 0xA5
    yield _signed("cbor-trailing-byte", "a byte after the claims map", claims + b"\x00", "malformed_cbor")
    yield _signed(
        "cbor-indefinite-map",
        "an indefinite-length claims map",
        b"\xbf" + claims[1:] + b"\xff",
        "malformed_cbor",
    )
    duplicate = b"\xa6" + claims[1:] + b"\x01\x66" + b"330100"
    yield _signed("cbor-duplicate-key", "the iss claim twice", duplicate, "malformed_cbor")
    exp = epoch(cred.expires_at)
    non_shortest = claims.replace(b"\x04\x1a" + exp.to_bytes(4, "big"), b"\x04\x1b" + exp.to_bytes(8, "big"))
    assert non_shortest != claims
    yield _signed("cbor-non-shortest-int", "exp as an 8-byte integer", non_shortest, "malformed_cbor")
    floats = claims.replace(b"\x04\x1a" + exp.to_bytes(4, "big"), b"\x04\xfb" + struct.pack(">d", float(exp)))
    # Floats and tags are outside the profile; the spec lets a verifier report either code for them.
    either = ("bad_claims", "malformed_cbor")
    yield _signed("cbor-float", "exp as a float", floats, "bad_claims", accept=either)
    tagged = claims.replace(b"\x04\x1a", b"\x04\xc1\x1a")
    yield _signed("cbor-tagged-time", "exp wrapped in tag 1", tagged, "malformed_cbor", accept=either)
    tagged = claims.replace(b"\x04\x1a", b"\x04\xd8\x64\x1a")
    yield _signed("cbor-unknown-tag", "exp wrapped in tag 100", tagged, "malformed_cbor", accept=either)
    unsorted = b"\xa5\x04\x1a" + exp.to_bytes(4, "big") + b"\x01\x66330100" + claims[8 + 5 :]
    yield _signed("cbor-keys-out-of-order", "exp before iss", unsorted, "malformed_cbor")
    yield _signed("cbor-not-cbor", "the payload is a lone break byte", b"\xff", "malformed_cbor")
    yield _signed("cbor-truncated", "the claims map cut short", claims[:-3], "malformed_cbor")


@builder("format")
def claims() -> Iterator[Case]:
    """Every claim present, typed and within range (signature valid)."""
    cred = credential("format/claims")
    base = to_claims(cred)

    def changed(**edits: Any) -> bytes:
        top = dict(base)
        hcode = dict(top[-65537])
        subject = dict(hcode[5])
        for where, value in edits.items():
            part, _, field = where.partition("_")
            target = {"top": top, "hcode": hcode, "subject": subject}[part]
            number = int(field.replace("m", "-"))
            if value is _DROP:
                target.pop(number)
            else:
                target[number] = value
        hcode[5] = subject
        if -65537 in top:
            top[-65537] = hcode
        return dumps(top)

    variants: dict[str, tuple[str, bytes]] = {
        "claims-array": ("the claims set is an array", dumps([1, 2, 3])),
        "claims-no-cti": ("no credential id (7)", changed(top_7=_DROP)),
        "claims-no-hcode": ("no health-code claim", changed(**{"top_m65537": _DROP})),
        "claims-extra-sub": ("an unknown claim 2 (sub)", changed(top_2="someone")),
        "claims-iss-integer": ("iss as an integer", changed(top_1=330100)),
        "claims-iss-five-digits": ("iss of five digits", changed(top_1="33010")),
        "claims-cti-8-bytes": ("a credential id of 8 bytes", changed(top_7=b"\x01" * 8)),
        "claims-exp-before-iat": ("exp earlier than iat", changed(top_4=base[6] - 1)),
        "claims-exp-after-9999": ("exp beyond 9999-12-31", changed(top_4=253402300800)),
        "claims-negative-iat": ("a negative iat", changed(top_6=-1)),
        "hcode-version-2": ("health-code map version 2", changed(hcode_1=2)),
        "hcode-kind-9": ("unknown credential kind 9", changed(hcode_2=9)),
        "hcode-status-0": ("status 0", changed(hcode_3=0)),
        "hcode-status-256": ("status 256", changed(hcode_3=256)),
        "hcode-reason-65536": ("reason 65536", changed(hcode_4=65536)),
        "hcode-unknown-key": ("an unknown key 8 in the health-code map", changed(hcode_8=1)),
        "hcode-national-without-source": (
            "kind 2 without source region and id",
            changed(hcode_2=int(CredentialKind.NATIONAL)),
        ),
        "hcode-source-on-regional": (
            "a regional code naming a source",
            changed(hcode_6="330100", hcode_7=b"\x02" * 16),
        ),
        "subject-doc-type-7": ("unknown document type 7", changed(subject_3=7)),
        "subject-birth-date-feb-30": ("birth date 1985-02-30", changed(subject_2="1985-02-30")),
        "subject-birth-date-format": ("birth date 12/03/1985", changed(subject_2="12/03/1985")),
        "subject-empty-name": ("an empty name", changed(subject_1="")),
        "subject-name-65-chars": ("a 65-character name", changed(subject_1="欧" * 65)),
        "subject-name-spaces": ("a name with a leading space", changed(subject_1=" 张三")),
        "subject-number-unmasked": ("a clear document number", changed(subject_4="330106198503121234")),
        "subject-no-number": ("no document number", changed(subject_4=_DROP)),
    }
    for name, (title, payload) in variants.items():
        yield _signed(name, title, payload, "bad_claims")


class _Drop:
    """Marker: remove the key."""


_DROP = _Drop()
