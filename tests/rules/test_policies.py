"""Verification policies: the seed policy for every scene type and risk level, and policy sets as data."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from healthcred import GREEN, RED, YELLOW, DocumentType, HealthCode, Status, Subject
from healthcred.errors import BadInput, InvalidRule
from healthcred.rules.policy import AREA_LEVELS, DEFAULT_POLICIES, SCENES, PolicySet

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SUBJECT = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
POLICIES = PolicySet(DEFAULT_POLICIES)


def code(status: Status, age: timedelta = timedelta(hours=1), region: str = "330100") -> HealthCode:
    return HealthCode.create(
        subject=SUBJECT, status=status, region=region, issued_at=NOW - age, valid_for=timedelta(days=14)
    )


def expected(scene: str, level: str, status: Status) -> tuple[str, str]:
    if level == "low" and scene not in ("hospital", "school", "transport"):
        return "not_checked", "low-risk-general"
    if status == RED:
        return "deny", "red"
    if status == YELLOW:
        return ("admit", "yellow-fever-clinic") if scene == "hospital" else ("deny", "yellow")
    return "admit", "green"


@pytest.mark.parametrize(
    ("scene", "level", "status"), list(itertools.product(SCENES, AREA_LEVELS, (GREEN, YELLOW, RED)))
)
def test_seed_policy_for_every_scene_and_level(scene: str, level: str, status: Status) -> None:
    decision = POLICIES.decide(code(status), scene=scene, level=level, at=NOW)
    assert (decision.outcome, decision.rule) == expected(scene, level, status)
    assert decision.message and decision.policy == "seed-policy v1"


def test_stale_green_codes_where_risk_is_raised() -> None:
    old = code(GREEN, age=timedelta(hours=49))
    assert POLICIES.decide(old, scene="mall", level="medium", at=NOW).rule == "stale-green"
    assert POLICIES.decide(old, scene="transport", level="low", at=NOW).outcome == "admit"
    assert (
        POLICIES.decide(code(GREEN, age=timedelta(hours=47)), scene="mall", level="high", at=NOW).outcome
        == "admit"
    )


def test_unknown_colour_is_denied() -> None:
    decision = POLICIES.decide(code(Status(code=7, name="status-7")), scene="mall", level="high", at=NOW)
    assert (decision.outcome, decision.rule) == ("deny", "(none)")


def test_a_region_writes_its_own_policy() -> None:
    # Shanghai's metro admits green codes from Shanghai and Zhejiang only, paper codes included.
    spec = {
        "id": "shanghai-metro",
        "version": 3,
        "kind": "policy",
        "rules": [
            {
                "id": "neighbours",
                "scenes": ["transport"],
                "levels": ["low", "medium", "high"],
                "when": {
                    "and": [
                        {"===": [{"var": "code.status"}, "green"]},
                        {"in": [{"var": "code.province"}, ["31", "33"]]},
                    ]
                },
                "decision": "admit",
                "message": "green code from Shanghai or Zhejiang",
            },
        ],
    }
    policies = PolicySet(spec)
    assert policies.decide(code(GREEN), scene="transport", level="low", at=NOW).outcome == "admit"
    beijing = code(GREEN, region="110105")
    assert policies.decide(beijing, scene="transport", level="low", at=NOW).outcome == "deny"


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ({"kind": "status"}, "kind"),
        ({"rules": []}, "rules"),
        (
            {
                "rules": [
                    {"id": "x", "scenes": ["casino"], "levels": ["low"], "decision": "admit", "message": "m"}
                ]
            },
            "rules[0].scenes[0]: 'casino' is not one of 'community'",
        ),
        (
            {"rules": [{"id": "x", "scenes": ["*"], "levels": ["low"], "decision": "maybe", "message": "m"}]},
            "decision",
        ),
        (
            {
                "rules": [
                    {
                        "id": "x",
                        "scenes": ["*"],
                        "levels": ["low"],
                        "when": {"if": [1]},
                        "decision": "admit",
                        "message": "m",
                    }
                ]
            },
            "rules[0] (x): $.if",
        ),
    ],
)
def test_invalid_policy_sets(change: dict[str, Any], fault: str) -> None:
    with pytest.raises(InvalidRule, match=re.escape(fault)):
        PolicySet({**DEFAULT_POLICIES, **change})


def test_bad_scene_or_level() -> None:
    with pytest.raises(BadInput):
        POLICIES.decide(code(GREEN), scene="casino", level="low", at=NOW)
    with pytest.raises(BadInput):
        POLICIES.decide(code(GREEN), scene="mall", level="extreme", at=NOW)
