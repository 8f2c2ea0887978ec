"""``healthcred keygen``: an issuer's or root's key pair, as PEM files."""

from __future__ import annotations

from pathlib import Path

import click

from healthcred.cli.support import fail_typed
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
@fail_typed
def keygen(name: str, alg: str, directory: Path) -> None:
    """Generate a key pair; print its kid."""
    directory.mkdir(parents=True, exist_ok=True)
    key = generate_key(parse_alg(alg))
    save_private_key(key, directory / f"{name}.key.pem")
    save_public_key(key.public_key(), directory / f"{name}.pub.pem")
    click.echo(f"{name}: {parse_alg(alg).label} kid {kid_of(key).hex()}")
    click.echo(
        f"  private {directory / f'{name}.key.pem'} (mode 0600)\n  public  {directory / f'{name}.pub.pem'}"
    )
