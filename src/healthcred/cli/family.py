"""``healthcred family``: relatives binding ("one person binds many") and family-bundle files.

A guardian carries the codes of up to 8 dependents. ``family bind`` signs a
binding of one dependent to the guardian (after verifying both codes),
``family check`` verifies a dependent's code with its binding, ``family export``
packs the guardian's code and the dependents' (code, binding) pairs into one
family-bundle file (suggested suffix :data:`FAMILY_SUFFIX`), ``family verify``
verifies such a file and ``family show`` decodes it without verifying anything.

Exit codes as for the other commands (``docs/cli.md``): 0 success (for ``check`` and
``verify``: valid), 1 a code or file refused (for ``check`` and ``verify``: invalid), 2 a usage
error (an existing ``--out`` without ``--force``), 3 this side's setup (the trust folder, the key).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.support import (
    INPUT_FILE,
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_invalid,
    echo_json,
    fail_typed,
    force_option,
    input_name,
    iso,
    json_option,
    load_signing_key,
    naming,
    one_stdin,
    read_code,
    read_input,
    time_option,
    trust_folder_option,
    write_new,
)
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.errors import BadBinding, BadInput, HealthCredError, TooManyDependents
from healthcred.flows.binding import (
    BINDING_CONTENT_TYPE,
    MAX_BINDING_BYTES,
    MAX_DEPENDENTS,
    Relation,
    make_binding,
    open_binding,
    read_binding,
    verify_dependent,
)
from healthcred.flows.family import (
    MAX_FAMILY_BYTES,
    FamilyBundle,
    make_family_bundle,
    read_family_bundle,
    verify_family,
)
from healthcred.flows.verify import verify
from healthcred.model import HealthCode, VerificationResult
from healthcred.native.text import read_health_code
from healthcred.trust.folder import load_trust
from healthcred.trust.store import TrustStore

__all__ = ["FAMILY_SUFFIX", "family"]

FAMILY_SUFFIX = ".family.cbor"
"""Suggested file-name ending of a family-bundle file (``docs/format.md`` §14)."""

_RELATION_NAMES = {r.name.lower(): r for r in Relation}


def _binding_file(path: Path) -> bytes:
    """A binding file's bytes, or stdin's for ``-``; one larger than a binding may be is refused (exit 1)."""
    return read_input(path, what="binding", limit=MAX_BINDING_BYTES, too_large=BadBinding)


def _family_file(path: Path) -> FamilyBundle:
    """The family bundle in a file, or on stdin for ``-``; an oversized one is refused (exit 1)."""
    return read_family_bundle(
        read_input(path, what="family bundle", limit=MAX_FAMILY_BYTES, too_large=BadBinding)
    )


def _native(result: VerificationResult, role: str) -> HealthCode:
    credential = result.health_code
    if credential is None:
        raise BadInput(
            f"the {role}'s code is a {result.format.value} credential: only native (JKM1:) codes are bound"
        )
    return credential


def _dependents(count: int) -> str:
    return f"{count} dependent" + ("" if count == 1 else "s")


def _colour(result: VerificationResult) -> str:
    return result.status.name.upper() if result.status is not None else result.kind.upper()


def _trust(trust_dir: tuple[Path, ...]) -> TrustStore:
    # A trust folder that cannot be loaded is this verifier's setup (exit 3), not the person's code.
    with setup_step("--trust"):
        return load_trust(trust_dir)


@click.group()
def family() -> None:
    """Relatives binding: a guardian shows up to 8 dependents' codes (bind, check, export, verify, show)."""


@family.command("bind")
@click.argument("guardian")
@click.argument("dependent")
@click.option(
    "--relation",
    type=click.Choice(list(_RELATION_NAMES)),
    required=True,
    help="What the DEPENDENT is to the GUARDIAN (parent: the dependent is the guardian's parent).",
)
@click.option(
    "--slot",
    type=click.IntRange(1, MAX_DEPENDENTS),
    required=True,
    help=f"The dependent's place 1–{MAX_DEPENDENTS} among the guardian's (one live binding per slot).",
)
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="The registering region's private key: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option("--region", required=True, help="GB/T 2260 code of the division registering the binding.")
@trust_folder_option("Trust folder the two codes (and the new binding) are verified against.")
@click.option(
    "--valid-days", type=click.IntRange(1, 366), default=365, show_default=True, help="Binding lifetime."
)
@click.option(
    "--at",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="Time the codes are verified at and the binding issued (default now).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed binding (.cose); an existing file is refused without --force.",
)
@force_option()
@json_option("Print what was written as one JSON object (docs/cli.md, family bind).")
@fail_typed
def family_bind(
    guardian: str,
    dependent: str,
    relation: str,
    slot: int,
    key: Path,
    region: str,
    trust_dir: tuple[Path, ...],
    valid_days: int,
    at: datetime | None,
    out: Path,
    force: bool,
    as_json: bool,
) -> None:
    """Verify the GUARDIAN's and the DEPENDENT's codes, then sign a binding of the two.

    Each code is QR text, `-` for stdin, a .txt file or an image; both must be valid native
    codes. The binding names the two people only by salted hashes; it is checked against
    --trust before it is written, so a key not granted for --region is refused here.
    """
    one_stdin(GUARDIAN=guardian, DEPENDENT=dependent, **{"--key": key})
    trust = _trust(trust_dir)
    signing_key = load_signing_key(key, "signing key", content_type=BINDING_CONTENT_TYPE)
    moment = at or datetime.now(UTC).replace(microsecond=0)
    shown = verify(read_code(guardian), trust, at=moment)
    held = verify(read_code(dependent), trust, at=moment)
    guardian_code, dependent_code = _native(shown, "guardian"), _native(held, "dependent")
    data = make_binding(
        guardian_code,
        dependent_code,
        _RELATION_NAMES[relation],
        signing_key,
        region=region,
        slot=slot,
        valid_for=timedelta(days=valid_days),
        issued_at=moment,
    )
    try:
        opened = open_binding(data, trust, at=moment)
    except HealthCredError as exc:
        raise type(exc)(f"the signed binding would not verify against --trust: {exc.message}") from exc
    write_new(out, data, force=force)
    if as_json:
        echo_json(
            {
                "file": str(out),
                "bytes": len(data),
                "binding_id": opened.id.hex(),
                "relation": relation,
                "slot": slot,
                "region": region,
                "issued_at": iso(opened.issued_at),
                "expires_at": iso(opened.expires_at),
                "guardian": guardian_code.subject.masked_name,
                "dependent": dependent_code.subject.masked_name,
            }
        )
        return
    click.echo(
        f"wrote {out} ({len(data)} bytes): {dependent_code.subject.masked_name} is the {relation} of "
        f"{guardian_code.subject.masked_name}, slot {slot}, region {region}, "
        f"until {iso(opened.expires_at)} (binding {opened.id.hex()})"
    )


@family.command("check")
@click.argument("dependent")
@click.option(
    "--binding",
    type=INPUT_FILE,
    required=True,
    help="The signed binding (.cose) linking the dependent to a guardian.",
)
@trust_folder_option()
@click.option(
    "--guardian",
    default=None,
    help="The guardian's own code (text, .txt or image); recommended: without it anyone holding "
    "the binding could show the dependent's code.",
)
@click.option(
    "--at", metavar="TIME", callback=time_option, default=None, help="Validation time (default now)."
)
@json_option("Print the result as one JSON object (docs/cli.md, family check); the error code if invalid.")
@fail_typed
def family_check(
    dependent: str,
    binding: Path,
    trust_dir: tuple[Path, ...],
    guardian: str | None,
    at: datetime | None,
    as_json: bool,
) -> None:
    """Verify a DEPENDENT's code shown by a guardian, with the binding. Exit 0 valid, 1 invalid."""
    one_stdin(DEPENDENT=dependent, **{"--binding": binding, "--guardian": guardian})
    trust = _trust(trust_dir)
    try:
        dependent_text = read_code(dependent)
        guardian_text = None if guardian is None else read_code(guardian)
        with naming(binding):  # a binding that is not one is named as the operator gave it
            data = _binding_file(binding)
            read_binding(data)
        result = verify_dependent(dependent_text, data, trust, guardian=guardian_text, at=at)
    except HealthCredError as exc:
        echo_invalid(exc, as_json)
    if as_json:
        echo_json({"valid": True, **result.summary()})
        return
    held, bound = result.dependent, result.binding
    checked = (
        f"guardian {result.guardian.subject.masked_name} checked"
        if result.guardian is not None
        else "guardian NOT checked (ask for the guardian's own code: --guardian)"
    )
    click.echo(
        f"VALID  {_colour(held)}  {held.subject.masked_name}  {bound.relation.name.lower()} "
        f"of the guardian, slot {bound.slot}  {checked}"
    )
    click.echo(
        f"  code until {iso(held.expires_at) or '-'}; "
        f"binding {bound.id.hex()} region {bound.region} until {iso(bound.expires_at)}"
    )


def _member(value: str) -> tuple[str, Path]:
    code, sep, path = value.rpartition("=")
    if not sep or not code or not path:
        raise click.BadParameter(f"{value!r}: expected CODE=BINDING.cose", param_hint="--member")
    binding = Path(path)
    if not binding.is_file():
        raise click.BadParameter(f"binding file {path!r} does not exist", param_hint="--member")
    return code, binding


@family.command("export")
@click.argument("guardian")
@click.option(
    "--member",
    "members",
    multiple=True,
    required=True,
    metavar="CODE=BINDING.cose",
    help=f"A dependent's code (text, .txt or image) and its binding; repeat, at most {MAX_DEPENDENTS}.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help=f"The family-bundle file to write (suggested suffix {FAMILY_SUFFIX}); an existing file is "
    "refused without --force.",
)
@force_option()
@json_option("Print what was written as one JSON object (docs/cli.md, family export).")
@fail_typed
def family_export(guardian: str, members: tuple[str, ...], out: Path, force: bool, as_json: bool) -> None:
    """Write one family-bundle file of the GUARDIAN's code and each dependent's code and binding.

    No signature is checked here (use `family verify`); each BINDING must only be shaped like a
    signed binding. The file is personal data as a whole and belongs on the guardian's device.
    """
    if len(members) > MAX_DEPENDENTS:
        raise TooManyDependents(f"{len(members)} dependents: a guardian holds at most {MAX_DEPENDENTS}")
    pairs = [_member(item) for item in members]
    guardian_text = read_code(guardian)
    if not guardian_text.startswith(NATIVE_PREFIX):
        raise BadInput(f"{input_name(guardian)}: the guardian's code must be a native ({NATIVE_PREFIX}) code")
    listed: list[tuple[str, bytes]] = []
    for code, path in pairs:
        text = read_code(code)
        if not text.startswith(NATIVE_PREFIX):
            raise BadInput(f"{input_name(code)}: a dependent's code must be a native ({NATIVE_PREFIX}) code")
        data = _binding_file(path)
        try:
            read_binding(data)  # its size and shape only: a stray file is refused now, not at the gate
        except BadBinding as exc:
            raise BadBinding(f"{path}: {exc.message}") from exc
        listed.append((text, data))
    bundle = make_family_bundle(guardian_text, listed)
    write_new(out, bundle, force=force)
    if as_json:
        echo_json({"file": str(out), "bytes": len(bundle), "dependents": len(listed), "verified": False})
        return
    click.echo(f"wrote {out} ({len(bundle)} bytes): the guardian's code and {_dependents(len(listed))}")


@family.command("verify")
@click.argument("family_file", type=INPUT_FILE)
@trust_folder_option()
@click.option(
    "--at", metavar="TIME", callback=time_option, default=None, help="Validation time (default now)."
)
@json_option("Print the result as one JSON object (docs/cli.md, family verify); the error code if invalid.")
@fail_typed
def family_verify(family_file: Path, trust_dir: tuple[Path, ...], at: datetime | None, as_json: bool) -> None:
    """Verify a family-bundle file: the guardian's code, every dependent's code and binding.

    Exit 0 if all are valid and every binding names the guardian, 1 otherwise.
    """
    trust = _trust(trust_dir)
    try:
        with naming(family_file):
            result = verify_family(_family_file(family_file), trust, at=at)
    except HealthCredError as exc:
        echo_invalid(exc, as_json)
    if as_json:
        echo_json({"valid": True, **result.summary()})
        return
    head = result.guardian
    click.echo(
        f"VALID  family of {head.subject.masked_name} ({_colour(head)}, region {head.region}): "
        f"{_dependents(len(result.dependents))}"
    )
    for member in sorted(result.dependents, key=lambda d: d.binding.slot):
        held = member.dependent
        click.echo(
            f"  slot {member.binding.slot}  {member.relation.name.lower():11}  {held.subject.masked_name}  "
            f"{_colour(held)}  until {iso(held.expires_at) or '-'}"
        )


def _peek_binding(data: bytes) -> dict[str, Any]:
    # Decode a binding WITHOUT checking its signature or trust: relation, slot, region, expiry.
    binding = read_binding(data)
    return {
        "relation": binding.relation.name.lower(),
        "slot": binding.slot,
        "binding_region": binding.region,
        "binding_expires_at": iso(binding.expires_at),
    }


def _unverified_person(text: str) -> dict[str, Any]:
    try:
        code = read_health_code(text)
    except (HealthCredError, ValueError) as exc:
        return {"readable": False, "error": getattr(exc, "code", "bad_input")}
    return {
        "readable": True,
        "name": code.subject.masked_name,
        "status": code.status.name,
        "kind": code.kind.name.lower(),
        "region": code.region,
        "expires_at": iso(code.expires_at),
    }


@family.command("show")
@click.argument("family_file", type=INPUT_FILE)
@json_option('Print what the file claims as one JSON object ("verified": false; docs/cli.md, family show).')
@fail_typed
def family_show(family_file: Path, as_json: bool) -> None:
    """Decode a family-bundle file WITHOUT verifying it: who and how many it claims.

    No signature is checked: anyone could have written what this shows. Use `family verify`.
    """
    with naming(family_file):
        bundle = _family_file(family_file)
    members: list[dict[str, Any]] = []
    for code, data in bundle.members:
        entry = _unverified_person(code)
        try:
            entry.update(_peek_binding(data))
        except HealthCredError as exc:
            entry.update(binding_readable=False, binding_error=exc.code)
        members.append(entry)
    guardian = _unverified_person(bundle.guardian)
    if as_json:
        echo_json({"verified": False, "guardian": guardian, "count": len(members), "dependents": members})
        return
    who = guardian["name"] if guardian["readable"] else f"unreadable [{guardian['error']}]"
    click.echo(f"UNVERIFIED  family bundle of {who}: {_dependents(len(members))} (no signature checked)")
    for entry in members:
        name = entry["name"] if entry["readable"] else f"unreadable code [{entry['error']}]"
        if entry.get("binding_readable") is False:
            click.echo(f"  {name}  unreadable binding [{entry['binding_error']}]")
        else:
            click.echo(
                f"  slot {entry['slot']}  {entry['relation'] or '?':11}  {name}  "
                f"(binding region {entry['binding_region']}, until {entry['binding_expires_at']})"
            )
