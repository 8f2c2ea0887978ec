"""``healthcred print``: verified native codes as a printed card (A6) or family sheet (A4)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal, cast

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.issuing import check_outputs
from healthcred.cli.support import (
    echo_json,
    fail_typed,
    force_option,
    json_option,
    read_code,
    time_option,
    trust_folder_option,
    write_file,
)
from healthcred.errors import BadInput
from healthcred.flows.verify import verify
from healthcred.printing.cards import render_card, render_family_sheet
from healthcred.trust.folder import load_trust

__all__ = ["print_command"]


@click.command("print")
@click.argument("codes", nargs=-1, required=True, metavar="CODE...")
@trust_folder_option()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output file: .pdf, .svg or .png (the format follows the suffix).",
)
@click.option(
    "--at", metavar="TIME", callback=time_option, default=None, help="Validation time (default now)."
)
@force_option()
@json_option("Print what was written as one JSON object (docs/cli.md).")
@fail_typed
def print_command(
    codes: tuple[str, ...],
    trust_dir: tuple[Path, ...],
    out: Path,
    at: datetime | None,
    force: bool,
    as_json: bool,
) -> None:
    """Print native codes: one CODE is a card (A6), 2–8 are a family sheet (A4).

    Each CODE (text, a .txt file or an image) is verified against --trust first, so only genuine,
    valid codes are printed; the sheet shows masked names, colours, validity and regions in words.
    """
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "svg", "png"):
        raise click.UsageError("--out must end in .pdf, .svg or .png")
    check_outputs((out,), force)
    with setup_step(f"trust folder {', '.join(map(str, trust_dir))}"):
        trust = load_trust(trust_dir)
    items = []
    for code in codes:
        text = read_code(code)
        result = verify(text, trust, at=at)
        if result.health_code is None:
            raise BadInput(f"only native codes are printed, not a {result.format.value} credential")
        items.append((text, result.health_code))
    chosen = cast(Literal["pdf", "svg", "png"], fmt)
    data = render_card(*items[0], fmt=chosen) if len(items) == 1 else render_family_sheet(items, fmt=chosen)
    write_file(out, data, overwrite=force)
    layout = "card" if len(items) == 1 else "family_sheet"
    if as_json:
        echo_json({"out": str(out), "format": fmt, "layout": layout, "codes": len(items), "bytes": len(data)})
    else:
        described = "card" if len(items) == 1 else f"family sheet of {len(items)}"
        click.echo(f"wrote {out}: {described}, {len(data)} bytes")
