"""The command line's exit codes and how a failure becomes one line on stderr.

Every command keeps one contract (``docs/cli.md``): a failure is one line on stderr naming the
input as the user gave it, never a traceback, and one of these exit codes. A gate script can then
tell "refuse this person" (1) from "this verifier is misconfigured" (3) from "a bug" (4).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from healthcred.errors import SETUP_CODES, HealthCredError

__all__ = [
    "INTERNAL",
    "JSON_MODE",
    "OK",
    "REFUSED",
    "SETUP",
    "SETUP_CODES",
    "USAGE",
    "CommandFailure",
    "exit_code_for",
    "setup_step",
]

OK = 0
"""Success: the code is valid, the person is admitted (or not checked), the file was written."""
REFUSED = 1
"""The answer is no: an invalid code, a deny, input the command was asked to process is refused."""
USAGE = 2
"""The command line is wrong: an unknown option, a bad value, a named file that cannot be read."""
SETUP = 3
"""This side is not set up: trust folder missing, empty, corrupt, expired or busy; no policy; no
ID-check key; an unusable signing key; a scan log that cannot be opened; no QR reader installed; a
worker process that stopped."""
INTERNAL = 4
"""A bug in healthcred: the message says so and asks for a report."""

JSON_MODE = "healthcred.json"
"""The key in ``click.Context.meta`` that a command's ``--json`` flag sets (see ``support.json_option``)."""

ISSUES_URL = "https://github.com/healthcred/healthcred/issues"
"""Where an internal error asks to be reported."""


class CommandFailure(click.ClickException):
    """A failure with its exit code and one line of message (already in the user's terms)."""

    def __init__(self, message: str, exit_code: int, *, code: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it a class variable
        self.code = code

    def show(self, file: IO[Any] | None = None) -> None:
        """One line on stderr: ``error: MESSAGE``."""
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def exit_code_for(exc: HealthCredError) -> int:
    """The exit code of a HealthCredError met outside a setup step: 3 for setup codes, else 1."""
    return SETUP if exc.code in SETUP_CODES else REFUSED


@contextmanager
def setup_step(what: str) -> Iterator[None]:
    """Run a command's setup (loading trust, a key, a policy): any HealthCredError in it exits 3.

    ``what`` names the input as the user gave it (``"trust folder ./trust"``) and starts the line.
    """
    try:
        yield
    except HealthCredError as exc:
        # "trust folder ./t: ./t is not a trust folder" says the name twice: keep it in one place.
        head, _, name = what.rpartition(" ")
        label = head if head and name in exc.message else what
        raise CommandFailure(f"[{exc.code}] {label}: {exc.message}", SETUP, code=exc.code) from exc


def internal_failure(exc: BaseException) -> CommandFailure:
    """The one line for an exception healthcred did not expect (exit 4, with where to report it)."""
    from importlib.metadata import version

    return CommandFailure(
        f"internal error in healthcred {version('healthcred')}: {type(exc).__name__}: {exc}. "
        f"This is a bug; please report it with the command you ran ({ISSUES_URL}); "
        "HEALTHCRED_TRACEBACK=1 shows the traceback.",
        INTERNAL,
        code="internal_error",
    )


def echo_failure_json(failure: CommandFailure) -> None:
    """In ``--json`` mode a failure is also one JSON object on stdout, so a script reads one shape."""
    import json

    payload = {"error": {"code": failure.code or "usage", "message": failure.format_message()}}
    payload["exit"] = failure.exit_code  # type: ignore[assignment]
    click.echo(json.dumps(payload, ensure_ascii=False))


def stderr_is_debug() -> bool:
    """True when ``HEALTHCRED_TRACEBACK=1``: an internal error then shows its traceback too."""
    import os

    return os.environ.get("HEALTHCRED_TRACEBACK") == "1" and sys.stderr is not None
