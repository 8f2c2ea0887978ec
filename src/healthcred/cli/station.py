"""``healthcred station``: a checkpoint page on 127.0.0.1 that scans codes with the camera, offline.

Every input is checked before the server starts (trust folder, scene, level, place code, ID-check
key, scan log and its key, the port), so a bad one is one line and an exit code, never a server
that starts and then fails. ``--check`` stops there: it prints what the station would serve and
exits 0. The operator token is printed once, here, and never put in a URL or a log.
"""

from __future__ import annotations

import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path

import click

from healthcred.cli.exits import SETUP, CommandFailure, setup_step
from healthcred.cli.holder import key_source
from healthcred.cli.support import InputFile, fail_typed, input_name, one_stdin, read_code
from healthcred.errors import ScanLogError
from healthcred.flows.idcheck import IdCheckKey, load_id_key
from healthcred.flows.places import PlaceResult, verify_place
from healthcred.flows.scanlog import ScanLog, close_log, load_log_key, open_log
from healthcred.rules.policy import AREA_LEVELS, SCENES
from healthcred.station.checkpoint import DEFAULT_REPEAT_SECONDS, Checkpoint

__all__ = ["DEFAULT_PORT", "station"]

DEFAULT_PORT = 8731
"""The station's port on 127.0.0.1 unless --port says otherwise."""


@click.command()
@click.option(
    "--trust",
    "trust_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="The station's trust folder (as `demo` writes one); bundles the operator installs go here.",
)
@click.option("--scene", type=click.Choice(SCENES), required=True, help="The kind of place this post guards.")
@click.option("--level", type=click.Choice(AREA_LEVELS), required=True, help="Risk level of this area.")
@click.option(
    "--place",
    "place_code",
    default=None,
    help="The post's signed place code (text, .txt or image): the scan log's place and the repeat window's.",
)
@click.option(
    "--id-key",
    type=InputFile(exists=False),  # a missing key is this side's setup (exit 3), not usage
    default=None,
    help="This verifier's ID-check key file, to check paper codes against the holder's ID number.",
)
@click.option(
    "--log",
    "log_db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The scan log (SQLite, made by `log init`): every decision is a row with its policy.",
)
@click.option(
    "--log-key",
    type=InputFile(exists=False),
    default=None,
    help="The scan log's hashing key file (needed with --log).",
)
@click.option(
    "--repeat",
    "repeat_seconds",
    type=click.IntRange(min=0, max=86400),
    default=DEFAULT_REPEAT_SECONDS,
    show_default=True,
    help="Seconds in which the same code seen again at this place is 'already scanned', not a new entry.",
)
@click.option(
    "--watch",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder watched for new trust bundles (*.cose), installed as an upload is.",
)
@click.option(
    "--port",
    type=click.IntRange(min=1, max=65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="The port on 127.0.0.1 (the station never listens on another address).",
)
@click.option(
    "--decoder",
    type=click.Choice(["station", "page"]),
    default="station",
    show_default=True,
    help="Where camera frames are decoded: here with zxing-cpp (faster, measured) or in the page with jsQR.",
)
@click.option("--check", is_flag=True, help="Check every input, print what would be served, and exit.")
@fail_typed
def station(
    trust_dir: Path,
    scene: str,
    level: str,
    place_code: str | None,
    id_key: Path | None,
    log_db: Path | None,
    log_key: Path | None,
    repeat_seconds: int,
    watch: Path | None,
    port: int,
    decoder: str,
    check: bool,
) -> None:
    """Serve a checkpoint page on 127.0.0.1: scan codes with the camera, decide by the signed policy.

    Open the printed address in a browser on this machine and allow the camera. Each code is
    verified offline and decided by the trust folder's signed policy for --scene and --level;
    a paper code asks for the holder's ID number (--id-key). The operator panel (scene, level,
    trust status and installs, scan-log export) needs the token printed at start-up. Exit 2 on a
    usage error, 3 when the trust folder, its policy, a key, the log or the port cannot be used.
    """
    if (log_db is None) != (log_key is None):
        raise click.UsageError("--log and --log-key go together (the scan log and its hashing key)")
    if str(log_db) == "-":
        raise click.UsageError("--log is the scan log's file (SQLite); stdin cannot hold one")
    one_stdin(**{"--place": place_code, "--id-key": id_key, "--log-key": log_key})
    moment = datetime.now(UTC)
    with setup_step(f"--trust {trust_dir}"):
        checkpoint = Checkpoint(trust_dir, scene=scene, level=level, repeat_seconds=repeat_seconds)
        policy = checkpoint.gate.policy(moment)
    checkpoint.place = _place(place_code, checkpoint, moment)
    if checkpoint.place is not None:
        checkpoint.venue = checkpoint.place.place.venue_id
    checkpoint.id_key = _id_key(id_key)
    checkpoint.log = _log(log_db, log_key)
    try:
        sock = _bind(port) if not check else None
        click.echo(
            f"station: {scene}, level {level}, place {checkpoint.venue}, "
            f"policy {policy.id} v{policy.version}, {len(checkpoint.trust.lists)} trust list(s)"
            + (f", scan log {log_db}" if log_db else ", no scan log")
            + ("" if id_key else ", no ID-check key (paper codes are not admitted)")
        )
        if sock is None:
            return
        _serve(checkpoint, sock, port, watch, decoder)
    finally:
        if checkpoint.log is not None:
            close_log(checkpoint.log)


def _place(place_code: str | None, checkpoint: Checkpoint, moment: datetime) -> PlaceResult | None:
    if place_code is None:
        return None
    with setup_step(f"place code {input_name(place_code)}"):  # the post's own code is its setup
        result = verify_place(read_code(place_code), checkpoint.trust, at=moment)
    if result.place.scene != checkpoint.gate.scene:
        click.echo(
            f"note: the place code is a {result.place.scene}'s; deciding as --scene {checkpoint.gate.scene}",
            err=True,
        )
    return result


def _id_key(path: Path | None) -> IdCheckKey | None:
    if path is None:
        return None
    with setup_step(f"ID-check key {input_name(path)}"):
        return load_id_key(key_source(path, "ID-check key"))


def _log(db: Path | None, key_file: Path | None) -> ScanLog | None:
    if db is None or key_file is None:
        return None
    with setup_step(f"log key {input_name(key_file)}"):
        key = load_log_key(key_source(key_file, "log key"))
    with setup_step(f"scan log {db}"):
        if not db.is_file() or db.stat().st_size == 0:
            raise ScanLogError("no scan log here (missing or empty): create it with `healthcred log init`")
        return open_log(db, key)


def _bind(port: int) -> socket.socket:
    from healthcred.station.server import bind

    try:
        return bind(port)
    except OSError as exc:
        raise CommandFailure(
            f"--port {port}: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", SETUP
        ) from exc


def _serve(checkpoint: Checkpoint, sock: socket.socket, port: int, watch: Path | None, decoder: str) -> None:
    from healthcred.station.app import make_app  # Starlette and uvicorn: only when serving
    from healthcred.station.server import serve

    token = secrets.token_urlsafe(24)
    click.echo(f"open http://127.0.0.1:{port}/ in a browser on this machine (the camera page)")
    click.echo(f"operator token (the panel asks for it; keep it to yourself): {token}")
    click.echo("stop with Ctrl-C", err=True)
    serve(make_app(checkpoint, token, port, watch, decoder), sock)
