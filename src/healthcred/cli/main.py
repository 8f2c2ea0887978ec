"""The ``healthcred`` command line: keys, trust lists, issuing, verifying, and a demo.

Each command lives in its own module below :mod:`healthcred.cli`, imported only when the command
runs or shows its help: ``healthcred --help`` lists them all from :data:`COMMANDS` alone, so a
start-up pays only for the command it runs.

Exit codes (:mod:`healthcred.cli.exits`, ``docs/cli.md``): 0 success (valid, admit), 1 refused
(an invalid code, a deny, input refused), 2 usage, 3 this side's setup (trust, policy, keys),
4 an internal error. Every failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import click

from healthcred.cli.exits import (
    JSON_MODE,
    USAGE,
    CommandFailure,
    echo_failure_json,
    exit_code_for,
    internal_failure,
    stderr_is_debug,
)
from healthcred.errors import HealthCredError

__all__ = ["COMMANDS", "LazyGroup", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    "batch": (
        "batch",
        "Issue a code for every row of SOURCE (CSV with a header, or JSONL; `-`: stdin) into --out.",
    ),
    "conformance": (
        "conformance",
        "Run the conformance VECTORS folder; exit 0 if every case passes, 1 if any fails, 2 on usage errors.",
    ),
    "decide": (
        "decide",
        "Verify CODE and apply the signed policy of the trust folder. Exit 0 admit / not checked, 1 deny.",
    ),
    "declare": ("declare", "Review a health declaration and issue the resulting code: green, yellow or red."),
    "demo": (
        "demo",
        "Run the whole flow: keys, a signed trust list, three codes, read back from PNG and verified.",
    ),
    "family": (
        "family",
        "Relatives binding: a guardian shows up to 8 dependents' codes (bind, check, export, verify, show).",
    ),
    "idkey": ("idkey", "ID-check keys for paper codes: create one (new), show its id and region (show)."),
    "issue": ("issue_command", "Issue a health code: print its text, optionally write it as a QR image."),
    "keygen": ("keygen", "Generate a key pair; print its kid."),
    "log": ("log", "A collection point's scan log (SQLite): record, export for tracing, purge, stats."),
    "national": ("national_command", "Verify a regional CODE and print the national code derived from it."),
    "place": (
        "place",
        "Issue, show and verify a venue's signed place code (JKP1: QR) for its scanning posts.",
    ),
    "print": ("print_command", "Print native codes: one CODE is a card (A6), 2–8 are a family sheet (A4)."),
    "rules": (
        "rules",
        "Status rules and verification policies: print the defaults, check and sign rule sets.",
    ),
    "schema": (
        "schema",
        "Print the JSON Schema of a file an operator writes by hand; with no NAME, list them.",
    ),
    "station": (
        "station",
        "Serve a checkpoint page on 127.0.0.1: scan codes with the camera, decide by the signed policy.",
    ),
    "trust": ("trust", "Manage a verifier's trust folder: anchors, lists, revocations and bundles."),
    "trustlist": ("trustlist", "Build, edit, sign and show signed trust lists of regional issuer keys."),
    "verify": (
        "verify_command",
        "Verify each CODE offline: native (JKM1:), EU DCC (HC1:) or SMART Health Card (shc:/).",
    ),
}
"""Command name (and its module below healthcred.cli) → (the command's name in the module, the first
line of its docstring).

The short help is what ``healthcred --help`` lists without importing the module; a test checks it
against each command's docstring.
"""


class LazyGroup(click.Group):
    """A click group whose commands are named in a registry and imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, registered or already added."""
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module the first time it is asked for."""
        if cmd_name in self.lazy and cmd_name not in self.commands:
            attribute, _ = self.lazy[cmd_name]
            command = getattr(importlib.import_module(f"healthcred.cli.{cmd_name}"), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; every failure becomes one line on stderr and its exit code."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `healthcred verify … | head`: the reader left, nothing to report
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except CommandFailure as exc:
            raise _shown(ctx, exc) from exc.__cause__
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            usage = CommandFailure(f"{exc.format_message()} (see '{where} -h')", USAGE)
            raise _shown(ctx, usage) from exc
        except click.ClickException as exc:  # FileError and the like: a named file cannot be used
            raise _shown(ctx, CommandFailure(exc.format_message(), USAGE)) from exc
        except HealthCredError as exc:
            typed = CommandFailure(f"[{exc.code}] {exc.message}", exit_code_for(exc), code=exc.code)
            raise _shown(ctx, typed) from exc
        except Exception as exc:  # the last line of defence: a bug is one line and exit 4
            if stderr_is_debug():
                traceback.print_exc()
            raise _shown(ctx, internal_failure(exc)) from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands as click does, with the registry's short help (nothing is imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # A command not imported yet is shortened as click would, from a stand-in with its help.
            command = self.commands.get(name) or click.Command(name, help=self.lazy[name][1])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healthcred")
def main() -> None:
    """Issue and verify offline-verifiable signed health codes (JKM1: QR codes)."""


def _shown(ctx: click.Context, failure: CommandFailure) -> CommandFailure:
    # In --json mode the failure is also one object on stdout, so a script always reads one shape.
    if ctx.meta.get(JSON_MODE):
        echo_failure_json(failure)
    return failure
