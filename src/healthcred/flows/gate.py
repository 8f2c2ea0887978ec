"""A verifier at one place: verify a code, then let the signed policy decide.

:class:`Gate` holds the trust store, the scene type and the area's risk level.
The policy comes from the newest signed policy rule set in the trust store
that is valid at the decision time (never from unsigned or expired data), or
from a :class:`~healthcred.rules.policy.PolicySet` the operator passes in code.
It is compiled once per rule-set version, not per code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from healthcred.errors import BadInput, HealthCredError
from healthcred.flows.idcheck import IdCheck
from healthcred.flows.verify import verify
from healthcred.model import VerificationResult
from healthcred.rules.policy import AREA_LEVELS, SCENES, Decision, PolicySet
from healthcred.trust.store import TrustStore

__all__ = ["CHECK_ID", "Gate", "GateDecision", "GateOutcome", "with_id_check"]

GateOutcome = Literal["admit", "deny", "not_checked", "check_id"]
"""A gate's answer: a policy's three, and ``check_id`` for a paper code whose ID was not checked."""
CHECK_ID: GateOutcome = "check_id"
"""Not admitted (yet): a paper code the policy would admit, but whose holder's ID is unchecked."""

_ID_MESSAGES: dict[IdCheck, tuple[GateOutcome, str, str]] = {
    "not_checked": (
        CHECK_ID,
        "id_not_checked",
        "证件未核验 — ID not checked: not admitted until the holder's ID number matches this paper code",
    ),
    "mismatch": ("deny", "id_mismatch", "证件不符 — the ID number does not match this paper code"),
}


@dataclass(frozen=True, slots=True)
class GateDecision:
    """A policy's decision with what the gate knows of the holder's ID document."""

    outcome: GateOutcome
    rule: str
    message: str
    policy: str
    id_check: IdCheck


def with_id_check(decision: Decision, id_check: IdCheck) -> GateDecision:
    """The gate's answer once the holder's ID is known: a paper code is never admitted unchecked.

    A number that does not match denies whatever the policy said (someone else's code); an
    unchecked paper code that the policy admits becomes ``check_id``. A deny or
    ``not_checked`` (the area does not check codes) stands as it is.
    """
    change = _ID_MESSAGES.get(id_check)
    if change is None or (id_check != "mismatch" and decision.outcome != "admit"):
        return GateDecision(decision.outcome, decision.rule, decision.message, decision.policy, id_check)
    outcome, rule, message = change
    return GateDecision(outcome, rule, message, decision.policy, id_check)


class Gate:
    """Verify-and-decide for one scene in one area, many codes in a row."""

    __slots__ = ("_compiled", "level", "policies", "scene", "trust")

    def __init__(
        self, trust: TrustStore, *, scene: str, level: str, policies: PolicySet | None = None
    ) -> None:
        """``policies`` overrides the signed policy with a local one (code, not downloaded data)."""
        if scene not in SCENES or level not in AREA_LEVELS:
            raise BadInput(f"scene must be one of {SCENES} and level one of {AREA_LEVELS}")
        self.trust, self.scene, self.level, self.policies = trust, scene, level, policies
        self._compiled: dict[str, PolicySet] = {}

    def policy(self, at: datetime) -> PolicySet:
        """The policy in force at ``at`` (raises :class:`RuleSetUnavailable` if none is signed and valid)."""
        if self.policies is not None:
            return self.policies
        signed = self.trust.rule_set("policy", int(at.timestamp()))
        key = f"{signed.series}@{signed.version}"
        if key not in self._compiled:
            self._compiled = {key: PolicySet(signed.body)}
        return self._compiled[key]

    def check(self, code: Any, *, at: datetime | None = None) -> tuple[Decision, VerificationResult | None]:
        """Verify ``code`` and decide; an invalid code is denied with its error code as the rule."""
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        policy = self.policy(moment)
        try:
            result = verify(code, self.trust, at=moment)
        except HealthCredError as exc:
            return self.refuse(exc, moment), None
        return policy.decide(result.credential, scene=self.scene, level=self.level, at=moment), result

    def refuse(self, error: HealthCredError, at: datetime) -> Decision:
        """The deny of a code that did not verify: its error code is the rule."""
        policy = self.policy(at)
        message = f"健康码无效 — invalid code ({error.code}): {error.message}"
        return Decision("deny", error.code, message, f"{policy.id} v{policy.version}")
