"""What the issuing commands (``issue``, ``national``, ``place issue``, ``batch``) check before they sign.

A code no verifier would accept is refused here, never signed: the region must be a GB/T 2260
division, the validity within the status rule set's limit for the colour, and, with ``--trust``,
the key's grant in that trust folder must cover the code (the verifiers' own check,
:func:`healthcred.flows.issue.check_grant`). Output files are refused before signing too when they
exist and ``--force`` is not given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from healthcred.cli.exits import setup_step
from healthcred.cli.support import iso, write_file
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Signer
from healthcred.errors import BadInput
from healthcred.regions import check_known_region
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet

__all__ = [
    "GRANT_NOT_CHECKED",
    "check_outputs",
    "check_region_option",
    "check_signing_grant",
    "check_validity",
    "code_summary",
    "signing_trust_option",
    "write_qr_files",
]

F = TypeVar("F", bound=Callable[..., Any])

GRANT_NOT_CHECKED = (
    "warning: the key's grant was not checked (no --trust): a verifier refuses this code if the key "
    "is not granted its region, kind, colour and time"
)
"""The stderr line an issuing command prints when it signs without ``--trust``."""


def signing_trust_option() -> Callable[[F], F]:
    """``--trust FOLDER`` on an issuing command: optional; with it the key's grant is checked first."""
    option: Callable[[F], F] = click.option(
        "--trust",
        "trust_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        help="Trust folder the verifiers hold: refuse to sign unless the key's grant there covers the"
        " code (region, kind, colour, key and list window at the issue time). Without it a warning.",
    )
    return option


def check_region_option(region: str, option: str = "--region") -> str:
    """``region`` if it names a GB/T 2260 division; else a usage error naming the value and the rule."""
    try:
        return check_known_region(region, "region")
    except BadInput as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{option}'") from exc


def status_rules_or_default(rules: StatusRuleSet | None) -> StatusRuleSet:
    """The ``--status-rules`` set, or the built-in seed policy."""
    return rules if rules is not None else StatusRuleSet(DEFAULT_STATUS_RULES)


def check_validity(status: str, valid_for: timedelta, rules: StatusRuleSet | None, option: str) -> None:
    """Refuse a health code valid longer than the status rule set lets its colour last (usage, exit 2)."""
    chosen = status_rules_or_default(rules)
    limit = chosen.longest_validity(status)
    if valid_for > limit:
        hours = int(limit.total_seconds()) // 3600
        raise click.BadParameter(
            f"a {status} code may be valid for at most {hours} hours ({_days(limit)}) under the status"
            f" rule set {chosen.id!r} v{chosen.version}, not {int(valid_for.total_seconds()) // 3600} hours",
            param_hint=f"'{option}'",
        )


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:g} day" + ("" if days == 1 else "s")


def check_signing_grant(
    trust_dir: Path | None,
    key: PrivateKey | Signer,
    *,
    region: str,
    issued_at: datetime,
    kind: int,
    status: int | None,
    what: str,
) -> bool:
    """With ``--trust``: raise (exit 1) unless the key's grant covers the code; without: warn, False."""
    if trust_dir is None:
        click.echo(GRANT_NOT_CHECKED, err=True)
        return False
    from healthcred.flows.issue import check_grant
    from healthcred.trust.folder import load_trust

    with setup_step(f"trust folder {trust_dir}"):
        trust = load_trust((trust_dir,))
    check_grant(trust, key, region=region, issued_at=issued_at, kind=kind, status=status, what=what)
    return True


def check_outputs(paths: Iterable[Path | None], force: bool) -> None:
    """Refuse, before anything is signed, an output file that exists (unless ``--force``)."""
    for path in paths:
        if path is not None and not force and (path.exists() or path.is_symlink()):
            raise click.UsageError(f"{path} exists; pass --force to replace it")


def write_qr_files(text: str, paths: Iterable[Path | None], force: bool) -> list[str]:
    """Write ``text`` as a QR image to each path (PNG or SVG by suffix), atomically; the paths written."""
    from healthcred.codec.qr import render_qr

    written = []
    for path in paths:
        if path is not None:
            data = render_qr(text, kind="svg" if path.suffix.lower() == ".svg" else "png")
            write_file(path, data, overwrite=force)
            written.append(str(path))
    return written


def code_summary(text: str, files: list[str], grant_checked: bool) -> dict[str, Any]:
    """The ``--json`` object of an issued native code (``issue``, ``national``): docs/cli.md."""
    from healthcred.native.text import read_health_code

    code = read_health_code(text)  # what was just signed, read back
    return {
        "text": text,
        "kind": code.kind.name.lower(),
        "status": code.status.name,
        "region": code.region,
        "id": code.id.hex(),
        "issued_at": iso(code.issued_at),
        "expires_at": iso(code.expires_at),
        "source_region": code.source_region,
        "files": files,
        "grant_checked": grant_checked,
    }
