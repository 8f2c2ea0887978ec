"""The holder's ID document at a gate, for ``verify``, ``decide`` and ``log record``; their trust.

A paper code is bound to its holder's ID document by a keyed tag (:mod:`healthcred.flows.idcheck`).
The gate checks the number on the document the holder presents: ``--id-key`` names this verifier's
ID-check key, ``--id-number`` the number (``-``: one line from stdin); without ``--id-number`` the
operator is asked for it when stdin is a terminal and a code is a paper code. Nothing here loads
the rules engine, so ``verify`` stays free of it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.support import InputFile, input_name, one_stdin, read_input
from healthcred.errors import BadIdNumber
from healthcred.flows.idcheck import IdCheck, IdCheckKey, check_holder, load_id_key
from healthcred.model import VerificationResult
from healthcred.trust.folder import load_trust
from healthcred.trust.store import TrustStore

__all__ = [
    "ID_CHECK_WORDS",
    "PAPER_LINE",
    "Holder",
    "id_options",
    "key_source",
    "load_gate_trust",
    "named_input",
    "one_stdin",
    "open_holder",
]

F = TypeVar("F", bound=Callable[..., Any])

PAPER_LINE = "纸质码 — 请核验证件 / paper code — check the holder's ID document"
"""The line shown under every paper code: the holder's ID document must be checked."""

ID_CHECK_WORDS: dict[IdCheck, str] = {
    "not_required": "not required 无需核验",
    "not_checked": "not checked 未核验",
    "matched": "matched 证件相符",
    "mismatch": "DOES NOT MATCH 证件不符",
}
"""What the ``ID 证件:`` line says for each :data:`~healthcred.flows.idcheck.IdCheck`."""

_PROMPT = "证件号码 / ID number on the holder's document"
_PROMPT_TRIES = 3
_KEY_LIMIT = 4096  # an ID-check or log key file is ~200 bytes
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
        type=InputFile(exists=False),  # a missing key is this side's setup (exit 3), not usage
        default=None,
        help="This verifier's ID-check key file (as `idkey new` writes; `-`: stdin), to check paper codes.",
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
        with setup_step(f"ID-check key {input_name(self.key_path or '')}"):
            try:
                return check_holder(result, number, keys)
            except BadIdNumber as exc:
                raise click.BadParameter(exc.message, param_hint="'--id-number'") from exc

    def _prompted(self, result: VerificationResult, keys: list[IdCheckKey]) -> IdCheck:
        for _ in range(_PROMPT_TRIES):
            typed: str = click.prompt(f"{_PROMPT} ({result.subject.masked_name})", err=True)
            with setup_step(f"ID-check key {input_name(self.key_path or '')}"):
                try:
                    return check_holder(result, typed, keys)
                except BadIdNumber as exc:
                    click.echo(f"  {exc.message}: 请重新输入 / type it again", err=True)
        raise click.BadParameter(
            f"no valid ID number after {_PROMPT_TRIES} tries", param_hint="'--id-number'"
        )


def key_source(path: Path, what: str) -> bytes | Path:
    """A key file an option names, or its bytes from stdin for ``-`` (bounded: a key is small)."""
    return read_input("-", what=what, limit=_KEY_LIMIT) if str(path) == "-" else path


def open_holder(id_key: Path | None, id_number: str | None, code_args: Sequence[str]) -> Holder:
    """Check the ID options together and load the key (a missing or unusable key file: exit 3).

    The caller has checked that at most one input is ``-`` (:func:`one_stdin`).
    """
    if id_number is not None and id_key is None:
        raise click.UsageError("--id-number needs --id-key (the ID-check key file that checks it)")
    if id_number == "-":
        id_number = _number_from_stdin()
    key = None
    if id_key is not None:
        with setup_step(f"ID-check key {input_name(id_key)}"):
            key = load_id_key(key_source(id_key, "ID-check key"))
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


def named_input(value: str, message: str) -> str:
    """``message`` about the CODE ``value``, starting with the input's name when it is a file or stdin.

    Code text is not repeated (it is long, and the user has it); an error that already names its
    input (``read_code``'s) is left as it is.
    """
    name = input_name(value)
    if (value == "-" or os.path.isfile(value)) and not message.startswith(name):
        return f"{name}: {message}"
    return message
