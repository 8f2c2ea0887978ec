"""``healthcred keygen``: an issuer's or root's key pair, as PEM files."""

from __future__ import annotations

import re
from pathlib import Path

import click

from healthcred.cli.exits import USAGE, CommandFailure, setup_step
from healthcred.cli.support import echo_json, fail_typed, json_option
from healthcred.crypto.algorithms import Alg, parse_alg
from healthcred.crypto.keys import generate_key, kid_of, save_private_key, save_public_key
from healthcred.errors import BadInput

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
@click.option(
    "--pkcs11",
    "token_uri",
    metavar="URI",
    default=None,
    help="Generate the pair inside the PKCS#11 token this URI names (its object= is the key's label):"
    " the private key stays there, sensitive and non-extractable; only NAME.pub.pem is written"
    " (docs/hsm.md).",
)
@json_option("Print the key's name, algorithm, kid and files as one JSON object (docs/cli.md).")
@fail_typed
def keygen(name: str, alg: str, directory: Path, token_uri: str | None, as_json: bool) -> None:
    """Generate a key pair; print its kid.

    With --pkcs11 the pair is generated inside the token and only NAME.pub.pem is written.
    """
    _check_name(name)
    if token_uri is not None:
        _token_keygen(name, parse_alg(alg), directory, token_uri, as_json)
        return
    private, public = directory / f"{name}.key.pem", directory / f"{name}.pub.pem"
    _refuse_existing((private, public))
    _make_dir(directory)
    key = generate_key(parse_alg(alg))
    save_private_key(key, private)
    save_public_key(key.public_key(), public)
    label, kid = parse_alg(alg).label, kid_of(key).hex()
    if as_json:
        echo_json({"name": name, "alg": label, "kid": kid, "private": str(private), "public": str(public)})
        return
    click.echo(f"{name}: {label} kid {kid}")
    click.echo(f"  private {private} (mode 0600)\n  public  {public}")


def _token_keygen(name: str, alg: Alg, directory: Path, token_uri: str, as_json: bool) -> None:
    """The pair made inside the token; its public key written as NAME.pub.pem."""
    from healthcred.crypto.pkcs11 import check_new_key_uri, generate_token_key
    from healthcred.crypto.pkcs11uri import parse_uri

    try:  # a URI that cannot name a new key is a usage error, before the token is opened
        uri = check_new_key_uri(parse_uri(token_uri))
    except BadInput as exc:
        raise click.BadParameter(exc.message, param_hint="'--pkcs11'") from exc
    public = directory / f"{name}.pub.pem"
    _refuse_existing((public,))
    _make_dir(directory)
    with setup_step("--pkcs11 token"), generate_token_key(uri, alg) as key:
        save_public_key(key.public_key, public)
        kid = key.kid.hex()
    if as_json:
        echo_json(
            {
                "name": name,
                "alg": alg.label,
                "kid": kid,
                "private": token_uri.split("?", 1)[0],
                "public": str(public),
            }
        )
        return
    click.echo(f"{name}: {alg.label} kid {kid}")
    click.echo(f"  private in the token ({key.name}; sensitive, not extractable)\n  public  {public}")


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise click.BadParameter(
            f"{name!r}: a key name is 1–64 letters, digits, '-', '_' or '.', not starting with '.'",
            param_hint="NAME",
        )


def _refuse_existing(paths: tuple[Path, ...]) -> None:
    for path in paths:
        if path.exists():  # all checked first, so a refusal never leaves half a pair
            raise CommandFailure(
                f"{path} exists; keygen never replaces a key (what it signed would lose its key):"
                " choose another NAME or --dir",
                USAGE,
            )


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandFailure(f"--dir {directory}: {exc.strerror or exc}", USAGE) from exc
