"""Status determination: the seed policy, table-driven, and rule sets as data."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from healthcred import GREEN, RED, YELLOW, DocumentType, HealthCode, Subject, verify
from healthcred.errors import InvalidRule
from healthcred.flows.issue import issue_from_declaration
from healthcred.rules.declaration import Background, Declaration, LabTest, RiskArea, Stay, personnel_key
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet, determine, status_facts
from tests.helpers.world import World

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
SUBJECT = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
LIST_KEY = b"control-list-key"
BACKGROUND = Background(
    risk_areas=(
        RiskArea(region="420100", level="high", start=date(2026, 11, 1)),  # Wuhan: high, still in force
        RiskArea(region="440300", level="medium", start=date(2026, 11, 10), end=date(2026, 11, 30)),
        RiskArea(region="310000", level="low", start=date(2026, 1, 1)),
    ),
    list_key=LIST_KEY,
    key_personnel=frozenset({personnel_key(LIST_KEY, "110101199001011234")}),
)


def declaration(**fields: Any) -> Declaration:
    values: dict[str, Any] = {"subject": SUBJECT, "document_number": "330106198503121234", "declared_at": NOW}
    values.update(fields)
    return Declaration(**values)


def days(n: int) -> date:
    return TODAY - timedelta(days=n)


CASES: list[tuple[str, dict[str, Any], Any, int | None, tuple[str, ...]]] = [
    ("nothing declared", {}, GREEN, None, ()),
    ("normal temperature", {"temperature": 36.6}, GREEN, None, ()),
    ("fever by temperature", {"temperature": 37.3}, YELLOW, 3, ("fever",)),
    ("fever declared", {"symptoms": ("fever",)}, YELLOW, 3, ("fever", "symptoms")),
    ("cough", {"symptoms": ("cough",)}, YELLOW, 3, ("symptoms",)),
    (
        "confirmed contact 3 days ago",
        {"contact": "confirmed", "contact_date": days(3)},
        RED,
        14,
        ("confirmed-contact",),
    ),
    ("confirmed contact 15 days ago", {"contact": "confirmed", "contact_date": days(15)}, GREEN, None, ()),
    (
        "confirmed contact today",
        {"contact": "confirmed", "contact_date": days(0)},
        RED,
        14,
        ("confirmed-contact",),
    ),
    (
        "suspected contact 5 days ago",
        {"contact": "suspected", "contact_date": days(5)},
        YELLOW,
        7,
        ("suspected-contact",),
    ),
    ("suspected contact 8 days ago", {"contact": "suspected", "contact_date": days(8)}, GREEN, None, ()),
    (
        "positive test today",
        {"tests": (LabTest(kind="pcr", result="positive", taken=TODAY),)},
        RED,
        14,
        ("positive-test",),
    ),
    (
        "negative test only",
        {"tests": (LabTest(kind="antigen", result="negative", taken=TODAY),)},
        GREEN,
        None,
        (),
    ),
    (
        "high-risk stay 10 days ago",
        {"stays": (Stay(region="420100", start=days(12), end=days(10)),)},
        RED,
        14,
        ("high-risk-stay",),
    ),
    (
        "stay there before it was high-risk",
        {"stays": (Stay(region="420100", start=date(2026, 10, 1), end=date(2026, 10, 20)),)},
        GREEN,
        None,
        (),
    ),
    (
        "medium-risk stay 6 days ago",
        {"stays": (Stay(region="440300", start=days(8), end=days(6)),)},
        YELLOW,
        7,
        ("medium-risk-stay",),
    ),
    (
        "medium-risk stay 8 days ago",
        {"stays": (Stay(region="440300", start=days(9), end=days(8)),)},
        GREEN,
        None,
        (),
    ),
    ("low-risk stay", {"stays": (Stay(region="310000", start=days(3), end=days(1)),)}, GREEN, None, ()),
    ("key personnel", {"document_number": "110101199001011234"}, RED, 14, ("key-personnel",)),
    (
        "red wins over yellow",
        {"temperature": 38.5, "contact": "confirmed", "contact_date": days(1)},
        RED,
        14,
        ("confirmed-contact", "fever"),
    ),
]


@pytest.mark.parametrize(
    ("fields", "status", "span", "reasons"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_seed_policy(fields: dict[str, Any], status: Any, span: int | None, reasons: tuple[str, ...]) -> None:
    outcome = determine(declaration(**fields), BACKGROUND)
    assert outcome.status == status
    assert outcome.reasons == reasons
    expected_until = NOW + (timedelta(days=span) if span else timedelta(hours=24))
    assert outcome.until == expected_until
    assert (outcome.reason is None) == (status == GREEN)


def test_facts_hold_no_clear_document_number() -> None:
    facts = status_facts(declaration(document_number="110101199001011234"), BACKGROUND)
    assert facts["key_personnel"] is True
    assert "110101199001011234" not in repr(facts)
    assert personnel_key(LIST_KEY, " 110101199001011234 ") == personnel_key(LIST_KEY, "110101199001011234")
    assert personnel_key(b"other key", "110101199001011234") not in BACKGROUND.key_personnel


def test_a_region_changes_the_rules_as_data() -> None:
    stricter = {
        **DEFAULT_STATUS_RULES,
        "id": "hubei-winter",
        "version": 2,
        "rules": [
            *DEFAULT_STATUS_RULES["rules"],
            {
                "id": "unvaccinated",
                "status": "yellow",
                "days": 7,
                "reason": 30,
                "description": "no vaccine dose",
                "logic": {"===": [{"var": "vaccine_doses"}, 0]},
            },
        ],
    }
    rules = StatusRuleSet(stricter)
    assert determine(declaration(), BACKGROUND, rules).status == YELLOW
    assert determine(declaration(vaccine_doses=2), BACKGROUND, rules).status == GREEN


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ({"kind": "policy"}, "kind"),
        (
            {
                "rules": [
                    {"id": "x", "status": "green", "days": 1, "reason": 1, "description": "", "logic": True}
                ]
            },
            "status",
        ),
        (
            {
                "rules": [
                    {
                        "id": "x",
                        "status": "red",
                        "days": 1,
                        "reason": 1,
                        "description": "",
                        "logic": {"nope": []},
                    }
                ]
            },
            "rules[0] (x): $.nope",
        ),
        (
            {
                "rules": [
                    {"id": "x", "status": "red", "days": 400, "reason": 1, "description": "", "logic": True}
                ]
            },
            "days",
        ),
        ({"green_valid_hours": 0}, "green_valid_hours"),
    ],
)
def test_invalid_rule_sets_are_refused_on_load(change: dict[str, Any], fault: str) -> None:
    with pytest.raises(InvalidRule, match=re.escape(fault)):
        StatusRuleSet({**DEFAULT_STATUS_RULES, **change})


def test_declaration_validation() -> None:
    with pytest.raises(ValueError, match="contact"):
        declaration(contact="confirmed")
    with pytest.raises(ValueError, match="stay"):
        Stay(region="420100", start=TODAY, end=days(1))
    with pytest.raises(ValueError, match="timezone"):
        declaration(declared_at=datetime(2026, 11, 23, 8))


def test_issue_from_a_declaration(world: World) -> None:
    text, outcome = issue_from_declaration(
        declaration(contact="suspected", contact_date=days(2), declared_at=NOW),
        BACKGROUND,
        world.zhejiang,
        region="330100",
    )
    result = verify(text, world.store, at=NOW + timedelta(hours=1))
    assert isinstance(result.credential, HealthCode)
    assert result.status == YELLOW and result.credential.reason == 22
    assert result.expires_at == outcome.until == NOW + timedelta(days=7)
