"""Keys, kids, PEM files, signed trust lists and the trust folder."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from healthcred import Alg, KeyGrant, TrustStore, generate_key, kid_of, load_trust, make_trust_list, verify
from healthcred.codec.cbor import dumps
from healthcred.crypto.cose import sign1
from healthcred.crypto.keys import (
    load_private_key,
    load_public_key,
    public_key_der,
    save_private_key,
    save_public_key,
)
from healthcred.errors import (
    AlgorithmMismatch,
    BadInput,
    BadKey,
    TrustListMalformed,
    TrustStoreError,
    UntrustedList,
)
from healthcred.regions import region_contains
from healthcred.trust.envelope import Anchor
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE, parse_trust_list
from tests.helpers import forge
from tests.helpers.world import CHECKED, T0, World, grants, signed_list, ts


@pytest.mark.parametrize("alg", list(Alg))
def test_kid_is_sha256_of_spki(alg: Alg) -> None:
    key = generate_key(alg)
    der = public_key_der(key.public_key())
    assert kid_of(key) == kid_of(key.public_key()) == hashlib.sha256(der).digest()[:8]


def test_private_key_file_is_owner_only_and_not_overwritten(tmp_path: Path) -> None:
    key = generate_key(Alg.ES256)
    path = tmp_path / "issuer.key.pem"
    old = os.umask(0)
    try:
        save_private_key(key, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kid_of(load_private_key(path)) == kid_of(key)
    with pytest.raises(BadInput):
        save_private_key(key, path)
    path.chmod(0o644)
    save_private_key(generate_key(Alg.ES256), path, overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    save_public_key(key.public_key(), tmp_path / "issuer.pub.pem")
    assert kid_of(load_public_key(tmp_path / "issuer.pub.pem")) == kid_of(key)
    assert kid_of(load_public_key(tmp_path / "issuer.key.pem")) != kid_of(key)  # overwritten above


def test_unsupported_keys_are_refused(tmp_path: Path) -> None:
    for other in (ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)):
        pem = other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (tmp_path / "k.pem").write_bytes(pem)
        with pytest.raises(BadKey):
            load_private_key(tmp_path / "k.pem")
        with pytest.raises(BadKey):
            load_public_key(tmp_path / "k.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    for loader in (load_private_key, load_public_key):
        with pytest.raises(BadKey):
            loader(tmp_path / "junk.pem")
        with pytest.raises(BadKey):
            loader(tmp_path / "missing.pem")


def test_region_containment() -> None:
    assert region_contains("000000", "650100")
    assert region_contains("330000", "330106") and not region_contains("330000", "310000")
    assert region_contains("330100", "330106") and not region_contains("330100", "330200")
    assert region_contains("330106", "330106") and not region_contains("330106", "330100")


def test_trust_list_round_trip(world: World) -> None:
    parsed = parse_trust_list(world.trust_list, [Anchor.from_key(world.root.public_key())])
    assert parsed.version == 1 and parsed.signer_kid == kid_of(world.root)
    assert {(e.region, e.alg) for e in parsed.entries} == {("330000", Alg.ES256), ("310000", Alg.EDDSA)}


def test_list_not_signed_by_an_anchor_is_refused(world: World) -> None:
    other_root = generate_key(Alg.EDDSA)
    with pytest.raises(UntrustedList):
        TrustStore([other_root.public_key()], [world.trust_list])
    # Same kid as the anchor but a different key cannot exist; a tampered list can.
    tampered = bytearray(world.trust_list)
    tampered[-80] ^= 0x01
    with pytest.raises((UntrustedList, TrustListMalformed)):
        TrustStore([world.root.public_key()], [bytes(tampered)])
    with pytest.raises(TrustStoreError):
        TrustStore([], [])


def test_signed_message_that_is_not_a_trust_list_is_refused(world: World) -> None:
    # A health code signed by the root is not a trust list (content type missing).
    credential, _ = world.code()
    from healthcred.native.claims import to_claims

    code_signed_by_root = forge.message(dumps(to_claims(credential)), world.root)
    with pytest.raises(TrustListMalformed):
        TrustStore([world.root.public_key()], [code_signed_by_root])


@pytest.mark.parametrize(
    "payload",
    [
        {1: 1, 2: 1, 3: 0, 4: 10},  # no entries
        {1: 2, 2: 1, 3: 0, 4: 10, 5: []},  # unknown format
        {1: 1, 2: -1, 3: 0, 4: 10, 5: []},  # negative version
        {1: 1, 2: 1, 3: 0, 4: 10, 5: [{1: b"12345678"}]},  # short entry
        {1: 1, 2: 1, 3: 0, 4: 10, 5: [], 6: 1},  # unknown key
        [1, 2, 3],
    ],
)
def test_malformed_trust_list_payloads(world: World, payload: object) -> None:
    data = sign1(dumps(payload), world.root, content_type=TRUST_LIST_CONTENT_TYPE)
    with pytest.raises(TrustListMalformed):
        TrustStore([world.root.public_key()], [data])


def test_entry_kid_must_match_its_key_and_alg(world: World) -> None:
    key = generate_key(Alg.ES256)
    entry = {
        1: kid_of(key),
        2: int(Alg.ES256),
        3: public_key_der(key.public_key()),
        4: "330000",
        5: ts(T0),
        6: ts(T0) + 100,
    }
    for bad in (
        {**entry, 1: b"\x00" * 8},
        {**entry, 2: int(Alg.EDDSA)},
        {**entry, 2: -35},
        {**entry, 4: "33"},
        {**entry, 6: ts(T0) - 1},
        {**entry, 3: b"\x30\x00"},
    ):
        data = sign1(
            dumps({1: 1, 2: 1, 3: 0, 4: 10, 5: [bad]}), world.root, content_type=TRUST_LIST_CONTENT_TYPE
        )
        with pytest.raises(TrustListMalformed):
            TrustStore([world.root.public_key()], [data])


def test_trust_list_header_alg_must_match_anchor(world: World) -> None:
    message = cbor2.loads(world.trust_list).value
    lying = dumps({1: int(Alg.ES256), 3: TRUST_LIST_CONTENT_TYPE, 4: kid_of(world.root)})
    forged = cbor2.dumps(cbor2.CBORTag(18, [lying, {}, message[2], message[3]]))
    with pytest.raises(AlgorithmMismatch):
        TrustStore([world.root.public_key()], [forged])


def test_with_list_leaves_the_old_store_unchanged(world: World) -> None:
    hainan = generate_key(Alg.EDDSA)
    store = world.store.with_list(signed_list(world.root, grants((hainan, "460000")), version=2))
    assert store.entries(kid_of(hainan)) and not world.store.entries(kid_of(hainan))
    with pytest.raises(UntrustedList):
        world.store.with_list(signed_list(generate_key(Alg.EDDSA), grants((hainan, "460000"))))


def test_load_trust_folder(tmp_path: Path, world: World) -> None:
    (tmp_path / "anchors").mkdir()
    (tmp_path / "lists").mkdir()
    save_public_key(world.root.public_key(), tmp_path / "anchors" / "root.pem")
    (tmp_path / "lists" / "national.cose").write_bytes(world.trust_list)
    _, text = world.code()
    assert verify(text, load_trust(tmp_path), at=CHECKED).region == "330100"
    (tmp_path / "lists" / "broken.cose").write_bytes(world.trust_list[:-5])
    with pytest.raises(TrustListMalformed, match=r"broken\.cose"):
        load_trust(tmp_path)


def test_load_trust_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError):
        load_trust(tmp_path / "missing")
    (tmp_path / "anchors").mkdir()
    with pytest.raises(TrustStoreError):
        load_trust(tmp_path)
    (tmp_path / "anchors" / "bad.pem").write_text("nope")
    with pytest.raises(TrustStoreError):
        load_trust(tmp_path)


def test_key_grant_validation() -> None:
    key = generate_key(Alg.EDDSA).public_key()
    with pytest.raises(TrustListMalformed):
        KeyGrant(key, "33000", 0, 10)
    with pytest.raises(TrustListMalformed):
        KeyGrant(key, "330000", 10, 10)


def test_a_prepared_signer_must_match_the_content_type(world: World) -> None:
    from healthcred.crypto.cose import Signer
    from healthcred.trust.revocation import make_revocation_list

    code_signer = Signer.for_key(world.root)  # prepared for codes: no content type
    with pytest.raises(BadKey):
        make_revocation_list(code_signer, version=1, issued_at=0, expires_at=10)
    list_signer = Signer.for_key(world.root, content_type=TRUST_LIST_CONTENT_TYPE)
    data = make_trust_list(list_signer, [], version=1, issued_at=0, expires_at=10)
    assert TrustStore([world.root.public_key()], [data]).lists[0].version == 1
