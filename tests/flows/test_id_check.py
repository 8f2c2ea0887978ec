"""Paper codes and ID-document checks: the keyed ID tag, normalisation, lifetimes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from healthcred import (
    GREEN,
    CredentialKind,
    DocumentType,
    HealthCode,
    HealthCredError,
    Subject,
    issue,
    verify,
)
from healthcred.codec.cbor import dumps
from healthcred.flows.gate import with_id_check
from healthcred.flows.idcheck import (
    IdCheckKey,
    check_holder,
    check_id,
    generate_id_key,
    id_tag,
    load_id_key,
    normalise_id_number,
    save_id_key,
)
from healthcred.flows.issue import issue_paper
from healthcred.model import PAPER_MAX_LIFETIME
from healthcred.native.claims import to_claims
from healthcred.rules.policy import Decision
from tests.helpers import forge
from tests.helpers.world import CHECKED, ISSUED, World

NUMBER = "330106198503121231"  # a valid GB 11643 check digit (1)
X_NUMBER = "11010519491231002X"  # the standard's own example, check character X
SUBJECT = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, NUMBER)
KEY = IdCheckKey.from_secret(bytes(range(32)))


def _paper(world: World, **changes: Any) -> tuple[HealthCode, str]:
    fields: dict[str, Any] = {
        "subject": SUBJECT,
        "status": GREEN,
        "region": "330100",
        "issued_at": ISSUED,
        "kind": CredentialKind.PAPER,
    }
    fields.update(changes)
    credential = HealthCode.create(**fields)
    return credential, issue_paper(credential, world.zhejiang, id_number=NUMBER, id_key=KEY)


def _code(exc: pytest.ExceptionInfo[HealthCredError]) -> str:
    return exc.value.code


def test_paper_code_round_trip_and_id_check(world: World) -> None:
    credential, text = _paper(world)
    assert credential.expires_at - credential.issued_at == timedelta(days=14)  # the default lifetime
    result = verify(text, world.store, at=CHECKED)
    assert result.kind == "paper"
    assert result.id_check_required
    summary = result.summary()
    assert summary["id_check_required"] is True and summary["id_tag"] is True
    assert summary["name"] == "张*丰" and summary["document_number"] == "3301**********1231"
    assert NUMBER not in text and NUMBER not in str(summary)
    assert check_id(result, NUMBER, KEY)
    assert result.health_code is not None
    assert check_id(
        result.health_code, " 3301 0619 8503 1212 31 ", [generate_id_key(), KEY]
    )  # spaces dropped
    other = "330106198503121258"  # valid check digit, another person
    assert normalise_id_number(other) == other
    assert not check_id(result, other, KEY)


def test_health_codes_stay_valid_without_a_tag(world: World) -> None:
    result = verify(world.code()[1], world.store, at=CHECKED)
    assert not result.id_check_required and result.summary()["id_tag"] is False
    with pytest.raises(HealthCredError) as exc:
        check_id(result, NUMBER, KEY)
    assert _code(exc) == "id_check_unavailable"


def test_a_health_code_may_carry_a_tag(world: World) -> None:
    credential = HealthCode.create(subject=SUBJECT, status=GREEN, region="330100", issued_at=ISSUED)
    tagged = credential.model_copy(
        update={"id_tag": id_tag(KEY, credential.id, DocumentType.RESIDENT_ID_CARD, NUMBER)}
    )
    result = verify(issue(tagged, world.zhejiang), world.store, at=CHECKED)
    assert not result.id_check_required and check_id(result, NUMBER, KEY)


def test_tags_are_unlinkable_across_codes() -> None:
    one = id_tag(KEY, bytes(16), DocumentType.RESIDENT_ID_CARD, NUMBER)
    two = id_tag(KEY, bytes(15) + b"\x01", DocumentType.RESIDENT_ID_CARD, NUMBER)
    passport = id_tag(KEY, bytes(16), DocumentType.PASSPORT, NUMBER)
    assert len({one.tag, two.tag, passport.tag}) == 3 and one.key_id == KEY.key_id


def test_unknown_key_id_is_typed(world: World) -> None:
    _, text = _paper(world)
    with pytest.raises(HealthCredError) as exc:
        check_id(verify(text, world.store, at=CHECKED), NUMBER, generate_id_key())
    assert _code(exc) == "id_check_unavailable"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010519491231002x", X_NUMBER),  # lower-case x is upper-cased
        ("110105-19491231-002X", X_NUMBER),
        (X_NUMBER, X_NUMBER),
    ],
)
def test_normalisation(number: str, expected: str) -> None:
    assert normalise_id_number(number) == expected


@pytest.mark.parametrize(
    "number",
    [
        "330106198503121234",  # wrong check digit (GB 11643 gives 1)
        "11010519491231002",  # 17 characters
        "330106198502301231",  # no 30 February
        "33010619850312123Y",
        "33010619850312１231",  # a full-width digit is not ASCII
        "",
        "3" * 30,
    ],
)
def test_bad_resident_id_numbers_are_typed(number: str) -> None:
    with pytest.raises(HealthCredError) as exc:
        normalise_id_number(number)
    assert _code(exc) == "bad_id_number"


def test_check_digit_error_names_the_expected_digit() -> None:
    with pytest.raises(HealthCredError, match="GB 11643 gives 1"):
        normalise_id_number("330106198503121234")


def test_other_documents_need_only_letters_and_digits() -> None:
    assert normalise_id_number("e1234567 8", DocumentType.PASSPORT) == "E12345678"
    with pytest.raises(HealthCredError) as exc:
        normalise_id_number("E12/345", DocumentType.PASSPORT)
    assert _code(exc) == "bad_id_number"


def test_check_id_refuses_bad_arguments(world: World) -> None:
    result = verify(_paper(world)[1], world.store, at=CHECKED)
    calls: list[Callable[[], object]] = [
        lambda: check_id("JKM1:…", NUMBER, KEY),  # type: ignore[arg-type]
        lambda: check_id(result, 330106198503121231, KEY),  # type: ignore[arg-type]
        lambda: check_id(result, NUMBER, [b"secret"]),  # type: ignore[list-item]
    ]
    for call in calls:
        with pytest.raises(HealthCredError) as exc:
            call()
        assert _code(exc) == "bad_input"


def test_paper_lifetime_is_capped_at_180_days(world: World) -> None:
    _, text = _paper(world, valid_for=PAPER_MAX_LIFETIME)
    assert verify(text, world.store, at=CHECKED).id_check_required
    with pytest.raises(ValueError, match="at most 180 days"):
        _paper(world, valid_for=PAPER_MAX_LIFETIME + timedelta(seconds=1))
    credential = HealthCode.create(subject=SUBJECT, status=GREEN, region="330100", issued_at=ISSUED)
    with pytest.raises(HealthCredError) as exc:
        issue_paper(credential, world.zhejiang, id_number=NUMBER, id_key=KEY, valid_for=timedelta(days=181))
    assert _code(exc) == "bad_input"
    # A health-status credential becomes a paper code with the lifetime given.
    text = issue_paper(credential, world.zhejiang, id_number=NUMBER, id_key=KEY, valid_for=timedelta(days=30))
    result = verify(text, world.store, at=CHECKED)
    assert result.kind == "paper" and result.expires_at == ISSUED + timedelta(days=30)


def test_verifier_refuses_an_over_long_paper_code(world: World) -> None:
    credential = verify(_paper(world)[1], world.store, at=CHECKED).credential
    assert isinstance(credential, HealthCode)
    claims = to_claims(credential)
    claims[4] = claims[6] + 181 * 86400  # exp: forged by a key holder past the cap
    with pytest.raises(HealthCredError) as exc:
        verify(forge.text(forge.message(dumps(claims), world.zhejiang)), world.store, at=CHECKED)
    assert _code(exc) == "bad_claims"


def test_verifier_refuses_a_paper_code_without_a_tag(world: World) -> None:
    credential = verify(_paper(world)[1], world.store, at=CHECKED).credential
    assert isinstance(credential, HealthCode)
    claims = to_claims(credential)
    del claims[-65537][8]
    with pytest.raises(HealthCredError, match="ID tag") as exc:
        verify(forge.text(forge.message(dumps(claims), world.zhejiang)), world.store, at=CHECKED)
    assert _code(exc) == "bad_claims"


@pytest.mark.parametrize("tag", [[b"12345678"], [b"1234567", bytes(16)], [b"12345678", bytes(15)], b"x" * 24])
def test_verifier_refuses_a_malformed_tag(world: World, tag: object) -> None:
    credential = verify(_paper(world)[1], world.store, at=CHECKED).credential
    assert isinstance(credential, HealthCode)
    claims = to_claims(credential)
    claims[-65537][8] = tag
    with pytest.raises(HealthCredError) as exc:
        verify(forge.text(forge.message(dumps(claims), world.zhejiang)), world.store, at=CHECKED)
    assert _code(exc) == "bad_claims"


def test_issue_refuses_untagged_paper_and_mismatched_numbers(world: World) -> None:
    credential = HealthCode.create(
        subject=SUBJECT, status=GREEN, region="330100", issued_at=ISSUED, kind=CredentialKind.PAPER
    )
    with pytest.raises(HealthCredError, match="issue_paper") as exc:
        issue(credential, world.zhejiang)
    assert _code(exc) == "bad_input"
    with pytest.raises(HealthCredError, match="does not match") as exc:
        issue_paper(credential, world.zhejiang, id_number="330106198503121258", id_key=KEY)
    assert _code(exc) == "bad_input"
    with pytest.raises(HealthCredError) as exc:
        issue_paper(credential, world.zhejiang, id_number="330106198503121234", id_key=KEY)
    assert _code(exc) == "bad_id_number"
    national = world.code()[0]
    with pytest.raises(HealthCredError, match="national credential cannot become a paper code") as exc:
        issue_paper(
            national.model_copy(
                update={"kind": CredentialKind.NATIONAL, "source_region": "330100", "source_id": bytes(16)}
            ),
            world.zhejiang,
            id_number=NUMBER,
            id_key=KEY,
        )
    assert _code(exc) == "bad_input"


def test_key_file_round_trip(tmp_path: Path) -> None:
    key = generate_id_key("330000")
    save_id_key(key, tmp_path / "id.key")
    assert (tmp_path / "id.key").stat().st_mode & 0o777 == 0o600
    assert load_id_key(tmp_path / "id.key") == key
    assert "secret" not in repr(key) and key.secret.hex() not in repr(key)
    # An existing key file is never replaced unless asked: its paper codes would become uncheckable.
    with pytest.raises(HealthCredError) as exc:
        save_id_key(generate_id_key("330000"), tmp_path / "id.key")
    assert _code(exc) == "bad_key" and load_id_key(tmp_path / "id.key") == key
    # Overwriting a key file that was readable by others leaves it readable by its owner only.
    (tmp_path / "id.key").chmod(0o644)
    save_id_key(generate_id_key("330000"), tmp_path / "id.key", overwrite=True)
    assert (tmp_path / "id.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "bad.key").write_text(
        '{"format": "healthcred-id-key/1", "key_id": "00", "region": "330000", "secret": "' + "00" * 32 + '"}'
    )
    for path in (tmp_path / "bad.key", tmp_path / "missing.key"):
        with pytest.raises(HealthCredError) as exc:
            load_id_key(path)
        assert _code(exc) == "bad_key"


def test_check_holder_tells_what_a_gate_knows_of_the_holder(world: World) -> None:
    result = verify(_paper(world)[1], world.store, at=CHECKED)
    assert check_holder(result, None, KEY) == "not_checked"
    assert check_holder(result, NUMBER, KEY) == "matched"
    assert check_holder(result, "330106198503121258", KEY) == "mismatch"
    assert check_holder(verify(world.code()[1], world.store, at=CHECKED), NUMBER, []) == "not_required"
    with pytest.raises(HealthCredError) as exc:
        check_holder(result, NUMBER, generate_id_key())
    assert _code(exc) == "id_check_unavailable"


def test_the_gate_never_admits_an_unchecked_paper_code() -> None:
    admit, deny, skip = (Decision(o, o, o, "p v1") for o in ("admit", "deny", "not_checked"))
    assert with_id_check(admit, "not_required").outcome == "admit"
    assert with_id_check(admit, "matched").outcome == "admit"
    assert (with_id_check(admit, "not_checked").outcome, with_id_check(admit, "not_checked").rule) == (
        "check_id",
        "id_not_checked",
    )
    # Someone else's code is denied whatever the policy says; a deny or an unchecked area stands.
    assert [with_id_check(d, "mismatch").rule for d in (admit, deny, skip)] == ["id_mismatch"] * 3
    assert with_id_check(deny, "not_checked").rule == "deny"
    assert with_id_check(skip, "not_checked").outcome == "not_checked"
