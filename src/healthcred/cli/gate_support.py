"""A gate's decision on the command line, shared by ``decide`` and ``log record``.

Verify, decide by the signed policy, check the holder's ID (:mod:`healthcred.cli.holder`), and show
the outcome in both languages; a paper code is never admitted with its ID unchecked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from healthcred.cli.exits import REFUSED, SETUP, SETUP_CODES, CommandFailure, setup_step
from healthcred.cli.holder import ID_CHECK_WORDS, PAPER_LINE, Holder, named_input
from healthcred.cli.support import read_code
from healthcred.errors import HealthCredError
from healthcred.flows.gate import Gate, GateDecision, with_id_check
from healthcred.flows.verify import verify
from healthcred.model import VerificationResult

__all__ = ["OUTCOME_WORDS", "decision_json", "echo_decision", "exit_for", "gate_check"]

OUTCOME_WORDS = {
    "admit": "ADMIT 通行",
    "deny": "DENY 禁止",
    "not_checked": "NOT_CHECKED 免检",
    "check_id": "CHECK_ID 核验证件",
}
"""A gate's outcome as its first line starts (English first, so scripts may match the word)."""


def gate_check(
    gate: Gate, code: str, holder: Holder, at: datetime | None
) -> tuple[GateDecision, VerificationResult | None]:
    """Read CODE, verify and decide at ``gate``, then check the holder's ID (never admitted unchecked).

    A CODE that cannot be read or does not verify is denied, its error code the rule and its
    message naming the input. No signed policy in force, or a code refused for this side's
    trust (an expired list), is exit 3: the gate is misconfigured, not the person to refuse.
    """
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    with setup_step("policy"):
        policy = gate.policy(moment)
    try:
        result = verify(read_code(code), gate.trust, at=moment)
    except HealthCredError as exc:
        if exc.code in SETUP_CODES:
            raise CommandFailure(f"[{exc.code}] --trust: {exc.message}", SETUP, code=exc.code) from exc
        exc.message = named_input(code, exc.message)
        return with_id_check(gate.refuse(exc, moment), "not_required"), None
    decision = policy.decide(result.credential, scene=gate.scene, level=gate.level, at=moment)
    return with_id_check(decision, holder.check(result, ask=decision.outcome == "admit")), result


def echo_decision(
    decision: GateDecision, result: VerificationResult | None, holder: Holder, where: str
) -> None:
    """The gate's lines: the outcome in both languages, then for a paper code its ID line and a hint."""
    click.echo(f"{OUTCOME_WORDS[decision.outcome]}  {decision.message}  [{decision.rule}]  {where}")
    if result is None or not result.id_check_required:
        return
    click.echo(f"  {PAPER_LINE}")
    click.echo(f"  ID 证件: {ID_CHECK_WORDS[decision.id_check]}")
    if decision.id_check == "not_checked" and decision.outcome == "check_id":
        needed = "--id-number NUMBER" if holder.key is not None else "--id-key KEY --id-number NUMBER"
        click.echo(f"  check it: run again with {needed} (`-`: read it from stdin)")


def decision_json(code: str, decision: GateDecision, result: VerificationResult | None) -> dict[str, Any]:
    """The JSON fields every gate command prints for a decision (``decide``; ``log record`` adds more)."""
    return {
        "input": code,
        "outcome": decision.outcome,
        "rule": decision.rule,
        "message": decision.message,
        "policy": decision.policy,
        "status": result.status.name if result and result.status else None,
        "kind": result.kind if result else None,
        "id_check_required": bool(result and result.id_check_required),
        "id_check": decision.id_check,
    }


def exit_for(decision: GateDecision) -> int:
    """0 for admit and not checked; 1 for deny and check_id (not admitted)."""
    return REFUSED if decision.outcome in ("deny", "check_id") else 0
