"""``healthcred place`` (venue place codes) and ``healthcred log`` (a collection point's scan log).

Exit codes as for the other commands: 0 success, 1 a healthcred error (for
``place verify``: invalid; for ``log record``: denied or an invalid code),
2 a usage error.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, cast

import click

from healthcred.cli.support import (
    EXISTING_FILE,
    echo_invalid,
    echo_json,
    fail_typed,
    read_code,
    time_option,
    trust_folder_option,
)
from healthcred.codec.qr import save_qr
from healthcred.crypto.keys import load_private_key
from healthcred.errors import HealthCredError
from healthcred.flows.gate import Gate
from healthcred.flows.places import issue_place, read_place, verify_place
from healthcred.flows.scanlog import (
    DEFAULT_RETENTION_DAYS,
    close_log,
    export_rows,
    generate_log_key,
    load_log_key,
    open_log,
    purge,
    record_scan,
    save_log_key,
    stats,
)
from healthcred.rules.policy import AREA_LEVELS, SCENES
from healthcred.trust.folder import load_trust

__all__ = ["log", "place", "register_places"]


# --- place codes -----------------------------------------------------------------------------


@click.group()
def place() -> None:
    """Issue, show and verify a venue's signed place code (JKP1: QR) for its scanning posts."""


@place.command("issue")
@click.option("--key", type=EXISTING_FILE, required=True)
@click.option("--venue-id", required=True, help="Venue id: 1–32 letters, digits, '.', '_', '-'.")
@click.option("--name", required=True, help="Display name of the venue or entrance (≤ 64 characters).")
@click.option("--region", required=True, help="GB/T 2260 code of the venue's division, e.g. 330106.")
@click.option("--scene", type=click.Choice(SCENES), required=True, help="Scene type (picks policy rules).")
@click.option("--valid-days", type=click.IntRange(1, 366), default=365, show_default=True)
@click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="Issue time (default now)."
)
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as PNG."
)
@click.option(
    "--svg", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as SVG."
)
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
) -> None:
    """Sign a place code with a regional key; print its text."""
    text = issue_place(
        load_private_key(key),
        venue_id=venue_id,
        name=name,
        region=region,
        scene=scene,
        valid_for=timedelta(days=valid_days),
        issued_at=issued,
    )
    for path in (png, svg):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_qr(text, path)
    click.echo(text)


@place.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
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
@click.option("--json", "as_json", is_flag=True)
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
            f"until {found.expires_at.isoformat()}  (key {result.kid.hex()})"
        )


# --- scan log --------------------------------------------------------------------------------

_DB = click.argument("db", type=click.Path(dir_okay=False, path_type=Path))
_KEY = click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The log's hashing key file (keep it apart from the database).",
)


@click.group()
def log() -> None:
    """A collection point's scan log (SQLite): record, export for tracing, purge, stats."""


@log.command("init")
@_DB
@_KEY
@fail_typed
def log_init(db: Path, key_file: Path) -> None:
    """Create a scan log and its hashing key file (mode 0600), or open an existing pair."""
    if not key_file.exists():
        save_log_key(generate_log_key(), key_file)
        click.echo(f"new log key {key_file} (mode 0600): give it only to the tracing authority")
    close_log(open_log(db, load_log_key(key_file)))
    click.echo(f"scan log {db} ready")


@log.command("record")
@_DB
@click.argument("code")
@_KEY
@trust_folder_option()
@click.option("--place", "place_code", required=True, help="The post's place code (text, .txt or image).")
@click.option("--level", type=click.Choice(AREA_LEVELS), default="low", show_default=True, help="Area risk.")
@click.option("--at", metavar="TIME", callback=time_option, default=None, help="Scan time (default now).")
@fail_typed
def log_record(
    db: Path,
    code: str,
    key_file: Path,
    trust_dir: tuple[Path, ...],
    place_code: str,
    level: str,
    at: datetime | None,
) -> None:
    """Verify CODE at the place, decide by the signed policy, and log the outcome.

    Exit 0 admit or not checked, 1 deny or an invalid code (logged as ``error``).
    """
    trust = load_trust(trust_dir)
    venue = verify_place(read_code(place_code), trust, at=at).place
    decision, result = Gate(trust, scene=venue.scene, level=level).check(read_code(code), at=at)
    scan_log = open_log(db, load_log_key(key_file))
    try:
        if result is None:  # the gate denies an invalid code with its error code as the rule
            record_scan(scan_log, place=venue.venue_id, outcome="error", error=decision.rule, at=at)
        else:
            record_scan(scan_log, place=venue.venue_id, outcome=decision.outcome, result=result, at=at)
    finally:
        close_log(scan_log)
    click.echo(f"{decision.outcome.upper()}  {decision.message}  [{decision.rule}]  at {venue.venue_id}")
    sys.exit(1 if decision.outcome == "deny" else 0)


@log.command("export")
@_DB
@_KEY
@click.option(
    "--credential-id", default=None, help="Only this credential's rows (hex id, hashed with the key)."
)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--since", metavar="TIME", callback=time_option, default=None)
@click.option("--until", metavar="TIME", callback=time_option, default=None)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default stdout)."
)
@fail_typed
def log_export(
    db: Path,
    key_file: Path,
    credential_id: str | None,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    out: Path | None,
) -> None:
    """Export rows for tracing as JSON lines or CSV (credential ids appear only as keyed hashes)."""
    try:
        wanted = None if credential_id is None else bytes.fromhex(credential_id)
    except ValueError as exc:
        raise click.BadParameter("--credential-id is the credential id in hex") from exc
    form = cast(Literal["csv", "jsonl"], fmt)
    scan_log = open_log(db, load_log_key(key_file))
    try:
        if out is None:
            count = export_rows(
                scan_log, sys.stdout, fmt=form, credential_id=wanted, since=since, until=until
            )
        else:
            try:
                with open(out, "w", encoding="utf-8", newline="") as target:
                    count = export_rows(
                        scan_log, target, fmt=form, credential_id=wanted, since=since, until=until
                    )
            except OSError as exc:
                raise click.FileError(str(out), hint=exc.strerror or str(exc)) from exc
    finally:
        close_log(scan_log)
    click.echo(f"{count} rows", err=True)


@log.command("purge")
@_DB
@_KEY
@click.option("--days", type=click.IntRange(min=1), default=DEFAULT_RETENTION_DAYS, show_default=True)
@click.option(
    "--now", metavar="TIME", callback=time_option, default=None, help="Reference time (default now)."
)
@fail_typed
def log_purge(db: Path, key_file: Path, days: int, now: datetime | None) -> None:
    """Delete rows older than the retention period (securely: pages overwritten, WAL truncated)."""
    scan_log = open_log(db, load_log_key(key_file))
    try:
        deleted = purge(scan_log, days=days, now=now)
    finally:
        close_log(scan_log)
    click.echo(f"purged {deleted} rows older than {days} days")


@log.command("stats")
@_DB
@_KEY
@click.option("--json", "as_json", is_flag=True)
@fail_typed
def log_stats(db: Path, key_file: Path, as_json: bool) -> None:
    """Row count, time span, outcomes and colours."""
    scan_log = open_log(db, load_log_key(key_file))
    try:
        summary = stats(scan_log)
    finally:
        close_log(scan_log)
    if as_json:
        echo_json(summary)
    else:
        click.echo(
            f"{summary['rows']} rows at {summary['places']} places, {summary['first']} – {summary['last']}"
        )
        click.echo("  outcomes: " + ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items()))
        click.echo("  colours: " + ", ".join(f"{k} {v}" for k, v in summary["colours"].items()))


def register_places(main: click.Group) -> None:
    """Add ``place`` and ``log`` to the ``healthcred`` command (one line in ``cli.py``)."""
    main.add_command(place)
    main.add_command(log)
