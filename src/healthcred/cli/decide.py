"""``healthcred decide``: verify a code and apply the trust folder's signed verification policy."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from healthcred.cli.support import code_argument, time_option, trust_folder_option
from healthcred.errors import HealthCredError
from healthcred.flows.gate import Gate
from healthcred.rules.policy import AREA_LEVELS, SCENES
from healthcred.trust.folder import load_trust

__all__ = ["decide"]


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
        gate = Gate(load_trust(trust_dir), scene=scene, level=level)
        decision, result = gate.check(code_argument(code), at=at)
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
