"""``healthcred keygen``: an issuer's or root's key pair, as PEM files."""

from __future__ import annotations

from pathlib import Path

import click

from healthcred.cli.support import echo_json, fail_typed, json_option
from healthcred.crypto.algorithms import parse_alg
from healthcred.crypto.keys import generate_key, kid_of, save_private_key, save_public_key

__all__ = ["keygen"]


@click.command()
@click.argument("name")
@click.option(
    "--alg",
    type=click.Choice(["EdDSA", "ES256"], case_sensitive=False),
    default="EdDSA",
    show_default=True,
    help="Signature algorithm (Ed25519 or P-256).",
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
    directory.mkdir(parents=True, exist_ok=True)
    key = generate_key(parse_alg(alg))
    private, public = directory / f"{name}.key.pem", directory / f"{name}.pub.pem"
    save_private_key(key, private)
    save_public_key(key.public_key(), public)
    label, kid = parse_alg(alg).label, kid_of(key).hex()
    if as_json:
        echo_json({"name": name, "alg": label, "kid": kid, "private": str(private), "public": str(public)})
        return
    click.echo(f"{name}: {label} kid {kid}")
    click.echo(f"  private {private} (mode 0600)\n  public  {public}")
