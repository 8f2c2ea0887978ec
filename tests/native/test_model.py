"""The credential model: validation, masking, immutability, and the claim mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from healthcred import GREEN, RED, YELLOW, DocumentType, HealthCode, Status, Subject
from healthcred.codec.cbor import dumps, loads
from healthcred.errors import ClaimsError
from healthcred.model import NATIONAL_PALETTE, mask_document_number, mask_name, status_from_code
from healthcred.native.claims import Claim, HCode, SubjectKey, from_claims, to_claims

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
        with pytest.raises(ValidationError):
            Subject(**{**SUBJECT.model_dump(), field: value})
    for birth in ("1985", "1985-03", "2024-02-29"):
        assert Subject(**{**SUBJECT.model_dump(), "birth_date": birth}).birth_date == birth


def test_health_code_validation_and_immutability() -> None:
    code = HealthCode.create(subject=SUBJECT, status=GREEN, region="330100", issued_at=T)
    assert len(code.id) == 16 and code.expires_at - code.issued_at == timedelta(days=1)
    assert code != HealthCode.create(
        subject=SUBJECT, status=GREEN, region="330100", issued_at=T
    )  # random ids
    with pytest.raises(ValidationError):
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
        {"extra": 1},
    ):
        with pytest.raises(ValidationError):
            HealthCode(**{**base, **change})


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
        with pytest.raises(ValidationError):
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
