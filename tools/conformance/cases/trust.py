"""Finding the key and checking the grant: alg allow-list, kid, alg agreement, signature, region, kind,
colour, key window, compromise, conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from healthcred.codec.cbor import dumps, dumps_ordered
from healthcred.crypto.cose import encode_sign1, parse_sign1
from healthcred.crypto.keys import kid_of
from healthcred.model import RED, YELLOW, CredentialKind
from healthcred.native.claims import to_claims
from healthcred.trust.grants import KeyGrant
from tools.conformance.case import Case, Trust
from tools.conformance.cases.common import case, root, shanghai, standard_list, store_of, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    ISSUED,
    KEY_NOT_AFTER,
    T0,
    credential,
    epoch,
    flip,
    grant,
    issue_code,
    key,
    message_of,
    raw_message,
    text_of,
    trust,
    trust_list,
)

_L = 2**252 + 27742317777372353535851937790883648493  # the Ed25519 group order


def _parts(text: str) -> tuple[bytes, bytes, bytes]:
    message = parse_sign1(message_of(text))
    return message.protected, message.payload, message.signature


@builder("signature")
def algorithms() -> Iterator[Case]:
    """The allow-list, unknown kids, header alg against the entry's alg."""
    payload = dumps_ordered(to_claims(credential("signature/alg")))
    kid = kid_of(zhejiang())
    for name, alg in (("es384", -35), ("rs256", -257), ("hmac", 5), ("none", 0)):
        message = raw_message(payload, zhejiang(), protected=dumps({1: alg, 4: kid}), signature=bytes(64))
        yield case(
            f"signature/alg-{name}",
            f"header alg {alg}: not on the allow-list",
            text_of(message),
            error("unsupported_alg"),
        )
    stranger = key("stranger")
    _, text = issue_code(stranger, "signature/unknown-kid")
    yield case("signature/unknown-kid", "signed by a key on no list", text, error("unknown_kid"))
    message = raw_message(payload, zhejiang(), protected=dumps({1: -7, 4: b"\x00" * 8}))
    yield case("signature/unknown-kid-zero", "a kid of zeros", text_of(message), error("unknown_kid"))
    mismatch = raw_message(payload, zhejiang(), protected=dumps({1: -8, 4: kid}), signature=bytes(64))
    yield case(
        "signature/alg-mismatch-eddsa-header",
        "EdDSA in the header, the entry says ES256",
        text_of(mismatch),
        error("alg_mismatch"),
    )
    sh_kid = kid_of(shanghai())
    mismatch = raw_message(payload, shanghai(), protected=dumps({1: -7, 4: sh_kid}), signature=bytes(64))
    yield case(
        "signature/alg-mismatch-es256-header",
        "ES256 in the header, the entry says EdDSA",
        text_of(mismatch),
        error("alg_mismatch"),
    )


@builder("signature")
def signatures() -> Iterator[Case]:
    """Signatures that do not verify, for both algorithms."""
    for alg, private, region in (("es256", zhejiang(), "330100"), ("eddsa", shanghai(), "310000")):
        _, text = issue_code(private, f"signature/{alg}", region=region)
        protected, payload, signature = _parts(text)
        flipped = flip(signature)
        forged_payload = payload.replace(b"\x03\x01", b"\x03\x03", 1)  # hcode status green → red
        assert forged_payload != payload
        variants = {
            "flipped-bit": ("the last signature bit flipped", encode_sign1(protected, payload, flipped)),
            "altered-payload": (
                "status changed after signing",
                encode_sign1(protected, forged_payload, signature),
            ),
            "short-signature": ("a 63-byte signature", encode_sign1(protected, payload, signature[:63])),
            "long-signature": ("a 65-byte signature", encode_sign1(protected, payload, signature + b"\x00")),
            "zero-signature": ("64 zero bytes", encode_sign1(protected, payload, bytes(64))),
        }
        for name, (title, message) in variants.items():
            yield case(
                f"signature/{alg}-{name}",
                f"{alg.upper()}: {title}",
                text_of(message),
                error("bad_signature"),
                tags=[alg],
            )
    _, text = issue_code(zhejiang(), "signature/es256-der")
    protected, payload, signature = _parts(text)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    yield case(
        "signature/es256-der-signature",
        "ES256 signature in DER instead of raw r ‖ s",
        text_of(encode_sign1(protected, payload, der)),
        error("bad_signature"),
    )
    _, text = issue_code(shanghai(), "signature/eddsa-non-canonical", region="310000")
    protected, payload, signature = _parts(text)
    s = int.from_bytes(signature[32:], "little") + _L
    yield case(
        "signature/eddsa-non-canonical-s",
        "Ed25519 with S + L (non-canonical, RFC 8032 §5.1.7 rejects it)",
        text_of(encode_sign1(protected, payload, signature[:32] + s.to_bytes(32, "little"))),
        error("bad_signature"),
    )
    impostor = key("impostor")
    payload = dumps_ordered(to_claims(credential("signature/impostor", region="310000")))
    message = raw_message(payload, impostor, protected=dumps({1: -8, 4: kid_of(shanghai())}))
    yield case(
        "signature/impostor-kid",
        "another key signs under Shanghai's kid",
        text_of(message),
        error("bad_signature"),
    )


def _granted(**extra: Any) -> Trust:
    return store_of(grant(zhejiang(), "330000", **extra), grant(shanghai(), "310000"))


@builder("grant")
def grants() -> Iterator[Case]:
    """What an entry permits: region, kinds, colours, roles, window, compromise."""
    for name, region, expected in (
        ("other-province", "310100", error("region_not_allowed")),
        ("national-region", "000000", error("region_not_allowed")),
        ("neighbour-prefix", "340100", error("region_not_allowed")),
    ):
        _, text = issue_code(zhejiang(), f"grant/{name}", region=region)
        yield case(f"grant/region-{name}", f"Zhejiang (330000) issues for {region}", text, expected)
    _, text = issue_code(shanghai(), "grant/sh-in-zj", region="330100")
    yield case(
        "grant/region-eddsa-other-province",
        "Shanghai (310000) issues for 330100",
        text,
        error("region_not_allowed"),
    )
    city = store_of(grant(zhejiang(), "330100"))
    _, text = issue_code(zhejiang(), "grant/city-scope", region="330200")
    yield case(
        "grant/region-city-scope",
        "a key granted 330100 issues for 330200",
        text,
        error("region_not_allowed"),
        store=city,
    )
    _, text = issue_code(zhejiang(), "grant/city-scope-ok", region="330106")
    yield case(
        "grant/region-city-scope-county", "a key granted 330100 issues for 330106", text, valid(), store=city
    )
    county = store_of(grant(zhejiang(), "330106"))
    _, text = issue_code(zhejiang(), "grant/county-scope", region="330100")
    yield case(
        "grant/region-county-scope",
        "a key granted 330106 issues for its city 330100",
        text,
        error("region_not_allowed"),
        store=county,
    )

    restricted = _granted(kinds=frozenset({CredentialKind.NATIONAL}))
    _, text = issue_code(zhejiang(), "grant/kind")
    yield case(
        "grant/kind-not-granted",
        "kind 1 from a key granted kind 2 only",
        text,
        error("kind_not_allowed"),
        store=restricted,
    )
    delegate_only = _granted(may_issue=False, may_delegate=True)
    yield case(
        "grant/role-delegate-only",
        "a code from a key with the delegate role only",
        text,
        error("kind_not_allowed"),
        store=delegate_only,
    )
    colours = _granted(statuses=frozenset({1, 2}))
    _, red = issue_code(zhejiang(), "grant/status", status=RED)
    yield case(
        "grant/status-not-granted",
        "red from a key granted green and yellow",
        red,
        error("status_not_allowed"),
        store=colours,
    )
    _, yellow = issue_code(zhejiang(), "grant/status-ok", status=YELLOW)
    yield case(
        "grant/status-granted", "yellow from a key granted green and yellow", yellow, valid(), store=colours
    )

    not_before, not_after = epoch(T0), epoch(KEY_NOT_AFTER)
    window = [
        ("key-window-start", not_before, valid()),
        ("key-window-end", not_after, valid()),
        ("key-window-before", not_before - 1, error("key_not_valid")),
        ("key-window-after", not_after + 1, error("key_not_valid")),
    ]
    # A list valid beyond the key window, so only the window decides.
    long_list = trust(
        [root()],
        [trust_list(root(), [grant(zhejiang(), "330000")], expires_at=datetime(2028, 1, 1, tzinfo=UTC))],
    )
    for name, iat, expected in window:
        _, text = issue_code(zhejiang(), f"grant/{name}", issued_at=_at(iat))
        title = f"issued at {iat} against the window {not_before}–{not_after}"
        yield case(f"grant/{name}", title, text, expected, at=iat + 60, store=long_list)
    compromised = epoch(ISSUED)
    store = _granted(compromised_at=compromised)
    for name, iat, expected in (
        ("compromised-before", compromised - 1, valid()),
        ("compromised-at", compromised, error("key_compromised")),
        ("compromised-after", compromised + 3600, error("key_compromised")),
    ):
        _, text = issue_code(zhejiang(), f"grant/{name}", issued_at=_at(iat))
        yield case(
            f"grant/key-{name}",
            f"issued at compromise time {iat - compromised:+d} s",
            text,
            expected,
            store=store,
            at=iat + 60,
        )


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@builder("grant")
def unions() -> Iterator[Case]:
    """One key on two lists: the grants are a union unless region or alg conflict."""
    other_root = key("bilateral-root")
    conflicting = trust_list(other_root, [grant(zhejiang(), "330200")], list_id="bilateral")
    store = trust([root(), other_root], [standard_list(), conflicting])
    _, text = issue_code(zhejiang(), "grant/conflict")
    yield case(
        "grant/conflict-two-regions",
        "two lists grant Zhejiang's key different regions",
        text,
        error("trust_conflict"),
        store=store,
    )
    _, sh_text = issue_code(shanghai(), "grant/conflict-other", region="310000")
    yield case(
        "grant/conflict-other-key-unaffected",
        "a conflict about one key leaves others working",
        sh_text,
        valid(),
        store=store,
    )
    late = trust_list(
        root(), [KeyGrant(zhejiang().public_key(), "330000", epoch(ISSUED), epoch(KEY_NOT_AFTER))]
    )
    early = trust_list(
        other_root,
        [
            KeyGrant(
                zhejiang().public_key(), "330000", epoch(ISSUED - timedelta(days=30)), epoch(KEY_NOT_AFTER)
            )
        ],
        list_id="extension",
    )
    _, text = issue_code(zhejiang(), "grant/union", issued_at=ISSUED - timedelta(days=1))
    yield case(
        "grant/union-of-windows",
        "only the second list's window covers the code: the union permits it",
        text,
        valid(),
        store=trust([root(), other_root], [late, early]),
        at=epoch(ISSUED - timedelta(days=1)) + 60,
    )
    yield case(
        "grant/union-window-one-list",
        "the same code with only the first list: outside its window",
        text,
        error("key_not_valid"),
        store=trust([root()], [late]),
        at=epoch(ISSUED - timedelta(days=1)) + 60,
    )
