"""``healthcred verify``: verify codes offline (native, EU DCC, SMART Health Cards); exit 0 if all valid."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from healthcred.cli.exits import OK, REFUSED, SETUP, SETUP_CODES
from healthcred.cli.holder import (
    ID_CHECK_WORDS,
    PAPER_LINE,
    Holder,
    id_options,
    load_gate_trust,
    named_input,
    one_stdin,
    open_holder,
)
from healthcred.cli.support import (
    echo_json,
    iso,
    json_option,
    naming,
    read_code,
    time_option,
    trust_folder_option,
)
from healthcred.clock import DEFAULT_SKEW_SECONDS
from healthcred.codec.prefix import SHC_PREFIX
from healthcred.errors import HealthCredError
from healthcred.flows.verify import verify_all
from healthcred.model import HealthCode, VerificationResult
from healthcred.regions import region_words

__all__ = ["SHC_FILE_SUFFIX", "verify_command"]


_CHUNK = re.compile(re.escape(SHC_PREFIX) + r"([0-9]{1,2})/([0-9]{1,2})/")
SHC_FILE_SUFFIX = ".smart-health-card"
"""A SMART Health Card file (``{"verifiableCredential": [JWS…]}``), read whole by ``verify``."""


@dataclass(frozen=True, slots=True)
class _Failure:
    """A CODE that could not be read or did not verify: its error code and message."""

    code: str
    message: str


Entry = tuple[str, Any]
"""One thing to verify: the CODE argument(s) as the user gave them, and the code (or the error reading it)."""


def _group_chunks(texts: list[tuple[str, str]]) -> list[Entry]:
    # Consecutive `shc:/N/M/…` texts are the M chunks of one card; everything else is one code each.
    grouped: list[Entry] = []
    card: list[tuple[str, str]] = []

    def flush() -> None:
        grouped.append((" ".join(name for name, _ in card), [text for _, text in card]))
        card.clear()

    for name, text in texts:
        match = _CHUNK.match(text)
        if match is None:
            grouped.append((name, text))
            continue
        card.append((name, text))
        if len(card) >= int(match.group(2)):
            flush()
    if card:
        flush()  # incomplete: verification names what is missing
    return grouped


def _entries(codes: tuple[str, ...], backend: str) -> list[Entry]:
    """Each CODE read (a .smart-health-card file is its cards); a CODE that cannot be read is its error."""
    entries: list[Entry] = []
    texts: list[tuple[str, str]] = []
    for code in codes:
        try:
            if Path(code).suffix.lower() == SHC_FILE_SUFFIX and Path(code).is_file():
                from healthcred.foreign.shc.cards import load_health_cards

                with naming(code):
                    cards = load_health_cards(code)  # whole cards (JWS), not QR texts
                entries += _group_chunks(texts) + [(code, card) for card in cards]
                texts = []
            else:
                texts.append((code, read_code(code, qr_backend="pyzbar" if backend == "pyzbar" else "zxing")))
        except HealthCredError as exc:  # an unreadable CODE is its own INVALID result, named
            entries += [*_group_chunks(texts), (code, _Failure(exc.code, exc.message))]  # named
            texts = []
    return entries + _group_chunks(texts)


def _payload(name: str, outcome: VerificationResult | _Failure, holder: Holder) -> dict[str, Any]:
    if isinstance(outcome, _Failure):
        return {
            "input": name,
            "valid": False,
            "error": outcome.code,
            "message": outcome.message,
            "id_check": None,
        }
    return {"input": name, **outcome.summary(), "id_check": holder.check(outcome)}


def _outcome(outcome: VerificationResult | HealthCredError) -> VerificationResult | _Failure:
    return _Failure(outcome.code, outcome.message) if isinstance(outcome, HealthCredError) else outcome


def _region(code: str) -> str:
    chinese, english = region_words(code)
    return code if chinese == code else f"{code} {chinese} ({english})"


def _echo_result(payload: dict[str, Any], outcome: VerificationResult | _Failure) -> None:
    if isinstance(outcome, _Failure):
        message = named_input(payload["input"], payload["message"])
        click.echo(f"INVALID  [{payload['error']}] {message}")
        return
    cred, until = outcome.credential, iso(outcome.expires_at)
    if isinstance(cred, HealthCode):
        click.echo(
            f"VALID  {cred.status.name.upper()}  {payload['name']}  region {_region(cred.region)}  "
            f"until {until}  (key {payload['kid']}, {payload['alg']})"
        )
    else:
        click.echo(
            f"VALID  {payload['format'].upper()} {payload['kind'].upper()}  {payload['name']}  "
            f"issuer {payload['issuer']}  {f'until {until}' if until else 'no expiry'}  "
            f"(key {payload['kid'][:16]}, {payload['alg']})"
        )
    if outcome.id_check_required:
        click.echo(f"  {PAPER_LINE}")
        click.echo(f"  ID 证件: {ID_CHECK_WORDS[payload['id_check']]}")
    for warning in payload["warnings"]:
        click.echo(f"  warning: {warning}")


def _exit_code(payloads: list[dict[str, Any]]) -> int:
    if any(p.get("error") in SETUP_CODES for p in payloads):
        return SETUP  # e.g. the trust list has expired: this verifier, not the code, is at fault
    return OK if _all_valid(payloads) else REFUSED


def _all_valid(payloads: list[dict[str, Any]]) -> bool:
    return all(p["valid"] and p["id_check"] != "mismatch" for p in payloads)


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
@id_options
@json_option('One JSON object: {"valid": all valid, "results": [one per code, with "input"]} (docs/cli.md).')
def verify_command(
    codes: tuple[str, ...],
    trust_dir: tuple[Path, ...],
    at: datetime | None,
    skew: int,
    grace: int,
    backend: str,
    id_key: Path | None,
    id_number: str | None,
    as_json: bool,
) -> None:
    """Verify each CODE offline: native (JKM1:), EU DCC (HC1:) or SMART Health Card (shc:/).

    A CODE is QR text, `-` for stdin, an image or .txt path, or a .smart-health-card file (each
    card in it is verified). The chunks of a multi-part SMART Health Card (shc:/1/3/…, shc:/2/3/…)
    given one after another are one card. A paper code needs its holder's ID document checked:
    --id-key and --id-number check the number against the code's ID tag. Exit 0 if every code is
    valid (and every ID number given matches), 1 if not, 3 if the trust folder or ID-check key
    cannot be used.
    """
    one_stdin(
        **{f"CODE {n}": code for n, code in enumerate(codes, 1)},
        **{"--id-key": id_key, "--id-number": id_number},
    )
    holder = open_holder(id_key, id_number, codes)
    trust = load_gate_trust(trust_dir)
    entries = _entries(codes, backend)
    readable = [code for _, code in entries if not isinstance(code, _Failure)]
    verified = iter(
        verify_all(
            readable,
            trust,
            at=at,
            skew=timedelta(seconds=skew),
            grace=timedelta(seconds=grace),
            qr_backend="pyzbar" if backend == "pyzbar" else "zxing",
        )
    )
    outcomes = [code if isinstance(code, _Failure) else _outcome(next(verified)) for _, code in entries]
    payloads = [_payload(name, outcome, holder) for (name, _), outcome in zip(entries, outcomes, strict=True)]
    if as_json:
        echo_json({"valid": _all_valid(payloads), "results": payloads})
    else:
        for payload, outcome in zip(payloads, outcomes, strict=True):
            _echo_result(payload, outcome)
    sys.exit(_exit_code(payloads))
