"""``healthcred trustlist``: build, sign and show a signed trust list of regional issuer keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from healthcred.cli.support import EXISTING_FILE, fail_typed, parse_time, time_option, write_file
from healthcred.crypto.keys import kid_of, load_private_key, load_public_key
from healthcred.trust.envelope import Anchor
from healthcred.trust.grants import KeyGrant
from healthcred.trust.lists import make_trust_list, parse_trust_list

__all__ = ["trustlist"]


@click.group()
def trustlist() -> None:
    """Build, sign and show signed trust lists of regional issuer keys."""


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@trustlist.command("build")
@click.option(
    "--entry",
    "entries",
    multiple=True,
    required=True,
    metavar="PUB.pem=REGION",
    help="An issuer public key and the GB/T 2260 region it may issue for (repeatable).",
)
@click.option("--version", "list_version", type=click.IntRange(min=1), required=True, help="List version.")
@click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="List issue time (default now)."
)
@click.option(
    "--valid-days", type=click.IntRange(min=1), default=30, show_default=True, help="Days the list is valid."
)
@click.option(
    "--key-valid-days",
    type=click.IntRange(min=1),
    default=365,
    show_default=True,
    help="Days each key is valid, from the list's issue time.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the unsigned list (JSON, for review before signing).",
)
@fail_typed
def trustlist_build(
    entries: tuple[str, ...],
    list_version: int,
    issued: datetime | None,
    valid_days: int,
    key_valid_days: int,
    out: Path,
) -> None:
    """Write an unsigned trust list as JSON, for review and then `trustlist sign`."""
    start = issued or datetime.now(UTC).replace(microsecond=0)
    grants = []
    for item in entries:
        pub, sep, region = item.rpartition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected PUB.pem=REGION", param_hint="--entry")
        key = load_public_key(pub)
        KeyGrant(key, region, _epoch(start), _epoch(start + timedelta(days=key_valid_days)))
        grants.append(
            {
                "key": str(Path(pub).resolve()),
                "kid": kid_of(key).hex(),
                "region": region,
                "not_before": start.isoformat(),
                "not_after": (start + timedelta(days=key_valid_days)).isoformat(),
            }
        )
    spec = {
        "version": list_version,
        "issued_at": start.isoformat(),
        "expires_at": (start + timedelta(days=valid_days)).isoformat(),
        "entries": grants,
    }
    write_file(out, json.dumps(spec, indent=2) + "\n")
    click.echo(f"wrote {out}: {len(grants)} entries, version {list_version}; sign it with `trustlist sign`")


@trustlist.command("sign")
@click.argument("spec", type=EXISTING_FILE)
@click.option(
    "--root",
    type=EXISTING_FILE,
    required=True,
    help="The national root's private key (a trust anchor).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed list (.cose).",
)
@fail_typed
def trustlist_sign(spec: Path, root: Path, out: Path) -> None:
    """Sign a JSON trust list (from `trustlist build`) with the root key."""
    try:
        data = json.loads(spec.read_text())
        grants = [
            KeyGrant(
                load_public_key(e["key"]),
                e["region"],
                _epoch(parse_time(e["not_before"])),
                _epoch(parse_time(e["not_after"])),
            )
            for e in data["entries"]
        ]
        version, issued, expires = (
            data["version"],
            parse_time(data["issued_at"]),
            parse_time(data["expires_at"]),
        )
    except (ValueError, KeyError, TypeError, click.BadParameter) as exc:
        raise click.BadParameter(f"{spec} is not a trust list spec: {exc}", param_hint="SPEC") from exc
    signed = make_trust_list(
        load_private_key(root), grants, version=version, issued_at=_epoch(issued), expires_at=_epoch(expires)
    )
    write_file(out, signed)
    click.echo(f"wrote {out} ({len(signed)} bytes, {len(grants)} entries, version {version})")


@trustlist.command("show")
@click.argument("listfile", type=EXISTING_FILE)
@click.option(
    "--anchor",
    type=EXISTING_FILE,
    multiple=True,
    required=True,
    help="Root public key(s) the list must be signed by.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@fail_typed
def trustlist_show(listfile: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Verify a signed trust list against anchor(s) and show its entries."""
    parsed = parse_trust_list(listfile.read_bytes(), [Anchor.from_key(load_public_key(a)) for a in anchor])

    def when(t: int) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat()

    view: dict[str, Any] = {
        "version": parsed.version,
        "issued_at": when(parsed.issued_at),
        "expires_at": when(parsed.expires_at),
        "signed_by": parsed.signer_kid.hex(),
        "entries": [
            {
                "kid": e.kid.hex(),
                "alg": e.alg.label,
                "region": e.region,
                "not_before": when(e.not_before),
                "not_after": when(e.not_after),
            }
            for e in parsed.entries
        ],
    }
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(
        f"trust list v{view['version']} signed by {view['signed_by']}, "
        f"valid {view['issued_at']} → {view['expires_at']}"
    )
    for e in view["entries"]:
        click.echo(f"  {e['kid']}  {e['alg']:5}  region {e['region']}  {e['not_before']} → {e['not_after']}")
