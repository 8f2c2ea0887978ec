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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healthcred.errors import BadInput, InvalidRule
from healthcred.model import ForeignCredential, HealthCode
from healthcred.rules.budget import Budget
from healthcred.rules.certlogic import Rule, compile_rule
from healthcred.rules.validation import describe

__all__ = ["AREA_LEVELS", "DEFAULT_POLICIES", "SCENES", "Decision", "PolicySet", "policy_facts"]

SCENES = ("community", "workplace", "transport", "school", "pharmacy", "mall", "hospital", "venue")
"""Scene types a policy may name (``*`` in a rule means all of them)."""
AREA_LEVELS = ("low", "medium", "high")
"""Risk levels of the area a verifier stands in."""

Outcome = Literal["admit", "deny", "not_checked"]


class _PolicyRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    scenes: list[str] = Field(min_length=1)
    levels: list[Literal["low", "medium", "high"]] = Field(min_length=1)
    when: Any = True
    decision: Outcome
    message: str = Field(min_length=1, max_length=200)


class _PolicySetSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    kind: Literal["policy"]
    rules: list[_PolicyRule] = Field(min_length=1, max_length=500)


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
            parsed = _PolicySetSpec.model_validate(spec)
        except ValidationError as exc:
            raise InvalidRule(describe(exc, "policy set", _PolicySetSpec)) from exc
        compiled: list[tuple[_PolicyRule, frozenset[str], frozenset[str], Rule]] = []
        for i, rule in enumerate(parsed.rules):
            unknown = [s for s in rule.scenes if s != "*" and s not in SCENES]
            if unknown:
                raise InvalidRule(f"policy set: rules[{i}] ({rule.id}): unknown scenes {unknown}")
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
