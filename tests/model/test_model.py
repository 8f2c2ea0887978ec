"""The credential model: validation, masking, immutability, and the claim mapping."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from healthcred import GREEN, RED, YELLOW, DocumentType, HealthCode, Status, Subject
from healthcred.codec.cbor import dumps, loads
from healthcred.errors import ClaimsError, InvalidField
from healthcred.model import (
    NATIONAL_PALETTE,
    CredentialKind,
    IdTag,
    SourceFormat,
    mask_document_number,
    mask_name,
    status_from_code,
)
from healthcred.native.claims import Claim, HCode, SubjectKey, from_claims, to_claims
from healthcred.rules.declaration import Declaration

SUBJECT = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_masking() -> None:
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("Li") == "L*"
    assert mask_document_number("330106198503121234") == "3301**********1234"
    assert mask_document_number("E12345678") == "E123*5678"
    assert mask_document_number("ABC") == "A*C"
    with pytest.raises(ValueError, match="short"):
        mask_document_number("AB")
    assert SUBJECT.document_number == "3301**********1234"
    assert SUBJECT.masked_name == "张*丰"


def test_subject_validation() -> None:
    for field, value in [
        ("name", ""),
        ("name", " 张三"),
        ("name", "x" * 65),
        ("birth_date", "1985-13-01"),
        ("birth_date", "2023-02-30"),
        ("birth_date", "85-01-01"),
        ("document_number", "330106198503121234"),
        ("document_number", "33010619850312****1234"),
    ]:
        with pytest.raises(InvalidField):
            Subject(**{**SUBJECT.model_dump(), field: value})
    for birth in ("1985", "1985-03", "2024-02-29"):
        assert Subject(**{**SUBJECT.model_dump(), "birth_date": birth}).birth_date == birth


def test_health_code_validation_and_immutability() -> None:
    code = HealthCode.create(subject=SUBJECT, status=GREEN, region="330100", issued_at=T)
    assert len(code.id) == 16 and code.expires_at - code.issued_at == timedelta(days=1)
    assert code != HealthCode.create(
        subject=SUBJECT, status=GREEN, region="330100", issued_at=T
    )  # random ids
    with pytest.raises(FrozenInstanceError):
        code.status = RED
    base = code.model_dump()
    for change in (
        {"region": "33010"},
        {"region": "33010a"},
        {"id": b"short"},
        {"reason": -1},
        {"reason": 70000},
        {"expires_at": T},
        {"issued_at": T.replace(microsecond=5)},
        {"issued_at": datetime(2026, 11, 23, 8)},
    ):
        with pytest.raises(InvalidField):
            HealthCode(**{**base, **change})
    with pytest.raises(TypeError):  # an unknown keyword, as for any Python class
        HealthCode(**{**base, "extra": 1})
    with pytest.raises(InvalidField, match="extra: is not a field"):
        HealthCode.model_validate({**base, "extra": 1})


def test_create_normalises_times_to_utc_seconds() -> None:
    beijing = timezone(timedelta(hours=8))
    code = HealthCode.create(
        subject=SUBJECT,
        status=YELLOW,
        region="310000",
        issued_at=datetime(2026, 11, 23, 16, 0, 0, 123456, tzinfo=beijing),
        valid_for=timedelta(days=7),
    )
    assert code.issued_at == T and code.issued_at.tzinfo == UTC
    assert code.expires_at == T + timedelta(days=7)


def test_status_palette() -> None:
    assert [s.name for s in NATIONAL_PALETTE.values()] == ["green", "yellow", "red"]
    assert status_from_code(2) is YELLOW
    assert status_from_code(7) == Status(code=7, name="status-7")
    assert status_from_code(7, {7: Status(code=7, name="grey")}).name == "grey"
    assert status_from_code(1, {7: Status(code=7, name="grey")}) is GREEN
    for code, name in ((0, "x"), (256, "x"), (4, "Orange")):
        with pytest.raises(InvalidField):
            Status(code=code, name=name)


def test_claims_mapping_uses_the_documented_numbers() -> None:
    code = HealthCode.create(
        subject=SUBJECT, status=RED, region="330200", issued_at=T, reason=12, valid_for=timedelta(days=14)
    )
    claims = to_claims(code)
    assert list(claims) == [1, 4, 6, 7, -65537]
    assert claims[Claim.ISS] == "330200" and claims[Claim.IAT] == int(T.timestamp())
    assert claims[Claim.EXP] == int(T.timestamp()) + 14 * 86400 and claims[Claim.CTI] == code.id
    assert claims[Claim.HCODE] == {
        HCode.VERSION: 1,
        HCode.KIND: 1,
        HCode.STATUS: 3,
        HCode.REASON: 12,
        HCode.SUBJECT: {
            SubjectKey.NAME: "张三丰",
            SubjectKey.BIRTH_DATE: "1985-03-12",
            SubjectKey.DOCUMENT_TYPE: 1,
            SubjectKey.DOCUMENT_NUMBER: "3301**********1234",
        },
    }
    encoded = dumps(claims)
    assert from_claims(loads(encoded)) == code
    assert encoded[:1] == b"\xa5" and b"\x3a\x00\x01\x00\x00" in encoded  # -65537 in 5 bytes


def test_from_claims_rejects_bool_for_int_and_wrong_shapes() -> None:
    code = HealthCode.create(subject=SUBJECT, status=GREEN, region="330100", issued_at=T)
    claims = to_claims(code)
    hcode = claims[Claim.HCODE]
    for bad in (
        {**claims, Claim.IAT: True},
        {**claims, Claim.IAT: -5},
        {**claims, Claim.EXP: 2**70},
        {**claims, Claim.HCODE: {**hcode, HCode.STATUS: True}},
        {**claims, Claim.HCODE: {**hcode, HCode.KIND: 2}},
        {**claims, Claim.HCODE: [1, 2]},
        {**claims, Claim.ISS: 330100},
        {**claims, Claim.CTI: "x" * 16},
    ):
        with pytest.raises(ClaimsError):
            from_claims(bad)
    with pytest.raises(ClaimsError):
        from_claims([1, 2, 3])


def _code(**change: object) -> HealthCode:
    fields = {**HealthCode.create(subject=SUBJECT, status=GREEN, region="330100", issued_at=T).model_dump()}
    return HealthCode(**{**fields, "subject": SUBJECT, "status": GREEN, **change})


class _Other(IntEnum):
    ONE = 1


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"version": 2}, "version"),
        ({"version": True}, "version"),  # strict: Literal[1] is the int 1 (pydantic let True and 1.0 by)
        ({"version": 1.0}, "version"),
        ({"kind": 1}, "kind"),  # an enum field takes the enum, not its number
        ({"kind": _Other.ONE}, "kind"),
        ({"id": bytearray(16)}, "id"),
        ({"id": "x" * 16}, "id"),
        ({"id": bytes(17)}, "id"),
        ({"status": (1, "green")}, "status"),
        ({"status": {"code": 1, "name": "green", "x": 1}}, "status.x"),
        ({"status": {"code": 0, "name": "green"}}, "status.code"),
        ({"reason": True}, "reason"),
        ({"reason": 1.0}, "reason"),
        ({"subject": "张三丰"}, "subject"),
        ({"subject": {**SUBJECT.model_dump(), "birth_date": "2023-02-30"}}, "subject.birth_date"),
        ({"region": 330100}, "region"),
        ({"region": "330100\n"}, "region"),
        ({"region": "３３０１００"}, "region"),  # full-width digits are not [0-9]
        ({"issued_at": T.date()}, "issued_at"),
        ({"issued_at": "2026-11-23T08:00:00Z"}, "issued_at"),
        ({"issued_at": T.astimezone(timezone(timedelta(hours=8)))}, "issued_at"),
        ({"source_region": "330100"}, ""),  # only a national code names a source
        ({"source_id": bytes(15)}, "source_id"),
        ({"id_tag": {"key_id": bytes(8), "tag": bytes(15)}}, "id_tag.tag"),
        ({"id_tag": (bytes(8), bytes(16))}, "id_tag"),
        ({"kind": CredentialKind.NATIONAL}, ""),
        (
            {"kind": CredentialKind.NATIONAL, "source_region": "33010", "source_id": bytes(16)},
            "source_region",
        ),
        ({"kind": CredentialKind.PAPER, "expires_at": T + timedelta(days=181)}, "expires_at"),
    ],
)
def test_health_code_refuses_each_rule(change: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidField) as caught:
        _code(**change)
    assert caught.value.field == where and caught.value.code == "bad_input"
    assert isinstance(caught.value, ValueError) and str(caught.value).startswith("[bad_input] ")


def test_health_code_takes_what_strict_pydantic_took() -> None:
    national = {"kind": CredentialKind.NATIONAL, "source_region": "330000", "source_id": bytes(16)}
    assert _code(**national).source_id == bytes(16)
    assert _code(kind=CredentialKind.PAPER, expires_at=T + timedelta(days=180)).kind is CredentialKind.PAPER
    assert _code(status={"code": 1, "name": "green"}).status == GREEN  # a nested record as a mapping
    assert _code(subject=SUBJECT.model_dump()).subject == SUBJECT
    tagged = _code(id_tag={"key_id": bytes(8), "tag": bytes(16)})
    assert tagged.id_tag == IdTag(key_id=bytes(8), tag=bytes(16))
    assert _code(reason=0).reason == 0 and _code(reason=0xFFFF).reason == 0xFFFF

    class Raw(bytes):
        pass

    assert type(_code(id=Raw(16)).id) is bytes  # a subclass is taken as its plain value, as pydantic did
    assert type(Status(code=_Other.ONE, name="x").code) is int
    assert type(Status(code=1, name=SourceFormat.HC1).name) is str


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"code": True, "name": "x"}, "code"),
        ({"code": 1.0, "name": "x"}, "code"),
        ({"code": 1, "name": ""}, "name"),
        ({"code": 1, "name": "x" * 33}, "name"),
        ({"code": 1, "name": "x\n"}, "name"),
        ({"code": 1, "name": "-x"}, "name"),
        ({"code": 1, "name": b"x"}, "name"),
    ],
)
def test_status_refuses_each_rule(fields: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Status(**fields)  # type: ignore[arg-type]
    assert caught.value.field == where
    assert Status(code=255, name="x" * 32).code == 255


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "张三\n"),
        ("name", "张\n三"),  # no line break anywhere
        ("name", "张三\u3000"),  # ideographic space
        ("name", "\xa0张三"),
        ("name", "\ud800"),  # a lone surrogate is not text
        ("name", 5),
        ("birth_date", "1985-02-29"),
        ("birth_date", "0000-01-01"),
        ("birth_date", "1985-1-01"),
        ("birth_date", 1985),
        ("document_type", 1),
        ("document_number", "3301" + "*" * 20 + "1"),  # 25 characters
        ("document_number", "3301061**1234"),  # 7 characters kept in front
        ("document_number", "3301**12345"),
    ],
)
def test_subject_refuses_each_rule(field: str, value: object) -> None:
    with pytest.raises(InvalidField) as caught:
        Subject(**{**SUBJECT.model_dump(), field: value})
    assert caught.value.field == field


def test_subject_name_white_space_is_unicode_white_space() -> None:
    # As the Rust regex of pydantic read \s: U+001C-U+001F are not white space (Python's \s says they are).
    assert Subject(**{**SUBJECT.model_dump(), "name": "\x1c"}).name == "\x1c"
    assert Subject(**{**SUBJECT.model_dump(), "name": "a\tb"}).name == "a\tb"
    assert Subject(**{**SUBJECT.model_dump(), "name": "x" * 64}).name == "x" * 64


def test_records_are_values_with_the_pydantic_helpers() -> None:
    code = _code(reason=3, id_tag=IdTag(key_id=bytes(8), tag=bytes(16)))
    dumped = code.model_dump()
    assert list(dumped) == [
        "version", "kind", "id", "status", "reason", "subject", "region", "issued_at", "expires_at",
        "source_region", "source_id", "id_tag",
    ]  # fmt: skip
    assert dumped["subject"] == SUBJECT.model_dump() and dumped["id_tag"] == {
        "key_id": bytes(8),
        "tag": bytes(16),
    }
    assert HealthCode.model_validate(dumped) == code and hash(HealthCode.model_validate(dumped)) == hash(code)
    assert HealthCode.model_validate(code) is code
    assert {GREEN: 1}[Status(code=1, name="green")] == 1 and GREEN != (1, "green")
    assert repr(GREEN) == "Status(code=1, name='green')" and str(GREEN) == "green"
    assert pickle.loads(pickle.dumps(code)) == code and copy.deepcopy(code) == code
    assert code.model_copy(update={"reason": 4}).reason == 4 and code.model_copy() == code
    with pytest.raises(InvalidField, match="reason"):
        code.model_copy(update={"reason": -1})  # unlike pydantic's, a copy is validated
    with pytest.raises(InvalidField, match="lacks a field"):
        HealthCode.model_validate({k: v for k, v in dumped.items() if k != "region"})
    with pytest.raises(InvalidField, match="mapping"):
        HealthCode.model_validate([1])
    with pytest.raises(FrozenInstanceError):
        del GREEN.code


@given(st.text(max_size=70))
def test_subject_names_follow_the_rule(name: str) -> None:
    space = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
        chr(c) for c in range(0x2000, 0x200B)
    }
    valid = 1 <= len(name) <= 64 and name[0] not in space and name[-1] not in space and "\n" not in name
    try:
        subject = Subject(**{**SUBJECT.model_dump(), "name": name})
    except InvalidField:
        assert not valid
    else:
        assert valid and subject.name == name and subject.masked_name == mask_name(name)


def test_a_declaration_takes_a_subject_or_its_json_fields() -> None:
    fields = {"document_number": "330106198503121234", "declared_at": T}
    as_json = {**SUBJECT.model_dump(), "document_type": 1}
    assert Declaration.model_validate({**fields, "subject": as_json}, strict=False).subject == SUBJECT
    assert Declaration(subject=SUBJECT, **fields).model_dump()["subject"] == SUBJECT.model_dump()  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="birth_date"):
        Declaration.model_validate({**fields, "subject": {**as_json, "birth_date": "1985-02-30"}})
