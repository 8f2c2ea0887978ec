"""``healthcred batch``: a code for every row of a CSV or JSONL file, resumably, with printed sheets."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

import click

from healthcred._deprecated import moved
from healthcred.batch.rows import input_format
from healthcred.batch.run import BatchSummary, run_batch
from healthcred.cli.exits import USAGE, CommandFailure, setup_step
from healthcred.cli.holder import key_source
from healthcred.cli.issuing import GRANT_NOT_CHECKED, signing_trust_option
from healthcred.cli.support import (
    INPUT_FILE,
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_json,
    fail_typed,
    input_name,
    json_option,
    load_signing_key,
    naming,
    read_input,
    read_status_rules,
    time_option,
)
from healthcred.flows.idcheck import load_id_key
from healthcred.workers import MAX_WORKERS

__all__ = ["batch"]

__getattr__ = moved(__name__, "healthcred.cli.print")
# `print` shared this module until it had its own (cli.print); the old path healthcred.cli_batch
# still gives it.

_STAGES = {"issue": "signing", "codes": "texts + PNGs", "pdf": "PDF sheets"}
_UNITS = {"issue": "codes", "codes": "codes", "pdf": "PDFs"}


@click.command("batch")
@click.argument("source", type=INPUT_FILE)
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="The issuing region's private key: a PEM file" + KEY_URI_HELP,
)
@click.option(
    "--id-key",
    type=INPUT_FILE,
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
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="SOURCE's format; default: by its suffix (.csv, .jsonl); required when SOURCE is `-` (stdin).",
)
@click.option("--no-pdf", is_flag=True, help="Write texts and PNGs only, no PDF cards or family sheets.")
@click.option("--strict", is_flag=True, help="Refuse the whole batch if any row is bad (nothing is signed).")
@click.option("--batch-id", default=None, help="Batch id for a new folder (default: random).")
@click.option(
    "--workers",
    type=click.IntRange(0, MAX_WORKERS),
    default=None,
    help="Render processes (default: one per CPU; 0: render in this process).",
)
@click.option(
    "--signers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that sign with a token key (--key pkcs11:…), each with its own session and login"
    " (default 1: this process). For a token slow per signature; a PEM key always signs here.",
)
@click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="Issue time (default now)."
)
@click.option(
    "--status-rules",
    type=INPUT_FILE,
    default=None,
    help="The region's status rule set (JSON; default the seed policy): its paper_valid_days sets"
    " paper codes' lifetime, and it bounds health rows' valid_days per colour.",
)
@click.option("--quiet", is_flag=True, help="No progress (bars on a terminal, count lines otherwise).")
@signing_trust_option()
@json_option("Print the batch summary as one JSON object (docs/cli.md).")
@fail_typed
def batch(
    source: Path,
    key: Path | str,
    id_key: Path | None,
    out: Path,
    kind: str,
    fmt: str | None,
    no_pdf: bool,
    strict: bool,
    batch_id: str | None,
    workers: int | None,
    signers: int | None,
    issued: datetime | None,
    status_rules: Path | None,
    quiet: bool,
    trust_dir: Path | None,
    as_json: bool,
) -> None:
    """Issue a code for every row of SOURCE (CSV with a header, or JSONL; `-`: stdin) into --out.

    Columns: name, birth_date, document_number, status (green/yellow/red), region
    (GB/T 2260), and optionally document_type, valid_days (default: the status
    rule set's paper_valid_days, 14, for paper codes; 1 otherwise; at most 180),
    kind (paper/health) and household (rows sharing one are printed on family
    sheets of up to 8). Writes codes/*.txt and
    codes/*.png per row, sheets/*.pdf, journal.jsonl and report.csv (bad rows).
    SOURCE is read as UTF-8 (with or without a BOM), else GB18030. Every argument
    is checked before the first row; with --trust every row's grant too. SOURCE `-`
    reads stdin (at most 64 MiB; give --format); rerunning with the same rows resumes.
    Exit 0 when every row is issued, 1 when some rows are bad, 3 for a key,
    ID-check key, rule set or trust folder that cannot be used.
    """
    # Every argument is checked here, before the first row is read: a missing --id-key or a bad
    # key fails once, not once per row.
    signing_key = load_signing_key(key, "signing key")
    checker = None
    if id_key is not None:
        with setup_step(f"ID-check key {input_name(id_key)}"):
            checker = load_id_key(key_source(id_key, "ID-check key"))
    with setup_step(f"status rule set {input_name(status_rules or '')}"):
        rules = read_status_rules(status_rules)
    trust = None
    if trust_dir is not None:
        from healthcred.trust.folder import load_trust

        with setup_step(f"trust folder {trust_dir}"):
            trust = load_trust((trust_dir,))
    rows = _source(source, fmt)
    report = _progress_reporter(quiet)
    try:
        summary = run_batch(
            rows,
            out,
            signing_key,
            id_key=checker,
            kind=cast(Literal["paper", "health"], kind),
            fmt=cast(Literal["csv", "jsonl"] | None, fmt),
            pdf=not no_pdf,
            strict=strict,
            batch_id=batch_id,
            workers=workers,
            signers=signers,
            issued_at=issued,
            progress=report,
            rules=rules,
            trust=trust,
            source_name=input_name(source),
        )
    finally:
        report.close()
    if as_json:
        echo_json(_summary_json(summary, out))
    else:
        _echo_summary(summary, out)
    if trust is None:  # after the run, so that a refused argument stays one line
        click.echo(GRANT_NOT_CHECKED.replace("this code", "these codes"), err=True)
    if summary.bad:
        sys.exit(1)


def _source(source: Path, fmt: str | None) -> Path | bytes:
    """SOURCE as ``run_batch`` reads it: the file, or stdin's bytes (bounded); its format is known first."""
    if str(source) != "-":
        with naming(source):
            input_format(source, fmt)
        return source
    if fmt is None:
        raise CommandFailure(
            "SOURCE is stdin (`-`), which has no suffix to tell its format:"
            " give --format csv or --format jsonl",
            USAGE,
        )
    return read_input(source, what="SOURCE")


def _summary_json(summary: BatchSummary, out: Path) -> dict[str, Any]:
    """The ``batch --json`` object (docs/cli.md)."""
    return {
        "batch_id": summary.batch_id,
        "out": str(out),
        "encoding": summary.encoding,
        "rows": summary.rows,
        "issued": summary.issued,
        "already_issued": summary.already,
        "codes_written": summary.rendered,
        "pdfs_written": summary.sheets,
        "grant_checked": summary.grant_checked,
        "seconds": {stage: round(value, 3) for stage, value in summary.seconds.items()},
        "signing_codes_per_second": round(summary.signing_rate(), 1),
        "codes_per_second": round(summary.codes_rate(), 1),
        "bad": len(summary.bad),
        "bad_rows": [
            {"row": item.row, "line": item.line, "code": item.code, "message": item.message}
            for item in summary.bad[:_BAD_SHOWN]
        ],
        "report": str(out / "report.csv"),
    }


def _echo_summary(summary: BatchSummary, out: Path) -> None:
    seconds = summary.seconds
    click.echo(
        f"batch {summary.batch_id}: {summary.rows} rows read as {summary.encoding}, {summary.issued} issued"
        f" now, {summary.already} already issued, {len(summary.bad)} bad; signed at"
        f" {summary.signing_rate():.0f} codes/s, {summary.rendered} texts + PNGs at"
        f" {summary.codes_rate():.0f} codes/s, {summary.sheets} PDFs in {seconds.get('pdf', 0.0):.1f} s;"
        f" total {seconds['total']:.1f} s"
    )
    if summary.bad:
        click.echo(f"bad rows are listed in {out / 'report.csv'}; fix them and rerun to resume", err=True)
        for item in summary.bad[:_BAD_SHOWN]:
            click.echo(f"  row {item.row} (line {item.line}): [{item.code}] {item.message}", err=True)


_BAD_SHOWN = 10  # bad rows shown on stderr (and in --json); report.csv lists them all


class _Progress:
    """Progress on stderr: bars on a terminal, else a line per stage every few seconds (counts, rate)."""

    def __init__(self, quiet: bool, tty: bool, interval: float = 5.0) -> None:
        self.quiet, self.tty, self.interval = quiet, tty, interval
        self.bars: dict[str, Any] = {}
        self.started: dict[str, float] = {}
        self.shown: dict[str, float] = {}
        self.done: dict[str, int] = {}
        self.last = time.monotonic()  # a stage starts when the one before it last reported

    def __call__(self, stage: str, count: int, total: int) -> None:
        if self.quiet or total == 0:
            return
        now = time.monotonic()
        if stage not in self.started:
            self.started[stage], self.shown[stage], self.done[stage] = self.last, now, 0
            if self.tty:
                bar = click.progressbar(length=total, label=f"{_STAGES[stage]:13}", file=sys.stderr)
                self.bars[stage] = bar
                bar.__enter__()
        if self.tty:
            self.bars[stage].update(count - self.done[stage])
            if count >= total:
                self.bars.pop(stage).__exit__(None, None, None)
        elif count >= total or now - self.shown[stage] >= self.interval:
            self.shown[stage] = now
            elapsed = now - self.started[stage]
            rate = f", {count / elapsed:.0f} {_UNITS[stage]}/s" if elapsed > 0 else ""
            click.echo(f"{_STAGES[stage]}: {count}/{total} ({100 * count // total}%){rate}", err=True)
        self.done[stage] = count
        self.last = now

    def close(self) -> None:
        """End any bar an interruption left open."""
        for bar in self.bars.values():
            bar.__exit__(None, None, None)
        self.bars.clear()


def _progress_reporter(quiet: bool) -> _Progress:
    return _Progress(quiet, tty=sys.stderr.isatty())
