"""``healthcred decide``: verify a code and apply the trust folder's signed verification policy."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from healthcred.cli.gate_support import decision_json, echo_decision, exit_for, gate_check
from healthcred.cli.holder import id_options, load_gate_trust, one_stdin, open_holder
from healthcred.cli.support import echo_json, fail_typed, json_option, time_option, trust_folder_option
from healthcred.flows.gate import Gate
from healthcred.rules.policy import AREA_LEVELS, SCENES

__all__ = ["decide"]


@click.command()
@click.argument("code")
@trust_folder_option()
@click.option("--scene", type=click.Choice(SCENES), required=True, help="The kind of place this gate guards.")
@click.option("--level", type=click.Choice(AREA_LEVELS), required=True, help="Risk level of this area.")
@click.option(
    "--at",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="Validation (and decision) time, ISO 8601 with offset or epoch; default now.",
)
@id_options
@json_option(
    'One JSON object: {"input", "outcome", "rule", "message", "policy", "status", "kind",'
    ' "id_check_required", "id_check"} (docs/cli.md).'
)
@fail_typed
def decide(
    code: str,
    trust_dir: tuple[Path, ...],
    scene: str,
    level: str,
    at: datetime | None,
    id_key: Path | None,
    id_number: str | None,
    as_json: bool,
) -> None:
    """Verify CODE and apply the signed policy of the trust folder. Exit 0 admit / not checked, 1 deny.

    CODE is QR text, `-` for stdin, a .txt file or an image. A paper code is admitted only once
    its holder's ID number (--id-key, --id-number, or asked at a terminal) matches its ID tag;
    until then the outcome is CHECK_ID (exit 1, not admitted). Exit 3 when the trust folder, its
    policy or the ID-check key cannot be used.
    """
    one_stdin(CODE=code, **{"--id-key": id_key, "--id-number": id_number})
    holder = open_holder(id_key, id_number, (code,))
    gate = Gate(load_gate_trust(trust_dir), scene=scene, level=level)
    decision, result = gate_check(gate, code, holder, at)
    if as_json:
        echo_json(decision_json(code, decision, result))
    else:
        echo_decision(decision, result, holder, f"policy {decision.policy}")
    sys.exit(exit_for(decision))
