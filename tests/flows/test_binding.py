"""Relatives binding and family bundles: a guardian shows dependents' codes, at most 8."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from healthcred import Alg, DocumentType, HealthCredError, KeyGrant, Subject, TrustStore, generate_key
from healthcred.codec.cbor import dumps
from healthcred.crypto.cose import sign_content
from healthcred.flows.binding import (
    BINDING_CONTENT_TYPE,
    BINDING_GRANT_KIND,
    MAX_DEPENDENTS,
    Relation,
    make_binding,
    open_binding,
    subject_hash,
    verify_dependent,
)
from healthcred.flows.family import load_family_bundle, make_family_bundle, read_family_bundle, verify_family
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, T0, World, signed_list, ts

GUARDIAN = Subject.create("李四", "1980-05-01", DocumentType.RESIDENT_ID_CARD, "330106198005011234")


def _dependent(i: int) -> Subject:
    return Subject.create(
        f"李老{i}", "1950-01-0" + str(1 + i % 9), DocumentType.RESIDENT_ID_CARD, f"33010619500101{i:03d}1"
    )


def _family(world: World, count: int) -> tuple[str, list[tuple[str, bytes]]]:
    guardian_code = world.code(subject=GUARDIAN)[1]
    members = []
    for i in range(count):
        person = _dependent(i)
        binding = make_binding(
            GUARDIAN, person, Relation.PARENT, world.zhejiang, region="330100", slot=i + 1, issued_at=ISSUED
        )
        members.append((world.code(subject=person)[1], binding))
    return guardian_code, members


def _code(exc: pytest.ExceptionInfo[HealthCredError]) -> str:
    return exc.value.code


def test_guardian_shows_a_dependents_code(world: World) -> None:
    guardian_code, [(code, binding)] = _family(world, 1)
    result = verify_dependent(code, binding, world.store, guardian=guardian_code, at=CHECKED)
    assert result.relation is Relation.PARENT and result.guardian is not None
    summary = result.summary()
    assert summary["relation"] == "parent" and summary["guardian_checked"]
    assert summary["dependent"]["name"] == "李*0"  # masked, as every summary
    assert summary["guardian"]["document_number"] == "3301**********1234"
    # Without the guardian's code the binding still names the dependent.
    alone = verify_dependent(code, binding, world.store, at=CHECKED)
    assert alone.guardian is None and not alone.summary()["guardian_checked"]


def test_binding_holds_no_clear_personal_data(world: World) -> None:
    _, [(_, binding)] = _family(world, 1)
    for clear in ("李四".encode(), "李老0".encode(), b"1950-01-01", b"1980-05-01", b"3301**"):
        assert clear not in binding


def test_binding_cannot_be_transplanted(world: World) -> None:
    guardian_code, [(code, binding)] = _family(world, 1)
    stranger = world.code(
        subject=Subject.create("王五", "1950-01-01", DocumentType.RESIDENT_ID_CARD, "330106195001010011")
    )[1]
    with pytest.raises(HealthCredError) as exc:
        verify_dependent(stranger, binding, world.store, guardian=guardian_code, at=CHECKED)
    assert _code(exc) == "binding_mismatch"
    with pytest.raises(HealthCredError) as exc:
        verify_dependent(code, binding, world.store, guardian=stranger, at=CHECKED)
    assert _code(exc) == "binding_mismatch"
    # Same name and birth date, other document: still another person.
    twin = Subject.create("李老0", "1950-01-01", DocumentType.RESIDENT_ID_CARD, "330106195001019991")
    with pytest.raises(HealthCredError) as exc:
        verify_dependent(world.code(subject=twin)[1], binding, world.store, at=CHECKED)
    assert _code(exc) == "binding_mismatch"


def test_subject_hash_is_salted_per_binding() -> None:
    assert subject_hash(GUARDIAN, bytes(16)) != subject_hash(GUARDIAN, b"\x01" * 16)
    assert len(subject_hash(GUARDIAN, bytes(16))) == 16


def test_binding_window_and_signer(world: World) -> None:
    _, [(_, binding)] = _family(world, 1)
    with pytest.raises(HealthCredError) as exc:
        open_binding(binding, world.store, at=ISSUED + timedelta(days=366))
    assert _code(exc) == "trust_list_expired"  # the trust list expires before the binding
    with pytest.raises(HealthCredError) as exc:
        open_binding(binding, world.store, at=ISSUED + timedelta(days=366), grace=timedelta(days=3650))
    assert _code(exc) == "expired"
    with pytest.raises(HealthCredError) as exc:
        open_binding(binding, world.store, at=ISSUED - timedelta(hours=1))
    assert _code(exc) == "not_yet_valid"
    short = make_binding(
        GUARDIAN,
        _dependent(0),
        Relation.CHILD,
        world.zhejiang,
        region="330100",
        slot=1,
        issued_at=ISSUED,
        valid_for=timedelta(minutes=10),
    )
    with pytest.raises(HealthCredError) as exc:
        open_binding(short, world.store, at=CHECKED)
    assert _code(exc) == "expired"
    foreign = make_binding(
        GUARDIAN, _dependent(0), Relation.CHILD, world.zhejiang, region="310000", slot=1, issued_at=ISSUED
    )
    with pytest.raises(HealthCredError) as exc:
        open_binding(foreign, world.store, at=CHECKED)
    assert _code(exc) == "region_not_allowed"
    unknown = make_binding(
        GUARDIAN,
        _dependent(0),
        Relation.CHILD,
        generate_key(Alg.EDDSA),
        region="330100",
        slot=1,
        issued_at=ISSUED,
    )
    with pytest.raises(HealthCredError) as exc:
        open_binding(unknown, world.store, at=CHECKED)
    assert _code(exc) == "unknown_kid"
    tampered = bytearray(binding)
    tampered[-1] ^= 1
    with pytest.raises(HealthCredError) as exc:
        open_binding(bytes(tampered), world.store, at=CHECKED)
    assert _code(exc) == "bad_signature"


def test_restricted_keys_need_the_binding_grant_kind(world: World) -> None:
    def store(kinds: frozenset[int]) -> TrustStore:
        entry = KeyGrant(world.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER), kinds=kinds)
        return TrustStore([world.root.public_key()], [signed_list(world.root, [entry])])

    _, [(_, binding)] = _family(world, 1)
    with pytest.raises(HealthCredError) as exc:
        open_binding(binding, store(frozenset({1})), at=CHECKED)
    assert _code(exc) == "kind_not_allowed"
    assert open_binding(binding, store(frozenset({1, BINDING_GRANT_KIND})), at=CHECKED).slot == 1


def test_slot_and_shape_are_checked(world: World) -> None:
    with pytest.raises(HealthCredError) as exc:
        make_binding(
            GUARDIAN, _dependent(0), Relation.PARENT, world.zhejiang, region="330100", slot=MAX_DEPENDENTS + 1
        )
    assert _code(exc) == "too_many_dependents"
    with pytest.raises(HealthCredError) as exc:
        make_binding(GUARDIAN, GUARDIAN, Relation.PARENT, world.zhejiang, region="330100", slot=1)
    assert _code(exc) == "bad_input"
    good = open_binding(_family(world, 1)[1][0][1], world.store, at=CHECKED)
    body = {
        1: 1,
        2: good.id,
        3: "330100",
        4: ts(ISSUED),
        5: ts(ISSUED) + 86400,
        6: good.guardian,
        7: good.dependent,
        8: 1,
        9: 9,
    }
    with pytest.raises(HealthCredError) as exc:
        open_binding(sign_content(body, world.zhejiang, BINDING_CONTENT_TYPE), world.store, at=CHECKED)
    assert _code(exc) == "too_many_dependents"
    for bad in (
        {**body, 9: 1, 8: 77},
        {**body, 9: 1, 1: 2},
        {1: 1},
        {**body, 9: 1, 5: ts(ISSUED) + 400 * 86400},
    ):
        with pytest.raises(HealthCredError) as exc:
            open_binding(sign_content(bad, world.zhejiang, BINDING_CONTENT_TYPE), world.store, at=CHECKED)
        assert _code(exc) == "bad_binding", bad
    for garbage in (b"", b"\xd2\x80", sign_content(body, world.zhejiang, "application/other"), b"x" * 2000):
        with pytest.raises(HealthCredError) as exc:
            open_binding(garbage, world.store, at=CHECKED)
        assert _code(exc) == "bad_binding"


def test_family_bundle_round_trip(world: World, tmp_path: Path) -> None:
    guardian_code, members = _family(world, MAX_DEPENDENTS)
    data = make_family_bundle(guardian_code, members)
    (tmp_path / "family.cbor").write_bytes(data)
    loaded = load_family_bundle(tmp_path / "family.cbor")
    assert loaded.guardian == guardian_code and list(loaded.members) == members
    result = verify_family(data, world.store, at=CHECKED)
    assert len(result.dependents) == MAX_DEPENDENTS
    assert [d.binding.slot for d in result.dependents] == list(range(1, 9))
    assert result.summary()["guardian"]["name"] == "李*"
    print(f"family bundle of 8 dependents: {len(data)} bytes")


def test_family_bundle_limit_is_enforced_on_build_and_read(world: World) -> None:
    guardian_code, members = _family(world, MAX_DEPENDENTS)
    extra = [*members, members[0]]
    with pytest.raises(HealthCredError) as exc:
        make_family_bundle(guardian_code, extra)
    assert _code(exc) == "too_many_dependents"
    forged = dumps({1: "healthcred-family", 2: 1, 3: guardian_code, 4: [list(m) for m in extra]})
    for call in (lambda: read_family_bundle(forged), lambda: verify_family(forged, world.store, at=CHECKED)):
        with pytest.raises(HealthCredError) as exc:
            call()
        assert _code(exc) == "too_many_dependents"


def test_family_bundle_refuses_foreign_guardians_and_repeats(world: World) -> None:
    _, members = _family(world, 2)
    other_guardian = world.code(
        subject=Subject.create("赵六", "1970-01-01", DocumentType.PASSPORT, "E12345678")
    )[1]
    with pytest.raises(HealthCredError) as exc:
        verify_family(make_family_bundle(other_guardian, members), world.store, at=CHECKED)
    assert _code(exc) == "binding_mismatch"
    guardian_code = world.code(subject=GUARDIAN)[1]
    with pytest.raises(HealthCredError) as exc:
        verify_family(make_family_bundle(guardian_code, [members[0], members[0]]), world.store, at=CHECKED)
    assert _code(exc) == "bad_binding"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff",
        dumps({1: "other", 2: 1, 3: "JKM1:", 4: []}),
        dumps({1: "healthcred-family", 2: 2, 3: "JKM1:", 4: []}),
        dumps({1: "healthcred-family", 2: 1, 3: b"JKM1:", 4: []}),
        dumps({1: "healthcred-family", 2: 1, 3: "JKM1:", 4: [["JKM1:", "not bytes"]]}),
        dumps({1: "healthcred-family", 2: 1, 3: "JKM1:", 4: [], 5: 0}),
        b"\x00" * (64 * 1024 + 1),
    ],
)
def test_malformed_family_files_are_typed(data: bytes) -> None:
    with pytest.raises(HealthCredError) as exc:
        read_family_bundle(data)
    assert _code(exc) == "bad_binding"


def test_bad_arguments_are_typed(world: World, tmp_path: Path) -> None:
    for call in (
        lambda: make_family_bundle(b"JKM1:", []),  # type: ignore[arg-type]
        lambda: make_family_bundle("JKM1:", [("JKM1:", "x")]),  # type: ignore[list-item]
        lambda: open_binding("text", world.store),  # type: ignore[arg-type]
        lambda: open_binding(_family(world, 1)[1][0][1], "trust"),  # type: ignore[arg-type]
        lambda: open_binding(_family(world, 1)[1][0][1], world.store, skew=300),  # type: ignore[arg-type]
        lambda: open_binding(_family(world, 1)[1][0][1], world.store, grace=timedelta(days=-1)),
        lambda: make_binding(
            GUARDIAN,
            _dependent(0),
            Relation.PARENT,
            world.zhejiang,
            region="330100",
            slot=1,
            valid_for=timedelta(days=367),
        ),
        lambda: load_family_bundle(tmp_path / "missing"),
        lambda: make_binding(GUARDIAN, _dependent(0), 1, world.zhejiang, region="330100", slot=1),  # type: ignore[arg-type]
    ):
        with pytest.raises(HealthCredError) as exc:
            call()
        assert _code(exc) == "bad_input"


def test_guardian_and_dependent_may_live_in_other_regions(world: World) -> None:
    # The binding is signed for the region that registered it; the codes keep their own regions.
    dependent = _dependent(3)
    code = world.code(world.shanghai, subject=dependent, region="310115")[1]
    binding = make_binding(
        GUARDIAN, dependent, Relation.GRANDPARENT, world.zhejiang, region="330100", slot=4, issued_at=ISSUED
    )
    assert verify_dependent(code, binding, world.store, at=CHECKED).relation is Relation.GRANDPARENT


def test_family_names_keep_their_old_home_for_one_release() -> None:
    import healthcred.flows.binding as binding
    import healthcred.flows.family as family

    with pytest.warns(DeprecationWarning, match="moved to healthcred.flows.family.make_family_bundle"):
        assert binding.make_family_bundle is family.make_family_bundle
    with pytest.raises(AttributeError):
        _ = binding.no_such_name
