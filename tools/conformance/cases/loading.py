"""Loading the trust context: anchors, list signatures and shapes, delegation. A fault refuses the load,
whatever the code."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from healthcred.codec.cbor import dumps
from healthcred.crypto.algorithms import Alg, PrivateKey, alg_of
from healthcred.crypto.cose import encode_sign1, parse_sign1, sign_content
from healthcred.crypto.keys import kid_of, public_key_der
from healthcred.trust.grants import KeyGrant
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE
from tools.conformance.case import Case, Trust
from tools.conformance.cases.common import case, root, shanghai, standard_list, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    KEY_NOT_AFTER,
    LIST_EXPIRES,
    T0,
    edited,
    epoch,
    grant,
    issue_code,
    key,
    raw_message,
    revocation_list,
    signer,
    trust,
    trust_list,
)


def _code() -> str:
    return issue_code(zhejiang(), "loading/code")[1]


def _load(name: str, title: str, store: Trust, code: str) -> Case:
    return case(f"loading/{name}", title, _code(), error(code), store=store, tags=[code])


def _entry(
    private: PrivateKey, region: str = "330000", changes: Mapping[int, Any] | None = None
) -> dict[int, Any]:
    """A trust-list entry for ``private``, built by hand (``changes`` as for :func:`edited`)."""
    entry = {
        1: kid_of(private),
        2: int(alg_of(private)),
        3: public_key_der(private.public_key()),
        4: region,
        5: epoch(T0),
        6: epoch(KEY_NOT_AFTER),
    }
    return edited(entry, changes or {})


def _list_body(entries: list[dict[int, Any]], changes: Mapping[int, Any] | None = None) -> dict[int, Any]:
    body = {1: 1, 2: 1, 3: epoch(T0), 4: epoch(LIST_EXPIRES), 5: entries, 6: "national"}
    return edited(body, changes or {})


def _raw_list(entries: list[dict[int, Any]], changes: Mapping[int, Any] | None = None) -> bytes:
    """A trust list of hand-built ``entries``, signed by the root."""
    return sign_content(
        _list_body(entries, changes), signer(root(), TRUST_LIST_CONTENT_TYPE), TRUST_LIST_CONTENT_TYPE
    )


@builder("loading")
def anchors() -> Iterator[Case]:
    """The anchors must be usable keys, and there must be one."""
    yield _load(
        "no-anchor", "a trust context without anchors", Trust([], [standard_list()]), "trust_store_error"
    )
    yield _load(
        "anchor-not-a-key",
        "an anchor that is not SPKI DER",
        Trust([b"\x30\x03\x02\x01\x00"], [standard_list()]),
        "trust_store_error",
    )
    p384 = ec.derive_private_key(12345, ec.SECP384R1()).public_key()
    yield _load(
        "anchor-p384",
        "a P-384 anchor (not on the allow-list)",
        Trust([public_key_der(p384)], [standard_list()]),
        "trust_store_error",
    )
    yield case(
        "loading/no-lists",
        "anchors but no list: the kid is unknown",
        _code(),
        error("unknown_kid"),
        store=trust([root()]),
    )


@builder("loading")
def signers() -> Iterator[Case]:
    """A list counts only if an anchor (or a delegating key) signed it, unaltered."""
    stranger = key("stranger-root")
    foreign = trust_list(stranger, [grant(zhejiang(), "330000"), grant(shanghai(), "310000")])
    yield _load(
        "list-by-unknown-root",
        "a list signed by a key that is no anchor",
        trust([root()], [foreign]),
        "untrusted_list",
    )
    message = parse_sign1(standard_list())
    tampered = encode_sign1(
        message.protected, message.payload.replace(b"330000", b"310000"), message.signature
    )
    yield _load(
        "list-altered",
        "the list's region changed after signing",
        trust([root()], [tampered]),
        "untrusted_list",
    )
    wrong_alg = raw_message(
        message.payload,
        root(),
        protected=dumps({1: -7, 3: TRUST_LIST_CONTENT_TYPE, 4: kid_of(root())}),
        signature=bytes(64),
    )
    yield _load(
        "list-header-alg-mismatch",
        "the root's list with header alg ES256 (the root is Ed25519)",
        trust([root()], [wrong_alg]),
        "alg_mismatch",
    )
    by_issuer = trust_list(zhejiang(), [grant(shanghai(), "310000")], list_id="cities")
    yield _load(
        "list-by-issuer-without-delegate-role",
        "a list signed by an issuing key not granted the delegate role",
        trust([root()], [standard_list(), by_issuer]),
        "untrusted_list",
    )
    two_roots = trust([key("other-root"), root()], [standard_list()])
    yield case(
        "loading/second-anchor",
        "the list's signer is the second of two anchors",
        _code(),
        valid(),
        store=two_roots,
    )


@builder("loading")
def shapes() -> Iterator[Case]:
    """The signed content must be a trust list of the prescribed shape."""
    zj = _entry(zhejiang())
    variants: dict[str, tuple[str, bytes]] = {
        "not-cose": ("random bytes instead of a list", b"\x01\x02\x03"),
        "revocation-as-list": (
            "a revocation list among the trust lists (its content type)",
            revocation_list(root(), added=[b"\x00" * 16]),
        ),
        "no-content-type": (
            "a list without content type",
            raw_message(dumps(_list_body([zj])), root()),
        ),
        "payload-array": (
            "the payload is an array",
            sign_content([1], signer(root(), TRUST_LIST_CONTENT_TYPE), TRUST_LIST_CONTENT_TYPE),
        ),
        "format-2": ("list format 2", _raw_list([zj], {1: 2})),
        "version-0": ("version 0", _raw_list([zj], {2: 0})),
        "expires-before-issued": ("expiry before issue", _raw_list([zj], {4: epoch(T0) - 1})),
        "no-list-id": ("no list id", _raw_list([zj], {6: None})),
        "entry-kid-mismatch": (
            "an entry whose kid is not its key's",
            _raw_list([_entry(zhejiang(), changes={1: b"\x00" * 8})]),
        ),
        "entry-alg-mismatch": (
            "EdDSA named for a P-256 key",
            _raw_list([_entry(zhejiang(), changes={2: -8})]),
        ),
        "entry-alg-unknown": ("alg -35 in an entry", _raw_list([_entry(zhejiang(), changes={2: -35})])),
        "entry-key-garbage": (
            "an entry key that is not SPKI DER",
            _raw_list([_entry(zhejiang(), changes={3: b"\x01\x02"})]),
        ),
        "entry-region-short": ("region of four digits", _raw_list([_entry(zhejiang(), "3300")])),
        "entry-window-empty": (
            "not after equal to not before",
            _raw_list([_entry(zhejiang(), changes={6: epoch(T0)})]),
        ),
        "entry-unknown-key": ("an entry key 11", _raw_list([_entry(zhejiang(), changes={11: 1})])),
        "entry-kinds-unsorted": ("kinds [2, 1]", _raw_list([_entry(zhejiang(), changes={7: [2, 1]})])),
        "entry-roles-zero": ("roles 0", _raw_list([_entry(zhejiang(), changes={9: 0})])),
        "entry-roles-8": ("roles 8 (unknown bit)", _raw_list([_entry(zhejiang(), changes={9: 8})])),
    }
    for name, (title, data) in variants.items():
        yield _load(f"malformed-{name}", title, trust([root()], [data]), "trust_list_malformed")
    _, text = issue_code(zhejiang(), "loading/explicit-roles")
    explicit = trust([root()], [_raw_list([_entry(zhejiang(), changes={7: [1, 2], 8: [1, 2, 3], 9: 1})])])
    yield case(
        "loading/explicit-optional-fields",
        "kinds, statuses and roles written out",
        text,
        valid(),
        store=explicit,
    )


@builder("loading")
def delegation() -> Iterator[Case]:
    """A delegated list may hand on only what its signer holds, one level deep."""
    hangzhou = key("hangzhou", Alg.ES256)
    delegator = grant(zhejiang(), "330000", kinds=frozenset({1}), may_delegate=True)
    national = trust_list(root(), [delegator, grant(shanghai(), "310000")])

    def delegated(*grants: KeyGrant, **kw: Any) -> Trust:
        return trust(
            [root()], [national, trust_list(zhejiang(), list(grants), list_id="zhejiang-cities", **kw)]
        )

    _, city_code = issue_code(hangzhou, "loading/hangzhou", region="330106")
    ok = delegated(grant(hangzhou, "330100", kinds=frozenset({1})))
    yield case(
        "loading/delegated-city-key",
        "a city key on Zhejiang's delegated list",
        city_code,
        valid(key_region="330100"),
        store=ok,
    )
    faults = {
        "outside-region": ("a city of another province", grant(hangzhou, "310100", kinds=frozenset({1}))),
        "wider-kinds": ("any kind under a delegator restricted to kind 1", grant(hangzhou, "330100")),
        "delegates-again": (
            "a delegated entry with the delegate role",
            grant(hangzhou, "330100", kinds=frozenset({1}), may_delegate=True),
        ),
        "longer-window": (
            "a window ending after the delegator's",
            KeyGrant(
                hangzhou.public_key(), "330100", epoch(T0), epoch(KEY_NOT_AFTER) + 1, kinds=frozenset({1})
            ),
        ),
        "rules-role": (
            "the rules role, which the delegator lacks",
            grant(hangzhou, "330100", kinds=frozenset({1}), may_sign_rules=True),
        ),
    }
    for name, (title, bad) in faults.items():
        yield case(
            f"loading/delegation-{name}",
            f"delegated list: {title}",
            city_code,
            error("delegation_not_allowed"),
            store=delegated(bad),
        )
    compromised = grant(
        zhejiang(), "330000", kinds=frozenset({1}), may_delegate=True, compromised_at=epoch(T0) + 3600
    )
    late = trust(
        [root()],
        [
            trust_list(root(), [compromised]),
            trust_list(
                zhejiang(),
                [grant(hangzhou, "330100", kinds=frozenset({1}))],
                list_id="zhejiang-cities",
                issued_at=T0.replace(day=2),
            ),
        ],
    )
    yield case(
        "loading/delegation-after-compromise",
        "a delegated list signed after the delegator's compromise",
        city_code,
        error("delegation_not_allowed"),
        store=late,
    )
