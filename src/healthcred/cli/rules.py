"""``healthcred rules``: the seed status rules and verification policies, and signing a region's own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from healthcred._deprecated import moved
from healthcred.cli.support import (
    INPUT_FILE,
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_json,
    fail_typed,
    force_option,
    input_name,
    iso_epoch,
    json_option,
    load_signing_key,
    naming,
    read_json,
    write_new,
)
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet
from healthcred.trust.rulesets import RULES_CONTENT_TYPE, make_rule_set

__all__ = ["rules"]

MAX_VALID_DAYS = 3660
"""The longest --valid-days: ten years; a rule set is meant to be replaced long before."""

__getattr__ = moved(__name__, "healthcred.cli.declare", "healthcred.cli.decide")
# `declare` and `decide` shared this module until each had its own; the old path
# healthcred.cli_rules still gives them.


@click.group()
def rules() -> None:
    """Status rules and verification policies: print the defaults, check and sign rule sets."""


@rules.command("default")
@click.argument("kind", type=click.Choice(["status", "policy"]))
def rules_default(kind: str) -> None:
    """Print the seed policy's rule set of KIND as JSON, a starting point for a region's own.

    The output is the rule set itself (one JSON object), so it takes no --json.
    """
    click.echo(
        json.dumps(
            DEFAULT_STATUS_RULES if kind == "status" else DEFAULT_POLICIES, ensure_ascii=False, indent=2
        )
    )


@rules.command("sign")
@click.argument("spec", type=INPUT_FILE)
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="A root key, or a key granted the rules role: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option(
    "--valid-days",
    type=click.IntRange(1, MAX_VALID_DAYS),
    default=30,
    show_default=True,
    help="How many days from now verifiers accept the signed rule set.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed rule set (.cose); an existing file is refused without --force.",
)
@force_option()
@json_option("Print what was signed as one JSON object (docs/cli.md, rules sign).")
@fail_typed
def rules_sign(spec: Path, key: Path, valid_days: int, out: Path, force: bool, as_json: bool) -> None:
    """Validate a rule set (JSON) completely, then sign it for distribution (`trust add` installs it)."""
    body = read_json(spec)
    if not isinstance(body, dict):
        raise click.BadParameter(f"{input_name(spec)}: a rule set is a JSON object", param_hint="SPEC")
    kind = "status" if body.get("kind") == "status" else "policy"
    with naming(spec):  # refused in the user's terms (exit 1), naming the file
        (StatusRuleSet if kind == "status" else PolicySet)(body)
    signing_key = load_signing_key(key, "signing key", content_type=RULES_CONTENT_TYPE)
    now = int(datetime.now(UTC).timestamp())
    expires = now + valid_days * 86400
    signed = make_rule_set(signing_key, body, issued_at=now, expires_at=expires)
    write_new(out, signed, force=force)
    if as_json:
        echo_json(
            {
                "file": str(out),
                "bytes": len(signed),
                "kind": kind,
                "id": body["id"],
                "version": body["version"],
                "issued_at": iso_epoch(now),
                "expires_at": iso_epoch(expires),
            }
        )
        return
    click.echo(
        f"wrote {out}: {kind} rule set {body['id']!r} v{body['version']}, {len(signed)} bytes, "
        f"valid {iso_epoch(now)} to {iso_epoch(expires)}"
    )
