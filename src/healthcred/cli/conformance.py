"""``healthcred conformance``: run the conformance vectors against this library or another program."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from healthcred.cli.exits import REFUSED, USAGE, CommandFailure
from healthcred.cli.support import echo_json, json_option

if TYPE_CHECKING:  # the runner loads only when the command runs
    from healthcred.conformance.runner import Outcome, Report

__all__ = ["conformance"]


@click.command()
@click.argument("vectors", required=False, type=click.Path(path_type=Path))
@click.option(
    "--impl", "command", help='Program to test, e.g. "java -jar verifier.jar" (JSON lines on stdin/stdout).'
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds per case."
)
@click.option("--area", "areas", multiple=True, help="Run only this area (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="List every case, not only failures.")
@click.option(
    "--allow-unsupported",
    is_flag=True,
    help="Cases the implementation declares unsupported do not fail the run.",
)
@click.option(
    "--regenerate",
    "regenerate",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the vectors (deterministically) into this folder instead of running them (from a checkout).",
)
@json_option("Print the run as one JSON object: counts, per-area counts, the failures (docs/cli.md).")
def conformance(
    vectors: Path | None,
    command: str | None,
    timeout: float,
    areas: tuple[str, ...],
    verbose: bool,
    allow_unsupported: bool,
    regenerate: Path | None,
    as_json: bool,
) -> None:
    """Run the conformance VECTORS folder; exit 0 if every case passes, 1 if any fails, 2 on usage errors.

    Without --impl this library answers each case; with --impl the program
    reads one case per line (JSON) and answers one JSON line (docs/conformance.md).
    A VECTORS path that is not a folder of cases, or an --impl program that cannot be
    started, is a usage error (2); a case file that cannot be read is a failed case (1).
    """
    from healthcred.conformance.runner import RunnerError, Subprocess, format_report, run

    if regenerate is not None:
        try:
            from tools.conformance.generate import generate
        except ImportError:
            raise click.UsageError(
                "the vector generator is not installed: run this from a source checkout of healthcred"
            ) from None

        written = generate(regenerate)
        if as_json:
            echo_json({"regenerated": written, "folder": str(regenerate)})
        else:
            click.echo(f"{written} cases written to {regenerate}")
        return
    if vectors is None:
        raise click.UsageError("give the VECTORS folder (or --regenerate DIR)")
    if command is not None and not command.strip():
        raise click.BadParameter(
            'give the program to run, e.g. "java -jar verifier.jar"', param_hint="--impl"
        )
    try:
        implementation = Subprocess(command, timeout=timeout) if command else None
    except ValueError as exc:  # shlex: an unclosed quote
        raise click.BadParameter(
            f"{command!r} cannot be split into a command: {exc}", param_hint="--impl"
        ) from exc
    except RunnerError as exc:
        raise CommandFailure(str(exc), USAGE) from exc
    try:
        report = run(
            vectors,
            implementation,
            name=repr(command) if command else "healthcred (this library)",
            only=areas,
        )
    except RunnerError as exc:  # no vectors folder, or the program cannot run at all
        raise CommandFailure(str(exc), USAGE) from exc
    finally:
        if implementation is not None:
            implementation.close()
    if not report.outcomes:
        where = f" in area {', '.join(areas)}" if areas else " (AREA/CASE.json files)"
        raise CommandFailure(f"{vectors} holds no conformance cases{where}", USAGE)
    ok = report.ok(allow_unsupported=allow_unsupported)
    if as_json:
        echo_json(report_json(report, ok=ok, verbose=verbose))
    else:
        click.echo(format_report(report, verbose=verbose, allow_unsupported=allow_unsupported))
    sys.exit(0 if ok else REFUSED)


def report_json(report: Report, *, ok: bool, verbose: bool = False) -> dict[str, Any]:
    """The ``conformance --json`` object (docs/cli.md): totals, per-area counts, failures and skips.

    ``verbose`` adds every case (``cases_run``), passes included.
    """
    areas: dict[str, dict[str, int]] = {}
    for outcome in report.outcomes:
        counts = areas.setdefault(outcome.area, {"cases": 0, "passed": 0, "failed": 0, "skipped": 0})
        counts["cases"] += 1
        counts[_COUNTED[outcome.verdict]] += 1
    payload: dict[str, Any] = {
        "ok": ok,
        "implementation": report.implementation,
        "folder": report.folder,
        "cases": len(report.outcomes),
        "passed": sum(a["passed"] for a in areas.values()),
        "failed": len(report.failed),
        "skipped": len(report.skipped),
        "areas": dict(sorted(areas.items())),
        "failures": [_case(o) for o in report.failed],
        "unsupported": [_case(o) for o in report.skipped],
    }
    if verbose:
        payload["cases_run"] = [{**_case(o), "verdict": o.verdict} for o in report.outcomes]
    return payload


_COUNTED = {"pass": "passed", "fail": "failed", "skip": "skipped"}


def _case(outcome: Outcome) -> dict[str, str]:
    return {"id": outcome.case_id, "area": outcome.area, "reason": outcome.detail}
