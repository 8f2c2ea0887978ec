"""``healthcred idkey``: create and show the ID-check keys that bind paper codes to an ID document."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import click

from healthcred.cli.exits import USAGE, CommandFailure, setup_step
from healthcred.cli.holder import key_source
from healthcred.cli.support import InputFile, echo_json, fail_typed, input_name, json_option
from healthcred.errors import BadKey
from healthcred.flows.idcheck import ID_KEY_FILE_FORMAT, IdCheckKey, generate_id_key, load_id_key, save_id_key
from healthcred.regions import NATIONAL_REGION, region_words

__all__ = ["idkey"]

_PATH = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
# show reads the key: `-` is stdin, and a missing file is this side's setup (exit 3)
_KEY_PATH = click.argument("path", type=InputFile(exists=False))


@click.group()
def idkey() -> None:
    """ID-check keys for paper codes: create one (new), show its id and region (show)."""


def _region(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise click.BadParameter(f"{value!r} is not a 6-digit GB/T 2260 code (e.g. 330000 for Zhejiang)")
    if value != NATIONAL_REGION and region_words(value)[0] == value:
        raise click.BadParameter(f"{value} is not a region in the GB/T 2260 table")
    return value


def _describe(key: IdCheckKey, path: Path) -> dict[str, Any]:
    chinese, english = ("全国", "national") if key.region == NATIONAL_REGION else region_words(key.region)
    return {
        "path": str(path),
        "format": ID_KEY_FILE_FORMAT,
        "key_id": key.key_id.hex(),
        "region": key.region,
        "region_name": {"zh": chinese, "en": english},
        "mode": None if str(path) == "-" else f"{stat.S_IMODE(os.stat(path).st_mode):04o}",
    }


def _echo(info: dict[str, Any]) -> None:
    names = info["region_name"]
    click.echo(f"ID-check key {info['key_id']}  region {info['region']} {names['zh']} ({names['en']})")
    if info["mode"] is None:  # read from stdin
        click.echo("  read from stdin; the secret is never printed")
        return
    click.echo(f"  file {info['path']} (mode {info['mode']}); the secret is never printed")
    if int(info["mode"], 8) & 0o077:
        click.echo(f"  warning: {info['path']} is readable by others: chmod 600 it", err=True)


@idkey.command("new")
@_PATH
@click.option(
    "--region",
    default=NATIONAL_REGION,
    show_default=True,
    callback=_region,
    help="GB/T 2260 code of the region the key serves (000000: national).",
)
@click.option(
    "--force", is_flag=True, help="Replace an existing key file (its paper codes can no longer be checked)."
)
@json_option("Print the new key's id and region as one JSON object (docs/cli.md).")
@fail_typed
def idkey_new(path: Path, region: str, force: bool, as_json: bool) -> None:
    """Create an ID-check key file (mode 0600, atomic); refuse an existing file without --force."""
    if str(path) == "-":
        raise click.UsageError("PATH is the key file to write; `-` is not one (a key is never printed)")
    if os.path.lexists(path) and not force:
        raise CommandFailure(
            f"{path} exists; an ID-check key is not replaced (codes tagged under it could no longer"
            " be checked): pass --force to replace it",
            USAGE,
        )
    key = generate_id_key(region)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_id_key(key, path, overwrite=force)
    except OSError as exc:
        raise CommandFailure(f"cannot write {path}: {exc.strerror or exc}", USAGE) from exc
    except BadKey as exc:  # the file cannot be written (its message names it)
        raise CommandFailure(exc.message, USAGE) from exc
    info = _describe(key, path)
    if as_json:
        echo_json(info)
        return
    _echo(info)
    click.echo("  give it only to the issuers and trust-listed verifiers of this region")


@idkey.command("show")
@_KEY_PATH
@json_option("Print the key's id, region and file mode as one JSON object (docs/cli.md).")
@fail_typed
def idkey_show(path: Path, as_json: bool) -> None:
    """Show an ID-check key's id, region and file mode (never its secret); exit 3 if unusable."""
    with setup_step(f"ID-check key {input_name(path)}"):
        key = load_id_key(key_source(path, "ID-check key"))
    info = _describe(key, path)
    if as_json:
        echo_json(info)
    else:
        _echo(info)
