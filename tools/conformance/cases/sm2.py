"""SM2 (COSE alg −65537) in every format: codes, lists and anchors, delegation, revocation, bundles,
rule sets, place codes and bindings, and the signature checks (docs/format.md §5).

Guangdong (440000) holds an SM2 issuer key; a second deployment has an SM2 national root. The
signatures are kept in ``sm2_signatures.json`` (SM2 signing is randomized; see the world module).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from typing import Any

from healthcred.codec.cbor import dumps, dumps_ordered
from healthcred.crypto.algorithms import Alg, PrivateKey
from healthcred.crypto.cose import encode_sign1, parse_sign1
from healthcred.crypto.keys import kid_of
from healthcred.crypto.sm2 import ORDER
from healthcred.flows.binding import BINDING_CONTENT_TYPE, make_binding
from healthcred.native.claims import to_claims
from healthcred.rules.policy import DEFAULT_POLICIES
from tools.conformance.case import Case, Trust
from tools.conformance.cases.common import case, root, shanghai, zhejiang
from tools.conformance.cases.dependents import BOUND, GUARDIAN, PEOPLE, binding_id, code_of
from tools.conformance.cases.place import place_code
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    credential,
    credential_id,
    flip,
    flip_text,
    grant,
    issue_code,
    key,
    message_of,
    raw_message,
    revocation_list,
    rule_set,
    signed_bundle,
    signer,
    text_of,
    trust,
    trust_list,
)

__all__ = [
    "guangdong",
    "sm2_bundles",
    "sm2_codes",
    "sm2_lists",
    "sm2_places",
    "sm2_revocations",
    "sm2_root",
    "sm2_rule_sets",
    "sm2_signatures",
    "sm2_signed_content",
]

_TAGS = ("sm2",)


def guangdong() -> PrivateKey:
    """Guangdong's issuer key (SM2), granted 440000."""
    return key("guangdong", Alg.SM2)


def sm2_root() -> PrivateKey:
    """A national root whose key is SM2."""
    return key("national-root-sm2", Alg.SM2)


@functools.cache
def _national_list() -> bytes:
    """The EdDSA root's list with the usual two provinces and Guangdong (SM2)."""
    grants = [grant(zhejiang(), "330000"), grant(shanghai(), "310000"), grant(guangdong(), "440000")]
    return trust_list(root(), grants)


@functools.cache
def _sm2_national_list() -> bytes:
    """The SM2 root's list: Guangdong (SM2) and Zhejiang (ES256)."""
    return trust_list(sm2_root(), [grant(guangdong(), "440000"), grant(zhejiang(), "330000")])


def _usual(revocations: tuple[bytes, ...] = (), rule_sets: tuple[bytes, ...] = ()) -> Trust:
    return trust([root()], [_national_list()], revocations, rule_sets)


def _sm2_national(revocations: tuple[bytes, ...] = ()) -> Trust:
    return trust([sm2_root()], [_sm2_national_list()], revocations)


def _case(
    case_id: str, title: str, text: str, expected: Mapping[str, Any], store: Trust, **extra: Any
) -> Case:
    return case(case_id, title, text, expected, store=store, tags=_TAGS, **extra)


@functools.cache
def _code() -> str:
    return issue_code(guangdong(), "sm2/guangdong", region="440106")[1]


@builder("native")
def sm2_codes() -> Iterator[Case]:
    """Valid SM2 codes: bare and zlib bodies, under an EdDSA root and under an SM2 root."""
    yield _case("native/sm2", "an SM2 code from Guangdong", _code(), valid(region="440106"), _usual())
    yield _case(
        "native/sm2-zlib-body",
        "an SM2 code with a zlib body",
        text_of(message_of(_code()), zlib_body=True),
        valid(),
        _usual(),
    )


@builder("signature")
def sm2_signatures() -> Iterator[Case]:
    """SM2 signatures out of range, altered or by another key; the header alg against the entry's."""
    message = parse_sign1(message_of(_code()))
    r = message.signature[:32]
    s = message.signature[32:]
    forged = {
        "flipped-bit": ("one bit of the SM2 signature flipped", flip(message.signature)),
        "s-equals-n": ("SM2 s = n (outside [1, n − 1])", r + ORDER.to_bytes(32, "big")),
        "r-equals-n": ("SM2 r = n (outside [1, n − 1])", ORDER.to_bytes(32, "big") + s),
        "r-zero": ("SM2 r = 0", bytes(32) + s),
        "s-zero": ("SM2 s = 0", r + bytes(32)),
        "short": ("an SM2 signature of 63 bytes", message.signature[:63]),
    }
    for name, (title, signature) in forged.items():
        text = text_of(encode_sign1(message.protected, message.payload, signature))
        yield _case(f"signature/sm2-{name}", title, text, error("bad_signature"), _usual())
    yield _case(
        "signature/sm2-flipped-text",
        "the SM2 code's last body byte flipped",
        flip_text(_code()),
        error("bad_signature"),
        _usual(),
    )
    payload = dumps_ordered(to_claims(credential("signature/sm2-alg", region="440106")))
    by_another = raw_message(
        payload, key("guangdong-impostor", Alg.SM2), protected=dumps({1: -65537, 4: kid_of(guangdong())})
    )
    yield _case(
        "signature/sm2-other-key",
        "Guangdong's kid, signed by another SM2 key",
        text_of(by_another),
        error("bad_signature"),
        _usual(),
    )
    gd_kid, zj_kid = kid_of(guangdong()), kid_of(zhejiang())
    headers = {
        "es256-header": ("ES256 in the header, the entry says SM2", guangdong(), {1: -7, 4: gd_kid}),
        "eddsa-header": ("EdDSA in the header, the entry says SM2", guangdong(), {1: -8, 4: gd_kid}),
        "sm2-header-es256-entry": (
            "SM2 in the header, the entry says ES256",
            zhejiang(),
            {1: -65537, 4: zj_kid},
        ),
    }
    for name, (title, private, header) in headers.items():
        mismatch = raw_message(payload, private, protected=dumps(header), signature=bytes(64))
        yield _case(
            f"signature/sm2-alg-mismatch-{name}", title, text_of(mismatch), error("alg_mismatch"), _usual()
        )
    genuine = raw_message(payload, guangdong())
    as_es256 = parse_sign1(genuine)
    relabelled = encode_sign1(dumps({1: -7, 4: gd_kid}), as_es256.payload, as_es256.signature)
    yield _case(
        "signature/sm2-alg-mismatch-genuine-signature",
        "a genuine SM2 signature relabelled ES256 in the header",
        text_of(relabelled),
        error("alg_mismatch"),
        _usual(),
    )


@builder("loading")
def sm2_lists() -> Iterator[Case]:
    """An SM2 national root anchors a list; an SM2 province delegates to an SM2 city key."""
    yield _case(
        "loading/sm2-root", "an SM2 root anchors the list; an SM2 code", _code(), valid(), _sm2_national()
    )
    _, zj = issue_code(zhejiang(), "loading/sm2-root-es256-province")
    yield _case(
        "loading/sm2-root-es256-province",
        "an SM2 root anchors the list; an ES256 province's code",
        zj,
        valid(),
        _sm2_national(),
    )
    listed = parse_sign1(_sm2_national_list())
    tampered = encode_sign1(listed.protected, listed.payload, flip(listed.signature))
    yield _case(
        "loading/sm2-root-tampered-list",
        "the SM2 root's list signature altered",
        _code(),
        error("untrusted_list"),
        trust([sm2_root()], [tampered]),
    )
    yield _case(
        "loading/sm2-root-other-anchor",
        "the SM2 root's list, the EdDSA root the only anchor",
        _code(),
        error("untrusted_list"),
        trust([root()], [_sm2_national_list()]),
    )
    shenzhen = key("shenzhen", Alg.SM2)
    delegator = grant(guangdong(), "440000", kinds=frozenset({1}), may_delegate=True)
    national = trust_list(sm2_root(), [delegator])
    cities = trust_list(
        guangdong(), [grant(shenzhen, "440300", kinds=frozenset({1}))], list_id="guangdong-cities"
    )
    _, city_code = issue_code(shenzhen, "loading/sm2-delegated", region="440304")
    yield _case(
        "loading/sm2-delegated",
        "an SM2 city key on the SM2 province's delegated list, under an SM2 root",
        city_code,
        valid(key_region="440300"),
        trust([sm2_root()], [national, cities]),
    )


def _policy() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_POLICIES)


@builder("revocation")
def sm2_revocations() -> Iterator[Case]:
    """Revocation lists signed with SM2, by the issuer and by an SM2 anchor."""
    by_issuer = revocation_list(guangdong(), added=[credential_id("sm2/guangdong")])
    yield _case(
        "revocation/sm2-by-issuer",
        "Guangdong revokes its SM2 code",
        _code(),
        error("revoked"),
        _usual((by_issuer,)),
    )
    by_root = revocation_list(
        sm2_root(), added=[credential_id("sm2/guangdong")], list_id="national-revocations"
    )
    yield _case(
        "revocation/sm2-by-anchor",
        "the SM2 root revokes Guangdong's code",
        _code(),
        error("revoked"),
        _sm2_national((by_root,)),
    )


@builder("bundle")
def sm2_bundles() -> Iterator[Case]:
    """A bundle signed by an SM2 root."""
    bundle = signed_bundle(sm2_root(), trust_lists=[_sm2_national_list()])
    yield _case(
        "bundle/sm2-root",
        "the SM2 root's list inside its SM2-signed bundle",
        _code(),
        valid(),
        trust([sm2_root()], bundle=bundle),
    )
    message = parse_sign1(bundle)
    tampered = encode_sign1(message.protected, message.payload, flip(message.signature))
    yield _case(
        "bundle/sm2-tampered",
        "the SM2 bundle signature altered",
        _code(),
        error("untrusted_list"),
        trust([sm2_root()], bundle=tampered),
    )


@builder("policy")
def sm2_rule_sets() -> Iterator[Case]:
    """A rule set signed by an SM2 root decides on an SM2 code."""
    store = trust([sm2_root()], [_sm2_national_list()], (), [rule_set(sm2_root(), _policy())])
    yield _case(
        "policy/sm2-rule-set",
        "the seed policy signed by the SM2 root, an SM2 code at a mall",
        _code(),
        valid(),
        store,
        operation="decide",
        place={"scene": "mall", "level": "high"},
    )


@builder("place")
def sm2_places() -> Iterator[Case]:
    """A place code signed with SM2."""
    text = place_code(guangdong(), venue_id="GZ-TH-0001", name="天河城 南门", region="440106", scene="mall")
    yield _case(
        "place/sm2",
        "a place code signed by Guangdong's SM2 key",
        text,
        valid(venue_id="GZ-TH-0001", region="440106", scene="mall"),
        _usual(),
        operation="verify_place",
    )


@builder("dependents")
def sm2_signed_content() -> Iterator[Case]:
    """A relatives binding signed with SM2."""
    relation, subject = PEOPLE["child"]
    signed = make_binding(
        GUARDIAN,
        subject,
        relation,
        signer(guangdong(), BINDING_CONTENT_TYPE),
        region="440106",
        slot=1,
        issued_at=BOUND,
        binding_id=binding_id("sm2-child"),
    )
    yield _case(
        "dependents/sm2-binding",
        "a binding signed by Guangdong's SM2 key; the codes are Zhejiang's",
        code_of("child"),
        valid(),
        _usual(),
        operation="verify_dependent",
        inputs={"binding": signed.hex(), "guardian": code_of("guardian")},
        related={"guardian": code_of("guardian")},
    )
