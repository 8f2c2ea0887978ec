"""Status determination: a declaration plus background data → colour, end date and reasons.

Python only derives plain *facts* (day counts, flags) from the declaration and
the background data; which facts make a code red or yellow, and for how long,
is a rule set of CertLogic expressions that a region can change without code.
:data:`DEFAULT_STATUS_RULES` reproduces the seed policy: red means isolation
for 14 days, yellow observation for up to 7 days, green otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, ValidationError

from healthcred.errors import InvalidRule
from healthcred.model import PAPER_LIFETIME, PAPER_MAX_LIFETIME, STATUS_BY_NAME, Status
from healthcred.rules.budget import Budget
from healthcred.rules.certlogic import Rule, compile_rule
from healthcred.rules.declaration import Background, Declaration, personnel_key
from healthcred.rules.validation import describe

__all__ = [
    "DEFAULT_STATUS_RULES",
    "Determination",
    "StatusRule",
    "StatusRuleSet",
    "StatusRuleSetSpec",
    "determine",
    "status_facts",
]


def _days_ago(today: date, last: date | None) -> int | None:
    return None if last is None else (today - last).days


def status_facts(declaration: Declaration, background: Background) -> dict[str, Any]:
    """The data context a status rule set sees: integers, strings, booleans, lists; no floats, no dates."""
    today = declaration.declared_at.astimezone(UTC).date()
    last_in: dict[str, date | None] = {"high": None, "medium": None}
    for stay in declaration.stays:
        for area in background.risk_areas:
            if area.region != stay.region or area.level == "low":
                continue
            start = max(stay.start, area.start)
            end = min(stay.end, area.end or stay.end, today)
            previous = last_in[area.level]
            if start <= end and (previous is None or end > previous):
                last_in[area.level] = end
    positives = [t.taken for t in declaration.tests if t.result == "positive"]
    negatives = [t.taken for t in declaration.tests if t.result == "negative"]
    listed = bool(background.key_personnel) and (
        personnel_key(background.list_key, declaration.document_number) in background.key_personnel
    )
    return {
        "high_risk_days_ago": _days_ago(today, last_in["high"]),
        "medium_risk_days_ago": _days_ago(today, last_in["medium"]),
        "contact": declaration.contact,
        "contact_days_ago": _days_ago(today, declaration.contact_date),
        "positive_test_days_ago": _days_ago(today, max(positives, default=None)),
        "negative_test_days_ago": _days_ago(today, max(negatives, default=None)),
        "temperature_tenths": None
        if declaration.temperature is None
        else round(declaration.temperature * 10),
        "symptoms": list(declaration.symptoms),
        "key_personnel": listed,
        "vaccine_doses": declaration.vaccine_doses,
    }


_SPEC = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class StatusRule(BaseModel):
    """One rule of a status rule set: when its CertLogic ``logic`` is true, it fires."""

    model_config = _SPEC

    id: str = Field(min_length=1, max_length=64)
    """The rule's name (1–64 characters), unique in its set; reported when the rule fires."""
    description: str = Field(max_length=500)
    """What the rule means, in words (at most 500 characters)."""
    status: Literal["yellow", "red"]
    """The colour the rule gives: ``yellow`` or ``red`` (green is what no rule firing gives)."""
    days: int = Field(ge=1, le=180)
    """How long the colour holds, in days (1–180)."""
    reason: int = Field(ge=0, le=0xFFFF)
    """The reason code carried in the code (0–65535)."""
    logic: Any
    """A CertLogic expression over the status facts (docs/rules.md); the rule fires when it is true."""


class StatusRuleSetSpec(BaseModel):
    """A status rule set as a region writes it: a declaration plus background data → a colour."""

    model_config = _SPEC

    id: str = Field(min_length=1, max_length=64)
    """The rule set's series name (1–64 characters)."""
    version: int = Field(ge=1)
    """The version (1 or more); raise it for every change, a verifier never goes back to an older one."""
    kind: Literal["status"]
    """Always ``status``."""
    green_valid_hours: int = Field(ge=1, le=24 * 30)
    """How long a green code is valid, in hours (1–720)."""
    paper_valid_days: int = Field(default=PAPER_LIFETIME.days, ge=1, le=PAPER_MAX_LIFETIME.days)
    """How long a paper code issued under these rules is valid, in days (1–180)."""
    rules: list[StatusRule] = Field(max_length=500)
    """The rules (at most 500), each with its own ``id``."""


class Determination(BaseModel):
    """The outcome of a review: the colour, until when it holds, and which rules decided."""

    model_config = ConfigDict(frozen=True)

    status: InstanceOf[Status]
    until: datetime
    """End of observation/isolation (yellow, red) or of the green code's validity."""
    reason: int | None
    reasons: tuple[str, ...]
    """Ids of every rule that fired, most severe first."""


class StatusRuleSet:
    """A validated, compiled status rule set."""

    __slots__ = ("green_valid_hours", "id", "paper_valid_days", "rules", "version")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """Validate ``spec`` (the JSON form, see docs/rules.md) and compile every rule's logic."""
        try:
            parsed = StatusRuleSetSpec.model_validate(spec)
        except ValidationError as exc:
            raise InvalidRule(describe(exc, "status rule set", StatusRuleSetSpec)) from exc
        ids = [r.id for r in parsed.rules]
        if len(set(ids)) != len(ids):
            raise InvalidRule("status rule set: rule ids must be unique")
        self.id, self.version, self.green_valid_hours = parsed.id, parsed.version, parsed.green_valid_hours
        self.paper_valid_days: int = parsed.paper_valid_days
        self.rules: tuple[tuple[StatusRule, Rule], ...] = tuple(
            (rule, _compile(rule.logic, f"rules[{i}] ({rule.id})")) for i, rule in enumerate(parsed.rules)
        )

    @property
    def paper_lifetime(self) -> timedelta:
        """How long a paper code issued under these rules is valid (``paper_valid_days``, 1–180)."""
        return timedelta(days=self.paper_valid_days)

    def longest_validity(self, status: str) -> timedelta:
        """The longest a health code of colour ``status`` may be valid under these rules.

        Green: ``green_valid_hours``. Yellow or red: the most ``days`` of a rule of that colour (the
        seed policy: yellow 7, red 14); a colour no rule gives falls back to the longest rule, or to
        the green validity when the set has no rules.
        """
        if status == "green":
            return timedelta(hours=self.green_valid_hours)
        days = [rule.days for rule, _ in self.rules if rule.status == status] or [
            rule.days for rule, _ in self.rules
        ]
        return timedelta(days=max(days)) if days else timedelta(hours=self.green_valid_hours)

    def determine(self, declaration: Declaration, background: Background) -> Determination:
        """Apply the rules: the most severe status among the rules that fire, else green."""
        facts = status_facts(declaration, background)
        now = declaration.declared_at.astimezone(UTC).replace(microsecond=0)
        budget = Budget()  # one budget for the whole determination, however many rules it has
        fired = [rule for rule, logic in self.rules if logic.evaluate(facts, budget) is True]
        if not fired:
            return Determination(
                status=STATUS_BY_NAME["green"],
                until=now + timedelta(hours=self.green_valid_hours),
                reason=None,
                reasons=(),
            )
        severity = {"red": 0, "yellow": 1}
        fired.sort(key=lambda r: severity[r.status])
        worst = [r for r in fired if r.status == fired[0].status]
        days = max(r.days for r in worst)
        return Determination(
            status=STATUS_BY_NAME[fired[0].status],
            until=now + timedelta(days=days),
            reason=worst[0].reason,
            reasons=tuple(r.id for r in fired),
        )


def _compile(logic: Any, where: str) -> Rule:
    try:
        return compile_rule(logic)
    except InvalidRule as exc:
        raise InvalidRule(f"status rule set: {where}: {exc.message}") from exc


def _within(fact: str, days: int) -> dict[str, Any]:
    # "fact is a day count ≤ days": a truthy (non-zero) count is compared; a falsy one is 0
    # (today: within) or null (never: not within). CertLogic has no null literal to test against.
    return {"if": [{"var": fact}, {"<=": [{"var": fact}, days]}, {"===": [{"var": fact}, 0]}]}


def _is(fact: str, value: str) -> dict[str, Any]:
    return {"===": [{"var": fact}, value]}


DEFAULT_STATUS_RULES: dict[str, Any] = {
    "id": "seed-policy",
    "version": 1,
    "kind": "status",
    "green_valid_hours": 24,
    "paper_valid_days": 14,
    "rules": [
        {
            "id": "confirmed-contact",
            "status": "red",
            "days": 14,
            "reason": 11,
            "description": "close contact of a confirmed case within 14 days: isolation 14 days",
            "logic": {"and": [_is("contact", "confirmed"), _within("contact_days_ago", 14)]},
        },
        {
            "id": "positive-test",
            "status": "red",
            "days": 14,
            "reason": 12,
            "description": "positive test within 14 days: isolation 14 days",
            "logic": _within("positive_test_days_ago", 14),
        },
        {
            "id": "high-risk-stay",
            "status": "red",
            "days": 14,
            "reason": 13,
            "description": "stay in a high-risk area within 14 days: isolation 14 days",
            "logic": _within("high_risk_days_ago", 14),
        },
        {
            "id": "key-personnel",
            "status": "red",
            "days": 14,
            "reason": 14,
            "description": "on the key-personnel control list: isolation 14 days",
            "logic": {"===": [{"var": "key_personnel"}, True]},
        },
        {
            "id": "medium-risk-stay",
            "status": "yellow",
            "days": 7,
            "reason": 21,
            "description": "stay in a medium-risk area within 7 days: observation 7 days",
            "logic": _within("medium_risk_days_ago", 7),
        },
        {
            "id": "suspected-contact",
            "status": "yellow",
            "days": 7,
            "reason": 22,
            "description": "contact with a suspected case within 7 days: observation 7 days",
            "logic": {"and": [_is("contact", "suspected"), _within("contact_days_ago", 7)]},
        },
        {
            "id": "fever",
            "status": "yellow",
            "days": 3,
            "reason": 23,
            "description": "temperature of 37.3 °C or more, or declared fever: observation until a test",
            "logic": {
                "if": [
                    {"in": ["fever", {"var": "symptoms"}]},
                    True,
                    {
                        "if": [
                            {"var": "temperature_tenths"},
                            {">=": [{"var": "temperature_tenths"}, 373]},
                            False,
                        ]
                    },
                ]
            },
        },
        {
            "id": "symptoms",
            "status": "yellow",
            "days": 3,
            "reason": 24,
            "description": "other declared symptoms: observation",
            "logic": {"if": [{"var": "symptoms.0"}, True, False]},
        },
    ],
}
"""The seed policy as a status rule set (JSON-shaped; see docs/rules.md)."""


def determine(
    declaration: Declaration, background: Background, rules: StatusRuleSet | Mapping[str, Any] | None = None
) -> Determination:
    """Review ``declaration`` against ``background`` with ``rules`` (default: the seed policy)."""
    rule_set = rules if isinstance(rules, StatusRuleSet) else StatusRuleSet(rules or DEFAULT_STATUS_RULES)
    return rule_set.determine(declaration, background)
