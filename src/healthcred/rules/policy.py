"""Verification policies: whom a place admits, as an ordered list of CertLogic rules.

A policy set is read like a firewall: the first rule whose scene, area risk
level and condition match decides — *admit*, *deny* or *not checked* — and the
decision names that rule and says why in words a gate attendant understands.
If no rule matches, the code is denied. :data:`DEFAULT_POLICIES` is the seed
policy: low-risk areas check codes only at special places; red codes are
refused everywhere; yellow codes only reach a hospital's fever clinic; green
codes older than two days are refused where risk is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healthcred.errors import BadInput, InvalidRule
from healthcred.model import ForeignCredential, HealthCode
from healthcred.rules.budget import Budget
from healthcred.rules.certlogic import Rule, compile_rule
from healthcred.rules.validation import describe

__all__ = [
    "AREA_LEVELS",
    "DEFAULT_POLICIES",
    "SCENES",
    "Decision",
    "PolicyRule",
    "PolicySet",
    "PolicySetSpec",
    "policy_facts",
]

SceneName = Literal["community", "workplace", "transport", "school", "pharmacy", "mall", "hospital", "venue"]
Level = Literal["low", "medium", "high"]
SCENES: tuple[str, ...] = get_args(SceneName)
"""Scene types a policy may name (``*`` in a rule means all of them)."""
AREA_LEVELS: tuple[str, ...] = get_args(Level)
"""Risk levels of the area a verifier stands in."""

Outcome = Literal["admit", "deny", "not_checked"]


_SPEC = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class PolicyRule(BaseModel):
    """One rule of a policy set: where it applies, when, and what the gate does."""

    model_config = _SPEC

    id: str = Field(min_length=1, max_length=64)
    """The rule's name (1–64 characters); a decision names the rule that made it."""
    scenes: list[Literal[SceneName, "*"]] = Field(min_length=1)
    """The scene types the rule applies at (``*``: all of them)."""
    levels: list[Level] = Field(min_length=1)
    """The area risk levels the rule applies in."""
    when: Any = True
    """A CertLogic expression over the verified code's facts (docs/rules.md); default ``true``."""
    decision: Outcome
    """What the gate does: ``admit``, ``deny`` or ``not_checked``."""
    message: str = Field(min_length=1, max_length=200)
    """What the gate attendant sees (1–200 characters)."""


class PolicySetSpec(BaseModel):
    """A policy set as a region writes it: the first matching rule decides, no match denies."""

    model_config = _SPEC

    id: str = Field(min_length=1, max_length=64)
    """The policy set's series name (1–64 characters)."""
    version: int = Field(ge=1)
    """The version (1 or more); raise it for every change, a verifier never goes back to an older one."""
    kind: Literal["policy"]
    """Always ``policy``."""
    rules: list[PolicyRule] = Field(min_length=1, max_length=500)
    """The rules in order (1–500): the first whose scene, level and condition match decides."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the gate does, which rule decided, and the words to show."""

    outcome: Outcome
    rule: str
    message: str
    policy: str


def policy_facts(
    credential: HealthCode | ForeignCredential, at: datetime, scene: str, level: str
) -> dict[str, Any]:
    """The data context a policy sees: the verified credential's facts, the place, the area's risk level.

    Every format gives the same keys under ``code``: a foreign credential (EU DCC, SMART Health
    Card) has ``status`` ``None`` and no region, so a rule about colours never admits it by
    accident; rules about it read ``code.format``, ``code.kind``, ``code.issuer`` and ``code.facts``.
    """
    if isinstance(credential, HealthCode):
        code: dict[str, Any] = {
            "format": "native",
            "status": credential.status.name,
            "status_code": credential.status.code,
            "kind": credential.kind.name.lower(),
            "region": credential.region,
            "province": credential.region[:2],
            "city": credential.region[:4],
            "issuer": credential.region,
            "age_hours": int((at - credential.issued_at).total_seconds() // 3600),
            "facts": {"reason": credential.reason},
        }
    else:
        issued = credential.issued_at
        code = {
            "format": credential.format.value,
            "status": None,
            "status_code": None,
            "kind": credential.kind,
            "region": None,
            "province": None,
            "city": None,
            "issuer": credential.issuer,
            "age_hours": int((at - issued).total_seconds() // 3600) if issued is not None else None,
            "facts": dict(credential.facts),
        }
    return {"code": code, "scene": scene, "area_level": level}


class PolicySet:
    """A validated, compiled policy set."""

    __slots__ = ("id", "rules", "version")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """Validate ``spec`` (the JSON form, see docs/rules.md) and compile every condition."""
        try:
            parsed = PolicySetSpec.model_validate(spec)
        except ValidationError as exc:
            raise InvalidRule(describe(exc, "policy set", PolicySetSpec)) from exc
        compiled: list[tuple[PolicyRule, frozenset[str], frozenset[str], Rule]] = []
        for i, rule in enumerate(parsed.rules):
            try:
                condition = compile_rule(rule.when)
            except InvalidRule as exc:
                raise InvalidRule(f"policy set: rules[{i}] ({rule.id}): {exc.message}") from exc
            scenes = frozenset(SCENES) if "*" in rule.scenes else frozenset(rule.scenes)
            compiled.append((rule, scenes, frozenset(rule.levels), condition))
        self.id, self.version = parsed.id, parsed.version
        self.rules = tuple(compiled)

    def decide(
        self,
        credential: HealthCode | ForeignCredential,
        *,
        scene: str,
        level: str,
        at: datetime | None = None,
    ) -> Decision:
        """Decide for a verified credential at a ``scene`` in an area of risk ``level``."""
        if scene not in SCENES or level not in AREA_LEVELS:
            raise BadInput(f"scene must be one of {SCENES} and level one of {AREA_LEVELS}")
        facts = policy_facts(credential, at or datetime.now(UTC), scene, level)
        budget = Budget()  # one budget for the whole decision, however many rules it reads
        for rule, scenes, levels, condition in self.rules:
            if scene in scenes and level in levels and condition.evaluate(facts, budget) is True:
                return Decision(rule.decision, rule.id, rule.message, f"{self.id} v{self.version}")
        return Decision("deny", "(none)", "no rule admits this code here", f"{self.id} v{self.version}")


_SPECIAL = ["hospital", "school", "transport"]

DEFAULT_POLICIES: dict[str, Any] = {
    "id": "seed-policy",
    "version": 1,
    "kind": "policy",
    "rules": [
        {
            "id": "low-risk-general",
            "scenes": [s for s in SCENES if s not in _SPECIAL],
            "levels": ["low"],
            "decision": "not_checked",
            "message": "低风险地区一般场所不查验健康码 — low-risk area: codes are not checked here",
        },
        {
            "id": "red",
            "scenes": ["*"],
            "levels": list(AREA_LEVELS),
            "when": {"===": [{"var": "code.status"}, "red"]},
            "decision": "deny",
            "message": "红码：禁止进入，请联系社区 — red code: entry refused, contact your community",
        },
        {
            "id": "yellow-fever-clinic",
            "scenes": ["hospital"],
            "levels": list(AREA_LEVELS),
            "when": {"===": [{"var": "code.status"}, "yellow"]},
            "decision": "admit",
            "message": "黄码：请前往发热门诊 — yellow code: admit to the fever clinic only",
        },
        {
            "id": "yellow",
            "scenes": ["*"],
            "levels": list(AREA_LEVELS),
            "when": {"===": [{"var": "code.status"}, "yellow"]},
            "decision": "deny",
            "message": "黄码：禁止进入 — yellow code: entry refused during observation",
        },
        {
            "id": "stale-green",
            "scenes": ["*"],
            "levels": ["medium", "high"],
            "when": {
                "and": [{"===": [{"var": "code.status"}, "green"]}, {">": [{"var": "code.age_hours"}, 48]}]
            },
            "decision": "deny",
            "message": "绿码已超过48小时，请刷新 — green code older than 48 hours: refresh it",
        },
        {
            "id": "green",
            "scenes": ["*"],
            "levels": list(AREA_LEVELS),
            "when": {"===": [{"var": "code.status"}, "green"]},
            "decision": "admit",
            "message": "绿码：通行 — green code: admit",
        },
    ],
}
"""The seed policy as a policy set (JSON-shaped; see docs/rules.md). Unknown colours match no rule: deny."""
