"""``healthcred rules``, ``healthcred declare`` and ``healthcred decide``: rules as signed data."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from healthcred.cli.support import EXISTING_FILE, fail_typed, time_option, trust_folder_option, write_file
from healthcred.codec.qr import save_qr
from healthcred.crypto.keys import load_private_key
from healthcred.errors import HealthCredError
from healthcred.flows.gate import Gate
from healthcred.flows.issue import issue_from_declaration
from healthcred.rules.declaration import Background, Declaration
from healthcred.rules.policy import AREA_LEVELS, DEFAULT_POLICIES, SCENES, PolicySet
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet
from healthcred.trust.folder import load_trust
from healthcred.trust.rulesets import make_rule_set

__all__ = ["decide", "declare", "rules"]

_FILE = EXISTING_FILE


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: not readable JSON: {exc}") from exc


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
@click.argument("spec", type=_FILE)
@click.option("--key", type=_FILE, required=True, help="A root key, or a key granted the rules role.")
@click.option("--valid-days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@fail_typed
def rules_sign(spec: Path, key: Path, valid_days: int, out: Path) -> None:
    """Validate a rule set (JSON) completely, then sign it for distribution (`trust add` installs it)."""
    body = _json(spec)
    if not isinstance(body, dict):
        raise click.BadParameter(f"{spec}: a rule set is a JSON object")
    (StatusRuleSet if body.get("kind") == "status" else PolicySet)(body)
    now = int(datetime.now(UTC).timestamp())
    signed = make_rule_set(load_private_key(key), body, issued_at=now, expires_at=now + valid_days * 86400)
    write_file(out, signed)
    click.echo(f"wrote {out}: {body['kind']} rule set {body['id']!r} v{body['version']}, {len(signed)} bytes")


@click.command()
@click.option("--declaration", "declaration_file", type=_FILE, required=True, help="The declaration (JSON).")
@click.option(
    "--background", "background_file", type=_FILE, default=None, help="Risk areas and control list."
)
@click.option("--rules", "rules_file", type=_FILE, default=None, help="Status rules (JSON); default: seed.")
@click.option("--key", type=_FILE, required=True, help="The issuing region's private key.")
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
        declaration = Declaration.model_validate(_json(declaration_file), strict=False)
        background = (
            Background.model_validate(_json(background_file), strict=False)
            if background_file
            else Background()
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    status_rules = StatusRuleSet(_json(rules_file)) if rules_file else None
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


@click.command()
@click.argument("code")
@trust_folder_option()
@click.option("--scene", type=click.Choice(SCENES), required=True)
@click.option("--level", type=click.Choice(AREA_LEVELS), required=True, help="Risk level of this area.")
@click.option("--at", metavar="TIME", callback=time_option, default=None)
@click.option("--json", "as_json", is_flag=True)
def decide(
    code: str, trust_dir: tuple[Path, ...], scene: str, level: str, at: datetime | None, as_json: bool
) -> None:
    """Verify CODE and apply the signed policy of the trust folder. Exit 0 admit / not checked, 1 deny."""
    try:
        decision, result = Gate(load_trust(trust_dir), scene=scene, level=level).check(code, at=at)
    except HealthCredError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "outcome": decision.outcome,
                    "rule": decision.rule,
                    "message": decision.message,
                    "policy": decision.policy,
                    "status": result.status.name if result and result.status else None,
                    "kind": result.kind if result else None,
                },
                ensure_ascii=False,
            )
        )
    else:
        click.echo(f"{decision.outcome.upper()}  {decision.message}  [{decision.rule}, {decision.policy}]")
    sys.exit(1 if decision.outcome == "deny" else 0)
