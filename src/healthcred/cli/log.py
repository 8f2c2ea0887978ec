"""``healthcred log``: a collection point's scan log (SQLite): record, export for tracing, purge, stats.

Exit codes as for the other commands: 0 success (for ``log record``: admitted or not checked),
1 a healthcred error (for ``log record``: denied or an invalid code), 2 a usage error.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Literal, cast

import click

from healthcred.cli.support import echo_json, fail_typed, read_code, time_option, trust_folder_option
from healthcred.flows.gate import Gate
from healthcred.flows.places import verify_place
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
from healthcred.rules.policy import AREA_LEVELS
from healthcred.trust.folder import load_trust

__all__ = ["log"]

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
