"""``healthcred keygen``: an issuer's or root's key pair, as PEM files."""

from __future__ import annotations

import re
from pathlib import Path

import click

from healthcred.cli.exits import USAGE, CommandFailure
from healthcred.cli.support import echo_json, fail_typed, json_option
from healthcred.crypto.algorithms import parse_alg
from healthcred.crypto.keys import generate_key, kid_of, save_private_key, save_public_key

__all__ = ["keygen"]

_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
"""A key's NAME: a plain file-name stem, so NAME.key.pem lands in --dir and nowhere else."""


@click.command()
@click.argument("name")
@click.option(
    "--alg",
    type=click.Choice(["EdDSA", "ES256", "SM2"], case_sensitive=False),
    default="EdDSA",
    show_default=True,
    help="Signature algorithm (Ed25519, P-256, or SM2 with SM3, which needs healthcred[sm]).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write NAME.key.pem (mode 0600) and NAME.pub.pem into.",
)
@json_option("Print the key's name, algorithm, kid and files as one JSON object (docs/cli.md).")
@fail_typed
def keygen(name: str, alg: str, directory: Path, as_json: bool) -> None:
    """Generate a key pair; print its kid."""
    if not _NAME.fullmatch(name):
        raise click.BadParameter(
            f"{name!r}: a key name is 1–64 letters, digits, '-', '_' or '.', not starting with '.'",
            param_hint="NAME",
        )
    private, public = directory / f"{name}.key.pem", directory / f"{name}.pub.pem"
    for path in (private, public):
        if path.exists():  # both checked first, so a refusal never leaves half a pair
            raise CommandFailure(
                f"{path} exists; keygen never replaces a key (what it signed would lose its key):"
                " choose another NAME or --dir",
                USAGE,
            )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandFailure(f"--dir {directory}: {exc.strerror or exc}", USAGE) from exc
    key = generate_key(parse_alg(alg))
    save_private_key(key, private)
    save_public_key(key.public_key(), public)
    label, kid = parse_alg(alg).label, kid_of(key).hex()
    if as_json:
        echo_json({"name": name, "alg": label, "kid": kid, "private": str(private), "public": str(public)})
        return
    click.echo(f"{name}: {label} kid {kid}")
    click.echo(f"  private {private} (mode 0600)\n  public  {public}")
