"""``healthcred demo``: the whole flow on fresh keys, left in a folder for the user to explore.

A national root signs a trust list of two provincial issuers (Zhejiang, ES256;
Shanghai, EdDSA; with ``--alg`` every key, root included, uses that algorithm: ``--alg SM2`` is a
region on the national algorithms, SM2 with SM3); three codes are issued, rendered as PNG, read back from the
images and verified offline against the trust folder. Then the people without
a phone: a paper code for an elderly resident, printed as a card (PDF and PNG),
read back from the card, checked against her ID number; her grandson holds it
through a signed binding; and a mall's place code for its scanning post, with a
scan log for the checkpoint station (``healthcred station``) the last line names.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from healthcred.cli.exits import USAGE, CommandFailure, setup_step
from healthcred.cli.support import fail_typed
from healthcred.codec.qr import read_qr, save_qr
from healthcred.crypto.algorithms import Alg, PrivateKey, parse_alg
from healthcred.crypto.keys import generate_key, save_private_key, save_public_key
from healthcred.crypto.sm2 import require_tongsuo
from healthcred.errors import HealthCredError
from healthcred.files import write_atomic
from healthcred.flows.binding import Relation, make_binding, verify_dependent
from healthcred.flows.idcheck import check_id, generate_id_key, save_id_key
from healthcred.flows.issue import issue, issue_paper
from healthcred.flows.places import issue_place, verify_place
from healthcred.flows.scanlog import close_log, generate_log_key, load_log_key, open_log, save_log_key
from healthcred.flows.verify import verify
from healthcred.model import GREEN, RED, YELLOW, CredentialKind, DocumentType, HealthCode, Status, Subject
from healthcred.printing.cards import render_card
from healthcred.rules.policy import DEFAULT_POLICIES
from healthcred.trust.folder import ANCHORS_DIR, LISTS_DIR, RULES_DIR, load_trust
from healthcred.trust.grants import KeyGrant
from healthcred.trust.lists import make_trust_list
from healthcred.trust.rulesets import make_rule_set
from healthcred.trust.store import TrustStore

__all__ = ["demo", "run_demo"]

# (file stem, issuer, region, colour, valid for, holder): the seed policy's three colours.
_CODES: tuple[tuple[str, str, str, Status, timedelta, tuple[str, str, str]], ...] = (
    (
        "green-hangzhou",
        "zhejiang",
        "330100",
        GREEN,
        timedelta(days=1),
        ("张三丰", "1985-03-12", "330106198503121234"),
    ),
    (
        "yellow-shanghai",
        "shanghai",
        "310000",
        YELLOW,
        timedelta(days=7),
        ("李四", "1992-07-01", "310101199207014321"),
    ),
    (
        "red-ningbo",
        "zhejiang",
        "330200",
        RED,
        timedelta(days=14),
        ("王小明", "2010-01-20", "330203201001205678"),
    ),
)


# Without --alg: the root and the two provinces on the algorithms most deployments mix.
_MIXED = (Alg.EDDSA, Alg.ES256, Alg.EDDSA)


def run_demo(out: Path, echo: Callable[[str], None] = print, alg: Alg | None = None) -> bool:
    """Write keys, a trust folder and three codes under ``out``; verify each from its PNG.

    ``alg`` makes every key (the national root and both provinces) use that algorithm; by
    default the root and Shanghai are EdDSA and Zhejiang ES256. Returns whether every code
    verified. Files already in ``out`` are replaced.
    """
    root_alg, zhejiang_alg, shanghai_alg = _MIXED if alg is None else (alg, alg, alg)
    now = datetime.now(UTC).replace(microsecond=0)
    keys_dir, codes_dir = out / "keys", out / "codes"
    anchors_dir, lists_dir = out / "trust" / ANCHORS_DIR, out / "trust" / LISTS_DIR
    for folder in (keys_dir, codes_dir, anchors_dir, lists_dir):
        folder.mkdir(parents=True, exist_ok=True)

    root = generate_key(root_alg)
    issuers = {
        "zhejiang": (generate_key(zhejiang_alg), "330000"),
        "shanghai": (generate_key(shanghai_alg), "310000"),
    }
    save_private_key(root, keys_dir / "national-root.key.pem", overwrite=True)
    save_public_key(root.public_key(), anchors_dir / "national-root.pem", overwrite=True)
    for name, (key, _) in issuers.items():
        save_private_key(key, keys_dir / f"{name}.key.pem", overwrite=True)
        save_public_key(key.public_key(), keys_dir / f"{name}.pub.pem", overwrite=True)

    start = int(now.timestamp())
    grants = [
        KeyGrant(key.public_key(), region, start - 3600, start + 365 * 86400)
        for key, region in issuers.values()
    ]
    signed = make_trust_list(root, grants, version=1, issued_at=start - 3600, expires_at=start + 30 * 86400)
    write_atomic(lists_dir / "national.cose", signed)
    rules_dir = out / "trust" / RULES_DIR
    rules_dir.mkdir(parents=True, exist_ok=True)
    policy = make_rule_set(root, DEFAULT_POLICIES, issued_at=start - 3600, expires_at=start + 30 * 86400)
    write_atomic(rules_dir / "seed-policy.cose", policy)
    echo(
        f"trust folder {out / 'trust'}: 1 anchor ({root_alg.label}), list v1 with {len(grants)} issuers "
        f"({len(signed)} bytes), the seed verification policy (signed)"
    )

    trust = load_trust(out / "trust")
    rows = []
    all_ok = True
    for stem, issuer, region, status, valid_for, (name, birth, doc) in _CODES:
        credential = HealthCode.create(
            subject=Subject.create(name, birth, DocumentType.RESIDENT_ID_CARD, doc),
            status=status,
            region=region,
            valid_for=valid_for,
            issued_at=now,
        )
        text = issue(credential, issuers[issuer][0])
        write_atomic(codes_dir / f"{stem}.txt", text + "\n")
        save_qr(text, codes_dir / f"{stem}.png")
        save_qr(text, codes_dir / f"{stem}.svg")
        try:
            read_back = read_qr(codes_dir / f"{stem}.png")
            result = verify(read_back, trust)
            native = result.health_code
            assert native is not None  # the demo issues native codes only
            verdict = "VALID" if read_back == text else "MISMATCH"
            all_ok &= read_back == text
            rows.append(
                (
                    stem,
                    verdict,
                    native.status.name,
                    native.subject.masked_name,
                    native.region,
                    result.alg,
                    native.expires_at.strftime("%Y-%m-%d %H:%M"),
                    len(text),
                )
            )
        except HealthCredError as exc:
            all_ok = False
            rows.append((stem, f"INVALID {exc.code}", status.name, "", region, "", "", len(text)))

    header = ("code", "result", "status", "holder", "region", "alg", "expires (UTC)", "chars")
    widths = [max(_width(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        echo(
            "  ".join(str(cell) + " " * (w - _width(str(cell))) for cell, w in zip(row, widths, strict=True))
        )
    echo(
        f"codes in {codes_dir}; try: healthcred verify --trust {out / 'trust'} {codes_dir / _CODES[0][0]}.png"
    )
    people_ok = _people(out, trust, issuers["zhejiang"][0], now, echo)
    _scan_log(out, echo)
    return all_ok and people_ok


def _scan_log(out: Path, echo: Callable[[str], None]) -> None:
    """A scan log and its key for the checkpoint station (kept, with its rows, when the demo runs again)."""
    key_file, db = out / "keys" / "scan-log.key", out / "scan-log.db"
    if not key_file.exists():
        save_log_key(generate_log_key(), key_file)
    close_log(open_log(db, load_log_key(key_file)))
    echo(
        f"checkpoint: healthcred station --trust {out}/trust --scene mall --level high"
        f" --place {out}/codes/place-mall.txt --id-key {out}/keys/id-check.json"
        f" --log {out}/scan-log.db --log-key {out}/keys/scan-log.key"
    )


# An elderly resident without a phone, and her grandson (the holder of the first code).
_GRANDMOTHER = ("王秀英", "1942-05-08", "330106194205081229")


def _people(
    out: Path, trust: TrustStore, key: PrivateKey, now: datetime, echo: Callable[[str], None]
) -> bool:
    """Paper code + printed card + ID check, relatives binding, place code; True if all check out."""
    codes_dir = out / "codes"
    id_key = generate_id_key("330000")  # in production: distributed to trust-listed verifiers only
    save_id_key(id_key, out / "keys" / "id-check.json", overwrite=True)
    name, birth, number = _GRANDMOTHER
    subject = Subject.create(name, birth, DocumentType.RESIDENT_ID_CARD, number)
    paper = HealthCode.create(
        subject=subject, status=GREEN, region="330106", kind=CredentialKind.PAPER, issued_at=now
    )
    text = issue_paper(paper, key, id_number=number, id_key=id_key)
    write_atomic(codes_dir / "paper-grandmother.txt", text + "\n")
    write_atomic(codes_dir / "paper-grandmother-card.pdf", render_card(text, paper, fmt="pdf"))
    card_png = codes_dir / "paper-grandmother-card.png"
    write_atomic(card_png, render_card(text, paper, fmt="png", dpi=200))
    ok = True
    try:
        result = verify(read_qr(card_png), trust)  # read back from the printed card
        id_ok = check_id(result, number, id_key)
        echo(
            f"paper code for {subject.masked_name}: valid until {result.credential.expires_at:%Y-%m-%d}, "
            f"ID check {'matches' if id_ok else 'DOES NOT MATCH'}; "
            f"card: {codes_dir}/paper-grandmother-card.pdf"
        )
        ok &= id_ok and not check_id(result, "330106194205081237", id_key)  # a neighbour's number
        grandson_text = (codes_dir / f"{_CODES[0][0]}.txt").read_text().strip()
        grandson = verify(grandson_text, trust).health_code
        assert grandson is not None
        binding = make_binding(grandson, paper, Relation.GRANDPARENT, key, region="330000", slot=1)
        write_atomic(codes_dir / "binding-grandmother.cose", binding)
        held = verify_dependent(text, binding, trust, guardian=grandson_text)
        echo(
            f"relatives binding: {grandson.subject.masked_name} shows {subject.masked_name}'s code "
            f"({held.relation.name.lower()}, slot {held.binding.slot}); "
            f"binding: {codes_dir}/binding-grandmother.cose"
        )
        place = issue_place(key, venue_id="HZ-MALL-0001", name="湖滨银泰 in77", region="330102", scene="mall")
        write_atomic(codes_dir / "place-mall.txt", place + "\n")
        save_qr(place, codes_dir / "place-mall.png")
        venue = verify_place(place, trust)
        echo(
            f"place code: {venue.place.name} ({venue.place.scene}, {venue.place.region}): "
            f"{codes_dir}/place-mall.png"
        )
    except HealthCredError as exc:
        echo(f"people and places: INVALID {exc.code}: {exc.message}")
        return False
    return ok


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("healthcred-demo"),
    show_default=True,
    help="Folder for keys, trust folder and codes; an existing non-empty folder is refused without --force.",
)
@click.option(
    "--force", is_flag=True, help="Write into --out even if it holds files (the demo's own are replaced)."
)
@click.option(
    "--alg",
    type=click.Choice(["EdDSA", "ES256", "SM2"], case_sensitive=False),
    default=None,
    help="Make every key, the national root's included, use this algorithm (SM2: the national"
    " algorithms SM2 with SM3, which need healthcred[sm]); by default the root and Shanghai are"
    " EdDSA and Zhejiang ES256.",
)
@fail_typed
def demo(out: Path, force: bool, alg: str | None) -> None:
    """Run the whole flow: keys, a signed trust list, three codes, read back from PNG and verified."""
    chosen = None if alg is None else parse_alg(alg)
    if chosen is Alg.SM2:
        with setup_step("--alg SM2"):
            require_tongsuo()
    if not force and _holds_files(out):
        raise CommandFailure(
            f"{out} is not empty (an earlier demo?); refusing to write into it"
            " (--force replaces the demo's files)",
            USAGE,
        )
    ok = run_demo(out, echo=click.echo, alg=chosen)
    sys.exit(0 if ok else 1)


def _holds_files(folder: Path) -> bool:
    # scandir stops at the first name: a huge folder costs no more than an empty one.
    try:
        with os.scandir(folder) as names:
            return next(names, None) is not None
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CommandFailure(f"--out {folder}: {exc.strerror or exc}", USAGE) from exc
