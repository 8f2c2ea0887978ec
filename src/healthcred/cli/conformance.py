"""``healthcred conformance``: run the conformance vectors against this library or another program."""

from __future__ import annotations

import sys
from pathlib import Path

import click

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
def conformance(
    vectors: Path | None,
    command: str | None,
    timeout: float,
    areas: tuple[str, ...],
    verbose: bool,
    allow_unsupported: bool,
    regenerate: Path | None,
) -> None:
    """Run the conformance VECTORS folder; exit 0 if every case passes, 1 if any fails, 2 on usage errors.

    Without --impl this library answers each case; with --impl the program
    reads one case per line (JSON) and answers one JSON line (docs/conformance.md).
    """
    from healthcred.conformance.runner import RunnerError, Subprocess, format_report, run

    if regenerate is not None:
        try:
            from tools.conformance.generate import generate
        except ImportError:
            raise click.UsageError(
                "the vector generator is not installed: run this from a source checkout of healthcred"
            ) from None

        click.echo(f"{generate(regenerate)} cases written to {regenerate}")
        return
    if vectors is None:
        raise click.UsageError("give the VECTORS folder (or --regenerate DIR)")
    implementation = Subprocess(command, timeout=timeout) if command else None
    try:
        report = run(
            vectors,
            implementation,
            name=repr(command) if command else "healthcred (this library)",
            only=areas,
        )
    except RunnerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        if implementation is not None:
            implementation.close()
    click.echo(format_report(report, verbose=verbose, allow_unsupported=allow_unsupported))
    sys.exit(0 if report.ok(allow_unsupported=allow_unsupported) else 1)
