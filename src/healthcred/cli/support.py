"""Helpers shared by the command-line modules: typed failures, file writes, time options."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from healthcred.cli.exits import JSON_MODE, USAGE, CommandFailure, exit_code_for, setup_step
from healthcred.clock import iso_time
from healthcred.codec.prefix import KNOWN_PREFIXES, strip_prefix
from healthcred.errors import BadInput, BadKey, BadPrefix, HealthCredError
from healthcred.files import read_bounded, write_atomic
from healthcred.limits import MAX_EPOCH

if TYPE_CHECKING:  # the verify flow and the rules engine load only for the commands that use them
    from healthcred.codec.qr import Backend
    from healthcred.crypto.algorithms import PrivateKey, PublicKey
    from healthcred.crypto.cose import Signer
    from healthcred.rules.status import StatusRuleSet

__all__ = [
    "INPUT_FILE",
    "INPUT_LIMIT",
    "KEY_URI_HELP",
    "SIGNING_KEY",
    "InputFile",
    "SigningKeyInput",
    "code_argument",
    "echo_invalid",
    "echo_json",
    "fail_typed",
    "force_option",
    "input_name",
    "is_token_key",
    "iso",
    "iso_epoch",
    "json_option",
    "load_private_file",
    "load_public_file",
    "load_signing_key",
    "naming",
    "one_stdin",
    "parse_time",
    "public_of",
    "read_code",
    "read_input",
    "read_json",
    "read_status_rules",
    "read_text_input",
    "take_stdin",
    "time_option",
    "trust_folder_option",
    "write_file",
    "write_new",
]

F = TypeVar("F", bound=Callable[..., Any])


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
    """A time as the command line prints it (:func:`healthcred.clock.iso_time`); ``None`` stays ``None``."""
    return None if moment is None else iso_time(moment)


def iso_epoch(seconds: int | None) -> str | None:
    """Epoch seconds (as CWT claims hold them) printed as :func:`iso`."""
    return None if seconds is None else iso_time(seconds)


INPUT_LIMIT = 64 * 1024 * 1024
"""The most bytes a command reads from one named file or stdin (images, lists, CSV, bundles)."""


class InputFile(click.Path):
    """A file input that may also be ``-`` (stdin); a second ``-`` on one command line is refused.

    The claim is made while the command line is parsed, so two ``-`` inputs are a usage error
    (exit 2) before either is read. ``exists=False`` leaves a missing file to the command (a key
    whose absence is this side's setup, exit 3).
    """

    def __init__(self, *, exists: bool = True) -> None:
        super().__init__(exists=exists, dir_okay=False, allow_dash=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path, after claiming stdin for ``param`` when ``value`` is ``-``."""
        if str(value) == "-" and ctx is not None:
            _declare_stdin(ctx, _label(param), again=False)  # one line, exit 2, before any read
        return super().convert(value, param, ctx)


INPUT_FILE = InputFile()
"""The click type of a file input that may also be ``-`` (stdin): read it with :func:`read_input`."""


class SigningKeyInput(InputFile):
    """A ``--key`` that signs: a PEM file (or ``-``), or a PKCS#11 URI (``pkcs11:…``) of a token key.

    A URI is parsed here, so a malformed one is a usage error (exit 2) before anything is read.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The URI text as given, once it parses; else the file as :class:`InputFile` takes it."""
        if isinstance(value, str) and value[:7].lower() == "pkcs11:":
            from healthcred.crypto.pkcs11uri import parse_uri

            try:
                parse_uri(value)
            except HealthCredError as exc:
                self.fail(exc.message, param, ctx)
            return value
        return super().convert(value, param, ctx)


KEY_URI_HELP = (
    ", or a PKCS#11 URI of a key in a token (pkcs11:token=…;object=…?pin-source=file:…; docs/hsm.md)."
)
"""The end of every signing ``--key``'s help: it may name a token key."""

SIGNING_KEY = SigningKeyInput()
"""The click type of a signing ``--key``: a PEM file, ``-``, or ``pkcs11:…``; load it with
:func:`load_signing_key`."""

_STDIN_TAKEN = "healthcred.stdin"  # the input that read stdin, once it is read
_STDIN_NAMED = "healthcred.stdin.named"  # the inputs given as `-` on the command line


def _label(param: click.Parameter | None) -> str:
    if param is None:
        return "an input"
    if isinstance(param, click.Option):
        return param.opts[0]
    return (param.name or "input").upper()


def _declare_stdin(ctx: click.Context, label: str, *, again: bool) -> None:
    named: list[str] = ctx.meta.setdefault(_STDIN_NAMED, [])
    if again and label in named:
        return
    if named:
        raise CommandFailure(f"stdin can hold only one input: {named[0]} and {label} are both `-`", USAGE)
    named.append(label)


def one_stdin(**inputs: object) -> None:
    """Refuse, before anything is read, a command line on which more than one input is ``-``.

    For inputs that are not :class:`InputFile` (a CODE, ``--id-number``): each ``NAME=value`` whose
    value is ``-`` is claimed in the same place :class:`InputFile` claims its own, so two ``-`` of
    either kind are one usage error (exit 2).
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    for label, value in inputs.items():
        items = value if isinstance(value, tuple) else (value,)  # a repeatable option's values
        dashes = sum(1 for item in items if item is not None and str(item) == "-")
        if dashes > 1:
            raise CommandFailure(f"stdin can hold only one input: {label} gives `-` twice", USAGE)
        if dashes:
            _declare_stdin(ctx, label, again=True)


def take_stdin(what: str) -> None:
    """Claim stdin for one input as it is read; a second input read from ``-`` is a usage error."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    first = ctx.meta.get(_STDIN_TAKEN)
    if first is not None:
        raise CommandFailure(f"stdin can hold only one input: {first} and {what} are both `-`", USAGE)
    ctx.meta[_STDIN_TAKEN] = what


def read_input(
    value: str | Path,
    *,
    what: str = "file",
    limit: int = INPUT_LIMIT,
    too_large: type[HealthCredError] | None = None,
) -> bytes:
    """The bytes of a file an argument names, or of stdin for ``-``: bounded, never blocking.

    A missing, unreadable or oversized file, a folder or a FIFO is a usage error (exit 2) naming
    the file as the user gave it. With ``too_large``, an input over ``limit`` is that error instead
    (a binding or family bundle larger than one may be is a refused input, exit 1).
    """
    name = str(value)
    if name == "-":
        take_stdin(what)
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            message = f"{what} on stdin is larger than {limit:,} bytes"
            raise CommandFailure(message, USAGE) if too_large is None else too_large(message)
        return data
    try:
        return read_bounded(name, limit, too_large=too_large)
    except HealthCredError as exc:
        # read_bounded's message names the file already ("cannot read X: …", "X is larger than …").
        message = f"{what} {exc.message}" if name in exc.message else f"{what} {name}: {exc.message}"
        if too_large is not None and type(exc) is too_large:
            raise too_large(message) from exc
        raise CommandFailure(message, USAGE) from exc


def read_text_input(value: str | Path, *, what: str = "file", limit: int = INPUT_LIMIT) -> str:
    """:func:`read_input` decoded as UTF-8 (a BOM is dropped); other bytes are ``bad_input`` (exit 1)."""
    data = read_input(value, what=what, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{input_name(value)}: not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})"
        ) from exc


def write_file(path: Path, data: bytes | str, *, overwrite: bool = True) -> None:
    """Write a file atomically, creating folders; failures are click errors, not tracebacks.

    With ``overwrite=False`` an existing file is refused (atomically: no race replaces it).
    """
    # Output folders are created as needed; an unwritable path is a clear error, not a traceback.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder belongs: say which, not "File exists"
        raise click.FileError(str(path), hint=f"cannot create its folder {path.parent}") from exc
    try:
        write_atomic(path, data, overwrite=overwrite)
    except OSError as exc:
        raise click.FileError(str(path), hint=exc.strerror or str(exc)) from exc
    except BadInput as exc:
        raise click.FileError(str(path), hint=exc.message) from exc


def force_option(
    help_text: str = "Replace the output file if it exists (without it an existing file is refused).",
) -> Callable[[F], F]:
    """The ``--force`` flag (parameter ``force``) of a command that writes a file it names."""
    option: Callable[[F], F] = click.option("--force", is_flag=True, help=help_text)
    return option


def write_new(path: Path, data: bytes | str, *, force: bool) -> None:
    """Write an output file atomically; an existing one is a usage error (exit 2) unless ``force``."""
    if not force and os.path.lexists(path):
        raise CommandFailure(f"{path} exists; refusing to overwrite it (--force replaces it)", USAGE)
    write_file(path, data, overwrite=force)


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
    """The JSON in a file an option names: unreadable is a usage error (2), not JSON a refusal (1)."""
    text = read_text_input(path, what="JSON file")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{input_name(path)}: not JSON ({exc})") from exc
    except RecursionError as exc:
        raise BadInput(f"{input_name(path)}: JSON nested too deeply") from exc


def read_status_rules(path: Path | None) -> StatusRuleSet | None:
    """The status rule set in a JSON file (``--status-rules``), validated; ``None`` without a path."""
    if path is None:
        return None
    from healthcred.rules.status import StatusRuleSet

    data = read_json(path)
    with naming(path):
        return StatusRuleSet(data)


def input_name(value: str | Path) -> str:
    """An input as the user gave it, for the start of a message: ``stdin`` for ``-``, long text shortened."""
    name = str(value)
    if name == "-":
        return "stdin"
    return name if len(name) <= 200 else f"{name[:40]}… ({len(name):,} characters)"


@contextmanager
def naming(value: str | Path) -> Iterator[None]:
    """Start the message of any HealthCredError raised inside with the input's name (:func:`input_name`)."""
    try:
        yield
    except HealthCredError as exc:
        name = input_name(value)
        if name not in exc.message:
            exc.message = f"{name}: {exc.message}"
            exc.args = (exc.message,)
        raise


MAX_CODE_FILE_BYTES = 1024 * 1024
"""The most bytes read from a ``.txt`` CODE file or stdin (a code's text is at most a few kilobytes)."""


def _stdin_text(limit: int = MAX_CODE_FILE_BYTES) -> str:
    take_stdin("a CODE")
    data = sys.stdin.buffer.read(limit + 1) if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    if len(data) > limit:
        raise BadInput(f"more than {limit:,} bytes; a code is at most a few kilobytes of text")
    try:
        return data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); give the code's text"
        ) from exc


_PREFIXES = ", ".join(KNOWN_PREFIXES)
_FILE_SUFFIXES = frozenset(
    {".txt", ".png", ".jpg", ".jpeg", ".svg", ".pdf", ".cose", ".json", ".gif", ".webp"}
)


def _looks_like_a_path(value: str) -> bool:
    # A Base45 text may hold '/' and '.', so only a path-like start or a file suffix counts.
    return value.startswith(("/", "./", "../", "~")) or Path(value).suffix.lower() in _FILE_SUFFIXES


def code_argument(value: str) -> str | Path:
    """A CODE argument as the library takes it: `-` is stdin, a .txt file its text, another file a Path.

    The command line is the operator's, so here (and only here) a string may name
    a file: it is handed on as a :class:`~pathlib.Path`, since the library takes
    every ``str`` as code text. Text that starts with a known prefix is never a path.
    An error names the input as given (:func:`naming`).
    """
    with naming(value):
        if value == "-":
            return _stdin_text()
        if value.startswith(tuple(KNOWN_PREFIXES)) or len(value) >= 4096:
            return value
        # isfile, not Path.is_file: it is False (not an OSError) for a name too long or holding NUL.
        if not os.path.isfile(value):
            if os.path.lexists(value):
                raise BadInput(
                    "not a regular file (a folder, FIFO or device); give a code's text, a .txt or an image"
                )
            if _looks_like_a_path(value):
                raise BadPrefix(f"no such file, and not a code's text either (codes start with {_PREFIXES})")
            return value
        path = Path(value)
        if path.suffix.lower() != ".txt":
            return path
        data = read_bounded(path, MAX_CODE_FILE_BYTES)
        try:
            return data.decode("utf-8-sig").strip()
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x});"
                " a .txt CODE file holds the code's text"
            ) from exc


def read_code(value: str, *, qr_backend: Backend = "zxing") -> str:
    """A CODE argument's QR text (:func:`code_argument`; an image is read as QR).

    Every command that takes a CODE reads it this way; an error names the input as given.
    """
    from healthcred.flows.verify import code_text

    code = code_argument(value)
    with naming(value):
        text = code_text(code, qr_backend=qr_backend)
        if not text.startswith(tuple(KNOWN_PREFIXES)):
            strip_prefix(text)  # raises BadPrefix, saying what the start looks like, with the input's name
        return text


def load_public_file(value: str | Path, what: str = "public key") -> PublicKey:
    """The public key in a PEM file an option names; a private key there is refused (``bad_key``).

    The library takes a private key's public half where it is handy; on the command line a private
    key named as an anchor or a new issuer key is a mistake that would copy a secret onto a verifier.
    """
    from healthcred.crypto.keys import MAX_KEY_FILE_BYTES, public_key_from_pem

    data = read_input(value, what=what, limit=MAX_KEY_FILE_BYTES)
    name = input_name(value)
    if b"PRIVATE KEY" in data:
        raise BadKey(
            f"{name} holds a private key; give its public key (keygen writes NAME.pub.pem):"
            " a private key stays on the machine that signs"
        )
    return public_key_from_pem(data, name)


def load_private_file(value: str | Path, what: str = "private key") -> PrivateKey:
    """The private key in a PEM file an option names, or on stdin for ``-``.

    A file that holds no usable key is this side's setup (exit 3), as for every signing command.
    """
    from healthcred.crypto.keys import MAX_KEY_FILE_BYTES, private_key_from_pem

    data = read_input(value, what=what, limit=MAX_KEY_FILE_BYTES)
    with setup_step(f"{what} {input_name(value)}"):
        return private_key_from_pem(data, "the file")


def is_token_key(value: str | Path) -> bool:
    """Whether a ``--key`` value names a key in a PKCS#11 token (``pkcs11:…``) rather than a file."""
    return isinstance(value, str) and value[:7].lower() == "pkcs11:"


def load_signing_key(
    value: str | Path, what: str = "signing key", *, content_type: str | None = None
) -> PrivateKey | Signer:
    """The key a signing ``--key`` names: a PEM file (:func:`load_private_file`) or a token key.

    A token key is opened and logged in (its PIN from the URI) and returned as a
    :class:`Signer` for ``content_type``: the content type of what the command signs (``None``
    for health codes), as the library's ``sign_content`` requires of a prepared signer. Any
    failure (module, token, PIN, object) is this side's setup, exit 3, in one line that never
    holds the PIN.
    """
    if not is_token_key(value):
        return load_private_file(value, what)
    from healthcred.crypto.pkcs11 import open_token_key

    with setup_step(f"{what} (PKCS#11)"):
        token = open_token_key(str(value))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # logged out when the command ends, not when the process does
        ctx.call_on_close(token.close)
    return token.signer(content_type)


def public_of(key: PrivateKey | Signer) -> PublicKey:
    """The public key of what :func:`load_signing_key` returned (a PEM key or a token's signer)."""
    from healthcred.crypto.cose import Signer

    return key.public_key if isinstance(key, Signer) else key.public_key()


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
