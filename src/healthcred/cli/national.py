"""``healthcred national``: the national code derived from a verified regional code."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from healthcred.cli.support import EXISTING_FILE, fail_typed, read_code, time_option, trust_folder_option
from healthcred.codec.qr import save_qr
from healthcred.crypto.keys import load_private_key
from healthcred.flows.national import derive_national
from healthcred.trust.folder import load_trust

__all__ = ["national_command"]


@click.command("national")
@click.argument("code")
@trust_folder_option("Trust folder holding the national list of regional keys.")
@click.option(
    "--key",
    type=EXISTING_FILE,
    required=True,
    help="The national issuer's private key (granted kind 2, national codes).",
)
@click.option("--at", metavar="TIME", callback=time_option, default=None, help="Issue time (default now).")
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
@fail_typed
def national_command(
    code: str, trust_dir: tuple[Path, ...], key: Path, at: datetime | None, valid_hours: int, png: Path | None
) -> None:
    """Verify a regional CODE and print the national code derived from it."""
    text = derive_national(
        read_code(code),
        load_trust(trust_dir),
        load_private_key(key),
        at=at,
        valid_for=timedelta(hours=valid_hours),
    )
    if png is not None:
        png.parent.mkdir(parents=True, exist_ok=True)
        save_qr(text, png)
    click.echo(text)
