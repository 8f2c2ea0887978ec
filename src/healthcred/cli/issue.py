"""``healthcred issue``: a health code (or, with ``--paper``, a paper code) as text and QR images."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import click
from click.core import ParameterSource

from healthcred.cli.exits import setup_step
from healthcred.cli.holder import key_source
from healthcred.cli.issuing import (
    check_outputs,
    check_region_option,
    check_signing_grant,
    check_validity,
    code_summary,
    signing_trust_option,
    write_qr_files,
)
from healthcred.cli.support import (
    INPUT_FILE,
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_json,
    fail_typed,
    force_option,
    input_name,
    json_option,
    load_signing_key,
    read_status_rules,
)
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Signer
from healthcred.errors import HealthCredError
from healthcred.flows.idcheck import load_id_key, normalise_id_number
from healthcred.flows.issue import issue, issue_paper
from healthcred.model import (
    PAPER_LIFETIME,
    PAPER_MAX_LIFETIME,
    STATUS_BY_NAME,
    CredentialKind,
    DocumentType,
    HealthCode,
    Subject,
)
from healthcred.rules.status import StatusRuleSet

__all__ = ["issue_command"]


@click.command("issue")
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="The issuing region's private key: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option("--status", type=click.Choice(sorted(STATUS_BY_NAME)), required=True, help="The colour.")
@click.option("--name", required=True, help="The holder's name.")
@click.option("--birth-date", required=True, help="YYYY-MM-DD (or YYYY-MM, YYYY).")
@click.option(
    "--doc-type",
    type=click.Choice([d.name.lower() for d in DocumentType]),
    default="resident_id_card",
    show_default=True,
    help="The holder's identity document type.",
)
@click.option("--doc-number", required=True, help="The document number; only its masked form is encoded.")
@click.option("--region", required=True, help="GB/T 2260 code of the issuing division, e.g. 330100.")
@click.option("--reason", type=click.IntRange(0, 0xFFFF), default=None, help="Optional reason code.")
@click.option(
    "--valid-hours",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Health code validity from now; at most what the status rule set allows the colour"
    " (seed policy: green 24, yellow 168, red 336).",
)
@click.option(
    "--paper",
    is_flag=True,
    help="Issue a paper code (kind 3) bound to --doc-number by an ID tag; needs --id-key.",
)
@click.option(
    "--id-key",
    type=INPUT_FILE,
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
    type=INPUT_FILE,
    default=None,
    help="Status rule set (JSON; default the seed policy): it bounds --valid-hours per colour, and its"
    " paper_valid_days sets the --paper lifetime.",
)
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as PNG."
)
@click.option(
    "--svg", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the QR as SVG."
)
@signing_trust_option()
@force_option()
@json_option("Print the code and its fields as one JSON object (docs/cli.md).")
@fail_typed
def issue_command(
    key: Path | str,
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
    trust_dir: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Issue a health code: print its text, optionally write it as a QR image.

    With --paper, a paper code for someone without a smartphone: --doc-number is the clear ID
    number, which goes into the code only as a keyed tag under --id-key. Before signing, the region
    must be a GB/T 2260 division, the validity within the status rule set, and with --trust the
    key's grant must cover the code: what no verifier would accept is refused, never signed.
    """
    check_region_option(region)
    check_outputs((png, svg), force)
    with setup_step(f"status rule set {input_name(status_rules or '')}"):
        rules = read_status_rules(status_rules)
    signing_key = load_signing_key(key, "signing key")
    subject = (name, birth_date, doc_type, doc_number)
    if paper:
        credential, sign = _paper(status, subject, region, reason, id_key, valid_days, rules)
    else:
        if id_key is not None or valid_days is not None:
            raise click.UsageError("--id-key and --valid-days are for --paper")
        check_validity(status, timedelta(hours=valid_hours), rules, "--valid-hours")
        credential = _credential(status, subject, region, reason, timedelta(hours=valid_hours))
        sign = partial(issue, credential)
    checked = check_signing_grant(
        trust_dir,
        signing_key,
        region=credential.region,
        issued_at=credential.issued_at,
        kind=int(credential.kind),
        status=credential.status.code,
        what="code",
    )
    text = sign(signing_key)
    files = write_qr_files(text, (png, svg), force)
    if as_json:
        echo_json(code_summary(text, files, checked))
    else:
        click.echo(text)


def _credential(
    status: str,
    subject: tuple[str, str, str, str],
    region: str,
    reason: int | None,
    valid_for: timedelta | None,
    kind: CredentialKind = CredentialKind.HEALTH_STATUS,
) -> HealthCode:
    """The credential the options describe, issued now; a bad value is a usage error."""
    name, birth_date, doc_type, doc_number = subject
    issued = datetime.now(UTC).replace(microsecond=0)
    try:
        return HealthCode.create(
            subject=Subject.create(name, birth_date, DocumentType[doc_type.upper()], doc_number),
            status=STATUS_BY_NAME[status],
            region=region,
            reason=reason,
            kind=kind,
            issued_at=issued,
            valid_for=valid_for,  # None: the kind's default (a paper code's 14 days)
        )
    except ValueError as exc:  # the model's InvalidField is a ValueError
        raise click.UsageError(exc.message if isinstance(exc, HealthCredError) else str(exc)) from exc


def _paper(
    status: str,
    subject: tuple[str, str, str, str],
    region: str,
    reason: int | None,
    id_key: Path | None,
    valid_days: int | None,
    rules: StatusRuleSet | None,
) -> tuple[HealthCode, Callable[[PrivateKey | Signer], str]]:
    """A paper code (``issue --paper``) and how to sign it; lifetime: --valid-days, the rules or 14 days."""
    if id_key is None:
        raise click.UsageError("--paper needs --id-key (the ID-check key file)")
    source = click.get_current_context().get_parameter_source("valid_hours")
    if source is not None and source is not ParameterSource.DEFAULT:
        raise click.UsageError("--valid-hours is for health codes; a paper code takes --valid-days")
    name, birth_date, doc_type, doc_number = subject
    number = normalise_id_number(doc_number, DocumentType[doc_type.upper()])
    credential = _credential(
        status, (name, birth_date, doc_type, number), region, reason, None, CredentialKind.PAPER
    )
    with setup_step(f"ID-check key {input_name(id_key)}"):
        checker = load_id_key(key_source(id_key, "ID-check key"))
    lifetime = None if valid_days is None else timedelta(days=valid_days)
    return credential, partial(
        issue_paper, credential, id_number=number, id_key=checker, valid_for=lifetime, rules=rules
    )
