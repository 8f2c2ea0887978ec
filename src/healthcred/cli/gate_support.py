"""What ``verify``, ``decide`` and ``log record`` share at a gate: trust, the holder's ID, the words shown.

A paper code is bound to its holder's ID document by a keyed tag (:mod:`healthcred.flows.idcheck`).
The gate checks the number on the document the holder presents: ``--id-key`` names this verifier's
ID-check key, ``--id-number`` the number (``-``: one line from stdin); without ``--id-number`` the
operator is asked for it when stdin is a terminal and a code is a paper code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from healthcred.cli.exits import REFUSED, SETUP, SETUP_CODES, CommandFailure, exit_code_for, setup_step
from healthcred.cli.support import read_code
from healthcred.errors import BadIdNumber, HealthCredError
from healthcred.flows.gate import Gate, GateDecision, with_id_check
from healthcred.flows.idcheck import IdCheck, IdCheckKey, check_holder, load_id_key
from healthcred.flows.verify import verify
from healthcred.model import VerificationResult
from healthcred.trust.folder import load_trust
from healthcred.trust.store import TrustStore

__all__ = [
    "ID_CHECK_WORDS",
    "OUTCOME_WORDS",
    "PAPER_LINE",
    "Holder",
    "decision_json",
    "echo_decision",
    "exit_for",
    "gate_check",
    "id_options",
    "load_gate_trust",
    "open_holder",
    "read_gate_code",
]

F = TypeVar("F", bound=Callable[..., Any])

PAPER_LINE = "纸质码 — 请核验证件 / paper code — check the holder's ID document"
"""The line shown under every paper code: the holder's ID document must be checked."""

OUTCOME_WORDS = {
    "admit": "ADMIT 通行",
    "deny": "DENY 禁止",
    "not_checked": "NOT_CHECKED 免检",
    "check_id": "CHECK_ID 核验证件",
}
"""A gate's outcome as its first line starts (English first, so scripts may match the word)."""

ID_CHECK_WORDS: dict[IdCheck, str] = {
    "not_required": "not required 无需核验",
    "not_checked": "not checked 未核验",
    "matched": "matched 证件相符",
    "mismatch": "DOES NOT MATCH 证件不符",
}
"""What the ``ID 证件:`` line says for each :data:`~healthcred.flows.idcheck.IdCheck`."""

_PROMPT = "证件号码 / ID number on the holder's document"
_PROMPT_TRIES = 3
_NUMBER_LIMIT = 256  # a document number is ≤ 24 characters; a longer line is not one


def id_options(func: F) -> F:
    """The ``--id-key PATH`` and ``--id-number NUMBER`` options (parameters ``id_key``, ``id_number``)."""
    func = click.option(
        "--id-number",
        metavar="NUMBER",
        default=None,
        help="The number on the holder's ID document, checked against a paper code's ID tag"
        " (`-`: one line from stdin). Without it you are asked when stdin is a terminal.",
    )(func)
    option: Callable[[F], F] = click.option(
        "--id-key",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="This verifier's ID-check key file (as `idkey new` writes), to check paper codes.",
    )
    return option(func)


def load_gate_trust(trust_dir: Sequence[Path]) -> TrustStore:
    """The trust store of ``--trust``; a folder that cannot be loaded is this side's setup (exit 3)."""
    with setup_step("--trust"):  # the loader names the file or folder at fault
        return load_trust(trust_dir)


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


@dataclass
class Holder:
    """The ID-check key and the number presented, as a command was given them."""

    key_path: Path | None
    key: IdCheckKey | None
    number: str | None

    def check(self, result: VerificationResult, *, ask: bool = True) -> IdCheck:
        """What is known of ``result``'s holder; asks for the number at a terminal if none was given.

        ``ask=False`` never prompts (the gate denies anyway, so there is nothing to ask for).

        A mistyped number (bad check digit, wrong length) is a usage error (exit 2) when given
        as an option; at the prompt it is asked again. No installed key for the code's tag is
        this side's setup (exit 3).
        """
        if not result.id_check_required:
            return "not_required"
        keys = [] if self.key is None else [self.key]
        number = self.number
        if number is None and ask and self.key is not None and _stdin_is_tty():
            return self._prompted(result, keys)
        with setup_step(f"ID-check key {self.key_path}"):
            try:
                return check_holder(result, number, keys)
            except BadIdNumber as exc:
                raise click.BadParameter(exc.message, param_hint="'--id-number'") from exc

    def _prompted(self, result: VerificationResult, keys: list[IdCheckKey]) -> IdCheck:
        for _ in range(_PROMPT_TRIES):
            typed: str = click.prompt(f"{_PROMPT} ({result.subject.masked_name})", err=True)
            with setup_step(f"ID-check key {self.key_path}"):
                try:
                    return check_holder(result, typed, keys)
                except BadIdNumber as exc:
                    click.echo(f"  {exc.message}: 请重新输入 / type it again", err=True)
        raise click.BadParameter(
            f"no valid ID number after {_PROMPT_TRIES} tries", param_hint="'--id-number'"
        )


def open_holder(id_key: Path | None, id_number: str | None, code_args: Sequence[str]) -> Holder:
    """Check the ID options together and load the key (a missing or unusable key file: exit 3)."""
    if id_number is not None and id_key is None:
        raise click.UsageError("--id-number needs --id-key (the ID-check key file that checks it)")
    if id_number == "-":
        if "-" in code_args:
            raise click.UsageError("stdin can hold the CODE or the ID number, not both")
        id_number = _number_from_stdin()
    key = None
    if id_key is not None:
        with setup_step(f"ID-check key {id_key}"):
            key = load_id_key(id_key)
    return Holder(id_key, key, id_number)


def _number_from_stdin() -> str:
    line = sys.stdin.readline(_NUMBER_LIMIT + 1)
    if len(line) > _NUMBER_LIMIT:
        raise click.BadParameter(
            "the line on stdin is too long for a document number", param_hint="'--id-number'"
        )
    if not line.strip():
        raise click.BadParameter("stdin held no ID number", param_hint="'--id-number'")
    return line.strip()


def read_gate_code(value: str) -> str:
    """A CODE argument's text (``read_code``); one that cannot be read is one line naming it (exit 1)."""
    try:
        return read_code(value)
    except HealthCredError as exc:
        raise CommandFailure(
            f"[{exc.code}] {value}: {exc.message}", exit_code_for(exc), code=exc.code
        ) from exc


def gate_check(
    gate: Gate, text: str, holder: Holder, at: datetime | None
) -> tuple[GateDecision, VerificationResult | None]:
    """Verify and decide at ``gate``, then check the holder's ID: a paper code is never admitted unchecked.

    No signed policy in force, or a code refused for this side's trust (an expired list), is
    exit 3: the gate is misconfigured, and the person in front of it is not the one to refuse.
    """
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    with setup_step("policy"):
        policy = gate.policy(moment)
    try:
        result = verify(text, gate.trust, at=moment)
    except HealthCredError as exc:
        if exc.code in SETUP_CODES:
            raise CommandFailure(f"[{exc.code}] --trust: {exc.message}", SETUP, code=exc.code) from exc
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
