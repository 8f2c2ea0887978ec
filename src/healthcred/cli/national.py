"""``healthcred national``: the national code derived from a verified regional code."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.issuing import check_outputs, code_summary, write_qr_files
from healthcred.cli.support import (
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_json,
    fail_typed,
    force_option,
    json_option,
    load_signing_key,
    one_stdin,
    read_code,
    time_option,
    trust_folder_option,
)
from healthcred.flows.national import derive_national
from healthcred.trust.folder import load_trust

__all__ = ["national_command"]


@click.command("national")
@click.argument("code")
@trust_folder_option(
    "Trust folder holding the national list of regional keys; the --key's own grant (kind 2,"
    " national codes) is checked in it before signing."
)
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="The national issuer's private key (granted kind 2, national codes): a PEM file" + KEY_URI_HELP,
)
@click.option(
    "--at",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="Validation time of the regional CODE (default now).",
)
@click.option(
    "--issued",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="Issue time of the national code (default: the --at time, else now).",
)
@click.option(
    "--valid-hours",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Longest validity; never beyond the source code's expiry.",
)
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as PNG."
)
@force_option()
@json_option("Print the national code and its fields as one JSON object (docs/cli.md).")
@fail_typed
def national_command(
    code: str,
    trust_dir: tuple[Path, ...],
    key: Path | str,
    at: datetime | None,
    issued: datetime | None,
    valid_hours: int,
    png: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Verify a regional CODE and print the national code derived from it.

    Nothing is signed unless the regional code is valid at --at and the --key's grant in --trust
    covers a national code of its colour at the issue time.
    """
    one_stdin(CODE=code, **{"--key": key})
    check_outputs((png,), force)
    with setup_step(f"trust folder {', '.join(map(str, trust_dir))}"):
        trust = load_trust(trust_dir)
    national_key = load_signing_key(key, "signing key")
    text = derive_national(
        read_code(code),
        trust,
        national_key,
        at=at,
        issued_at=issued,
        valid_for=timedelta(hours=valid_hours),
    )
    files = write_qr_files(text, (png,), force)
    if as_json:
        echo_json(code_summary(text, files, grant_checked=True))
    else:
        click.echo(text)
