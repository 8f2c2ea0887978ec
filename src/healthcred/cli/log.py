"""``healthcred log``: a collection point's scan log (SQLite): record, export for tracing, purge, stats.

Exit codes as for the other commands (``docs/cli.md``): 0 success (for ``log record``: admitted or
not checked), 1 refused (for ``log record``: denied, an invalid code, or a paper code whose ID was
not checked), 2 a usage error, 3 this side's setup (the log key, the scan log, trust, policy, the
post's place code, the ID-check key).
"""

from __future__ import annotations

import io
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.gate_support import decision_json, echo_decision, exit_for, gate_check
from healthcred.cli.holder import id_options, key_source, load_gate_trust, one_stdin, open_holder
from healthcred.cli.support import (
    InputFile,
    echo_json,
    fail_typed,
    input_name,
    iso,
    json_option,
    read_code,
    time_option,
    trust_folder_option,
    write_file,
)
from healthcred.errors import ScanLogError
from healthcred.flows.gate import CHECK_ID, Gate, GateDecision
from healthcred.flows.places import verify_place
from healthcred.flows.scanlog import (
    DEFAULT_RETENTION_DAYS,
    ScanLog,
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
from healthcred.model import VerificationResult
from healthcred.rules.policy import AREA_LEVELS

__all__ = ["log"]

_DB = click.argument("db", type=click.Path(dir_okay=False, path_type=Path))
_KEY = click.option(
    "--key",
    "key_file",
    type=InputFile(exists=False),  # a missing key is this side's setup (exit 3), not usage
    required=True,
    help="The log's hashing key file (keep it apart from the database); `-`: stdin (not for log init).",
)


@click.group()
def log() -> None:
    """A collection point's scan log (SQLite): record, export for tracing, purge, stats."""


def _log_key(key_file: Path) -> bytes:
    """The log key of ``--key`` (a file, or ``-``: stdin); missing or unusable is exit 3."""
    with setup_step(f"log key {input_name(key_file)}"):
        return load_log_key(key_source(key_file, "log key"))


def _open(db: Path, key_file: Path, *, create: bool = False) -> ScanLog:
    """The scan log with its key: a missing or wrong key, or a log that cannot be opened, is exit 3.

    Only ``log init`` (``create``) makes a new log: elsewhere a missing or empty file is a log
    that was never set up, not one to create silently in the wrong place.
    """
    if str(db) == "-":
        raise click.UsageError("DB is the scan log's file; stdin cannot hold one")
    key = _log_key(key_file)
    with setup_step(f"scan log {db}"):
        if not create and (not db.is_file() or db.stat().st_size == 0):
            raise ScanLogError("no scan log here (missing or empty): create it with `healthcred log init`")
        return open_log(db, key)


@log.command("init")
@_DB
@_KEY
@json_option('One JSON object: {"db", "key", "new_key", "key_mode"} (docs/cli.md).')
@fail_typed
def log_init(db: Path, key_file: Path, as_json: bool) -> None:
    """Create a scan log and its hashing key file (mode 0600), or open an existing pair."""
    if "-" in (str(db), str(key_file)):
        raise click.UsageError("log init writes DB and --key as files; stdin cannot be one")
    for path in (key_file, db):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # named as given, with the folder that could not be made
            raise click.FileError(
                str(path), hint=f"cannot create {path.parent}: {exc.strerror or exc}"
            ) from exc
    new_key = not key_file.exists()
    if new_key:
        with setup_step(f"log key {input_name(key_file)}"):
            save_log_key(generate_log_key(), key_file)
    close_log(_open(db, key_file, create=True))
    if as_json:
        mode = f"{stat.S_IMODE(os.stat(key_file).st_mode):04o}"
        echo_json({"db": str(db), "key": str(key_file), "new_key": new_key, "key_mode": mode})
        return
    if new_key:
        click.echo(f"new log key {key_file} (mode 0600): give it only to the tracing authority")
    click.echo(f"scan log {db} ready")


def _record(
    scan_log: ScanLog, venue: str, decision: GateDecision, result: VerificationResult | None, at: datetime
) -> str:
    """Log one scan; the row's outcome (a paper code with its ID unchecked is an ``error`` row)."""
    if result is None:  # the gate denies an invalid code with its error code as the rule
        record_scan(
            scan_log, place=venue, outcome="error", error=decision.rule, at=at, policy=decision.policy
        )
        return "error"
    if decision.outcome == CHECK_ID:  # not admitted, not denied: kept with its credential for tracing
        record_scan(
            scan_log,
            place=venue,
            outcome="error",
            error=decision.rule,
            result=result,
            at=at,
            policy=decision.policy,
        )
        return "error"
    outcome = cast(Literal["admit", "deny", "not_checked"], decision.outcome)
    record_scan(scan_log, place=venue, outcome=outcome, result=result, at=at, policy=decision.policy)
    return outcome


@log.command("record")
@_DB
@click.argument("code")
@_KEY
@trust_folder_option()
@click.option(
    "--place", "place_code", required=True, help="The post's signed place code (text, .txt or image)."
)
@click.option("--level", type=click.Choice(AREA_LEVELS), default="low", show_default=True, help="Area risk.")
@click.option(
    "--at", metavar="TIME", callback=time_option, default=None, help="Scan (validation) time; default now."
)
@id_options
@json_option(
    "One JSON object: the decision (as decide --json) with place, scene, level, logged and at (docs/cli.md)."
)
@fail_typed
def log_record(
    db: Path,
    code: str,
    key_file: Path,
    trust_dir: tuple[Path, ...],
    place_code: str,
    level: str,
    at: datetime | None,
    id_key: Path | None,
    id_number: str | None,
    as_json: bool,
) -> None:
    """Verify CODE at the place, decide by the signed policy, and log the outcome.

    Exit 0 admit or not checked, 1 deny, an invalid code (logged as ``error``) or a paper code
    whose holder's ID was not checked (CHECK_ID, logged as ``error`` id_not_checked: check the
    ID and scan again); 3 when the log, its key, trust, policy, place code or ID-check key cannot
    be used.
    """
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    one_stdin(
        DB=db,
        CODE=code,
        **{"--key": key_file, "--place": place_code, "--id-key": id_key, "--id-number": id_number},
    )
    holder = open_holder(id_key, id_number, (code, place_code))
    scan_log = _open(db, key_file)  # before anyone is asked for an ID number
    try:
        trust = load_gate_trust(trust_dir)
        with setup_step(f"place code {input_name(place_code)}"):  # the post's own code is its setup
            venue = verify_place(read_code(place_code), trust, at=moment).place
        gate = Gate(trust, scene=venue.scene, level=level)
        decision, result = gate_check(gate, code, holder, moment)
        logged = _record(scan_log, venue.venue_id, decision, result, moment)
    finally:
        close_log(scan_log)
    if as_json:
        extra = {
            "place": venue.venue_id,
            "scene": venue.scene,
            "level": level,
            "logged": logged,
            "at": iso(moment),
        }
        echo_json({**decision_json(code, decision, result), **extra})
    else:
        echo_decision(decision, result, holder, f"at {venue.venue_id}")
    sys.exit(exit_for(decision))


@log.command("export")
@_DB
@_KEY
@click.option(
    "--credential-id", default=None, help="Only this credential's rows (hex id, hashed with the key)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON lines (one object a row) or CSV with a header.",
)
@click.option(
    "--since", metavar="TIME", callback=time_option, default=None, help="Only rows at or after TIME."
)
@click.option(
    "--until", metavar="TIME", callback=time_option, default=None, help="Only rows at or before TIME."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default stdout)."
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@json_option('With --out: report {"rows", "format", "out"} as one JSON object on stdout (docs/cli.md).')
@fail_typed
def log_export(
    db: Path,
    key_file: Path,
    credential_id: str | None,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    out: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Export rows for tracing as JSON lines or CSV (credential ids appear only as keyed hashes)."""
    if as_json and out is None:
        raise click.UsageError("--json reports on stdout, which then holds the rows: give --out FILE")
    if out is not None and os.path.lexists(out) and not force:
        raise click.UsageError(f"--out {out} exists; pass --force to replace it")
    try:
        wanted = None if credential_id is None else bytes.fromhex(credential_id)
    except ValueError as exc:
        raise click.BadParameter("--credential-id is the credential id in hex") from exc
    form = cast(Literal["csv", "jsonl"], fmt)
    options: dict[str, Any] = {"fmt": form, "credential_id": wanted, "since": since, "until": until}
    scan_log = _open(db, key_file)
    try:
        if out is None:
            count = export_rows(scan_log, sys.stdout, **options)
        else:  # whole, then written atomically: a reader never sees half an export
            buffer = io.StringIO(newline="")
            count = export_rows(scan_log, buffer, **options)
    finally:
        close_log(scan_log)
    if out is not None:
        write_file(out, buffer.getvalue().encode("utf-8"), overwrite=force)
    if as_json:
        echo_json({"rows": count, "format": fmt, "out": str(out)})
    else:
        click.echo(f"{count} rows", err=True)


NOW_DEPRECATED = "warning: log purge --now is deprecated; use --at (the time the purge is judged at)"
"""The stderr line ``log purge --now`` prints (it still works, as --at)."""


def _deprecated_now(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--now``: the old name of ``--at``; it warns once on stderr and then works as ``--at``."""
    if value is None:
        return None
    moment = time_option(ctx, param, value)  # a bad time is its one usage line, without the warning
    click.echo(NOW_DEPRECATED, err=True)
    return moment


@log.command("purge")
@_DB
@_KEY
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=DEFAULT_RETENTION_DAYS,
    show_default=True,
    help="Retention: delete the rows older than this many days before --at.",
)
@click.option(
    "--at",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="The time the purge is judged at: rows older than --days before it go (default now).",
)
@click.option(
    "--now",
    metavar="TIME",
    callback=_deprecated_now,
    default=None,
    hidden=True,
    help="Deprecated spelling of --at.",
)
@json_option('Report {"purged", "days", "before"} as one JSON object (docs/cli.md).')
@fail_typed
def log_purge(
    db: Path, key_file: Path, days: int, at: datetime | None, now: datetime | None, as_json: bool
) -> None:
    """Delete rows older than the retention period (securely: pages overwritten, WAL truncated)."""
    if at is not None and now is not None:
        raise click.UsageError("--now is the old name of --at: give one of them")
    reference = (at or now or datetime.now(UTC)).astimezone(UTC)
    scan_log = _open(db, key_file)
    try:
        deleted = purge(scan_log, days=days, now=reference)
    finally:
        close_log(scan_log)
    if as_json:
        echo_json({"purged": deleted, "days": days, "before": iso(reference - timedelta(days=days))})
    else:
        click.echo(
            f"purged {deleted} rows older than {days} days (before {iso(reference - timedelta(days=days))})"
        )


@log.command("stats")
@_DB
@_KEY
@json_option('One JSON object: {"rows", "first", "last", "places", "outcomes", "colours", "retention_days"}.')
@fail_typed
def log_stats(db: Path, key_file: Path, as_json: bool) -> None:
    """Row count, time span, outcomes and colours."""
    scan_log = _open(db, key_file)
    try:
        summary = stats(scan_log)
    finally:
        close_log(scan_log)
    if as_json:
        echo_json(summary)
    elif not summary["rows"]:
        click.echo(f"0 rows: the scan log {db} is empty")
    else:
        click.echo(
            f"{summary['rows']} rows at {summary['places']} places, {summary['first']} – {summary['last']}"
        )
        click.echo("  outcomes: " + ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items()))
        click.echo("  colours: " + ", ".join(f"{k} {v}" for k, v in summary["colours"].items()))
