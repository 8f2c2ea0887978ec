"""``healthcred declare``: review a health declaration and issue the resulting code."""

from __future__ import annotations

from pathlib import Path

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.support import (
    INPUT_FILE,
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_json,
    fail_typed,
    force_option,
    input_name,
    iso,
    json_option,
    load_signing_key,
    read_json,
    write_new,
)
from healthcred.codec.qr import render_qr
from healthcred.flows.issue import issue_from_declaration
from healthcred.rules.declaration import Background, parse_background, parse_declaration
from healthcred.rules.status import StatusRuleSet

__all__ = ["declare"]


@click.command()
@click.option(
    "--declaration",
    "declaration_file",
    type=INPUT_FILE,
    required=True,
    help="The declaration (JSON; fields in docs/rules.md). A mistake in it is refused (exit 1).",
)
@click.option(
    "--background",
    "background_file",
    type=INPUT_FILE,
    default=None,
    help="Risk areas and the key-personnel control list (JSON); default: none.",
)
@click.option(
    "--rules", "rules_file", type=INPUT_FILE, default=None, help="Status rules (JSON); default: seed."
)
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="The issuing region's private key: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option("--region", required=True, help="GB/T 2260 code of the issuing division.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the code as a QR image (PNG) here; an existing file is refused without --force.",
)
@force_option("Replace the --png file if it exists.")
@json_option("Print the determination and the code as one JSON object (docs/cli.md, declare).")
@fail_typed
def declare(
    declaration_file: Path,
    background_file: Path | None,
    rules_file: Path | None,
    key: Path,
    region: str,
    png: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Review a health declaration and issue the resulting code: green, yellow or red."""
    # The declaration is the input asked about: a mistake in it is refused (exit 1, bad_input).
    declaration = parse_declaration(
        read_json(declaration_file), f"declaration {input_name(declaration_file)}"
    )
    # Background data, rules and key are this issuer's setup: a fault in them is exit 3.
    with setup_step(f"background {input_name(background_file or '')}"):
        background = parse_background(read_json(background_file), "") if background_file else Background()
    with setup_step(f"status rules {input_name(rules_file or '')}"):
        status_rules = StatusRuleSet(read_json(rules_file)) if rules_file else None
    signing_key = load_signing_key(key, "signing key")
    text, outcome = issue_from_declaration(
        declaration, background, signing_key, region=region, rules=status_rules
    )
    if png is not None:
        write_new(png, render_qr(text, kind="png"), force=force)
    if as_json:
        echo_json(
            {
                "status": outcome.status.name,
                "until": iso(outcome.until),
                "reason": outcome.reason,
                "reasons": list(outcome.reasons),
                "code": text,
                "png": None if png is None else str(png),
            }
        )
    else:
        why = ", ".join(outcome.reasons) or "no rule fired"
        click.echo(f"{outcome.status.name.upper()} until {iso(outcome.until)} ({why})")
        click.echo(text)
