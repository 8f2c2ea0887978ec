"""``healthcred batch``: a code for every row of a CSV or JSONL file, resumably, with printed sheets."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

import click

from healthcred._deprecated import moved
from healthcred.batch.run import run_batch
from healthcred.cli.support import EXISTING_FILE, fail_typed, read_status_rules, time_option
from healthcred.crypto.keys import load_private_key
from healthcred.flows.idcheck import load_id_key

__all__ = ["batch"]

__getattr__ = moved(__name__, "healthcred.cli.print")
# `print` shared this module until it had its own (cli.print); the old path healthcred.cli_batch
# still gives it.

_STAGES = {"issue": "signing", "codes": "texts + PNGs", "pdf": "PDF sheets"}


@click.command("batch")
@click.argument("source", type=EXISTING_FILE)
@click.option(
    "--key",
    type=EXISTING_FILE,
    required=True,
    help="The issuing region's private key (PEM).",
)
@click.option(
    "--id-key",
    type=EXISTING_FILE,
    default=None,
    help="ID-check key file (JSON); required for paper codes.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder; rerunning into it resumes the batch.",
)
@click.option(
    "--kind",
    type=click.Choice(["paper", "health"]),
    default="paper",
    show_default=True,
    help="Kind of the rows without a kind column.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Default: by suffix."
)
@click.option("--no-pdf", is_flag=True, help="Write texts and PNGs only, no PDF cards or family sheets.")
@click.option("--strict", is_flag=True, help="Refuse the whole batch if any row is bad (nothing is signed).")
@click.option("--batch-id", default=None, help="Batch id for a new folder (default: random).")
@click.option(
    "--workers", type=click.IntRange(min=0), default=None, help="Render processes (default: one per CPU)."
)
@click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="Issue time (default now)."
)
@click.option(
    "--status-rules",
    type=EXISTING_FILE,
    default=None,
    help="The region's status rule set (JSON): its paper_valid_days sets paper codes' lifetime.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@fail_typed
def batch(
    source: Path,
    key: Path,
    id_key: Path | None,
    out: Path,
    kind: str,
    fmt: str | None,
    no_pdf: bool,
    strict: bool,
    batch_id: str | None,
    workers: int | None,
    issued: datetime | None,
    status_rules: Path | None,
    quiet: bool,
) -> None:
    """Issue a code for every row of SOURCE (CSV with a header, or JSONL) into --out.

    Columns: name, birth_date, document_number, status (green/yellow/red), region
    (GB/T 2260), and optionally document_type, valid_days (default: the status
    rule set's paper_valid_days, 14, for paper codes; 1 otherwise; at most 180),
    kind (paper/health) and household (rows sharing one are printed on family
    sheets of up to 8). Writes codes/*.txt and
    codes/*.png per row, sheets/*.pdf, journal.jsonl and report.csv (bad rows).
    Exit 0 when every row is issued, 1 when some rows are bad or on an error.
    """
    bars: dict[str, Any] = {}
    done: dict[str, int] = {}
    rules = read_status_rules(status_rules)

    def progress(stage: str, count: int, total: int) -> None:
        if quiet or total == 0:
            return
        if stage not in bars:
            bars[stage] = click.progressbar(length=total, label=f"{_STAGES[stage]:13}", file=sys.stderr)
            bars[stage].__enter__()
            done[stage] = 0
        bars[stage].update(count - done[stage])
        done[stage] = count
        if count >= total:
            bars.pop(stage).__exit__(None, None, None)

    try:
        summary = run_batch(
            source,
            out,
            load_private_key(key),
            id_key=load_id_key(id_key) if id_key is not None else None,
            kind=cast(Literal["paper", "health"], kind),
            fmt=cast(Literal["csv", "jsonl"] | None, fmt),
            pdf=not no_pdf,
            strict=strict,
            batch_id=batch_id,
            workers=workers,
            issued_at=issued,
            progress=progress,
            rules=rules,
        )
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    rate = summary.rendered / summary.seconds["total"] if summary.seconds["total"] else 0.0
    click.echo(
        f"batch {summary.batch_id}: {summary.rows} rows, {summary.issued} issued now, "
        f"{summary.already} already issued, {len(summary.bad)} bad; {summary.rendered} codes and "
        f"{summary.sheets} PDFs written in {summary.seconds['total']:.1f} s ({rate:.0f} codes/s)"
    )
    if summary.bad:
        click.echo(f"bad rows are listed in {out / 'report.csv'}; fix them and rerun to resume", err=True)
        for item in summary.bad[:10]:
            click.echo(f"  row {item.row} (line {item.line}): [{item.code}] {item.message}", err=True)
        sys.exit(1)
