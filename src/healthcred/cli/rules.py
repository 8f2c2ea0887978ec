"""``healthcred rules``: the seed status rules and verification policies, and signing a region's own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from healthcred._deprecated import moved
from healthcred.cli.support import EXISTING_FILE, fail_typed, read_json, write_file
from healthcred.crypto.keys import load_private_key
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet
from healthcred.trust.rulesets import make_rule_set

__all__ = ["rules"]

__getattr__ = moved(__name__, "healthcred.cli.declare", "healthcred.cli.decide")
# `declare` and `decide` shared this module until each had its own; the old path
# healthcred.cli_rules still gives them.


@click.group()
def rules() -> None:
    """Status rules and verification policies: print the defaults, check and sign rule sets."""


@rules.command("default")
@click.argument("kind", type=click.Choice(["status", "policy"]))
def rules_default(kind: str) -> None:
    """Print the seed policy's rule set of KIND as JSON, a starting point for a region's own."""
    click.echo(
        json.dumps(
            DEFAULT_STATUS_RULES if kind == "status" else DEFAULT_POLICIES, ensure_ascii=False, indent=2
        )
    )


@rules.command("sign")
@click.argument("spec", type=EXISTING_FILE)
@click.option("--key", type=EXISTING_FILE, required=True, help="A root key, or a key granted the rules role.")
@click.option("--valid-days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@fail_typed
def rules_sign(spec: Path, key: Path, valid_days: int, out: Path) -> None:
    """Validate a rule set (JSON) completely, then sign it for distribution (`trust add` installs it)."""
    body = read_json(spec)
    if not isinstance(body, dict):
        raise click.BadParameter(f"{spec}: a rule set is a JSON object")
    (StatusRuleSet if body.get("kind") == "status" else PolicySet)(body)
    now = int(datetime.now(UTC).timestamp())
    signed = make_rule_set(load_private_key(key), body, issued_at=now, expires_at=now + valid_days * 86400)
    write_file(out, signed)
    click.echo(f"wrote {out}: {body['kind']} rule set {body['id']!r} v{body['version']}, {len(signed)} bytes")
