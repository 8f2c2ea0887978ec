"""The ``healthcred`` command line: keys, trust lists, issuing, verifying, and a demo.

Exit codes: 0 success (for ``verify``: the code is valid), 1 a healthcred error
(for ``verify``: the code is invalid), 2 a usage error.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from healthcred.cli.batch import batch, print_command
from healthcred.cli.conformance import conformance
from healthcred.cli.family import family
from healthcred.cli.place import register_places
from healthcred.cli.rules import decide, declare, rules
from healthcred.cli.support import (
    EXISTING_FILE,
    fail_typed,
    parse_time,
    read_code,
    read_status_rules,
    time_option,
    trust_folder_option,
    write_file,
)
from healthcred.cli.trust import trust
from healthcred.clock import DEFAULT_SKEW
from healthcred.codec.qr import save_qr
from healthcred.crypto.algorithms import parse_alg
from healthcred.crypto.keys import (
    generate_key,
    kid_of,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
)
from healthcred.errors import HealthCredError
from healthcred.flows.idcheck import load_id_key, normalise_id_number
from healthcred.flows.issue import issue, issue_paper
from healthcred.flows.national import derive_national
from healthcred.flows.verify import verify_all
from healthcred.foreign.shc.cards import load_health_cards
from healthcred.model import (
    PAPER_LIFETIME,
    PAPER_MAX_LIFETIME,
    STATUS_BY_NAME,
    CredentialKind,
    DocumentType,
    HealthCode,
    Subject,
)
from healthcred.trust.envelope import Anchor
from healthcred.trust.folder import load_trust
from healthcred.trust.grants import KeyGrant
from healthcred.trust.lists import make_trust_list, parse_trust_list

F = TypeVar("F", bound=Callable[..., Any])

_STATUS_NAMES = STATUS_BY_NAME


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healthcred")
def main() -> None:
    """Issue and verify offline-verifiable signed health codes (JKM1: QR codes)."""


# --- keys ------------------------------------------------------------------------------------


@main.command()
@click.argument("name")
@click.option(
    "--alg",
    type=click.Choice(["EdDSA", "ES256"], case_sensitive=False),
    default="EdDSA",
    show_default=True,
    help="Signature algorithm (Ed25519 or P-256).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write NAME.key.pem (mode 0600) and NAME.pub.pem into.",
)
@fail_typed
def keygen(name: str, alg: str, directory: Path) -> None:
    """Generate a key pair; print its kid."""
    directory.mkdir(parents=True, exist_ok=True)
    key = generate_key(parse_alg(alg))
    save_private_key(key, directory / f"{name}.key.pem")
    save_public_key(key.public_key(), directory / f"{name}.pub.pem")
    click.echo(f"{name}: {parse_alg(alg).label} kid {kid_of(key).hex()}")
    click.echo(
        f"  private {directory / f'{name}.key.pem'} (mode 0600)\n  public  {directory / f'{name}.pub.pem'}"
    )


# --- trust lists -----------------------------------------------------------------------------


@main.group()
def trustlist() -> None:
    """Build, sign and show signed trust lists of regional issuer keys."""


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@trustlist.command("build")
@click.option(
    "--entry",
    "entries",
    multiple=True,
    required=True,
    metavar="PUB.pem=REGION",
    help="An issuer public key and the GB/T 2260 region it may issue for (repeatable).",
)
@click.option("--version", "list_version", type=click.IntRange(min=1), required=True, help="List version.")
@click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="List issue time (default now)."
)
@click.option(
    "--valid-days", type=click.IntRange(min=1), default=30, show_default=True, help="Days the list is valid."
)
@click.option(
    "--key-valid-days",
    type=click.IntRange(min=1),
    default=365,
    show_default=True,
    help="Days each key is valid, from the list's issue time.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the unsigned list (JSON, for review before signing).",
)
@fail_typed
def trustlist_build(
    entries: tuple[str, ...],
    list_version: int,
    issued: datetime | None,
    valid_days: int,
    key_valid_days: int,
    out: Path,
) -> None:
    """Write an unsigned trust list as JSON, for review and then `trustlist sign`."""
    start = issued or datetime.now(UTC).replace(microsecond=0)
    grants = []
    for item in entries:
        pub, sep, region = item.rpartition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected PUB.pem=REGION", param_hint="--entry")
        key = load_public_key(pub)
        KeyGrant(key, region, _epoch(start), _epoch(start + timedelta(days=key_valid_days)))
        grants.append(
            {
                "key": str(Path(pub).resolve()),
                "kid": kid_of(key).hex(),
                "region": region,
                "not_before": start.isoformat(),
                "not_after": (start + timedelta(days=key_valid_days)).isoformat(),
            }
        )
    spec = {
        "version": list_version,
        "issued_at": start.isoformat(),
        "expires_at": (start + timedelta(days=valid_days)).isoformat(),
        "entries": grants,
    }
    write_file(out, json.dumps(spec, indent=2) + "\n")
    click.echo(f"wrote {out}: {len(grants)} entries, version {list_version}; sign it with `trustlist sign`")


@trustlist.command("sign")
@click.argument("spec", type=EXISTING_FILE)
@click.option(
    "--root",
    type=EXISTING_FILE,
    required=True,
    help="The national root's private key (a trust anchor).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed list (.cose).",
)
@fail_typed
def trustlist_sign(spec: Path, root: Path, out: Path) -> None:
    """Sign a JSON trust list (from `trustlist build`) with the root key."""
    try:
        data = json.loads(spec.read_text())
        grants = [
            KeyGrant(
                load_public_key(e["key"]),
                e["region"],
                _epoch(parse_time(e["not_before"])),
                _epoch(parse_time(e["not_after"])),
            )
            for e in data["entries"]
        ]
        version, issued, expires = (
            data["version"],
            parse_time(data["issued_at"]),
            parse_time(data["expires_at"]),
        )
    except (ValueError, KeyError, TypeError, click.BadParameter) as exc:
        raise click.BadParameter(f"{spec} is not a trust list spec: {exc}", param_hint="SPEC") from exc
    signed = make_trust_list(
        load_private_key(root), grants, version=version, issued_at=_epoch(issued), expires_at=_epoch(expires)
    )
    write_file(out, signed)
    click.echo(f"wrote {out} ({len(signed)} bytes, {len(grants)} entries, version {version})")


@trustlist.command("show")
@click.argument("listfile", type=EXISTING_FILE)
@click.option(
    "--anchor",
    type=EXISTING_FILE,
    multiple=True,
    required=True,
    help="Root public key(s) the list must be signed by.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@fail_typed
def trustlist_show(listfile: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Verify a signed trust list against anchor(s) and show its entries."""
    parsed = parse_trust_list(listfile.read_bytes(), [Anchor.from_key(load_public_key(a)) for a in anchor])

    def when(t: int) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat()

    view: dict[str, Any] = {
        "version": parsed.version,
        "issued_at": when(parsed.issued_at),
        "expires_at": when(parsed.expires_at),
        "signed_by": parsed.signer_kid.hex(),
        "entries": [
            {
                "kid": e.kid.hex(),
                "alg": e.alg.label,
                "region": e.region,
                "not_before": when(e.not_before),
                "not_after": when(e.not_after),
            }
            for e in parsed.entries
        ],
    }
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(
        f"trust list v{view['version']} signed by {view['signed_by']}, "
        f"valid {view['issued_at']} → {view['expires_at']}"
    )
    for e in view["entries"]:
        click.echo(f"  {e['kid']}  {e['alg']:5}  region {e['region']}  {e['not_before']} → {e['not_after']}")


# --- issue and verify ------------------------------------------------------------------------


@main.command("issue")
@click.option(
    "--key",
    type=EXISTING_FILE,
    required=True,
    help="The issuing region's private key.",
)
@click.option("--status", type=click.Choice(sorted(_STATUS_NAMES)), required=True, help="The colour.")
@click.option("--name", required=True, help="The holder's name.")
@click.option("--birth-date", required=True, help="YYYY-MM-DD (or YYYY-MM, YYYY).")
@click.option(
    "--doc-type",
    type=click.Choice([d.name.lower() for d in DocumentType]),
    default="resident_id_card",
    show_default=True,
)
@click.option("--doc-number", required=True, help="The document number; only its masked form is encoded.")
@click.option("--region", required=True, help="GB/T 2260 code of the issuing division, e.g. 330100.")
@click.option("--reason", type=click.IntRange(0, 0xFFFF), default=None, help="Optional reason code.")
@click.option("--valid-hours", type=click.IntRange(min=1), default=24, show_default=True)
@click.option(
    "--paper",
    is_flag=True,
    help="Issue a paper code (kind 3) bound to --doc-number by an ID tag; needs --id-key.",
)
@click.option(
    "--id-key",
    type=EXISTING_FILE,
    default=None,
    help="ID-check key file (JSON) for --paper.",
)
@click.option(
    "--valid-days",
    type=click.IntRange(1, PAPER_MAX_LIFETIME.days),
    default=None,
    help=f"Paper code lifetime in days (default: --status-rules, else {PAPER_LIFETIME.days}).",
)
@click.option(
    "--status-rules",
    type=EXISTING_FILE,
    default=None,
    help="Status rule set (JSON) whose paper_valid_days sets the --paper lifetime.",
)
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as PNG."
)
@click.option(
    "--svg", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as SVG."
)
@fail_typed
def issue_command(
    key: Path,
    status: str,
    name: str,
    birth_date: str,
    doc_type: str,
    doc_number: str,
    region: str,
    reason: int | None,
    valid_hours: int,
    paper: bool,
    id_key: Path | None,
    valid_days: int | None,
    status_rules: Path | None,
    png: Path | None,
    svg: Path | None,
) -> None:
    """Issue a health code: print its text, optionally write it as a QR image.

    With --paper, a paper code for someone without a smartphone: --doc-number is the clear ID
    number, which goes into the code only as a keyed tag under --id-key.
    """
    if paper:
        subject = (name, birth_date, doc_type, doc_number)
        text = _issue_paper(key, status, subject, region, reason, id_key, valid_days, status_rules)
    else:
        if id_key is not None or valid_days is not None or status_rules is not None:
            raise click.UsageError("--id-key, --valid-days and --status-rules are for --paper")
        try:
            credential = HealthCode.create(
                subject=Subject.create(name, birth_date, DocumentType[doc_type.upper()], doc_number),
                status=_STATUS_NAMES[status],
                region=region,
                reason=reason,
                valid_for=timedelta(hours=valid_hours),
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise click.UsageError(str(exc)) from exc
        text = issue(credential, load_private_key(key))
    for path in (png, svg):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_qr(text, path)
    click.echo(text)


def _issue_paper(
    key: Path,
    status: str,
    subject: tuple[str, str, str, str],
    region: str,
    reason: int | None,
    id_key: Path | None,
    valid_days: int | None,
    status_rules: Path | None,
) -> str:
    """The text of a paper code (``issue --paper``): lifetime from --valid-days, the rules or 14 days."""
    if id_key is None:
        raise click.UsageError("--paper needs --id-key (the ID-check key file)")
    source = click.get_current_context().get_parameter_source("valid_hours")
    if source is not None and source is not ParameterSource.DEFAULT:
        raise click.UsageError("--valid-hours is for health codes; a paper code takes --valid-days")
    rules = read_status_rules(status_rules)
    name, birth_date, doc_type, doc_number = subject
    document = DocumentType[doc_type.upper()]
    number = normalise_id_number(doc_number, document)
    try:
        credential = HealthCode.create(
            subject=Subject.create(name, birth_date, document, number),
            status=_STATUS_NAMES[status],
            region=region,
            reason=reason,
            kind=CredentialKind.PAPER,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise click.UsageError(str(exc)) from exc
    return issue_paper(
        credential,
        load_private_key(key),
        id_number=number,
        id_key=load_id_key(id_key),
        valid_for=None if valid_days is None else timedelta(days=valid_days),
        rules=rules,
    )


def _print_result(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    elif payload["valid"] and payload["format"] == "native":
        click.echo(
            f"VALID  {payload['status'].upper()}  {payload['name']}  region {payload['region']}  "
            f"until {payload['expires_at']}  (key {payload['kid']}, {payload['alg']})"
        )
    elif payload["valid"]:
        until = f"until {payload['expires_at']}" if payload["expires_at"] else "no expiry"
        click.echo(
            f"VALID  {payload['format'].upper()} {payload['kind'].upper()}  {payload['name']}  "
            f"issuer {payload['issuer']}  {until}  (key {payload['kid'][:16]}, {payload['alg']})"
        )
    else:
        click.echo(f"INVALID  [{payload['error']}] {payload['message']}")
    for warning in payload.get("warnings") or ():
        click.echo(f"  warning: {warning}")


_CHUNK = re.compile(r"shc:/([0-9]{1,2})/([0-9]{1,2})/")
SHC_FILE_SUFFIX = ".smart-health-card"
"""A SMART Health Card file (``{"verifiableCredential": [JWS…]}``), read whole by ``verify``."""


def _group_chunks(codes: list[str]) -> list[str | list[str]]:
    # Consecutive `shc:/N/M/…` texts are the M chunks of one card; everything else is one code each.
    grouped: list[str | list[str]] = []
    card: list[str] = []
    for code in codes:
        match = _CHUNK.match(code)
        if match is None:
            grouped.append(code)
            continue
        card.append(code)
        if len(card) >= int(match.group(2)):
            grouped.append(card)
            card = []
    if card:
        grouped.append(card)  # incomplete: verification names what is missing
    return grouped


@main.command("verify")
@click.argument("codes", nargs=-1, required=True, metavar="CODE...")
@trust_folder_option()
@click.option(
    "--at",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="Validation time (ISO 8601 with offset, or epoch); default now.",
)
@click.option(
    "--skew",
    type=click.IntRange(min=0),
    default=int(DEFAULT_SKEW.total_seconds()),
    show_default=True,
    help="Clock-skew allowance in seconds.",
)
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seconds past its expiry a trust list is still used (the result then warns).",
)
@click.option(
    "--backend",
    type=click.Choice(["zxing", "pyzbar"]),
    default="zxing",
    show_default=True,
    help="QR reader for image inputs.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable result, with the error code if invalid."
)
def verify_command(
    codes: tuple[str, ...],
    trust_dir: tuple[Path, ...],
    at: datetime | None,
    skew: int,
    grace: int,
    backend: str,
    as_json: bool,
) -> None:
    """Verify each CODE offline: native (JKM1:), EU DCC (HC1:) or SMART Health Card (shc:/).

    A CODE is QR text, `-` for stdin, an image or .txt path, or a .smart-health-card file (each
    card in it is verified). The chunks of a multi-part
    SMART Health Card (shc:/1/3/…, shc:/2/3/…) given one after another are one card. Exit 0 if
    every code is valid, 1 if any is not.
    """
    try:
        trust = load_trust(trust_dir)
    except HealthCredError as exc:
        _print_result({"valid": False, "error": exc.code, "message": exc.message}, as_json)
        sys.exit(1)
    items: list[Any] = []
    texts: list[str] = []
    for code in codes:  # a .smart-health-card file holds whole cards (JWS), not QR texts
        if Path(code).suffix.lower() == SHC_FILE_SUFFIX and Path(code).is_file():
            items += _group_chunks(texts)
            texts = []
            try:
                items += load_health_cards(code)
            except HealthCredError as exc:
                _print_result(
                    {"valid": False, "error": exc.code, "message": f"{code}: {exc.message}"}, as_json
                )
                sys.exit(1)
            continue
        texts.append(read_code(code, qr_backend="pyzbar" if backend == "pyzbar" else "zxing"))
    items += _group_chunks(texts)
    outcomes = verify_all(
        items,
        trust,
        at=at,
        skew=timedelta(seconds=skew),
        grace=timedelta(seconds=grace),
        qr_backend="pyzbar" if backend == "pyzbar" else "zxing",
    )
    payloads = [
        o.summary()
        if not isinstance(o, HealthCredError)
        else {"valid": False, "error": o.code, "message": o.message}
        for o in outcomes
    ]
    if as_json and len(payloads) > 1:
        click.echo(json.dumps(payloads, ensure_ascii=False, indent=2))
    else:
        for payload in payloads:
            _print_result(payload, as_json)
    sys.exit(0 if all(p["valid"] for p in payloads) else 1)


@main.command("national")
@click.argument("code")
@trust_folder_option("Trust folder holding the national list of regional keys.")
@click.option(
    "--key",
    type=EXISTING_FILE,
    required=True,
    help="The national issuer's private key (granted kind 2, national codes).",
)
@click.option("--at", metavar="TIME", callback=time_option, default=None, help="Issue time (default now).")
@click.option(
    "--valid-hours",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Longest validity; never beyond the source code's expiry.",
)
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as PNG."
)
@fail_typed
def national_command(
    code: str, trust_dir: tuple[Path, ...], key: Path, at: datetime | None, valid_hours: int, png: Path | None
) -> None:
    """Verify a regional CODE and print the national code derived from it."""
    text = derive_national(
        read_code(code),
        load_trust(trust_dir),
        load_private_key(key),
        at=at,
        valid_for=timedelta(hours=valid_hours),
    )
    if png is not None:
        png.parent.mkdir(parents=True, exist_ok=True)
        save_qr(text, png)
    click.echo(text)


main.add_command(trust)
main.add_command(rules)
main.add_command(declare)
main.add_command(decide)
main.add_command(conformance)
main.add_command(batch)
main.add_command(print_command)
register_places(main)
main.add_command(family)


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("healthcred-demo"),
    show_default=True,
    help="Folder for keys, trust folder and codes.",
)
def demo(out: Path) -> None:
    """Run the whole flow: keys, a signed trust list, three codes, read back from PNG and verified."""
    from healthcred.cli.demo import run_demo

    try:
        ok = run_demo(out, echo=click.echo)
    except HealthCredError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(0 if ok else 1)
