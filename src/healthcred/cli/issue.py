"""``healthcred issue``: a health code (or, with ``--paper``, a paper code) as text and QR images."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from click.core import ParameterSource

from healthcred.cli.support import EXISTING_FILE, fail_typed, read_status_rules
from healthcred.codec.qr import save_qr
from healthcred.crypto.keys import load_private_key
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

__all__ = ["issue_command"]


@click.command("issue")
@click.option(
    "--key",
    type=EXISTING_FILE,
    required=True,
    help="The issuing region's private key.",
)
@click.option("--status", type=click.Choice(sorted(STATUS_BY_NAME)), required=True, help="The colour.")
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
                status=STATUS_BY_NAME[status],
                region=region,
                reason=reason,
                valid_for=timedelta(hours=valid_hours),
            )
        except ValueError as exc:  # the model's InvalidField is a ValueError
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
            status=STATUS_BY_NAME[status],
            region=region,
            reason=reason,
            kind=CredentialKind.PAPER,
        )
    except ValueError as exc:  # the model's InvalidField is a ValueError
        raise click.UsageError(str(exc)) from exc
    return issue_paper(
        credential,
        load_private_key(key),
        id_number=number,
        id_key=load_id_key(id_key),
        valid_for=None if valid_days is None else timedelta(days=valid_days),
        rules=rules,
    )
