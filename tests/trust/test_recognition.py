"""Issue 3: the key hierarchy, the three recognition modes, the trust-list lifecycle, revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from healthcred import (
    GREEN,
    NATIONAL_REGION,
    RED,
    YELLOW,
    Alg,
    CredentialKind,
    DocumentType,
    HealthCode,
    KeyGrant,
    Status,
    Subject,
    TrustStore,
    derive_national,
    generate_key,
    issue,
    make_revocation_list,
    make_trust_list,
    verify,
)
from healthcred.crypto.algorithms import PrivateKey
from healthcred.errors import (
    BadInput,
    CodeExpired,
    DelegationNotAllowed,
    KeyCompromised,
    KeyNotValid,
    KindNotAllowed,
    RegionNotAllowed,
    Revoked,
    StatusNotAllowed,
    TrustConflict,
    TrustListExpired,
    TrustListMalformed,
    TrustListRollback,
    UntrustedList,
)
from healthcred.trust.folder import load_trust
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, LIST_EXPIRES, T0, ts

SUBJECT = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
NOT_BEFORE, NOT_AFTER = ts(T0), ts(KEY_NOT_AFTER)


def grant(key: PrivateKey, region: str, **extra: Any) -> KeyGrant:
    return KeyGrant(key.public_key(), region, NOT_BEFORE, NOT_AFTER, **extra)


def signed(
    signer: PrivateKey, grants: list[KeyGrant], version: int = 1, list_id: str = "national", **t: int
) -> bytes:
    return make_trust_list(
        signer,
        grants,
        version=version,
        list_id=list_id,
        issued_at=t.get("issued_at", ts(T0)),
        expires_at=t.get("expires_at", ts(LIST_EXPIRES)),
    )


def code(key: PrivateKey, region: str, status: Status = GREEN, **extra: Any) -> tuple[HealthCode, str]:
    fields: dict[str, Any] = {"subject": SUBJECT, "status": status, "region": region, "issued_at": ISSUED}
    fields.update(extra)
    credential = HealthCode.create(**fields)
    return credential, issue(credential, key)


@dataclass
class Nation:
    root: PrivateKey
    national: PrivateKey  # the national platform's issuer key (kind NATIONAL only)
    zhejiang: PrivateKey  # province: issues and delegates
    shanghai: PrivateKey
    hangzhou: PrivateKey  # city key delegated by Zhejiang
    national_list: bytes
    zhejiang_list: bytes  # delegated by Zhejiang to Hangzhou

    def store(self, *extra: bytes, revocations: tuple[bytes, ...] = ()) -> TrustStore:
        return TrustStore(
            [self.root.public_key()], [self.national_list, self.zhejiang_list, *extra], revocations
        )


@pytest.fixture(scope="module")
def nation() -> Nation:
    root, national = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    zhejiang, shanghai, hangzhou = generate_key(Alg.ES256), generate_key(Alg.EDDSA), generate_key(Alg.ES256)
    national_list = signed(
        root,
        [
            grant(national, NATIONAL_REGION, kinds=frozenset({CredentialKind.NATIONAL})),
            grant(zhejiang, "330000", kinds=frozenset({CredentialKind.HEALTH_STATUS}), may_delegate=True),
            grant(shanghai, "310000", kinds=frozenset({CredentialKind.HEALTH_STATUS})),
        ],
    )
    zhejiang_list = signed(
        zhejiang, [grant(hangzhou, "330100", kinds=frozenset({1}))], list_id="zhejiang-cities"
    )
    return Nation(root, national, zhejiang, shanghai, hangzhou, national_list, zhejiang_list)


# --- key hierarchy ---------------------------------------------------------------------------


def test_province_and_delegated_city_keys(nation: Nation) -> None:
    store = nation.store()
    assert verify(code(nation.zhejiang, "330200")[1], store, at=CHECKED).key_region == "330000"
    city = verify(code(nation.hangzhou, "330106")[1], store, at=CHECKED)
    assert city.key_region == "330100"
    assert store.entries(city.kid)[0].delegated_by is not None
    for key, region in (
        (nation.zhejiang, "310000"),
        (nation.hangzhou, "330200"),
        (nation.shanghai, "330100"),
    ):
        with pytest.raises(RegionNotAllowed):
            verify(code(key, region)[1], store, at=CHECKED)


def test_delegation_cannot_exceed_the_delegator(nation: Nation) -> None:
    outside = signed(nation.zhejiang, [grant(nation.hangzhou, "310100")], list_id="bad")
    too_long = signed(
        nation.zhejiang,
        [KeyGrant(nation.hangzhou.public_key(), "330100", NOT_BEFORE, NOT_AFTER + 1)],
        list_id="bad",
    )
    wider_kinds = signed(nation.zhejiang, [grant(nation.hangzhou, "330100")], list_id="bad")  # any kind
    again = signed(
        nation.zhejiang,
        [grant(nation.hangzhou, "330100", kinds=frozenset({1}), may_delegate=True)],
        list_id="bad",
    )
    for bad in (outside, too_long, wider_kinds, again):
        with pytest.raises(DelegationNotAllowed):
            nation.store(bad)
    # Shanghai was not granted the delegate role; the Hangzhou key is not on the national list.
    for signer in (nation.shanghai, nation.hangzhou):
        with pytest.raises(UntrustedList):
            nation.store(signed(signer, [grant(generate_key(Alg.EDDSA), "310100")], list_id="x"))


def test_kinds_and_statuses_per_key(nation: Nation) -> None:
    root, green_only = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    store = TrustStore(
        [root.public_key()],
        [signed(root, [grant(green_only, "460000", statuses=frozenset({1}), kinds=frozenset({1}))])],
    )
    assert verify(code(green_only, "460100")[1], store, at=CHECKED).status == GREEN
    with pytest.raises(StatusNotAllowed):
        verify(code(green_only, "460100", RED)[1], store, at=CHECKED)
    national_kind = HealthCode.create(
        subject=SUBJECT,
        status=GREEN,
        region="460100",
        issued_at=ISSUED,
        kind=CredentialKind.NATIONAL,
        source_region="460100",
        source_id=bytes(16),
    )
    with pytest.raises(KindNotAllowed):  # a regional key cannot mint national codes
        verify(issue(national_kind, green_only), store, at=CHECKED)
    # The national key may only issue national codes.
    with pytest.raises(KindNotAllowed):
        verify(code(nation.national, "110000")[1], nation.store(), at=CHECKED)


# --- the three recognition modes -------------------------------------------------------------


def test_bilateral_sharing_merges_lists_of_several_anchors() -> None:
    zj_root, sh_root = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    zj, sh = generate_key(Alg.ES256), generate_key(Alg.EDDSA)
    zj_list = signed(zj_root, [grant(zj, "330000")], list_id="zhejiang")
    sh_list = signed(sh_root, [grant(sh, "310000")], list_id="shanghai")
    # A Shanghai metro gate trusts its own root and Zhejiang's, and both lists.
    gate = TrustStore([sh_root.public_key(), zj_root.public_key()], [sh_list, zj_list])
    assert verify(code(zj, "330100")[1], gate, at=CHECKED).region == "330100"
    assert verify(code(sh, "310104")[1], gate, at=CHECKED).region == "310104"
    # Zhejiang's list naming Shanghai's key for a Zhejiang region is a conflict, never resolved silently.
    grabby = signed(zj_root, [grant(zj, "330000"), grant(sh, "330000")], version=2, list_id="zhejiang")
    conflicted = TrustStore([sh_root.public_key(), zj_root.public_key()], [sh_list, grabby])
    assert conflicted.conflicts
    with pytest.raises(TrustConflict):
        verify(code(sh, "310104")[1], conflicted, at=CHECKED)
    assert verify(code(zj, "330100")[1], conflicted, at=CHECKED).region == "330100"


def test_national_intermediary_converts_a_regional_code(nation: Nation) -> None:
    store = nation.store()
    source, regional = code(nation.hangzhou, "330106", YELLOW, valid_for=timedelta(days=7))
    text = derive_national(regional, store, nation.national, at=CHECKED, valid_for=timedelta(days=1))
    result = verify(text, store, at=CHECKED)
    national = result.credential
    assert national.kind is CredentialKind.NATIONAL and national.region == NATIONAL_REGION
    assert (national.subject, national.status) == (source.subject, source.status)
    assert (national.source_region, national.source_id) == ("330106", source.id)
    assert national.expires_at == CHECKED + timedelta(days=1)
    # Never valid longer than the source.
    short_source, short = code(nation.zhejiang, "330200", valid_for=timedelta(hours=2))
    derived = verify(derive_national(short, store, nation.national, at=CHECKED), store, at=CHECKED)
    assert derived.credential.expires_at == short_source.expires_at
    # Only a valid regional health code is converted.
    with pytest.raises(BadInput):
        derive_national(text, store, nation.national, at=CHECKED)
    with pytest.raises(CodeExpired):
        derive_national(short, store, nation.national, at=CHECKED + timedelta(hours=3))


def test_direct_national_code_in_a_region_without_an_issuer(nation: Nation) -> None:
    # Tibet (540000) runs no issuer: its verifiers trust the national anchor only and accept national codes
    # under their local policy (here: green national codes only).
    tibet = TrustStore([nation.root.public_key()], [nation.national_list])
    store = nation.store()

    def local_policy_admits(text: str) -> bool:
        result = verify(text, tibet, at=CHECKED)
        return result.credential.kind is CredentialKind.NATIONAL and result.status == GREEN

    green = derive_national(code(nation.zhejiang, "330100")[1], store, nation.national, at=CHECKED)
    red = derive_national(code(nation.shanghai, "310000", RED)[1], store, nation.national, at=CHECKED)
    assert local_policy_admits(green) and not local_policy_admits(red)
    assert (
        verify(code(nation.shanghai, "310000")[1], tibet, at=CHECKED).credential.kind
        is CredentialKind.HEALTH_STATUS
    )


# --- lifecycle -------------------------------------------------------------------------------


def test_key_rotation_old_codes_keep_verifying(nation: Nation) -> None:
    root, old, new = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    rotation = ts(ISSUED) + 3600
    v1 = signed(root, [grant(old, "320000")], version=1)
    v2 = signed(
        root, [KeyGrant(old.public_key(), "320000", NOT_BEFORE, rotation), grant(new, "320000")], version=2
    )
    store = TrustStore([root.public_key()], [v1, v2])  # v2 supersedes v1
    assert [t.version for t in store.lists] == [2]
    _, before = code(old, "320100", valid_for=timedelta(days=7))
    credential = verify(before, store, at=CHECKED + timedelta(days=5)).credential
    assert isinstance(credential, HealthCode) and credential.region == "320100"
    with pytest.raises(KeyNotValid):
        verify(
            code(old, "320100", issued_at=ISSUED + timedelta(hours=2))[1],
            store,
            at=CHECKED + timedelta(hours=2),
        )
    assert (
        verify(
            code(new, "320100", issued_at=ISSUED + timedelta(hours=2))[1],
            store,
            at=CHECKED + timedelta(hours=2),
        ).status
        == GREEN
    )


def test_compromised_key(nation: Nation) -> None:
    root, leaked = generate_key(Alg.EDDSA), generate_key(Alg.ES256)
    compromise = ts(ISSUED) + 600
    store = TrustStore(
        [root.public_key()], [signed(root, [grant(leaked, "440000", compromised_at=compromise)])]
    )
    assert verify(code(leaked, "440300")[1], store, at=CHECKED).region == "440300"  # issued before
    with pytest.raises(KeyCompromised):
        verify(code(leaked, "440300", issued_at=ISSUED + timedelta(minutes=10))[1], store, at=CHECKED)


def test_compromised_delegator_taints_its_delegates(nation: Nation) -> None:
    compromise = ts(ISSUED) + 600
    national_list = signed(
        nation.root,
        [
            grant(
                nation.zhejiang, "330000", kinds=frozenset({1}), may_delegate=True, compromised_at=compromise
            )
        ],
        version=2,
    )
    store = TrustStore([nation.root.public_key()], [national_list, nation.zhejiang_list])
    with pytest.raises(KeyCompromised):
        verify(
            code(nation.hangzhou, "330100", issued_at=ISSUED + timedelta(hours=1))[1],
            store,
            at=CHECKED + timedelta(hours=1),
        )


def test_rollback_is_refused_once_a_newer_version_was_seen(nation: Nation) -> None:
    v2 = signed(nation.root, [grant(nation.shanghai, "310000")], version=2)
    store = TrustStore([nation.root.public_key()], [nation.national_list, v2])
    seen = store.versions
    assert max(seen.values()) == 2
    with pytest.raises(TrustListRollback):
        TrustStore([nation.root.public_key()], [nation.national_list], seen=seen)
    assert TrustStore([nation.root.public_key()], [v2], seen=seen).versions == seen
    with pytest.raises(TrustConflict):  # two different lists claiming one version
        TrustStore(
            [nation.root.public_key()],
            [v2, signed(nation.root, [grant(nation.zhejiang, "330000")], version=2)],
        )


def test_list_expiry_and_grace_period(nation: Nation) -> None:
    store = nation.store()
    _, text = code(nation.shanghai, "310000", issued_at=LIST_EXPIRES - timedelta(hours=1))
    late = LIST_EXPIRES + timedelta(hours=2)
    with pytest.raises(TrustListExpired):
        verify(text, store, at=late)
    with pytest.raises(TrustListExpired):
        verify(text, store, at=late, grace=timedelta(hours=1))
    result = verify(text, store, at=LIST_EXPIRES - timedelta(minutes=30), grace=timedelta(hours=3))
    assert result.warnings == ()
    _, text = code(
        nation.shanghai, "310000", issued_at=LIST_EXPIRES - timedelta(hours=1), valid_for=timedelta(days=1)
    )
    result = verify(text, store, at=late, grace=timedelta(hours=3))
    assert result.warnings and "grace" in result.warnings[0]


# --- revocation ------------------------------------------------------------------------------


def test_revocation_full_delta_and_scope(nation: Nation) -> None:
    revoked, text = code(nation.shanghai, "310000")
    kept, kept_text = code(nation.shanghai, "310000")
    zj_credential, zj_text = code(nation.zhejiang, "330100")
    t0, t1 = ts(T0), ts(LIST_EXPIRES)
    full = make_revocation_list(
        nation.shanghai, version=1, issued_at=t0, expires_at=t1, added=[revoked.id, zj_credential.id]
    )
    store = nation.store(revocations=(full,))
    with pytest.raises(Revoked):
        verify(text, store, at=CHECKED)
    assert verify(kept_text, store, at=CHECKED).status == GREEN
    # Shanghai's key revokes only within Shanghai: the Zhejiang code it names stays valid.
    assert verify(zj_text, store, at=CHECKED).region == "330100"
    delta = make_revocation_list(
        nation.shanghai, version=2, base=1, issued_at=t0, expires_at=t1, added=[kept.id], removed=[revoked.id]
    )
    store = nation.store(revocations=(full, delta))
    assert verify(text, store, at=CHECKED).status == GREEN
    with pytest.raises(Revoked):
        verify(kept_text, store, at=CHECKED)
    # The national root revokes anywhere.
    national = make_revocation_list(
        nation.root, version=1, issued_at=t0, expires_at=t1, added=[zj_credential.id]
    )
    with pytest.raises(Revoked):
        verify(zj_text, nation.store(revocations=(national,)), at=CHECKED)


def test_revocation_lists_are_checked_like_trust_lists(nation: Nation) -> None:
    t0, t1 = ts(T0), ts(LIST_EXPIRES)
    full = make_revocation_list(nation.shanghai, version=1, issued_at=t0, expires_at=t1, added=[b"\x01" * 16])
    gap = make_revocation_list(
        nation.shanghai, version=3, base=2, issued_at=t0, expires_at=t1, added=[b"\x02" * 16]
    )
    with pytest.raises(TrustListMalformed):
        nation.store(revocations=(full, gap))
    with pytest.raises(TrustListMalformed):
        nation.store(revocations=(gap,))
    with pytest.raises(UntrustedList):  # a stranger's revocation list
        nation.store(
            revocations=(
                make_revocation_list(
                    generate_key(Alg.EDDSA), version=1, issued_at=t0, expires_at=t1, added=[b"\x01" * 16]
                ),
            )
        )
    seen = nation.store(
        revocations=(
            full,
            make_revocation_list(nation.shanghai, version=2, base=1, issued_at=t0, expires_at=t1),
        )
    ).versions
    with pytest.raises(TrustListRollback):
        TrustStore([nation.root.public_key()], [nation.national_list], [full], seen=seen)
    tampered = bytearray(full)
    tampered[-70] ^= 1
    with pytest.raises((UntrustedList, TrustListMalformed)):
        nation.store(revocations=(bytes(tampered),))


def test_trust_folder_with_revocations(nation: Nation, tmp_path: object) -> None:
    from pathlib import Path

    from healthcred.crypto.keys import save_public_key

    folder = Path(str(tmp_path))
    for sub in ("anchors", "lists", "revocations"):
        (folder / sub).mkdir()
    save_public_key(nation.root.public_key(), folder / "anchors" / "root.pem")
    (folder / "lists" / "1-national.cose").write_bytes(nation.national_list)
    (folder / "lists" / "2-zhejiang.cose").write_bytes(nation.zhejiang_list)
    revoked, text = code(nation.hangzhou, "330100")
    (folder / "revocations" / "zj.cose").write_bytes(
        make_revocation_list(
            nation.zhejiang, version=1, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES), added=[revoked.id]
        )
    )
    with pytest.raises(Revoked):
        verify(text, load_trust(folder), at=CHECKED)


def test_state_file_refuses_rollback_across_restarts(nation: Nation, tmp_path: object) -> None:
    from pathlib import Path

    from healthcred.errors import TrustStoreError
    from healthcred.trust.state import load_state, save_state

    state = Path(str(tmp_path)) / "state" / "state.json"
    assert load_state(state) == {}
    v2 = signed(nation.root, [grant(nation.shanghai, "310000")], version=2)
    save_state(state, TrustStore([nation.root.public_key()], [v2]).versions)
    save_state(
        state, TrustStore([nation.root.public_key()], [nation.national_list]).versions
    )  # never goes back
    assert max(load_state(state).values()) == 2
    with pytest.raises(TrustListRollback):  # a verifier restarted with the old list
        TrustStore([nation.root.public_key()], [nation.national_list], seen=load_state(state))
    state.write_text('{"versions": {"x": -1}}')
    with pytest.raises(TrustStoreError):
        load_state(state)
    state.write_text("not json")
    with pytest.raises(TrustStoreError):
        load_state(state)


def test_two_keys_sharing_a_kid_are_both_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real kids are SHA-256 prefixes, so a shared kid means a 64-bit collision or a hostile list;
    # force one: each key is tried, and the signature decides which grant applies.
    import healthcred.crypto.cose as cose
    import healthcred.trust.envelope as envelope
    import healthcred.trust.lists as lists

    for module in (lists, envelope, cose):  # list entries, anchors, message headers
        monkeypatch.setattr(module, "kid_of", lambda key: b"\x07" * 8)
    root, first, second = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    store = TrustStore([root.public_key()], [signed(root, [grant(first, "330000"), grant(second, "310000")])])
    assert len(store.entries(b"\x07" * 8)) == 2 and not store.conflicts
    assert verify(code(second, "310000")[1], store, at=CHECKED).key_region == "310000"
    assert verify(code(first, "330100")[1], store, at=CHECKED).key_region == "330000"
    with pytest.raises(RegionNotAllowed):
        verify(code(second, "330100")[1], store, at=CHECKED)  # the second key's grant is Shanghai only


def test_corrupt_bundle_changes_nothing(nation: Nation, tmp_path: object) -> None:
    from pathlib import Path

    from healthcred.crypto.keys import save_public_key
    from healthcred.trust.bundle import install_bundle, make_bundle, open_bundle
    from healthcred.trust.envelope import Anchor

    folder = Path(str(tmp_path))
    (folder / "anchors").mkdir()
    save_public_key(nation.root.public_key(), folder / "anchors" / "root.pem")
    anchors = [Anchor.from_key(nation.root.public_key())]
    good = make_bundle(nation.root, version=1, issued_at=ts(T0), trust_lists=[nation.national_list])
    install_bundle(folder, good, anchors)
    state = (folder / "state.json").read_text()
    for bad in (good[:-10], good[:40], b"", good[:-1] + bytes([good[-1] ^ 1])):
        with pytest.raises((TrustListMalformed, UntrustedList)):
            install_bundle(folder, bad, anchors)
        assert (folder / "bundle.cose").read_bytes() == good
        assert (folder / "state.json").read_text() == state
    stranger = make_bundle(generate_key(Alg.EDDSA), version=2, issued_at=ts(T0), trust_lists=[])
    with pytest.raises(UntrustedList):
        open_bundle(stranger, anchors)
    assert verify(code(nation.shanghai, "310000")[1], load_trust(folder), at=CHECKED).status == GREEN
