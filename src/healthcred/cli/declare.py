"""``healthcred declare``: review a health declaration and issue the resulting code."""

from __future__ import annotations

import json
from pathlib import Path

import click

from healthcred.cli.support import EXISTING_FILE, fail_typed, read_json
from healthcred.codec.qr import save_qr
from healthcred.crypto.keys import load_private_key
from healthcred.flows.issue import issue_from_declaration
from healthcred.rules.declaration import Background, Declaration
from healthcred.rules.status import StatusRuleSet

__all__ = ["declare"]


@click.command()
@click.option(
    "--declaration", "declaration_file", type=EXISTING_FILE, required=True, help="The declaration (JSON)."
)
@click.option(
    "--background", "background_file", type=EXISTING_FILE, default=None, help="Risk areas and control list."
)
@click.option(
    "--rules", "rules_file", type=EXISTING_FILE, default=None, help="Status rules (JSON); default: seed."
)
@click.option("--key", type=EXISTING_FILE, required=True, help="The issuing region's private key.")
@click.option("--region", required=True, help="GB/T 2260 code of the issuing division.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the determination as JSON.")
@fail_typed
def declare(
    declaration_file: Path,
    background_file: Path | None,
    rules_file: Path | None,
    key: Path,
    region: str,
    png: Path | None,
    as_json: bool,
) -> None:
    """Review a health declaration and issue the resulting code: green, yellow or red."""
    try:
        # JSON has no dates or enums: validate in lax mode (ISO strings, enum values).
        declaration = Declaration.model_validate(read_json(declaration_file), strict=False)
        background = (
            Background.model_validate(read_json(background_file), strict=False)
            if background_file
            else Background()
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    status_rules = StatusRuleSet(read_json(rules_file)) if rules_file else None
    text, outcome = issue_from_declaration(
        declaration, background, load_private_key(key), region=region, rules=status_rules
    )
    if png is not None:
        png.parent.mkdir(parents=True, exist_ok=True)
        save_qr(text, png)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "status": outcome.status.name,
                    "until": outcome.until.isoformat(),
                    "reason": outcome.reason,
                    "reasons": list(outcome.reasons),
                    "code": text,
                }
            )
        )
    else:
        why = ", ".join(outcome.reasons) or "no rule fired"
        click.echo(f"{outcome.status.name.upper()} until {outcome.until.isoformat()} ({why})")
        click.echo(text)
