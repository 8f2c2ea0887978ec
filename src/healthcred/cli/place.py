"""``healthcred place``: a venue's signed place code (JKP1:) for its scanning posts.

Exit codes as for the other commands: 0 success (for ``place verify``: valid), 1 a healthcred
error (for ``place verify``: invalid), 2 a usage error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from healthcred._deprecated import moved
from healthcred.cli.issuing import (
    check_outputs,
    check_region_option,
    check_signing_grant,
    signing_trust_option,
    write_qr_files,
)
from healthcred.cli.support import (
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_invalid,
    echo_json,
    fail_typed,
    force_option,
    iso,
    json_option,
    load_signing_key,
    read_code,
    time_option,
    trust_folder_option,
)
from healthcred.errors import HealthCredError
from healthcred.flows.places import (
    PLACE_CONTENT_TYPE,
    PLACE_GRANT_KIND,
    issue_place,
    read_place,
    verify_place,
)
from healthcred.rules.policy import SCENES
from healthcred.trust.folder import load_trust

__all__ = ["place", "register_places"]

__getattr__ = moved(__name__, "healthcred.cli.log")
# `log` shared this module until it had its own (cli.log); the old path healthcred.cli_places
# still gives it.


@click.group()
def place() -> None:
    """Issue, show and verify a venue's signed place code (JKP1: QR) for its scanning posts."""


@place.command("issue")
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="The region's private key that signs: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option("--venue-id", required=True, help="Venue id: 1–32 letters, digits, '.', '_', '-'.")
@click.option("--name", required=True, help="Display name of the venue or entrance (≤ 64 characters).")
@click.option("--region", required=True, help="GB/T 2260 code of the venue's division, e.g. 330106.")
@click.option("--scene", type=click.Choice(SCENES), required=True, help="Scene type (picks policy rules).")
@click.option(
    "--valid-days",
    type=click.IntRange(1, 366),
    default=365,
    show_default=True,
    help="Days the place code is valid from its issue time.",
)
@click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="Issue time (default now)."
)
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as PNG."
)
@click.option(
    "--svg", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as SVG."
)
@signing_trust_option()
@force_option()
@json_option("Print the place code and its fields as one JSON object (docs/cli.md).")
@fail_typed
def place_issue(
    key: Path,
    venue_id: str,
    name: str,
    region: str,
    scene: str,
    valid_days: int,
    issued: datetime | None,
    png: Path | None,
    svg: Path | None,
    trust_dir: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Sign a place code with a regional key; print its text.

    Refused before signing: a region outside GB/T 2260, an existing --png/--svg without --force,
    and with --trust a key whose grant there does not cover place codes for the region.
    """
    check_region_option(region)
    check_outputs((png, svg), force)
    signing_key = load_signing_key(key, "signing key", content_type=PLACE_CONTENT_TYPE)
    moment = (issued or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    checked = check_signing_grant(
        trust_dir,
        signing_key,
        region=region,
        issued_at=moment,
        kind=PLACE_GRANT_KIND,
        status=None,
        what="place code",
    )
    text = issue_place(
        signing_key,
        venue_id=venue_id,
        name=name,
        region=region,
        scene=scene,
        valid_for=timedelta(days=valid_days),
        issued_at=moment,
    )
    files = write_qr_files(text, (png, svg), force)
    if as_json:
        found = read_place(text)
        echo_json(
            {
                "text": text,
                **found.summary(),
                "issued_at": iso(found.issued_at),
                "expires_at": iso(found.expires_at),
                "files": files,
                "grant_checked": checked,
            }
        )
    else:
        click.echo(text)


@place.command("show")
@click.argument("code")
@json_option(
    "Print the place code and its fields as one JSON object (docs/cli.md, place show / place verify)."
)
@fail_typed
def place_show(code: str, as_json: bool) -> None:
    """Decode a place code WITHOUT verifying it (what the poster claims)."""
    found = read_place(read_code(code))
    if as_json:
        echo_json({"verified": False, **found.summary()})
    else:
        click.echo(
            f"UNVERIFIED  {found.name}  [{found.venue_id}]  region {found.region}  scene {found.scene}"
        )
        click.echo(f"  valid {found.issued_at.isoformat()} – {found.expires_at.isoformat()}")


@place.command("verify")
@click.argument("code")
@trust_folder_option()
@click.option(
    "--at", metavar="TIME", callback=time_option, default=None, help="Validation time (default now)."
)
@json_option(
    "Print the place code and its fields as one JSON object (docs/cli.md, place show / place verify)."
)
def place_verify(code: str, trust_dir: tuple[Path, ...], at: datetime | None, as_json: bool) -> None:
    """Verify a place code offline. Exit 0 valid, 1 invalid."""
    try:
        result = verify_place(read_code(code), load_trust(trust_dir), at=at)
    except HealthCredError as exc:
        echo_invalid(exc, as_json)
    found = result.place
    if as_json:
        echo_json(result.summary())
    else:
        click.echo(
            f"VALID  {found.name}  [{found.venue_id}]  region {found.region}  scene {found.scene}  "
            f"until {found.expires_at.isoformat()}  (key {result.kid.hex()}, {result.alg})"
        )


def register_places(main: click.Group) -> None:
    """Add ``place`` and ``log`` to a click group.

    Deprecated: the ``healthcred`` group lists every command itself; goes in the next release.
    """
    from healthcred.cli.log import log

    main.add_command(place)
    main.add_command(log)
