"""Helpers shared by the command-line modules: typed failures, file writes, time options."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from healthcred.cli.exits import JSON_MODE, USAGE, CommandFailure, exit_code_for
from healthcred.codec.prefix import KNOWN_PREFIXES
from healthcred.errors import BadInput, HealthCredError
from healthcred.files import read_bounded, write_atomic
from healthcred.limits import MAX_EPOCH

if TYPE_CHECKING:  # the verify flow and the rules engine load only for the commands that use them
    from healthcred.codec.qr import Backend
    from healthcred.rules.status import StatusRuleSet

__all__ = [
    "EXISTING_FILE",
    "INPUT_LIMIT",
    "code_argument",
    "echo_invalid",
    "echo_json",
    "fail_typed",
    "iso",
    "iso_epoch",
    "json_option",
    "parse_time",
    "read_code",
    "read_input",
    "read_json",
    "read_status_rules",
    "read_text_input",
    "time_option",
    "trust_folder_option",
    "write_file",
]

F = TypeVar("F", bound=Callable[..., Any])

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
"""The click type of an option or argument naming a file that must exist (keys, lists, rule sets)."""


def fail_typed(func: F) -> F:
    """Decorate a command so that a HealthCredError is one line on stderr and its exit code.

    The top-level group does the same for every command (:mod:`healthcred.cli.exits`); this keeps
    a command invoked on its own (a test, an embedding app) to the same contract.
    """

    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HealthCredError as exc:
            raise CommandFailure(f"[{exc.code}] {exc.message}", exit_code_for(exc), code=exc.code) from exc

    return run  # type: ignore[return-value]


def json_option(
    help_text: str = "Print the result as one JSON object on stdout (docs/cli.md).",
) -> Callable[[F], F]:
    """The ``--json`` flag (parameter ``as_json``); a failure is then a JSON object on stdout too."""

    def remember(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.meta[JSON_MODE] = True
        return value

    option: Callable[[F], F] = click.option(
        "--json", "as_json", is_flag=True, is_eager=True, callback=remember, help=help_text
    )
    return option


def iso(moment: datetime | None) -> str | None:
    """A time as the command line prints it: ISO 8601 to the second with its offset (UTC here)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def iso_epoch(seconds: int | None) -> str | None:
    """Epoch seconds (as CWT claims hold them) printed as :func:`iso`."""
    if seconds is None:
        return None
    if not 0 <= seconds <= MAX_EPOCH:
        return str(seconds)
    return iso(datetime.fromtimestamp(seconds, UTC))


INPUT_LIMIT = 64 * 1024 * 1024
"""The most bytes a command reads from one named file or stdin (images, lists, CSV, bundles)."""


def read_input(value: str | Path, *, what: str = "file", limit: int = INPUT_LIMIT) -> bytes:
    """The bytes of a file an argument names, or of stdin for ``-``: bounded, never blocking.

    A missing, unreadable or oversized file, a folder or a FIFO is a usage error (exit 2) naming
    the file as the user gave it.
    """
    name = str(value)
    if name == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise CommandFailure(f"{what} on stdin is larger than {limit:,} bytes", USAGE)
        return data
    try:
        return read_bounded(name, limit)
    except HealthCredError as exc:
        raise CommandFailure(f"{what} {name}: {exc.message}", USAGE) from exc


def read_text_input(value: str | Path, *, what: str = "file", limit: int = INPUT_LIMIT) -> str:
    """:func:`read_input` decoded as UTF-8 (a BOM is dropped); other bytes are a usage error."""
    data = read_input(value, what=what, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandFailure(
            f"{what} {value}: not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})", USAGE
        ) from exc


def write_file(path: Path, data: bytes | str, *, overwrite: bool = True) -> None:
    """Write a file atomically, creating folders; failures are click errors, not tracebacks.

    With ``overwrite=False`` an existing file is refused (atomically: no race replaces it).
    """
    # Output folders are created as needed; an unwritable path is a clear error, not a traceback.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, overwrite=overwrite)
    except OSError as exc:
        raise click.FileError(str(path), hint=exc.strerror or str(exc)) from exc
    except BadInput as exc:
        raise click.FileError(str(path), hint=exc.message) from exc


def parse_time(value: str) -> datetime:
    """An ISO 8601 time with an offset (``2026-11-23T08:00:00+08:00``, ``…Z``) or epoch seconds.

    Years 1970–9999 only: a time outside them is a usage error, not an overflow.
    """
    if value.isdigit():
        if len(value) > 12 or int(value) > MAX_EPOCH:
            raise click.BadParameter(f"{value!r}: epoch seconds past the year 9999")
        return datetime.fromtimestamp(int(value), UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a time; give ISO 8601 with an offset"
            " (2026-11-23T08:00:00+08:00) or epoch seconds"
        ) from exc
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no offset; give e.g. 2026-11-23T08:00:00+08:00 or …Z")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as exc:
        raise click.BadParameter(f"{value!r} is outside the years 1970–9999") from exc
    if utc.year < 1970:
        raise click.BadParameter(f"{value!r} is before 1970")
    return moment


def time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """A click callback turning an option's text into a time (see :func:`parse_time`)."""
    return None if value is None else parse_time(value)


def trust_folder_option(
    help_text: str = "Trust folder (anchors/, lists/, …; as `demo` writes one).",
) -> Callable[[F], F]:
    """The ``--trust PATH`` option of the commands that verify: repeatable, for ``load_trust``.

    Each PATH is a trust folder or foreign trust (a DSC file or folder, a JSON DSC list, an
    SHC issuer file); the command gets them as a tuple, merged into one store by ``load_trust``.
    """
    option: Callable[[F], F] = click.option(
        "--trust",
        "trust_dir",
        type=click.Path(exists=True, path_type=Path),
        required=True,
        multiple=True,
        help=help_text
        + " Repeat it to add foreign trust: EU DCC signing certificates (DER, PEM, a folder, a JSON list)"
        + " or a SMART Health Card issuer file ({iss, keys, crls}).",
    )
    return option


def read_json(path: Path) -> Any:
    """The JSON in a file an option names; unreadable or not JSON is a usage error (exit 2)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: not readable JSON: {exc}") from exc


def read_status_rules(path: Path | None) -> StatusRuleSet | None:
    """The status rule set in a JSON file (``--status-rules``), validated; ``None`` without a path."""
    if path is None:
        return None
    from healthcred.rules.status import StatusRuleSet

    try:
        return StatusRuleSet(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a JSON status rule set: {exc}") from exc


def code_argument(value: str) -> str | Path:
    """A CODE argument as the library takes it: `-` is stdin, a .txt file its text, another file a Path.

    The command line is the operator's, so here (and only here) a string may name
    a file: it is handed on as a :class:`~pathlib.Path`, since the library takes
    every ``str`` as code text. Text that starts with a known prefix is never a path.
    """
    if value == "-":
        return sys.stdin.read().strip()
    # isfile, not Path.is_file: it is False (not an OSError) for a name too long or holding NUL.
    if value.startswith(tuple(KNOWN_PREFIXES)) or len(value) >= 4096 or not os.path.isfile(value):
        return value
    path = Path(value)
    if path.suffix.lower() != ".txt":
        return path
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read code file {value}: {exc}") from exc


def read_code(value: str, *, qr_backend: Backend = "zxing") -> str:
    """A CODE argument's QR text (:func:`code_argument`; an image is read as QR).

    Every command that takes a CODE reads it this way.
    """
    from healthcred.flows.verify import code_text

    return code_text(code_argument(value), qr_backend=qr_backend)


def echo_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON (UTF-8 text kept readable)."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def echo_invalid(exc: HealthCredError, as_json: bool) -> NoReturn:
    """As ``healthcred verify``: an invalid result is a line (or JSON) on stdout and exit code 1."""
    if as_json:
        echo_json({"valid": False, "error": exc.code, "message": exc.message})
    else:
        click.echo(f"INVALID  [{exc.code}] {exc.message}")
    sys.exit(1)
