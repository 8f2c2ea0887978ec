"""``healthcred verify``: verify codes offline (native, EU DCC, SMART Health Cards); exit 0 if all valid."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from healthcred.cli.support import read_code, time_option, trust_folder_option
from healthcred.clock import DEFAULT_SKEW_SECONDS
from healthcred.codec.prefix import SHC_PREFIX
from healthcred.errors import HealthCredError
from healthcred.flows.verify import verify_all
from healthcred.trust.folder import load_trust

__all__ = ["SHC_FILE_SUFFIX", "verify_command"]


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


_CHUNK = re.compile(re.escape(SHC_PREFIX) + r"([0-9]{1,2})/([0-9]{1,2})/")
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


@click.command("verify")
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
    default=DEFAULT_SKEW_SECONDS,
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
                from healthcred.foreign.shc.cards import load_health_cards

                items += load_health_cards(code)
            except HealthCredError as exc:
                _print_result(
                    {"valid": False, "error": exc.code, "message": f"{code}: {exc.message}"}, as_json
                )
                sys.exit(1)
            continue
        try:
            texts.append(read_code(code, qr_backend="pyzbar" if backend == "pyzbar" else "zxing"))
        except HealthCredError as exc:  # an unreadable CODE file is one line, as for every command
            _print_result({"valid": False, "error": exc.code, "message": f"{code}: {exc.message}"}, as_json)
            sys.exit(1)
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
