"""SM2 in every signed format: an SM2 national root and SM2 provinces sign lists, bundles,
revocations, rule sets, delegated lists, place codes and bindings; a header alg that disagrees
with an SM2 (or ES256) trust entry is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from healthcred import (
    GREEN,
    Alg,
    HealthCode,
    HealthCredError,
    KeyGrant,
    TrustStore,
    generate_key,
    issue,
    verify,
)
from healthcred.codec.base45 import b45decode, b45encode
from healthcred.codec.cbor import dumps
from healthcred.codec.compression import unpack
from healthcred.codec.prefix import NATIVE_PREFIX, strip_prefix
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import encode_sign1, parse_sign1
from healthcred.crypto.keys import kid_of
from healthcred.flows.binding import Relation, make_binding, verify_dependent
from healthcred.flows.places import issue_place, verify_place
from healthcred.model import DocumentType, Subject
from healthcred.rules.policy import DEFAULT_POLICIES
from healthcred.trust.bundle import make_bundle, open_bundle
from healthcred.trust.envelope import Anchor
from healthcred.trust.revocation import make_revocation_list
from healthcred.trust.rulesets import make_rule_set
from tests.helpers.sm import needs_sm2
from tests.helpers.world import (
    CHECKED,
    ISSUED,
    KEY_NOT_AFTER,
    LIST_EXPIRES,
    T0,
    World,
    grants,
    signed_list,
    ts,
)

pytestmark = needs_sm2

GUARDIAN = Subject.create("李四", "1980-05-01", DocumentType.RESIDENT_ID_CARD, "440106198005011234")
CHILD = Subject.create("李小明", "2015-06-01", DocumentType.RESIDENT_ID_CARD, "440106201506011230")


@dataclass(frozen=True)
class Sm2World:
    """An SM2 national root granting Guangdong (SM2) 440000 and Zhejiang (ES256) 330000."""

    root: PrivateKey
    guangdong: PrivateKey
    zhejiang: PrivateKey
    trust_list: bytes
    store: TrustStore


@pytest.fixture(scope="module")
def sm() -> Sm2World:
    root, guangdong, zhejiang = generate_key(Alg.SM2), generate_key(Alg.SM2), generate_key(Alg.ES256)
    data = signed_list(root, grants((guangdong, "440000"), (zhejiang, "330000")))
    return Sm2World(root, guangdong, zhejiang, data, TrustStore([root.public_key()], [data]))


def _code(key: PrivateKey, region: str, subject: Subject = GUARDIAN) -> str:
    """A green code for ``subject`` issued by ``key`` in ``region``."""
    credential = HealthCode.create(
        subject=subject, status=GREEN, region=region, issued_at=ISSUED, valid_for=timedelta(days=1)
    )
    return issue(credential, key)


def _error(exc: pytest.ExceptionInfo[HealthCredError]) -> str:
    return exc.value.code


def test_an_sm2_root_anchors_the_list_of_an_sm2_and_an_es256_province(sm: Sm2World) -> None:
    for key, region in ((sm.guangdong, "440106"), (sm.zhejiang, "330106")):
        result = verify(_code(key, region), sm.store, at=CHECKED)
        assert result.alg == ("SM2" if key is sm.guangdong else "ES256") and result.kid == kid_of(key)
    assert sm.store.anchors[0].alg is Alg.SM2


def test_a_list_signed_by_an_sm2_root_is_refused_under_another_anchor(sm: Sm2World, world: World) -> None:
    with pytest.raises(HealthCredError) as exc:
        TrustStore([world.root.public_key()], [sm.trust_list])
    assert _error(exc) == "untrusted_list"


def test_a_bundle_signed_by_an_sm2_root_opens_and_a_changed_one_does_not(sm: Sm2World) -> None:
    data = make_bundle(sm.root, version=1, issued_at=ts(T0), trust_lists=[sm.trust_list])
    anchors = [Anchor.from_key(sm.root.public_key())]
    bundle = open_bundle(data, anchors)
    assert bundle.signer_kid == kid_of(sm.root)
    assert verify(_code(sm.guangdong, "440106"), bundle.store, at=CHECKED).alg == "SM2"
    message = parse_sign1(data)
    changed = encode_sign1(message.protected, message.payload, message.signature[:-1] + b"\x00")
    with pytest.raises(HealthCredError) as exc:
        open_bundle(changed, anchors)
    assert _error(exc) == "untrusted_list"


@pytest.mark.parametrize("by", ["issuer", "root"])
def test_an_sm2_signed_revocation_list_revokes(sm: Sm2World, by: str) -> None:
    code = _code(sm.guangdong, "440106")
    credential = verify(code, sm.store, at=CHECKED).credential
    assert isinstance(credential, HealthCode)
    cti = credential.id
    signer = sm.guangdong if by == "issuer" else sm.root
    revocations = make_revocation_list(
        signer, version=1, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES), added=[cti], list_id="sm2-" + by
    )
    store = TrustStore([sm.root.public_key()], [sm.trust_list], [revocations])
    with pytest.raises(HealthCredError) as exc:
        verify(code, store, at=CHECKED)
    assert _error(exc) == "revoked"


def test_a_rule_set_signed_by_an_sm2_root_is_loaded(sm: Sm2World) -> None:
    signed = make_rule_set(sm.root, DEFAULT_POLICIES, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES))
    store = TrustStore([sm.root.public_key()], [sm.trust_list], (), [signed])
    [rules] = store.rule_sets
    assert rules.signer_kid == kid_of(sm.root) and rules.body == DEFAULT_POLICIES


def test_an_sm2_province_delegates_to_an_sm2_city_key(sm: Sm2World) -> None:
    shenzhen = generate_key(Alg.SM2)
    delegator = KeyGrant(sm.guangdong.public_key(), "440000", ts(T0), ts(KEY_NOT_AFTER), may_delegate=True)
    national = signed_list(sm.root, [delegator])
    cities = signed_list(sm.guangdong, grants((shenzhen, "440300")), list_id="guangdong-cities")
    store = TrustStore([sm.root.public_key()], [national, cities])
    result = verify(_code(shenzhen, "440304"), store, at=CHECKED)
    assert result.alg == "SM2" and result.key_region == "440300"


def test_a_place_code_signed_with_sm2_verifies(sm: Sm2World) -> None:
    text = issue_place(
        sm.guangdong,
        venue_id="GZ-TH-0001",
        name="天河城 南门",
        region="440106",
        scene="mall",
        issued_at=ISSUED,
    )
    result = verify_place(text, sm.store, at=CHECKED)
    assert result.place.venue_id == "GZ-TH-0001" and result.key_region == "440000" and result.alg == "SM2"


def test_a_binding_signed_with_sm2_verifies(sm: Sm2World) -> None:
    binding = make_binding(
        GUARDIAN, CHILD, Relation.CHILD, sm.guangdong, region="440106", slot=1, issued_at=ISSUED
    )
    guardian = _code(sm.guangdong, "440106")
    child = _code(sm.zhejiang, "330106", CHILD)
    result = verify_dependent(child, binding, sm.store, guardian=guardian, at=CHECKED)
    assert result.relation is Relation.CHILD and result.guardian is not None


def _relabelled(text: str, alg: int) -> str:
    """The code with its header alg replaced (kid and signature kept)."""
    message = parse_sign1(unpack(b45decode(strip_prefix(text, NATIVE_PREFIX))))
    kid = message.protected[-8:]  # the header ends with the 8-byte kid (label 4, bstr .size 8)
    return NATIVE_PREFIX + b45encode(
        encode_sign1(dumps({1: alg, 4: kid}), message.payload, message.signature)
    )


@pytest.mark.parametrize(
    ("signer", "header"),
    [("guangdong", Alg.ES256), ("guangdong", Alg.EDDSA), ("zhejiang", Alg.SM2)],
    ids=["es256-header-on-sm2-entry", "eddsa-header-on-sm2-entry", "sm2-header-on-es256-entry"],
)
def test_a_header_alg_that_disagrees_with_the_entry_is_alg_mismatch(
    sm: Sm2World, signer: str, header: Alg
) -> None:
    key = sm.guangdong if signer == "guangdong" else sm.zhejiang
    text = _code(key, "440106" if signer == "guangdong" else "330106")
    assert verify(text, sm.store, at=CHECKED).kid == kid_of(key)  # the code itself is good
    with pytest.raises(HealthCredError) as exc:
        verify(_relabelled(text, int(header)), sm.store, at=CHECKED)
    assert _error(exc) == "alg_mismatch"
